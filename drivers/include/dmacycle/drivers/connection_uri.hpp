#pragma once
#include <cstdint>
#include <string>
#include <string_view>

// Connection strings choose the transport below a protocol (docs/drivers.md):
//   tcp://host:port
//   serial:///dev/ttyUSB0?baud=19200&parity=none&data_bits=8&stop_bits=1&flow=none
//   modbus-tcp://host:port?unit=1
//   modbus-rtu:///dev/ttyUSB0?baud=9600&parity=none&unit=1
namespace dmacycle::drivers {

enum class Scheme { tcp, serial, modbus_tcp, modbus_rtu };
enum class Parity { none, even, odd };
enum class FlowControl { none, hardware, software };

struct SerialSettings {
    unsigned baud = 9600;
    Parity parity = Parity::none;
    unsigned data_bits = 8;
    unsigned stop_bits = 1;
    FlowControl flow = FlowControl::none;
};

struct ConnectionUri {
    std::string text;  // as given, for messages
    Scheme scheme = Scheme::tcp;
    std::string host;  // tcp, modbus-tcp
    std::uint16_t port = 0;
    std::string path;  // serial, modbus-rtu: the device
    SerialSettings serial;
    int unit = 1;  // Modbus unit (slave) id
    bool is_serial() const { return scheme == Scheme::serial || scheme == Scheme::modbus_rtu; }
    bool is_modbus() const { return scheme == Scheme::modbus_tcp || scheme == Scheme::modbus_rtu; }
};

// Throws DriverError(config) naming the string and the part that is wrong.
ConnectionUri parse_connection_uri(std::string_view text);

const char* to_string(Scheme scheme);

}  // namespace dmacycle::drivers
