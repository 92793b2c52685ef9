#include "dmacycle/drivers/connection_uri.hpp"

#include <array>
#include <charconv>
#include <set>

#include "dmacycle/drivers/error.hpp"

namespace dmacycle::drivers {
namespace {

struct SchemeName {
    std::string_view prefix;
    Scheme scheme;
};
constexpr std::array<SchemeName, 4> schemes{{{"tcp://", Scheme::tcp},
                                             {"serial://", Scheme::serial},
                                             {"modbus-tcp://", Scheme::modbus_tcp},
                                             {"modbus-rtu://", Scheme::modbus_rtu}}};

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw DriverError(ErrorKind::config, "connection string '" + std::string(text) + "': " + why);
}

template <class Int>
Int to_int(std::string_view uri, std::string_view what, std::string_view value, Int lo, Int hi) {
    Int out{};
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc() || end != value.data() + value.size() || out < lo || out > hi) {
        bad(uri, std::string(what) + " '" + std::string(value) + "' is not a whole number in [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return out;
}

void apply_option(ConnectionUri& uri, std::string_view key, std::string_view value) {
    const std::string_view text = uri.text;
    const bool serial_key = key == "baud" || key == "parity" || key == "data_bits" ||
                            key == "stop_bits" || key == "flow";
    if (serial_key && !uri.is_serial()) {
        bad(text, "'" + std::string(key) + "' only applies to serial:// and modbus-rtu://");
    }
    if (key == "unit") {
        if (!uri.is_modbus()) {
            bad(text, "'unit' only applies to modbus-tcp:// and modbus-rtu://");
        }
        uri.unit = to_int<int>(text, "unit", value, 0, 247);  // Modbus: 1-247, 0 broadcast
    } else if (key == "baud") {
        uri.serial.baud = to_int<unsigned>(text, "baud", value, 50, 4000000);
    } else if (key == "data_bits") {
        uri.serial.data_bits = to_int<unsigned>(text, "data_bits", value, 5, 8);
    } else if (key == "stop_bits") {
        uri.serial.stop_bits = to_int<unsigned>(text, "stop_bits", value, 1, 2);
    } else if (key == "parity") {
        if (value == "none") {
            uri.serial.parity = Parity::none;
        } else if (value == "even") {
            uri.serial.parity = Parity::even;
        } else if (value == "odd") {
            uri.serial.parity = Parity::odd;
        } else {
            bad(text, "parity '" + std::string(value) + "' is not none, even or odd");
        }
    } else if (key == "flow") {
        if (value == "none") {
            uri.serial.flow = FlowControl::none;
        } else if (value == "hardware" || value == "rtscts") {
            uri.serial.flow = FlowControl::hardware;
        } else if (value == "software" || value == "xonxoff") {
            uri.serial.flow = FlowControl::software;
        } else {
            bad(text, "flow '" + std::string(value) + "' is not none, hardware or software");
        }
    } else {
        bad(text, "unknown option '" + std::string(key) + "'");
    }
}

}  // namespace

const char* to_string(Scheme scheme) {
    switch (scheme) {
        case Scheme::tcp:
            return "tcp";
        case Scheme::serial:
            return "serial";
        case Scheme::modbus_tcp:
            return "modbus-tcp";
        case Scheme::modbus_rtu:
            return "modbus-rtu";
    }
    return "?";
}

ConnectionUri parse_connection_uri(std::string_view text) {
    ConnectionUri uri;
    uri.text = std::string(text);
    std::string_view rest;
    bool known = false;
    for (const auto& [prefix, scheme] : schemes) {
        if (text.starts_with(prefix)) {
            uri.scheme = scheme;
            rest = text.substr(prefix.size());
            known = true;
            break;
        }
    }
    if (!known) {
        bad(text, "expected tcp://, serial://, modbus-tcp:// or modbus-rtu://");
    }
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    if (uri.is_serial()) {
        if (!rest.starts_with('/')) {
            bad(text, "expected a device path such as serial:///dev/ttyUSB0");
        }
        uri.path = std::string(rest);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            bad(text, "expected host:port");
        }
        uri.host = std::string(rest.substr(0, colon));
        if (uri.host.find('/') != std::string::npos) {
            bad(text, "host '" + uri.host + "' contains '/'");
        }
        uri.port = to_int<std::uint16_t>(text, "port", rest.substr(colon + 1), 1, 65535);
    }
    std::set<std::string_view> seen;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
            bad(text, "option '" + std::string(item) + "' is not key=value");
        }
        const std::string_view key = item.substr(0, eq);
        if (!seen.insert(key).second) {
            bad(text, "option '" + std::string(key) + "' given twice");
        }
        apply_option(uri, key, item.substr(eq + 1));
    }
    return uri;
}

}  // namespace dmacycle::drivers
