#pragma once
#include <string>

#include "dmacycle/drivers/sim/clock.hpp"
#include "dmacycle/drivers/sim/frame_server.hpp"
#include "dmacycle/drivers/sim/furnace_server.hpp"
#include "dmacycle/drivers/sim/instrument.hpp"
#include "dmacycle/drivers/sim/profile.hpp"

namespace dmacycle::runner {

// The simulated instrument on loopback ports, for the production drivers to talk to
// (`dmacycle run` and the service's simulated instrument).
struct SimInstrument {
    SimInstrument(drivers::sim::Profile profile, drivers::sim::SimClock clock)
        : instrument(std::move(profile), clock), frame(instrument), furnace(instrument) {
        frame_uri = "tcp://127.0.0.1:" + std::to_string(frame.listen_tcp("127.0.0.1", 0));
        frame.start();
        furnace_uri =
            "modbus-tcp://127.0.0.1:" + std::to_string(furnace.listen_tcp("127.0.0.1", 0));
    }
    drivers::sim::Instrument instrument;
    drivers::sim::FrameServer frame;
    drivers::sim::FurnaceServer furnace;
    std::string frame_uri, furnace_uri;
};

}  // namespace dmacycle::runner
