#pragma once
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

// What every transport, codec and driver throws, and the clock their deadlines are on.
namespace dmacycle::drivers {

using Clock = std::chrono::steady_clock;  // monotonic: NTP steps never move a deadline
using Deadline = Clock::time_point;

inline Deadline deadline_in(Clock::duration timeout) {
    return Clock::now() + timeout;
}

enum class ErrorKind {
    config,    // bad connection string, unknown model, value that cannot be encoded
    link,      // cannot connect, or the peer closed the link
    timeout,   // no (complete) reply before the deadline; the link is out of step after this
    protocol,  // a reply that does not parse (garbled, wrong field count)
    device,    // the device refused: SCPI error queue entry, Modbus exception
};

const char* to_string(ErrorKind kind);

// Peer text for a message: at most max_chars characters, anything but printable ASCII as
// \xNN, so garbled bytes never reach a log line or a JSON string as invalid UTF-8.
std::string printable(std::string_view text, std::size_t max_chars = 80);

class DriverError : public std::runtime_error {
  public:
    DriverError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
    // After a timeout or a protocol error the next reply may belong to an earlier question, so
    // the only safe way on is a fresh connection.
    bool needs_reconnect() const {
        return kind_ == ErrorKind::link || kind_ == ErrorKind::timeout ||
               kind_ == ErrorKind::protocol;
    }

  private:
    ErrorKind kind_;
};

}  // namespace dmacycle::drivers
