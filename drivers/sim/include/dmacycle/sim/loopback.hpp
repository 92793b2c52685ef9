#pragma once
#include <string>

#include "dmacycle/sim/clock.hpp"
#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "dmacycle/sim/profile.hpp"

// The simulated instrument served on loopback ports of its own (port 0: any free one), for
// production drivers in the same process to talk to: what a rig's `driver: sim` brings up
// (runner::bring_up). dmacycle-sim is the same as a process of its own.
namespace dmacycle::sim {

// How a driver reaches one of the simulator's devices: the driver and model of the registry
// that speak what the simulator serves (docs/drivers.md), and the connection string.
struct Endpoint {
    std::string driver, model, uri;
};

class Loopback {
  public:
    // Serving once constructed. Throws std::runtime_error when no loopback port can be had.
    Loopback(Profile profile, SimClock clock);

    Instrument& instrument() { return instrument_; }
    const Instrument& instrument() const { return instrument_; }
    const Endpoint& frame() const { return frame_endpoint_; }
    // The register map follows the profile's display unit: a Kelvin controller has a model of
    // its own, so no caller has to know which.
    const Endpoint& furnace() const { return furnace_endpoint_; }
    // How long the frame's server thread was kept from running (FrameServer::starved): the
    // frame's supervision and exchanges leave it out.
    std::chrono::steady_clock::duration frame_starved() const { return frame_server_.starved(); }

  private:
    Instrument instrument_;  // first: outlives the servers that call it
    FrameServer frame_server_;
    FurnaceServer furnace_server_;
    Endpoint frame_endpoint_, furnace_endpoint_;
};

}  // namespace dmacycle::sim
