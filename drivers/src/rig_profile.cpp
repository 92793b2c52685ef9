#include "dmacycle/drivers/rig_profile.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string_view>

namespace dmacycle::drivers {
namespace {

int line_of(const YAML::Node& node) {
    return node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
}

[[noreturn]] void fail(const std::string& source, const YAML::Node& node, const std::string& field,
                       const std::string& problem) {
    throw DriverError(ErrorKind::config,
                      source + ":" + std::to_string(line_of(node)) + ": " + field + ": " + problem);
}

std::string text(const std::string& source, const YAML::Node& device, const std::string& name,
                 const std::string& key, bool required) {
    const YAML::Node node = device[key];
    if (!node) {
        if (required) {
            fail(source, device, name, "missing '" + key + "'");
        }
        return "";
    }
    if (!node.IsScalar()) {
        fail(source, node, name + "." + key, "expected a string");
    }
    return node.Scalar();
}

// Refuses a field not in `known`; `hint` follows "unknown field" (empty: nothing).
void only(const std::string& source, const YAML::Node& device, const std::string& name,
          std::initializer_list<std::string_view> known, const std::string& hint) {
    for (const auto& entry : device) {
        const auto key = entry.first.as<std::string>();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            fail(source, entry.first, name + "." + key, "unknown field" + hint);
        }
    }
}

DeviceSpec read_timeout(const std::string& source, const YAML::Node& device,
                        const std::string& name, DeviceSpec spec) {
    if (const YAML::Node timeout = device["timeout_ms"]) {
        int ms = 0;
        if (!timeout.IsScalar() || !YAML::convert<int>::decode(timeout, ms) || ms <= 0) {
            fail(source, timeout, name + ".timeout_ms", "expected a positive whole number");
        }
        spec.timeout = std::chrono::milliseconds(ms);
    }
    return spec;
}

template <class Make>
DeviceSpec read_device(const std::string& source, const YAML::Node& device, const std::string& name,
                       Make make) {
    only(source, device, name, {"driver", "model", "uri", "timeout_ms"}, "");
    DeviceSpec spec;
    spec.driver = text(source, device, name, "driver", false);
    spec.model = text(source, device, name, "model", false);
    spec.uri = text(source, device, name, "uri", true);
    spec = read_timeout(source, device, name, spec);
    try {
        make(spec);  // builds the driver without opening anything: checks driver, model, uri
    } catch (const DriverError& error) {
        fail(source, device, name, error.what());
    }
    return spec;
}

bool simulated(const YAML::Node& device) {
    const YAML::Node driver = device["driver"];
    return driver && driver.IsScalar() && driver.Scalar() == simulator_driver;
}

// The two `driver: sim` rows: the frame carries the simulator's profile and speed, the furnace
// only says it is the same instrument's.
void read_simulator(const std::string& source, const YAML::Node& frame, const YAML::Node& furnace,
                    RigProfile& rig) {
    only(source, frame, "frame", {"driver", "profile", "speed", "timeout_ms"},
         " for driver sim (expected driver, profile, speed, timeout_ms)");
    only(source, furnace, "furnace", {"driver", "timeout_ms"},
         " for driver sim (expected driver, timeout_ms; the simulator's profile and speed go on "
         "the frame)");
    SimulatorRow row;
    // An absolute path stays as it is: `/` replaces the folder with it.
    row.profile = (std::filesystem::path(source).parent_path() /
                   text(source, frame, "frame", "profile", true))
                      .lexically_normal();
    row.profile_line = line_of(frame["profile"]);
    if (frame["speed"]) {
        row.speed = text(source, frame, "frame", "speed", false);
        row.speed_line = line_of(frame["speed"]);
    }
    rig.simulator = row;
    DeviceSpec device;
    device.driver = simulator_driver;
    rig.frame = read_timeout(source, frame, "frame", device);
    rig.furnace = read_timeout(source, furnace, "furnace", device);
}

}  // namespace

RigProfile parse_rig_profile(const std::string& yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& error) {
        throw DriverError(ErrorKind::config,
                          source + ":" + std::to_string(error.mark.line + 1) + ": " + error.msg);
    }
    RigProfile rig;
    rig.source = source;
    if (!root.IsDefined() || root.IsNull()) {
        return rig;
    }
    if (!root.IsMap()) {
        fail(source, root, "<top>", "expected a mapping with frame and furnace");
    }
    std::optional<YAML::Node> frame, furnace;
    for (const auto& entry : root) {
        const auto key = entry.first.as<std::string>();
        if (key != "frame" && key != "furnace") {
            fail(source, entry.first, key, "unknown field (expected frame or furnace)");
        }
        if (!entry.second.IsMap()) {
            fail(source, entry.second, key,
                 "expected a mapping with driver, model, uri, timeout_ms");
        }
        (key == "frame" ? frame : furnace) = entry.second;
    }
    const bool frame_simulated = frame && simulated(*frame);
    const bool furnace_simulated = furnace && simulated(*furnace);
    if (frame_simulated != furnace_simulated) {
        // Named at the other row, or at the simulated one when the other is missing.
        const auto& other = frame_simulated ? furnace : frame;
        fail(source, other.value_or(frame_simulated ? *frame : *furnace),
             frame_simulated ? "furnace" : "frame",
             std::string("expected driver: sim, as the ") +
                 (frame_simulated ? "frame" : "furnace") +
                 " is: the simulator is one instrument (its sample sits in its furnace)");
    }
    if (frame_simulated) {
        read_simulator(source, *frame, *furnace, rig);
        return rig;
    }
    if (frame) {
        rig.frame = read_device(source, *frame, "frame",
                                [](const DeviceSpec& spec) { return make_frame(spec); });
    }
    if (furnace) {
        rig.furnace = read_device(source, *furnace, "furnace", make_furnace);
    }
    return rig;
}

RigProfile load_rig_profile(const std::filesystem::path& path) {
    std::ifstream file(path);
    if (!file) {
        throw DriverError(ErrorKind::config, path.string() + ": cannot read");
    }
    std::stringstream text;
    text << file.rdbuf();
    return parse_rig_profile(text.str(), path.string());
}

}  // namespace dmacycle::drivers
