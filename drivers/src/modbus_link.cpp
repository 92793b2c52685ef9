#include "dmacycle/drivers/modbus_link.hpp"

#include <modbus/modbus.h>

#include <cerrno>

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

}  // namespace

ModbusLink::ModbusLink(const ConnectionUri& uri, std::chrono::milliseconds timeout)
    : name_(uri.text), unit_(uri.unit), timeout_(timeout), rtu_(uri.scheme == Scheme::modbus_rtu) {
    if (!uri.is_modbus()) {
        throw DriverError(ErrorKind::config, "connection string '" + uri.text +
                                                 "': a Modbus device needs "
                                                 "modbus-tcp:// or modbus-rtu://");
    }
    ctx_ = rtu_ ? modbus_new_rtu(uri.path.c_str(), static_cast<int>(uri.serial.baud),
                                 parity_letter(uri.serial.parity),
                                 static_cast<int>(uri.serial.data_bits),
                                 static_cast<int>(uri.serial.stop_bits))
                : modbus_new_tcp_pi(uri.host.c_str(), std::to_string(uri.port).c_str());
    if (ctx_ == nullptr) {
        throw DriverError(ErrorKind::config,
                          "connection string '" + uri.text + "': " + modbus_strerror(errno));
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
    modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(us / 1'000'000),
                                static_cast<std::uint32_t>(us % 1'000'000));
    // A reply's bytes may arrive in pieces; a stalled half reply still ends at the timeout.
    modbus_set_byte_timeout(ctx_, static_cast<std::uint32_t>(us / 1'000'000),
                            static_cast<std::uint32_t>(us % 1'000'000));
    modbus_set_slave(ctx_, unit_);
}

ModbusLink::~ModbusLink() {
    close();
    modbus_free(ctx_);
}

void ModbusLink::connect() {
    close();
    if (modbus_connect(ctx_) != 0) {
        throw DriverError(ErrorKind::link, name_ + ": cannot connect: " + modbus_strerror(errno));
    }
    open_ = true;
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
        message += " after " + std::to_string(timeout_.count()) + " ms";
        if (rtu_) {
            message += " (no reply: wrong unit id, baud rate or wiring?)";
        }
    }
    if (kind != ErrorKind::device) {
        close();  // the next reply could belong to this request: start over on a fresh link
    }
    throw DriverError(kind, message);
}

std::vector<std::uint16_t> ModbusLink::read(std::uint16_t address, std::uint16_t count,
                                            std::string_view what) {
    if (!open_) {
        throw DriverError(ErrorKind::link, name_ + ": not connected");
    }
    if (count == 0 || count > MODBUS_MAX_READ_REGISTERS) {
        throw DriverError(ErrorKind::config, name_ + ": cannot read " + std::to_string(count) +
                                                 " registers of " + std::string(what));
    }
    std::vector<std::uint16_t> values(count);
    if (modbus_read_registers(ctx_, address, count, values.data()) != count) {
        fail("reading", address, what);
    }
    return values;
}

void ModbusLink::write(std::uint16_t address, std::span<const std::uint16_t> values,
                       std::string_view what) {
    if (!open_) {
        throw DriverError(ErrorKind::link, name_ + ": not connected");
    }
    const int count = static_cast<int>(values.size());
    const int written = count == 1 ? modbus_write_register(ctx_, address, values[0])
                                   : modbus_write_registers(ctx_, address, count, values.data());
    if (written != count) {
        fail("writing", address, what);
    }
}

}  // namespace dmacycle::drivers
