#pragma once
// A loopback TCP peer that misbehaves on purpose (trickles, floods, drops, sends binary): what
// the simulator does not do. Each accepted connection runs the handler on its own thread; the
// handler gets the socket and a stop flag, and must poll with short timeouts to honour it.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test_support {

class HostilePeer {
  public:
    using Handler = std::function<void(int fd, int connection, const std::atomic<bool>& stop)>;

    explicit HostilePeer(Handler handler) : handler_(std::move(handler)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (listener_ < 0 || ::bind(listener_, as_sockaddr(&address), size) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, as_sockaddr(&address), &size) != 0) {
            throw std::runtime_error("hostile peer: cannot listen on loopback");
        }
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~HostilePeer() {
        stop_ = true;
        acceptor_.join();
        ::close(listener_);
        for (auto& t : connections_) {
            t.join();
        }
    }
    HostilePeer(const HostilePeer&) = delete;
    HostilePeer& operator=(const HostilePeer&) = delete;

    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_; }

  private:
    static sockaddr* as_sockaddr(sockaddr_in* address) {
        return reinterpret_cast<sockaddr*>(address);
    }
    void accept_loop() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) {
                continue;
            }
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            const int n = accepted_++;
            connections_.emplace_back([this, fd, n] {
                handler_(fd, n, stop_);
                ::close(fd);
            });
        }
    }

    Handler handler_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::vector<std::thread> connections_;  // acceptor thread only, until joined
};

// The next line from fd without its terminator; false on close, stop or timeout.
inline bool read_line(int fd, std::string& buffer, std::string& line, const std::atomic<bool>& stop,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (const auto nl = buffer.find('\n'); nl != std::string::npos) {
            line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            return true;
        }
        if (stop || std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            continue;
        }
        char chunk[512];
        const auto n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

inline bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Waits up to `for_how_long`, returning early when stop is set.
inline void pause(std::chrono::milliseconds for_how_long, const std::atomic<bool>& stop) {
    const auto until = std::chrono::steady_clock::now() + for_how_long;
    while (!stop && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace test_support
