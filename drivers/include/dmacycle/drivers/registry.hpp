#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dmacycle/drivers/furnace_driver.hpp"
#include "dmacycle/drivers/load_frame.hpp"
#include "dmacycle/drivers/peer_starvation.hpp"

// The one table of device drivers (registry.cpp). An instrument profile names a driver, a
// model (a row of that driver's command or register table) and a connection string.
namespace dmacycle::drivers {

struct DeviceSpec {
    std::string driver;                       // "" = the default driver for the device kind
    std::string model;                        // "" = the driver's default model
    std::string uri;                          // connection string
    std::chrono::milliseconds timeout{1000};  // one exchange
};

// Throw DriverError(config) naming an unknown driver, model or a bad connection string.
// peer_starved: for a simulator in this process, what its exchanges leave out of their deadlines.
std::unique_ptr<FrameDriver> make_frame(const DeviceSpec& spec,
                                        const PeerStarvation& peer_starved = {});
std::unique_ptr<FurnaceDriver> make_furnace(const DeviceSpec& spec);

// The fastest sample stream the frame's driver and model send (0: none); throws as make_frame
// for an unknown driver or model.
double frame_stream_rate_max_hz(const DeviceSpec& spec);

}  // namespace dmacycle::drivers
