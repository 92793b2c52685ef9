#include "dmacycle/drivers/transport.hpp"

#include <termios.h>

#include <array>
#include <thread>

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
        run(done, result, deadline, "read");
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

  protected:
    void run(bool& done, const boost::system::error_code& result, Deadline deadline,
             const char* what) {
        io_.restart();
        while (!done && io_.run_one_until(deadline) > 0) {
        }
        if (!done) {
            cancel();
            io_.restart();
            io_.run();  // completes the cancelled operation, usually with operation_aborted
            // It may have finished before the cancel reached it (a read with its bytes): then
            // it succeeded, and reporting a timeout would lose what it read.
            if (result != asio::error::operation_aborted) {
                return;
            }
            throw DriverError(ErrorKind::timeout, name_ + ": " + what + " timed out");
        }
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
};

class TcpTransport final : public AsioTransport<tcp::socket> {
  public:
    explicit TcpTransport(const ConnectionUri& uri)
        : AsioTransport(uri.text), host_(uri.host), port_(uri.port), resolver_(io_) {}

    void open(Deadline deadline) override {
        close();
        boost::system::error_code result;
        bool done = false;
        tcp::resolver::results_type endpoints;
        resolving_ = true;
        resolver_.async_resolve(host_, std::to_string(port_),
                                [&](const boost::system::error_code& ec, auto found) {
                                    result = ec;
                                    endpoints = std::move(found);
                                    done = true;
                                });
        run(done, result, deadline, "resolve");
        resolving_ = false;
        if (result) {
            throw DriverError(ErrorKind::link,
                              name_ + ": cannot resolve '" + host_ + "': " + result.message());
        }
        done = false;
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
        stream_.set_option(tcp::no_delay(true), result);  // one command, one segment
    }

    void discard_input() override {
        boost::system::error_code ec;
        std::array<char, 4096> sink{};
        while (stream_.is_open() && stream_.available(ec) > 0 && !ec) {
            stream_.read_some(asio::buffer(sink), ec);
        }
    }

  private:
    void cancel() override {
        if (resolving_) {
            resolver_.cancel();
        } else {
            AsioTransport::cancel();
        }
    }

    std::string host_;
    std::uint16_t port_;
    tcp::resolver resolver_;
    bool resolving_ = false;
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
    : transport_(std::move(transport)), options_(std::move(options)) {}

void LineChannel::open(Deadline deadline) {
    buffer_.clear();
    transport_->open(deadline);
    if (options_.flush_on_open) {
        transport_->discard_input();
    }
}

void LineChannel::close() noexcept {
    transport_->close();
    buffer_.clear();
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

bool LineChannel::has_buffered_line() const {
    return buffer_.find(options_.terminator.back()) != std::string::npos;
}

std::string LineChannel::read_line(Deadline deadline) {
    const char end = options_.terminator.back();
    std::array<char, 4096> chunk{};
    while (true) {
        if (const auto at = buffer_.find(end); at != std::string::npos) {
            std::string line = buffer_.substr(0, at);
            buffer_.erase(0, at + 1);
            while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
                line.pop_back();
            }
            return line;
        }
        if (buffer_.size() > options_.max_line_bytes) {
            buffer_.clear();
            throw DriverError(ErrorKind::protocol, name() + ": line longer than " +
                                                       std::to_string(options_.max_line_bytes) +
                                                       " bytes without a terminator");
        }
        try {
            const std::size_t n = transport_->read_some(chunk, deadline);
            buffer_.append(chunk.data(), n);
        } catch (const DriverError& error) {
            if (error.kind() == ErrorKind::timeout && !buffer_.empty()) {
                throw DriverError(ErrorKind::timeout, std::string(error.what()) +
                                                          " with a partial line pending: '" +
                                                          buffer_.substr(0, 64) + "'");
            }
            throw;
        }
    }
}

}  // namespace dmacycle::drivers
