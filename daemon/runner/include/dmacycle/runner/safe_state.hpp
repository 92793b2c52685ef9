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

struct FrameUnload {
    bool tripped = false;   // the frame had unloaded itself: nothing commanded
    double duration_s = 0;  // how long the commanded ramp takes
    std::string note;       // the event's text: "unload: ramp to the pre-tension …"
};

// Reads the frame's state and ramps it to the plan's pre-tension at the job's cycling rate, or
// at the paper's 50 MPa/min for a job without one (an as-cast DMTA scan): never at 0. The frame
// must know the sample's geometry. Throws DriverError as the frame's exchanges do.
FrameUnload unload_frame(drivers::FrameDriver& frame, const protocols::Job& job,
                         const protocols::Plan& plan);

// Sets the furnace to `standby_k`; with `ramping` (a scan's rate limit may be set) the rate limit
// goes off first, so the furnace stops heating at once. Returns the event's text. Throws
// DriverError as the furnace's exchanges do.
std::string furnace_to_standby(drivers::FurnaceDriver& furnace, double standby_k, bool ramping);

}  // namespace dmacycle::runner
