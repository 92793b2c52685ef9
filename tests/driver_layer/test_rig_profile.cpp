#include <doctest/doctest.h>

#include <string>

#include "dmacycle/drivers/rig_profile.hpp"

using namespace dmacycle::drivers;

namespace {

std::string error_of(const std::string& yaml) {
    try {
        parse_rig_profile(yaml, "rig.yaml");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::config);
        return error.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("rig profile: devices chosen by driver, model and connection string") {
    const auto rig = parse_rig_profile(
        "frame:\n  uri: tcp://127.0.0.1:5025\n"
        "furnace:\n  driver: modbus-furnace\n  model: eurotherm-3200\n"
        "  uri: modbus-rtu:///dev/ttyUSB0?baud=9600&unit=2\n  timeout_ms: 250\n",
        "rig.yaml");
    REQUIRE(rig.frame);
    CHECK(rig.frame->driver == "");  // the registry's default
    CHECK(rig.frame->uri == "tcp://127.0.0.1:5025");
    REQUIRE(rig.furnace);
    CHECK(rig.furnace->model == "eurotherm-3200");
    CHECK(rig.furnace->timeout == std::chrono::milliseconds(250));
    CHECK_FALSE(parse_rig_profile("furnace: {uri: 'modbus-tcp://h:502'}", "x").frame);
    const auto shipped = load_rig_profile(DMACYCLE_SOURCE_DIR "/config/rigs/sim-loopback.yaml");
    CHECK(shipped.frame->model == "dmacycle-scpi");
    CHECK(load_rig_profile(DMACYCLE_SOURCE_DIR "/config/rigs/eurotherm-rs485.yaml").furnace);
}

TEST_CASE("rig profile: mistakes are named with file, line and field") {
    CHECK(error_of("frame:\n  model: dmacycle-scpi\n") == "rig.yaml:2: frame: missing 'uri'");
    CHECK(error_of("frame:\n  uri: tcp://h:1\n  colour: red\n") ==
          "rig.yaml:3: frame.colour: unknown field");
    CHECK(error_of("oven:\n  uri: tcp://h:1\n") ==
          "rig.yaml:1: oven: unknown field (expected frame or furnace)");
    CHECK(error_of("furnace:\n  uri: modbus-tcp://h:1\n  timeout_ms: -5\n") ==
          "rig.yaml:3: furnace.timeout_ms: expected a positive whole number");
    CHECK(error_of("furnace:\n  model: eurotherm-9\n  uri: modbus-tcp://h:1\n") ==
          "rig.yaml:2: furnace: furnace driver modbus-furnace has no model 'eurotherm-9' "
          "(known: eurotherm-2400, eurotherm-3200, eurotherm-2400-float, eurotherm-3200-float, "
          "eurotherm-2400-kelvin)");
    CHECK(error_of("frame:\n  uri: tcp://h\n") ==
          "rig.yaml:2: frame: connection string 'tcp://h': expected host:port");
    CHECK(error_of("frame: [1, 2\n").starts_with("rig.yaml:"));
    CHECK(error_of("frame: 3\n").find("frame: expected a mapping") != std::string::npos);
}
