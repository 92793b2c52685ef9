#pragma once
// The simulated instrument in-process on loopback port 0 and on ptys, for the driver tests.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"

namespace test_support {

namespace sim = dmacycle::sim;

struct SimRig {
    explicit SimRig(sim::SimClock clock = sim::SimClock::max_speed())
        : instrument(sim::default_profile(), clock) {}

    // A frame server on a kernel-chosen port (or on `port`, to come back where it was).
    std::string start_frame_tcp(std::uint16_t port = 0) {
        frame = std::make_unique<sim::FrameServer>(instrument);
        frame_port = frame->listen_tcp("127.0.0.1", port);
        frame->start();
        return "tcp://127.0.0.1:" + std::to_string(frame_port);
    }
    std::string start_frame_pty() {
        frame = std::make_unique<sim::FrameServer>(instrument);
        const std::string path = frame->open_pty();
        frame->start();
        return "serial://" + path + "?baud=115200";
    }
    void stop_frame() { frame.reset(); }

    std::string start_furnace_tcp(std::uint16_t port = 0) {
        furnace = std::make_unique<sim::FurnaceServer>(instrument);
        furnace_port = furnace->listen_tcp("127.0.0.1", port);
        return "modbus-tcp://127.0.0.1:" + std::to_string(furnace_port);
    }
    std::string start_furnace_rtu(int unit = 1) {
        furnace = std::make_unique<sim::FurnaceServer>(instrument);
        return "modbus-rtu://" + furnace->open_rtu_pty() +
               "?baud=19200&unit=" + std::to_string(unit);
    }
    void stop_furnace() { furnace.reset(); }

    sim::Instrument instrument;
    std::unique_ptr<sim::FrameServer> frame;
    std::unique_ptr<sim::FurnaceServer> furnace;
    std::uint16_t frame_port = 0;
    std::uint16_t furnace_port = 0;
};

inline double elapsed_s(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace test_support
