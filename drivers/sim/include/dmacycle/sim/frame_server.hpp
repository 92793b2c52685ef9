#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dmacycle/sim/instrument.hpp"

// Serves the simulated load frame's line protocol (docs/frame-protocol.md) over TCP and over a
// pseudo-terminal, on one I/O thread. Every connection gets its own FrameSession.
namespace dmacycle::sim {

class FrameServer {
  public:
    explicit FrameServer(Instrument& instrument);
    ~FrameServer();
    FrameServer(const FrameServer&) = delete;
    FrameServer& operator=(const FrameServer&) = delete;

    // Listens on address:port (0 = any free port); returns the bound port. Before start().
    std::uint16_t listen_tcp(const std::string& address, std::uint16_t port);
    // Opens a pty and serves its master side; returns the slave path (/dev/pts/N).
    std::string open_pty();
    void start();
    void stop();
    // How long the I/O thread was kept from running since start() (StarvationMeter).
    std::chrono::steady_clock::duration starved() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmacycle::sim
