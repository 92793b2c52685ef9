#include "dmacycle/drivers/registry.hpp"

#include <array>
#include <string_view>

#include "dmacycle/drivers/modbus_furnace.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"

namespace dmacycle::drivers {
namespace {

std::string join(const std::vector<std::string_view>& names) {
    std::string out;
    for (const auto name : names) {
        out += (out.empty() ? "" : ", ") + std::string(name);
    }
    return out;
}

const FrameCommandSet& scpi_frame_model(std::string_view model) {
    const FrameCommandSet* commands = find_frame_commands(model);
    if (commands == nullptr) {
        throw DriverError(ErrorKind::config, "frame driver scpi-frame has no model '" +
                                                 std::string(model) +
                                                 "' (known: " + join(frame_command_models()) + ")");
    }
    return *commands;
}

std::unique_ptr<FrameDriver> scpi_frame(const DeviceSpec& spec, std::string_view model,
                                        const PeerStarvation& peer_starved) {
    ScpiFrameOptions options;
    options.scpi.exchange_timeout = spec.timeout;
    options.scpi.peer_starved = peer_starved;
    return std::make_unique<ScpiFrame>(parse_connection_uri(spec.uri), scpi_frame_model(model),
                                       options);
}

double scpi_frame_stream_rate_max_hz(std::string_view model) {
    return scpi_frame_model(model).stream_rate_max_hz;
}

std::unique_ptr<FurnaceDriver> modbus_furnace(const DeviceSpec& spec, std::string_view model) {
    const FurnaceRegisterMap* map = find_furnace_map(model);
    if (map == nullptr) {
        throw DriverError(ErrorKind::config, "furnace driver modbus-furnace has no model '" +
                                                 std::string(model) +
                                                 "' (known: " + join(furnace_map_models()) + ")");
    }
    return std::make_unique<ModbusFurnace>(parse_connection_uri(spec.uri), *map, spec.timeout);
}

// Adding a driver: its own file pair and one row here (the first row of a kind is its default).
struct FrameEntry {
    std::string_view driver;
    std::string_view default_model;
    std::unique_ptr<FrameDriver> (*make)(const DeviceSpec&, std::string_view,
                                         const PeerStarvation&);
    double (*stream_rate_max_hz)(std::string_view model);
};
struct FurnaceEntry {
    std::string_view driver;
    std::string_view default_model;
    std::unique_ptr<FurnaceDriver> (*make)(const DeviceSpec&, std::string_view);
};

constexpr std::array<FrameEntry, 1> frame_drivers{{
    {"scpi-frame", "dmacycle-scpi", scpi_frame, scpi_frame_stream_rate_max_hz},
}};
constexpr std::array<FurnaceEntry, 1> furnace_drivers{{
    {"modbus-furnace", "eurotherm-2400", modbus_furnace},
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

}  // namespace

std::unique_ptr<FrameDriver> make_frame(const DeviceSpec& spec,
                                        const PeerStarvation& peer_starved) {
    const auto& entry = find_driver(frame_drivers, spec.driver, "frame");
    return entry.make(spec, spec.model.empty() ? entry.default_model : spec.model, peer_starved);
}

double frame_stream_rate_max_hz(const DeviceSpec& spec) {
    const auto& entry = find_driver(frame_drivers, spec.driver, "frame");
    return entry.stream_rate_max_hz(spec.model.empty() ? entry.default_model : spec.model);
}

std::unique_ptr<FurnaceDriver> make_furnace(const DeviceSpec& spec) {
    const auto& entry = find_driver(furnace_drivers, spec.driver, "furnace");
    return entry.make(spec, spec.model.empty() ? entry.default_model : spec.model);
}

}  // namespace dmacycle::drivers
