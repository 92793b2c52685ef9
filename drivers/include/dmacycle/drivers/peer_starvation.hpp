#pragma once
#include <functional>

#include "dmacycle/drivers/error.hpp"

namespace dmacycle::drivers {

// How long a peer in this same process (the simulator of a `driver: sim` rig) was kept from
// running since it started; non-decreasing. A stale age or an exchange deadline that waits on
// such a peer leaves that time out, so that a machine too loaded to run the simulator does not
// pass for a dead instrument. Empty for a real instrument, whose time is the wall clock's.
using PeerStarvation = std::function<Clock::duration()>;

}  // namespace dmacycle::drivers
