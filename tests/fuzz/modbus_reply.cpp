// The Modbus furnace driver on bytes from a hostile or broken controller: a real libmodbus
// client (ModbusFurnace over ModbusLink) talks to a loopback peer that answers every request
// with the fuzz input, then closes. Covers libmodbus's reply checks as our link reports them,
// the map check (integer vs float PV), register decoding and status bits. Byte 0 picks the
// register map.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "dmacycle/drivers/modbus_furnace.hpp"
#include "driver_attempt.hpp"

using namespace dmacycle::drivers;

namespace {

// The listening socket, once per process (port 0: any free port).
struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    Listener() {
        std::signal(SIGPIPE, SIG_IGN);
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::listen(fd, 4) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            std::abort();
        }
        port = ntohs(address.sin_port);
    }
};

// Accepts one connection, sends `bytes`, ends its side, reads until the client closes, then
// resets the connection (no TIME_WAIT: a long run makes hundreds of thousands of them).
void serve_once(int listen_fd, std::string_view bytes) {
    pollfd ready{listen_fd, POLLIN, 0};
    if (::poll(&ready, 1, 2000) != 1) {
        return;  // the client never connected; its own error says why
    }
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) {
        return;
    }
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
    char sink[512];
    pollfd readable{fd, POLLIN, 0};
    while (::poll(&readable, 1, 2000) == 1 && ::recv(fd, sink, sizeof sink, 0) > 0) {
    }
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Listener listener;
    static const ConnectionUri uri =
        parse_connection_uri("modbus-tcp://127.0.0.1:" + std::to_string(listener.port) + "?unit=1");
    if (size < 1) {
        return 0;
    }
    const auto models = furnace_map_models();
    const FurnaceRegisterMap& map = *find_furnace_map(models[data[0] % models.size()]);
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    std::thread peer(serve_once, listener.fd, bytes);
    {
        ModbusFurnace furnace(uri, map, std::chrono::milliseconds(1000));
        fuzz::attempt([&] { furnace.connect_by(deadline_in(std::chrono::seconds(1))); });
        fuzz::attempt([&] { furnace.read(); });
        fuzz::attempt([&] { furnace.write_setpoint_k(400.0); });
        fuzz::attempt([&] { furnace.set_rate_limit_k_per_min(5.0); });
        fuzz::attempt([&] { furnace.read(); });
        furnace.disconnect();
    }
    peer.join();
    return 0;
}
