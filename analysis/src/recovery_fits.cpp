#include "dmacycle/analysis/recovery_fits.hpp"

namespace dmacycle::analysis {

RecoveryFits fit_recovery(const BinnedCurve& recovery, double t0_s, const SpectrumOptions& options,
                          const LoadingHistory* history) {
    RecoveryFits out;
    out.spectrum = fit_recovery_spectrum(recovery, t0_s, options, history);
    out.kww = fit_recovery_kww(recovery);
    if (out.kww.summary.usable) {
        out.instant = instant_kww(recovery, out.kww);
    } else {
        out.instant.summary = out.kww.summary;
    }
    out.single_tau = fit_recovery_single_tau(recovery, t0_s);
    return out;
}

}  // namespace dmacycle::analysis
