#include <doctest/doctest.h>

#include <string>

#include "dmacycle/drivers/connection_uri.hpp"
#include "dmacycle/drivers/error.hpp"

using namespace dmacycle::drivers;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_connection_uri(text);
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::config);
        return error.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("connection strings: the four schemes and their options") {
    const auto tcp = parse_connection_uri("tcp://127.0.0.1:5025");
    CHECK(tcp.scheme == Scheme::tcp);
    CHECK(tcp.host == "127.0.0.1");
    CHECK(tcp.port == 5025);

    const auto serial = parse_connection_uri(
        "serial:///dev/ttyUSB0?baud=19200&parity=even&stop_bits=2&flow=rtscts");
    CHECK(serial.scheme == Scheme::serial);
    CHECK(serial.path == "/dev/ttyUSB0");
    CHECK(serial.serial.baud == 19200);
    CHECK(serial.serial.parity == Parity::even);
    CHECK(serial.serial.stop_bits == 2);
    CHECK(serial.serial.flow == FlowControl::hardware);

    const auto mtcp = parse_connection_uri("modbus-tcp://localhost:502?unit=3");
    CHECK(mtcp.scheme == Scheme::modbus_tcp);
    CHECK(mtcp.host == "localhost");
    CHECK(mtcp.unit == 3);

    const auto rtu = parse_connection_uri("modbus-rtu:///dev/ttyS1?baud=9600");
    CHECK(rtu.scheme == Scheme::modbus_rtu);
    CHECK(rtu.unit == 1);  // Eurotherm default
    CHECK(rtu.serial.baud == 9600);
    CHECK(rtu.serial.parity == Parity::none);
}

TEST_CASE("connection strings: bad ones are refused naming the string and the part") {
    CHECK(error_of("http://x:1") ==
          "connection string 'http://x:1': expected tcp://, serial://, modbus-tcp:// or "
          "modbus-rtu://");
    CHECK(error_of("tcp://127.0.0.1") == "connection string 'tcp://127.0.0.1': expected host:port");
    CHECK(error_of("tcp://h:70000").find("port '70000' is not a whole number in [1, 65535]") !=
          std::string::npos);
    CHECK(error_of("tcp://h:12x").find("port '12x'") != std::string::npos);
    CHECK(error_of("serial://dev/tty").find("expected a device path") != std::string::npos);
    CHECK(error_of("serial:///dev/tty?baud=fast").find("baud 'fast'") != std::string::npos);
    CHECK(
        error_of("serial:///dev/tty?parity=mark").find("parity 'mark' is not none, even or odd") !=
        std::string::npos);
    CHECK(error_of("tcp://h:1?unit=2").find("'unit' only applies to modbus") != std::string::npos);
    CHECK(error_of("modbus-tcp://h:1?baud=9600").find("'baud' only applies to serial") !=
          std::string::npos);
    CHECK(error_of("modbus-tcp://h:1?unit=300").find("unit '300'") != std::string::npos);
    CHECK(error_of("modbus-tcp://h:1?colour=red").find("unknown option 'colour'") !=
          std::string::npos);
    CHECK(error_of("modbus-tcp://h:1?unit").find("option 'unit' is not key=value") !=
          std::string::npos);
    CHECK(error_of("modbus-tcp://h:1?unit=1&unit=2").find("option 'unit' given twice") !=
          std::string::npos);
    CHECK(error_of("").find("expected tcp://") != std::string::npos);
}
