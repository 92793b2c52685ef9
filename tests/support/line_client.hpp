#pragma once
// A deliberately plain client for the tests: POSIX sockets or a termios serial port, poll()
// with a deadline, newline framing. It shares no code with the simulator or any driver.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "time_scale.hpp"

namespace test_support {

class LineClient {
  public:
    static LineClient tcp(std::uint16_t port) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
        return LineClient(fd);
    }

    static LineClient serial(const std::string& path) {
        const int fd = open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            throw std::runtime_error("cannot open " + path);
        }
        termios tio{};
        tcgetattr(fd, &tio);
        cfmakeraw(&tio);
        cfsetspeed(&tio, B115200);
        tcsetattr(fd, TCSANOW, &tio);
        return LineClient(fd);
    }

    LineClient(LineClient&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
        other.fd_ = -1;
    }
    LineClient& operator=(LineClient&&) = delete;
    ~LineClient() {
        if (fd_ >= 0) {
            close(fd_);
        }
    }

    void send(const std::string& line) { send_raw(line + "\n"); }

    void send_raw(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            // A socket the peer closed: an error here, not a SIGPIPE that ends the test run.
            auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == ENOTSOCK) {
                n = write(fd_, bytes.data() + sent, bytes.size() - sent);  // a serial port
            }
            if (n <= 0) {
                throw std::runtime_error("write failed");
            }
            sent += static_cast<std::size_t>(n);
        }
    }

    // The next line without its terminator; nullopt on timeout or when the peer closed.
    std::optional<std::string> read_line(
        std::chrono::milliseconds timeout = scaled(std::chrono::milliseconds(2000))) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char chunk[4096];
            const auto n = read(fd_, chunk, sizeof chunk);
            if (n <= 0) {
                closed_ = true;
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // Exactly n bytes (fewer on timeout or when the peer closed), for binary protocols.
    std::string read_bytes(std::size_t n,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (buffer_.size() < n) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd_, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                break;
            }
            char chunk[4096];
            const auto got = read(fd_, chunk, sizeof chunk);
            if (got <= 0) {
                break;
            }
            buffer_.append(chunk, static_cast<std::size_t>(got));
        }
        std::string out = buffer_.substr(0, n);
        buffer_.erase(0, out.size());
        return out;
    }

    std::string query(const std::string& line) {
        send(line);
        return read_line().value_or("<no reply>");
    }

    bool peer_closed() const { return closed_; }
    const std::string& pending_bytes() const { return buffer_; }

  private:
    explicit LineClient(int fd) : fd_(fd) {}
    int fd_;
    std::string buffer_;
    bool closed_ = false;
};

}  // namespace test_support
