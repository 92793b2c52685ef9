#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "dmacycle/drivers/registry.hpp"

// Which driver, model and connection each device of a rig uses (config/rigs/*.yaml):
//   frame:   {driver: scpi-frame, model: dmacycle-scpi, uri: "tcp://...", timeout_ms: 1000}
//   furnace: {driver: modbus-furnace, model: eurotherm-2400, uri: "modbus-rtu://...", timeout_ms:
//   500}
// Both devices are optional; driver and model default to the registry's defaults.
namespace dmacycle::drivers {

struct RigProfile {
    std::string source;
    std::optional<DeviceSpec> frame;
    std::optional<DeviceSpec> furnace;
};

// Throws DriverError(config) "source:line: field: problem"; drivers, models and connection
// strings are checked against the registry here, before anything is opened.
RigProfile parse_rig_profile(const std::string& yaml_text, const std::string& source);
RigProfile load_rig_profile(const std::filesystem::path& path);

}  // namespace dmacycle::drivers
