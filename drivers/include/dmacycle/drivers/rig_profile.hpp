#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "dmacycle/drivers/registry.hpp"

// Which driver, model and connection each device of a rig uses (config/rigs/*.yaml):
//   frame:   {driver: scpi-frame, model: dmacycle-scpi, uri: "tcp://...", timeout_ms: 1000}
//   furnace: {driver: modbus-furnace, model: eurotherm-2400, uri: "modbus-rtu://...",
//             timeout_ms: 500}
// Both devices are optional; driver and model default to the registry's defaults. Or both are
// the simulated instrument:
//   frame:   {driver: sim, profile: ../instruments/sim-la30.yaml, speed: 100}
//   furnace: {driver: sim}
namespace dmacycle::drivers {

// `driver: sim`: the simulator (dmacycle::sim) is not part of this library but a peer on the
// wire, which the program that reads the rig brings up on loopback (runner::bring_up) and then
// drives through scpi-frame and modbus-furnace like any rig. Only the row's fields are read
// here; the profile and the speed are checked where the simulator is known.
struct SimulatorRow {
    std::filesystem::path profile;  // the instrument profile, relative to the rig file's folder
    std::string speed = "1";        // as written: a factor or max (sim::SimClock::parse)
    int profile_line = 0, speed_line = 0;  // 1-based, for refusals that name them
};

struct RigProfile {
    std::string source;
    // For `driver: sim` only the timeout is the rig's: driver "sim", no model, no uri.
    std::optional<DeviceSpec> frame;
    std::optional<DeviceSpec> furnace;
    std::optional<SimulatorRow> simulator;  // set: frame and furnace are both `driver: sim`
};

// The driver name of a rig row that the simulator serves.
inline constexpr const char* simulator_driver = "sim";

// Throws DriverError(config) "source:line: field: problem"; drivers, models and connection
// strings are checked against the registry here, before anything is opened. A `driver: sim`
// frame needs a `driver: sim` furnace and the reverse: the simulator is one instrument.
RigProfile parse_rig_profile(const std::string& yaml_text, const std::string& source);
RigProfile load_rig_profile(const std::filesystem::path& path);

}  // namespace dmacycle::drivers
