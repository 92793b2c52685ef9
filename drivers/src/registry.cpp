#include "dmacycle/drivers/registry.hpp"

#include <array>
#include <string_view>

#include "dmacycle/drivers/modbus_furnace.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"

namespace dmacycle::drivers {
namespace {

std::unique_ptr<FrameDriver> scpi_frame(const DeviceSpec& spec, std::string_view model) {
    const FrameCommandSet* commands = find_frame_commands(model);
    if (commands == nullptr) {
        throw DriverError(ErrorKind::config,
                          "frame driver scpi-frame has no model '" + std::string(model) + "'");
    }
    ScpiFrameOptions options;
    options.scpi.exchange_timeout = spec.timeout;
    options.connect_timeout = spec.timeout;
    return std::make_unique<ScpiFrame>(parse_connection_uri(spec.uri), *commands, options);
}

std::unique_ptr<FurnaceDriver> modbus_furnace(const DeviceSpec& spec, std::string_view model) {
    const FurnaceRegisterMap* map = find_furnace_map(model);
    if (map == nullptr) {
        throw DriverError(ErrorKind::config, "furnace driver modbus-furnace has no model '" +
                                                 std::string(model) + "'");
    }
    return std::make_unique<ModbusFurnace>(parse_connection_uri(spec.uri), *map, spec.timeout);
}

// Adding a driver: its own file pair and one row here (the first row of a kind is its default).
struct FrameEntry {
    std::string_view driver;
    std::string_view default_model;
    std::vector<std::string_view> (*models)();
    std::unique_ptr<FrameDriver> (*make)(const DeviceSpec&, std::string_view);
};
struct FurnaceEntry {
    std::string_view driver;
    std::string_view default_model;
    std::vector<std::string_view> (*models)();
    std::unique_ptr<FurnaceDriver> (*make)(const DeviceSpec&, std::string_view);
};

constexpr std::array<FrameEntry, 1> frame_drivers{{
    {"scpi-frame", "dmacycle-scpi", frame_command_models, scpi_frame},
}};
constexpr std::array<FurnaceEntry, 1> furnace_drivers{{
    {"modbus-furnace", "eurotherm-2400", furnace_map_models, modbus_furnace},
}};

template <class Table>
const auto& find_driver(const Table& table, const std::string& name, const char* kind) {
    for (const auto& entry : table) {
        if (name.empty() || entry.driver == name) {
            return entry;
        }
    }
    std::string known;
    for (const auto& entry : table) {
        known += (known.empty() ? "" : ", ") + std::string(entry.driver);
    }
    throw DriverError(ErrorKind::config, std::string("unknown ") + kind + " driver '" + name +
                                             "' (known: " + known + ")");
}

template <class Table>
std::vector<std::string> list(const Table& table) {
    std::vector<std::string> out;
    for (const auto& entry : table) {
        for (const auto model : entry.models()) {
            out.push_back(std::string(entry.driver) + "/" + std::string(model));
        }
    }
    return out;
}

}  // namespace

std::unique_ptr<FrameDriver> make_frame(const DeviceSpec& spec) {
    const auto& entry = find_driver(frame_drivers, spec.driver, "frame");
    return entry.make(spec, spec.model.empty() ? entry.default_model : spec.model);
}

std::unique_ptr<FurnaceDriver> make_furnace(const DeviceSpec& spec) {
    const auto& entry = find_driver(furnace_drivers, spec.driver, "furnace");
    return entry.make(spec, spec.model.empty() ? entry.default_model : spec.model);
}

std::vector<std::string> known_frame_models() {
    return list(frame_drivers);
}

std::vector<std::string> known_furnace_models() {
    return list(furnace_drivers);
}

}  // namespace dmacycle::drivers
