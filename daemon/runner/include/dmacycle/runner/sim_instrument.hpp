#pragma once
#include <string>

#include "dmacycle/sim/clock.hpp"
#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "dmacycle/sim/profile.hpp"

namespace dmacycle::runner {

// The simulated instrument on loopback ports, for the production drivers to talk to
// (`dmacycle run` and the service's simulated instrument).
struct SimInstrument {
    SimInstrument(sim::Profile profile, sim::SimClock clock)
        : instrument(std::move(profile), clock), frame(instrument), furnace(instrument) {
        frame_uri = "tcp://127.0.0.1:" + std::to_string(frame.listen_tcp("127.0.0.1", 0));
        frame.start();
        furnace_uri =
            "modbus-tcp://127.0.0.1:" + std::to_string(furnace.listen_tcp("127.0.0.1", 0));
    }
    sim::Instrument instrument;
    sim::FrameServer frame;
    sim::FurnaceServer furnace;
    std::string frame_uri, furnace_uri;
};

}  // namespace dmacycle::runner
