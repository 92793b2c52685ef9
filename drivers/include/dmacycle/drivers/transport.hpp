#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/drivers/connection_uri.hpp"
#include "dmacycle/drivers/error.hpp"

// Byte transports (Boost.Asio) and the line layer around them. Every call that waits takes a
// deadline and throws DriverError(timeout) when it passes; nothing here blocks without one.
namespace dmacycle::drivers {

class Transport {
  public:
    virtual ~Transport() = default;
    virtual void open(Deadline deadline) = 0;
    virtual void close() noexcept = 0;
    virtual bool is_open() const = 0;
    virtual void write(std::string_view bytes, Deadline deadline) = 0;
    // At least one byte, or throws (timeout, or link when the peer closed).
    virtual std::size_t read_some(std::span<char> into, Deadline deadline) = 0;
    // As read_some, but 0 when the deadline passes or wake() ends the wait: for a quiet
    // stream, where no data yet is not an error. The default calls read_some.
    virtual std::size_t wait_some(std::span<char> into, Deadline deadline);
    // From any thread: a wait_some waiting now (or the next one) returns 0 at once, so another
    // thread that needs the link does not wait for a quiet stream's deadline.
    virtual void wake() noexcept {}
    // Drops whatever has arrived but not been read (stale replies from before a reconnect).
    virtual void discard_input() = 0;
    virtual const std::string& name() const = 0;  // the connection string, for messages
};

// The numeric addresses of host. An IP literal is returned as it is, without any lookup; a
// name goes to the system resolver on a thread of its own that is abandoned at the deadline
// (getaddrinfo cannot be cancelled), so a stalled DNS server costs no more than the deadline.
// Throws timeout, or link when the name does not resolve; name prefixes the messages.
std::vector<std::string> resolve_host(const std::string& host, Deadline deadline,
                                      const std::string& name);

// tcp:// or serial:// (throws config for a Modbus scheme: libmodbus owns those links).
std::unique_ptr<Transport> make_transport(const ConnectionUri& uri);

// The layer every line protocol shares, so no driver repeats it: terminator on send, framing
// and CR stripping on receive, flushing stale input on open, and a minimum gap between
// commands for instruments that need one.
struct LineOptions {
    std::string terminator = "\n";
    std::chrono::milliseconds inter_command_delay{0};
    bool flush_on_open = true;
    std::size_t max_line_bytes = 4096;
};

class LineChannel {
  public:
    LineChannel(std::unique_ptr<Transport> transport, LineOptions options = {});

    void open(Deadline deadline);
    void close() noexcept;
    void send(std::string_view line, Deadline deadline);
    // The next line without terminator; throws timeout (naming any partial line), link,
    // or protocol for a line longer than max_line_bytes.
    std::string read_line(Deadline deadline);
    // The same on a quiet stream: nothing (no exception) when the deadline passes or wake()
    // ends the wait first.
    std::optional<std::string> wait_line(Deadline deadline);
    void wake() noexcept { transport_->wake(); }
    const std::string& name() const { return transport_->name(); }

  private:
    // The first complete line of the buffer, if any; throws protocol past max_line_bytes.
    std::optional<std::string> take_line();

    // One read takes up to this much: a fast stream (500,000 samples/s is ~30 MB/s) is read in
    // few system calls.
    static constexpr std::size_t read_chunk_bytes = 64 * 1024;

    std::unique_ptr<Transport> transport_;
    LineOptions options_;
    std::string buffer_;
    std::size_t taken_ = 0;  // buffer_ before it has been returned as lines
    std::vector<char> chunk_;
    Clock::time_point last_send_{};
};

}  // namespace dmacycle::drivers
