#pragma once
#include <string>

#include "dmacycle/drivers/furnace_driver.hpp"
#include "dmacycle/drivers/load_frame.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"

// The one safe state (docs/runner.md, "Safe state"): the frame ramps down to the pre-tension at
// a rate the job already loads at, unless it tripped (then it has unloaded itself and is left
// for the operator); the furnace goes to standby at once. The runner takes it after a latch,
// the service after a restart that found a run running; both through these functions.
namespace dmacycle::runner {

// The paper's 50 MPa/min: the unload rate of a job without a loading rate of its own (an as-cast
// DMTA scan holds the pre-tension throughout).
inline constexpr double fallback_unload_rate_pa_s = 50e6 / 60;

// The job's cycling rate, else fallback_unload_rate_pa_s: never zero.
double safe_unload_rate_pa_s(const protocols::Job& job);

struct FrameUnload {
    bool tripped = false;   // the frame had unloaded itself: nothing commanded
    double from_pa = 0;     // the stress when the ramp was commanded
    double to_pa = 0;       // the pre-tension
    double rate_pa_s = 0;   // safe_unload_rate_pa_s
    double duration_s = 0;  // how long the ramp takes at that rate
    std::string note;       // the event's text: "unload: ramp to the pre-tension …"
};

// Reads the frame's state and ramps it to the plan's pre-tension. The frame must know the
// sample's geometry. Throws DriverError as the frame's exchanges do.
FrameUnload unload_frame(drivers::FrameDriver& frame, const protocols::Job& job,
                         const protocols::Plan& plan);

// Sets the furnace to `standby_k`; with `ramping` (a scan's rate limit may be set) the rate limit
// goes off first, so the furnace stops heating at once. Returns the event's text. Throws
// DriverError as the furnace's exchanges do.
std::string furnace_to_standby(drivers::FurnaceDriver& furnace, double standby_k, bool ramping);

}  // namespace dmacycle::runner
