#include "dmacycle/drivers/transport.hpp"

#include <netdb.h>
#include <termios.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "asio.hpp"

namespace dmacycle::drivers {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Blocking calls with deadlines on a private io_context: start one asynchronous operation,
// run the context until it completes or the deadline passes, and on a timeout cancel it and
// let the aborted handler run so nothing is left pending.
template <class Stream>
class AsioTransport : public Transport {
  public:
    explicit AsioTransport(std::string name) : stream_(io_), name_(std::move(name)) {}

    void close() noexcept override {
        boost::system::error_code ignored;
        stream_.close(ignored);
    }
    bool is_open() const override { return stream_.is_open(); }
    const std::string& name() const override { return name_; }

    void write(std::string_view bytes, Deadline deadline) override {
        require_open();
        boost::system::error_code result;
        bool done = false;
        asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                          [&](const boost::system::error_code& ec, std::size_t) {
                              result = ec;
                              done = true;
                          });
        run(done, result, deadline, "write");
        if (result) {
            close();
            throw DriverError(ErrorKind::link, name_ + ": write failed: " + result.message());
        }
    }

    std::size_t read_some(std::span<char> into, Deadline deadline) override {
        const auto got = read(into, deadline, false);
        if (!got) {
            throw DriverError(ErrorKind::timeout, name_ + ": read timed out");
        }
        return *got;
    }

    std::size_t wait_some(std::span<char> into, Deadline deadline) override {
        if (woken_.exchange(false)) {
            return 0;
        }
        const auto got = read(into, deadline, true);
        woken_.store(false);
        return got.value_or(0);
    }

    void wake() noexcept override {
        woken_.store(true);
        asio::post(io_, [] {});  // run_one_until returns, and the loop sees the flag
    }

  protected:
    // Some bytes; nothing if the deadline passed or, when `wakeable`, wake() ended the wait.
    std::optional<std::size_t> read(std::span<char> into, Deadline deadline, bool wakeable) {
        require_open();
        boost::system::error_code result;
        std::size_t got = 0;
        bool done = false;
        stream_.async_read_some(asio::buffer(into.data(), into.size()),
                                [&](const boost::system::error_code& ec, std::size_t n) {
                                    result = ec;
                                    got = n;
                                    done = true;
                                });
        if (!run_until(done, result, deadline, wakeable)) {
            return std::nullopt;
        }
        if (result) {
            close();
            const bool closed =
                result == asio::error::eof || result == asio::error::connection_reset;
            throw DriverError(
                ErrorKind::link,
                name_ + (closed ? ": peer closed the link" : ": read failed: " + result.message()));
        }
        return got;
    }

    void run(bool& done, const boost::system::error_code& result, Deadline deadline,
             const char* what) {
        if (!run_until(done, result, deadline, false)) {
            throw DriverError(ErrorKind::timeout, name_ + ": " + what + " timed out");
        }
    }

    // Runs the operation started until it completes, the deadline passes or (if `wakeable`)
    // wake() is called; false if it did not complete (then it is cancelled).
    bool run_until(bool& done, const boost::system::error_code& result, Deadline deadline,
                   bool wakeable) {
        io_.restart();
        while (!done && !(wakeable && woken_.load()) && io_.run_one_until(deadline) > 0) {
        }
        if (!done) {
            // The deadline may have passed while this process was not running (a loaded
            // machine, a paused VM), with the bytes already in the socket: run_one_until does
            // not look once it is late, so look once, without waiting, before calling it a
            // timeout.
            io_.restart();
            io_.poll();
        }
        if (!done) {
            cancel();
            io_.restart();
            io_.run();  // completes the cancelled operation, usually with operation_aborted
            // It may have finished before the cancel reached it (a read with its bytes): then
            // it succeeded, and reporting a timeout would lose what it read.
            return result != asio::error::operation_aborted;
        }
        return true;
    }
    virtual void cancel() { stream_.cancel(); }
    void require_open() const {
        if (!stream_.is_open()) {
            throw DriverError(ErrorKind::link, name_ + ": not connected");
        }
    }

    asio::io_context io_;
    Stream stream_;
    std::string name_;
    std::atomic<bool> woken_{false};  // wake() was called: the next wait ends at once
};

class TcpTransport final : public AsioTransport<tcp::socket> {
  public:
    explicit TcpTransport(const ConnectionUri& uri)
        : AsioTransport(uri.text), host_(uri.host), port_(uri.port) {}

    void open(Deadline deadline) override {
        close();
        std::vector<tcp::endpoint> endpoints;
        for (const auto& address : resolve_host(host_, deadline, name_)) {
            endpoints.emplace_back(asio::ip::make_address(address), port_);
        }
        boost::system::error_code result;
        bool done = false;
        asio::async_connect(stream_, endpoints,
                            [&](const boost::system::error_code& ec, const tcp::endpoint&) {
                                result = ec;
                                done = true;
                            });
        run(done, result, deadline, "connect");
        if (result) {
            close();
            throw DriverError(ErrorKind::link, name_ + ": cannot connect: " + result.message());
        }
        // Dialling a free loopback port from the ephemeral range can connect the socket to
        // itself (TCP simultaneous open), which would then hold the port the peer needs.
        boost::system::error_code local_ec, remote_ec;
        if (stream_.local_endpoint(local_ec) == stream_.remote_endpoint(remote_ec) && !local_ec) {
            close();
            throw DriverError(ErrorKind::link, name_ + ": cannot connect: connected to itself");
        }
        boost::system::error_code ignored;  // without it lines are only later, not wrong
        stream_.set_option(tcp::no_delay(true), ignored);  // one command, one segment
    }

    void discard_input() override {
        boost::system::error_code ec;
        std::array<char, 4096> sink{};
        while (stream_.is_open() && stream_.available(ec) > 0 && !ec) {
            stream_.read_some(asio::buffer(sink), ec);
        }
    }

  private:
    std::string host_;
    std::uint16_t port_;
};

class SerialTransport final : public AsioTransport<asio::serial_port> {
  public:
    explicit SerialTransport(const ConnectionUri& uri)
        : AsioTransport(uri.text), path_(uri.path), settings_(uri.serial) {}

    void open(Deadline) override {
        close();
        boost::system::error_code ec;
        stream_.open(path_, ec);  // Asio opens non-blocking and without a controlling tty
        if (ec) {
            throw DriverError(ErrorKind::link,
                              name_ + ": cannot open " + path_ + ": " + ec.message());
        }
        using sp = asio::serial_port_base;
        const auto parity = settings_.parity == Parity::even  ? sp::parity::even
                            : settings_.parity == Parity::odd ? sp::parity::odd
                                                              : sp::parity::none;
        const auto flow = settings_.flow == FlowControl::hardware   ? sp::flow_control::hardware
                          : settings_.flow == FlowControl::software ? sp::flow_control::software
                                                                    : sp::flow_control::none;
        stream_.set_option(sp::baud_rate(settings_.baud), ec);
        if (!ec) {
            stream_.set_option(sp::parity(parity), ec);
        }
        if (!ec) {
            stream_.set_option(sp::character_size(settings_.data_bits), ec);
        }
        if (!ec) {
            stream_.set_option(
                sp::stop_bits(settings_.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one),
                ec);
        }
        if (!ec) {
            stream_.set_option(sp::flow_control(flow), ec);
        }
        if (ec) {
            close();
            throw DriverError(ErrorKind::config,
                              name_ + ": cannot apply the line settings: " + ec.message());
        }
    }

    void discard_input() override {
        if (stream_.is_open()) {
            ::tcflush(stream_.native_handle(), TCIFLUSH);
        }
    }

  private:
    std::string path_;
    SerialSettings settings_;
};

}  // namespace

std::size_t Transport::wait_some(std::span<char> into, Deadline deadline) {
    try {
        return read_some(into, deadline);
    } catch (const DriverError& error) {
        if (error.kind() == ErrorKind::timeout) {
            return 0;
        }
        throw;
    }
}

std::vector<std::string> resolve_host(const std::string& host, Deadline deadline,
                                      const std::string& name) {
    boost::system::error_code ec;
    if (const auto literal = asio::ip::make_address(host, ec); !ec) {
        return {literal.to_string()};
    }
    // getaddrinfo cannot be cancelled, so it runs on its own thread, which owns its share of
    // the result: on a timeout the lookup is abandoned and finishes (harmlessly) later.
    struct Lookup {
        std::mutex mutex;
        std::condition_variable done_cv;
        bool done = false;
        int status = 0;
        std::vector<std::string> found;
    };
    auto lookup = std::make_shared<Lookup>();
    std::thread([lookup, host] {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_ADDRCONFIG;
        addrinfo* list = nullptr;
        const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
        std::vector<std::string> found;
        for (const addrinfo* a = status == 0 ? list : nullptr; a != nullptr; a = a->ai_next) {
            std::array<char, NI_MAXHOST> text{};
            if (::getnameinfo(a->ai_addr, a->ai_addrlen, text.data(), text.size(), nullptr, 0,
                              NI_NUMERICHOST) == 0 &&
                std::find(found.begin(), found.end(), text.data()) == found.end()) {
                found.emplace_back(text.data());
            }
        }
        if (list != nullptr) {
            ::freeaddrinfo(list);
        }
        {
            std::lock_guard lock(lookup->mutex);
            lookup->status = status;
            lookup->found = std::move(found);
            lookup->done = true;
        }
        lookup->done_cv.notify_all();
    }).detach();
    std::unique_lock lock(lookup->mutex);
    if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
        throw DriverError(ErrorKind::timeout,
                          name + ": resolving '" + host + "' did not finish before the deadline");
    }
    if (lookup->status != 0 || lookup->found.empty()) {
        throw DriverError(
            ErrorKind::link,
            name + ": cannot resolve '" + host +
                "': " + (lookup->status != 0 ? ::gai_strerror(lookup->status) : "no address"));
    }
    return lookup->found;
}

std::unique_ptr<Transport> make_transport(const ConnectionUri& uri) {
    switch (uri.scheme) {
        case Scheme::tcp:
            return std::make_unique<TcpTransport>(uri);
        case Scheme::serial:
            return std::make_unique<SerialTransport>(uri);
        case Scheme::modbus_tcp:
        case Scheme::modbus_rtu:
            break;
    }
    throw DriverError(ErrorKind::config, "connection string '" + uri.text +
                                             "': a line instrument needs tcp:// or serial://");
}

LineChannel::LineChannel(std::unique_ptr<Transport> transport, LineOptions options)
    : transport_(std::move(transport)), options_(std::move(options)), chunk_(read_chunk_bytes) {}

void LineChannel::open(Deadline deadline) {
    buffer_.clear();
    taken_ = 0;
    transport_->open(deadline);
    if (options_.flush_on_open) {
        transport_->discard_input();
    }
}

void LineChannel::close() noexcept {
    transport_->close();
    buffer_.clear();
    taken_ = 0;
}

void LineChannel::send(std::string_view line, Deadline deadline) {
    if (options_.inter_command_delay.count() > 0) {
        const auto ready = last_send_ + options_.inter_command_delay;
        if (ready > deadline) {
            throw DriverError(ErrorKind::timeout,
                              name() + ": no time left for the inter-command delay");
        }
        std::this_thread::sleep_until(ready);
    }
    std::string bytes(line);
    bytes += options_.terminator;
    transport_->write(bytes, deadline);
    last_send_ = Clock::now();
}

std::optional<std::string> LineChannel::take_line() {
    if (const auto at = buffer_.find(options_.terminator.back(), taken_); at != std::string::npos) {
        std::string line = buffer_.substr(taken_, at - taken_);
        taken_ = at + 1;  // erased once the buffer runs dry, not once a line (quadratic)
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
            line.pop_back();
        }
        return line;
    }
    buffer_.erase(0, taken_);
    taken_ = 0;
    if (buffer_.size() > options_.max_line_bytes) {
        buffer_.clear();
        throw DriverError(ErrorKind::protocol, name() + ": line longer than " +
                                                   std::to_string(options_.max_line_bytes) +
                                                   " bytes without a terminator");
    }
    return std::nullopt;
}

std::optional<std::string> LineChannel::wait_line(Deadline deadline) {
    while (true) {
        if (auto line = take_line()) {
            return line;
        }
        const std::size_t n = transport_->wait_some(chunk_, deadline);
        if (n == 0) {
            return std::nullopt;
        }
        buffer_.append(chunk_.data(), n);
    }
}

std::string LineChannel::read_line(Deadline deadline) {
    while (true) {
        if (auto line = take_line()) {
            return std::move(*line);
        }
        try {
            const std::size_t n = transport_->read_some(chunk_, deadline);
            buffer_.append(chunk_.data(), n);
        } catch (const DriverError& error) {
            if (error.kind() == ErrorKind::timeout && !buffer_.empty()) {
                throw DriverError(ErrorKind::timeout, std::string(error.what()) +
                                                          " with a partial line pending: '" +
                                                          printable(buffer_, 64) + "'");
            }
            throw;
        }
    }
}

}  // namespace dmacycle::drivers
