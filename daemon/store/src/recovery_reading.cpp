#include "dmacycle/store/recovery_reading.hpp"

namespace dmacycle::store {

void RecoveryReading::add(double t_s, std::string_view segment, double stress_pa, double strain) {
    if (!loading_start_s_ && (segment == "load" || segment == "cycle" || segment == "creep")) {
        loading_start_s_ = t_s;
    }
    if (loading_start_s_ && !recovery_start_s_) {
        history_.add(t_s, stress_pa);  // up to and with the recovery's first sample
    }
    if (segment != "recovery" || !loading_start_s_) {
        return;
    }
    if (!recovery_start_s_) {
        recovery_start_s_ = t_s;
    }
    if (const double since_unload_s = t_s - *recovery_start_s_; since_unload_s >= 0) {
        binner_.add(since_unload_s, strain);  // at 0: the strain at unloading, kept apart
    }
}

double RecoveryReading::t0_s() const {
    return has_recovery() ? *recovery_start_s_ - *loading_start_s_ : 0.0;
}

}  // namespace dmacycle::store
