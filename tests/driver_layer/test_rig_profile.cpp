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

TEST_CASE("rig profile: driver sim rows name the simulator, its profile from the rig's folder") {
    const auto rig = parse_rig_profile(
        "frame: {driver: sim, profile: ../instruments/sim-la30.yaml, speed: max}\n"
        "furnace:\n  driver: sim\n  timeout_ms: 300\n",
        "/etc/dmacycled/rigs/sim.yaml");
    REQUIRE(rig.simulator);
    CHECK(rig.simulator->profile == "/etc/dmacycled/instruments/sim-la30.yaml");
    CHECK(rig.simulator->speed == "max");
    CHECK(rig.simulator->profile_line == 1);
    REQUIRE(rig.frame);
    REQUIRE(rig.furnace);
    // Driver, model and connection are the simulator's once it is up (runner::bring_up).
    CHECK(rig.frame->driver == "sim");
    CHECK(rig.frame->uri.empty());
    CHECK(rig.furnace->timeout == std::chrono::milliseconds(300));
    CHECK(parse_rig_profile("frame: {driver: sim, profile: p.yaml}\nfurnace: {driver: sim}\n", "r")
              .simulator->speed == "1");
    CHECK(parse_rig_profile("frame: {driver: sim, profile: /opt/p.yaml}\nfurnace: {driver: sim}\n",
                            "/etc/rigs/sim.yaml")
              .simulator->profile == "/opt/p.yaml");

    const auto shipped = load_rig_profile(DMACYCLE_SOURCE_DIR "/config/rigs/sim.yaml");
    REQUIRE(shipped.simulator);
    CHECK(shipped.simulator->profile ==
          std::filesystem::path(DMACYCLE_SOURCE_DIR "/config/instruments/sim-la30.yaml"));
    CHECK_FALSE(load_rig_profile(DMACYCLE_SOURCE_DIR "/config/rigs/sim-loopback.yaml").simulator);
}

TEST_CASE("rig profile: driver sim rows that cannot be one simulator are refused by field") {
    const std::string one_instrument =
        " is: the simulator is one instrument (its sample sits in its furnace)";
    CHECK(error_of("frame: {driver: sim, profile: p.yaml}\nfurnace:\n  uri: modbus-tcp://h:1\n") ==
          "rig.yaml:3: furnace: expected driver: sim, as the frame" + one_instrument);
    // A missing partner is named where the simulated row is.
    CHECK(error_of("furnace: {driver: sim}\n") ==
          "rig.yaml:1: frame: expected driver: sim, as the furnace" + one_instrument);
    CHECK(error_of("frame: {driver: sim}\nfurnace: {driver: sim}\n") ==
          "rig.yaml:1: frame: missing 'profile'");
    CHECK(error_of("frame: {driver: sim, profile: p.yaml, uri: 'tcp://h:1'}\n"
                   "furnace: {driver: sim}\n") ==
          "rig.yaml:1: frame.uri: unknown field for driver sim (expected driver, profile, speed, "
          "timeout_ms)");
    CHECK(error_of("frame: {driver: sim, profile: p.yaml}\nfurnace: {driver: sim, speed: 5}\n") ==
          "rig.yaml:2: furnace.speed: unknown field for driver sim (expected driver, timeout_ms; "
          "the simulator's profile and speed go on the frame)");
    CHECK(error_of("frame: {driver: sim, profile: [a]}\nfurnace: {driver: sim}\n") ==
          "rig.yaml:1: frame.profile: expected a string");
    CHECK(error_of(
              "frame: {driver: sim, profile: p.yaml}\nfurnace: {driver: sim, timeout_ms: 0}\n") ==
          "rig.yaml:2: furnace.timeout_ms: expected a positive whole number");
}
