#pragma once
#include <chrono>
#include <stdexcept>
#include <string>

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
