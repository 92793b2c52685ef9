#pragma once
#include <string>

// A pseudo-terminal pair in raw mode: the simulator serves the master; a client opens
// slave_path like any serial port.
namespace dmacycle::sim {

struct Pty {
    int master_fd = -1;
    int slave_keepalive_fd = -1;  // keeps the master readable while no client has it open
    std::string slave_path;
};

// Throws std::system_error on failure.
Pty open_raw_pty();
void close_pty(Pty& pty);

}  // namespace dmacycle::sim
