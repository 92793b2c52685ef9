#include "dmacycle/runner/safe_state.hpp"

#include <cmath>

#include "dmacycle/io/text.hpp"

namespace dmacycle::runner {

namespace {

// The unload rate of a job without a loading rate of its own: the paper's 50 MPa/min.
constexpr double fallback_unload_rate_pa_s = 50e6 / 60;

}  // namespace

FrameUnload unload_frame(drivers::FrameDriver& frame, const protocols::Job& job,
                         const protocols::Plan& plan) {
    FrameUnload unload;
    const auto state = frame.state();
    if (state.mode == "TRIP") {
        unload.tripped = true;
        unload.note =
            "unload: the frame tripped and unloaded itself to 0 N; left tripped for the operator";
        return unload;
    }
    const double to_pa = plan.pre_tension_stress_pa;
    const double rate_pa_s =
        job.cycling.stress_rate_pa_s > 0 ? job.cycling.stress_rate_pa_s : fallback_unload_rate_pa_s;
    frame.ramp_stress(to_pa, rate_pa_s);
    unload.duration_s = std::abs(state.stress_pa - to_pa) / rate_pa_s;
    unload.note = io::format("unload: ramp to the pre-tension %.4f N (%.3f MPa) at %.2f MPa/min",
                             job.pre_tension_n, to_pa / 1e6, rate_pa_s * 60 / 1e6);
    return unload;
}

std::string furnace_to_standby(drivers::FurnaceDriver& furnace, double standby_k, bool ramping) {
    if (ramping) {
        furnace.set_rate_limit_k_per_min(0);
    }
    furnace.write_setpoint_k(standby_k);
    return io::format("furnace to standby: setpoint %.2f K", standby_k);
}

}  // namespace dmacycle::runner
