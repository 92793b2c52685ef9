#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "dmacycle/sim/instrument.hpp"

// Serves the simulated furnace controller's register map with libmodbus: Modbus TCP on a
// loopback port and Modbus RTU on a pty. One thread per endpoint.
namespace dmacycle::sim {

class FurnaceServer {
  public:
    explicit FurnaceServer(Instrument& instrument);
    ~FurnaceServer();
    FurnaceServer(const FurnaceServer&) = delete;
    FurnaceServer& operator=(const FurnaceServer&) = delete;

    // Listens on address:port (0 = any free port) and serves at once; returns the bound port.
    std::uint16_t listen_tcp(const std::string& address, std::uint16_t port);
    // Serves RTU (unit id from the profile) on a new pty at once; returns the slave path.
    std::string open_rtu_pty();
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmacycle::sim
