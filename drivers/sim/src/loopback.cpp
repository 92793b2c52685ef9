#include "dmacycle/sim/loopback.hpp"

namespace dmacycle::sim {

Loopback::Loopback(Profile profile, SimClock clock)
    : instrument_(std::move(profile), clock),
      frame_server_(instrument_),
      furnace_server_(instrument_) {
    const std::string host = "127.0.0.1";
    frame_endpoint_ = {"scpi-frame", "dmacycle-scpi",
                       "tcp://" + host + ":" + std::to_string(frame_server_.listen_tcp(host, 0))};
    frame_server_.start();
    furnace_endpoint_ = {
        "modbus-furnace",
        instrument_.profile().furnace.kelvin_display ? "eurotherm-2400-kelvin" : "eurotherm-2400",
        "modbus-tcp://" + host + ":" + std::to_string(furnace_server_.listen_tcp(host, 0)) +
            "?unit=" + std::to_string(instrument_.profile().furnace.modbus_unit_id)};
}

}  // namespace dmacycle::sim
