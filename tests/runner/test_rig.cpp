// A rig of `driver: sim` (config/rigs/sim.yaml): read, checked and brought up on loopback ports,
// the production drivers talking to it; what cannot be simulated is refused by file, line and
// field.
#include <doctest/doctest.h>

#include <chrono>

#include "dmacycle/drivers/error.hpp"
#include "dmacycle/runner/rig.hpp"
#include "runner_rig.hpp"

using namespace runner_test;
namespace fs = std::filesystem;
namespace drivers = dmacycle::drivers;
namespace runner = dmacycle::runner;

namespace {

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// What load_rig refuses `path` with.
std::string rig_error(const fs::path& path) {
    try {
        runner::load_rig(path);
    } catch (const drivers::DriverError& error) {
        CHECK(error.kind() == drivers::ErrorKind::config);
        return error.what();
    }
    return "<no error>";
}

// Identity and furnace temperature of a brought-up rig, read by the production drivers.
struct Readings {
    std::string frame_identity, furnace_identity;
    double furnace_temperature_k = 0;
};

Readings read_rig(const runner::Rig& rig) {
    auto frame = drivers::make_frame(rig.frame);
    frame->connect(drivers::deadline_in(rig.frame.timeout));
    auto furnace = drivers::make_furnace(rig.furnace);
    furnace->connect_by(drivers::deadline_in(rig.furnace.timeout));
    return {frame->identify(), furnace->identify(), furnace->read().temperature_k};
}

}  // namespace

TEST_CASE("rig: driver sim is brought up on loopback and the production drivers read it") {
    // The shipped rig: sim-la30 (furnace at 365 K, shown in °C) at speed 1.
    const auto shipped = runner::load_rig(DMACYCLE_SOURCE_DIR "/config/rigs/sim.yaml");
    REQUIRE(shipped.simulator);
    CHECK_FALSE(shipped.simulator->clock.is_max());
    CHECK(shipped.simulator->clock.speed() == 1.0);
    const auto up = runner::bring_up(shipped);
    REQUIRE(up.simulator);
    CHECK(up.frame.driver == "scpi-frame");
    CHECK(up.frame.uri.starts_with("tcp://127.0.0.1:"));
    CHECK(up.furnace.driver == "modbus-furnace");
    CHECK(up.furnace.model == "eurotherm-2400");
    CHECK(up.furnace.uri.starts_with("modbus-tcp://127.0.0.1:"));
    const auto celsius = read_rig(up);
    CHECK(celsius.frame_identity == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(celsius.furnace_temperature_k == doctest::Approx(365.0).epsilon(0.005));

    // A Kelvin controller on unit 7: read with the Celsius map, its 365.0 would be 638 K. The
    // bring-up names the Kelvin map, so no caller has to.
    TempDir dir;
    write_file(dir.path / "instruments" / "kelvin.yaml",
               shipped_profile({{"serial: SIM0001", "serial: RIG0042"},
                                {"modbus_unit_id: 1", "modbus_unit_id: 7"},
                                {"display_units: celsius", "display_units: kelvin"}}));
    write_file(dir.path / "rigs" / "kelvin.yaml",
               "frame: {driver: sim, profile: ../instruments/kelvin.yaml, speed: max, "
               "timeout_ms: 700}\nfurnace: {driver: sim}\n");
    const auto spec = runner::load_rig(dir.path / "rigs" / "kelvin.yaml");
    REQUIRE(spec.simulator);
    CHECK(spec.simulator->clock.is_max());
    const auto kelvin_rig = runner::bring_up(spec);
    CHECK(kelvin_rig.furnace.model == "eurotherm-2400-kelvin");
    CHECK(kelvin_rig.frame.timeout == std::chrono::milliseconds(700));
    CHECK(kelvin_rig.frame.uri != up.frame.uri);
    const auto kelvin = read_rig(kelvin_rig);
    CHECK(kelvin.frame_identity == "dmacycle,SIM-DMA,RIG0042,0.1.0");
    CHECK(kelvin.furnace_identity == "eurotherm-2400-kelvin,unit 7");
    CHECK(kelvin.furnace_temperature_k == doctest::Approx(365.0).epsilon(0.005));
}

TEST_CASE("rig: real devices are passed on as named, nothing brought up or opened") {
    const auto spec = runner::load_rig(DMACYCLE_SOURCE_DIR "/config/rigs/eurotherm-rs485.yaml");
    CHECK_FALSE(spec.simulator);
    const auto rig = runner::bring_up(spec);
    CHECK_FALSE(rig.simulator);
    CHECK(rig.frame.uri == "tcp://dma-adapter.local:5025");
    CHECK(rig.furnace.model == "eurotherm-2400");
    CHECK(rig.furnace.timeout == std::chrono::milliseconds(500));
}

TEST_CASE("rig: a simulator that cannot run and a rig short of a device are refused") {
    TempDir dir;
    const auto rig = [&](const std::string& name, const std::string& text) {
        write_file(dir.path / name, text);
        return dir.path / name;
    };
    const auto at = [&](const std::string& name) { return (dir.path / name).string() + ":"; };
    const auto sim_row = [](const std::string& fields) {
        return "frame:\n  driver: sim\n" + fields + "furnace: {driver: sim}\n";
    };
    write_file(dir.path / "la30.yaml", shipped_profile({}));
    CHECK(rig_error(rig("fast.yaml", sim_row("  profile: la30.yaml\n  speed: fast\n"))) ==
          at("fast.yaml") + "4: frame.speed: 'fast': expected a positive number or max");
    CHECK(rig_error(rig("zero.yaml", sim_row("  profile: la30.yaml\n  speed: 0\n"))) ==
          at("zero.yaml") + "4: frame.speed: '0': expected a positive number or max");
    CHECK(rig_error(rig("gone.yaml", sim_row("  profile: nowhere.yaml\n"))) ==
          at("gone.yaml") + "3: frame.profile: " + (dir.path / "nowhere.yaml").string() +
              ": cannot open instrument profile");
    // A profile of a real frame is not one the simulator can be.
    write_file(dir.path / "real.yaml", "driver: scpi-frame\n");
    const auto real = rig_error(rig("real-profile.yaml", sim_row("  profile: real.yaml\n")));
    CHECK(real.starts_with(at("real-profile.yaml") +
                           "3: frame.profile: " + (dir.path / "real.yaml").string() + ":1: "));
    CHECK(real.find("driver: sim") != std::string::npos);

    CHECK(rig_error(rig("half.yaml", "frame: {uri: 'tcp://127.0.0.1:5025'}\n")) ==
          (dir.path / "half.yaml").string() + ": must name both a frame and a furnace");
    CHECK(rig_error(dir.path / "absent.yaml") ==
          (dir.path / "absent.yaml").string() + ": cannot read");
}
