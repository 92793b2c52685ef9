#include "dmacycle/drivers/modbus_link.hpp"

#include <modbus/modbus.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dmacycle/drivers/transport.hpp"

namespace dmacycle::drivers {
namespace {

char parity_letter(Parity parity) {
    switch (parity) {
        case Parity::even:
            return 'E';
        case Parity::odd:
            return 'O';
        case Parity::none:
            break;
    }
    return 'N';
}

ErrorKind kind_of(int error) {
    if (error >= EMBXILFUN && error <= EMBXGTAR) {
        return ErrorKind::device;  // an exception reply: the link itself is fine
    }
    if (error == ETIMEDOUT) {
        return ErrorKind::timeout;
    }
    if (error == EMBBADCRC || error == EMBBADDATA || error == EMBBADEXC || error == EMBMDATA ||
        error == EMBBADSLAVE) {
        return ErrorKind::protocol;
    }
    return ErrorKind::link;
}

// libmodbus restarts its byte timeout on every byte, so a peer trickling its reply stretched
// each request far past the response timeout. With the byte timeout off, libmodbus requires
// the whole reply within the response timeout instead, which is what a deadline means.
void disable_byte_timeout(_modbus* ctx) {
    modbus_set_byte_timeout(ctx, 0, 0);
}

// Dialling a free loopback port from the ephemeral range can connect the socket to itself
// (TCP simultaneous open), which would then hold the port the peer needs.
bool connected_to_itself(int fd) {
    sockaddr_storage local{}, remote{};
    socklen_t local_size = sizeof local, remote_size = sizeof remote;
    return ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) == 0 &&
           ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_size) == 0 &&
           local_size == remote_size && std::memcmp(&local, &remote, local_size) == 0;
}

void set_response_timeout(_modbus* ctx, Clock::duration timeout) {
    const auto us = std::max<std::int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout).count(), 1000);
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(us / 1'000'000),
                                static_cast<std::uint32_t>(us % 1'000'000));
}

}  // namespace

ModbusLink::ModbusLink(const ConnectionUri& uri, std::chrono::milliseconds timeout)
    : name_(uri.text),
      unit_(uri.unit),
      timeout_(timeout),
      host_(uri.host),
      port_(std::to_string(uri.port)),
      rtu_(uri.scheme == Scheme::modbus_rtu) {
    if (!uri.is_modbus()) {
        throw DriverError(ErrorKind::config, "connection string '" + uri.text +
                                                 "': a Modbus device needs "
                                                 "modbus-tcp:// or modbus-rtu://");
    }
    if (rtu_) {
        ctx_ = modbus_new_rtu(
            uri.path.c_str(), static_cast<int>(uri.serial.baud), parity_letter(uri.serial.parity),
            static_cast<int>(uri.serial.data_bits), static_cast<int>(uri.serial.stop_bits));
        if (ctx_ == nullptr) {
            throw DriverError(ErrorKind::config,
                              "connection string '" + uri.text + "': " + modbus_strerror(errno));
        }
        disable_byte_timeout(ctx_);
        modbus_set_slave(ctx_, unit_);
    }
}

void ModbusLink::new_context(const std::string& host) {
    if (ctx_ != nullptr) {
        modbus_free(ctx_);
    }
    // libmodbus calls getaddrinfo on connect, which is instant for the numeric host given here.
    ctx_ = modbus_new_tcp_pi(host.c_str(), port_.c_str());
    if (ctx_ == nullptr) {
        throw DriverError(ErrorKind::config, name_ + ": " + modbus_strerror(errno));
    }
    disable_byte_timeout(ctx_);
    modbus_set_slave(ctx_, unit_);
}

ModbusLink::~ModbusLink() {
    close();
    if (ctx_ != nullptr) {
        modbus_free(ctx_);
    }
}

void ModbusLink::connect() {
    connect(deadline_in(timeout_));
}

void ModbusLink::connect(Deadline deadline) {
    close();
    if (!rtu_) {
        new_context(resolve_host(host_, deadline, name_).front());
    }
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
        throw DriverError(ErrorKind::timeout, name_ + ": no time left to connect");
    }
    // libmodbus bounds its TCP connect by the response timeout.
    set_response_timeout(ctx_, left);
    if (modbus_connect(ctx_) != 0) {
        throw DriverError(ErrorKind::link, name_ + ": cannot connect: " + modbus_strerror(errno));
    }
    open_ = true;
    if (!rtu_ && connected_to_itself(modbus_get_socket(ctx_))) {
        close();  // see connected_to_itself
        throw DriverError(ErrorKind::link, name_ + ": cannot connect: connected to itself");
    }
    if (rtu_) {
        modbus_flush(ctx_);  // bytes left on the line from before belong to nobody
    }
}

void ModbusLink::close() noexcept {
    if (open_) {
        modbus_close(ctx_);
        open_ = false;
    }
}

void ModbusLink::fail(std::string_view action, std::uint16_t address, std::string_view what) {
    const int error = errno;
    const ErrorKind kind = kind_of(error);
    std::string message = name_ + ": " + std::string(action) + " " + std::string(what) +
                          " at register " + std::to_string(address) + " (unit " +
                          std::to_string(unit_) + "): " + modbus_strerror(error);
    if (kind == ErrorKind::device) {
        message += " (exception " + std::to_string(error - MODBUS_ENOBASE) + ")";
    }
    if (kind == ErrorKind::timeout) {
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - request_started_);
        message += " after " + std::to_string(took.count()) + " ms";
        message += rtu_ ? " (no complete reply: wrong unit id, baud rate or wiring?)"
                        : " (no complete reply: wrong unit id?)";
    }
    if (kind != ErrorKind::device) {
        close();  // the next reply could belong to this request: start over on a fresh link
    }
    throw DriverError(kind, message);
}

void ModbusLink::begin_request(Deadline deadline, std::string_view what) {
    if (!open_) {
        throw DriverError(ErrorKind::link, name_ + ": not connected");
    }
    const Deadline request_deadline = std::min(deadline, deadline_in(timeout_));
    const auto left = request_deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
        throw DriverError(ErrorKind::timeout, name_ + ": no time left for " + std::string(what) +
                                                  " before the deadline");
    }
    request_started_ = Clock::now();
    set_response_timeout(ctx_, left);
}

std::vector<std::uint16_t> ModbusLink::read(std::uint16_t address, std::uint16_t count,
                                            std::string_view what, Deadline deadline) {
    if (count == 0 || count > MODBUS_MAX_READ_REGISTERS) {
        throw DriverError(ErrorKind::config, name_ + ": cannot read " + std::to_string(count) +
                                                 " registers of " + std::string(what));
    }
    begin_request(deadline, what);
    std::vector<std::uint16_t> values(count);
    if (modbus_read_registers(ctx_, address, count, values.data()) != count) {
        fail("reading", address, what);
    }
    return values;
}

void ModbusLink::write(std::uint16_t address, std::span<const std::uint16_t> values,
                       std::string_view what, Deadline deadline) {
    begin_request(deadline, what);
    const int count = static_cast<int>(values.size());
    const int written = count == 1 ? modbus_write_register(ctx_, address, values[0])
                                   : modbus_write_registers(ctx_, address, count, values.data());
    if (written != count) {
        fail("writing", address, what);
    }
}

}  // namespace dmacycle::drivers
