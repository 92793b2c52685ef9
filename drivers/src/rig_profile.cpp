#include "dmacycle/drivers/rig_profile.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace dmacycle::drivers {
namespace {

[[noreturn]] void fail(const std::string& source, const YAML::Node& node, const std::string& field,
                       const std::string& problem) {
    const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    throw DriverError(ErrorKind::config,
                      source + ":" + std::to_string(line) + ": " + field + ": " + problem);
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

template <class Make>
DeviceSpec read_device(const std::string& source, const YAML::Node& device, const std::string& name,
                       Make make) {
    if (!device.IsMap()) {
        fail(source, device, name, "expected a mapping with driver, model, uri, timeout_ms");
    }
    for (const auto& entry : device) {
        const auto key = entry.first.as<std::string>();
        if (key != "driver" && key != "model" && key != "uri" && key != "timeout_ms") {
            fail(source, entry.first, name + "." + key, "unknown field");
        }
    }
    DeviceSpec spec;
    spec.driver = text(source, device, name, "driver", false);
    spec.model = text(source, device, name, "model", false);
    spec.uri = text(source, device, name, "uri", true);
    if (const YAML::Node timeout = device["timeout_ms"]) {
        int ms = 0;
        if (!timeout.IsScalar() || !YAML::convert<int>::decode(timeout, ms) || ms <= 0) {
            fail(source, timeout, name + ".timeout_ms", "expected a positive whole number");
        }
        spec.timeout = std::chrono::milliseconds(ms);
    }
    try {
        make(spec);  // builds the driver without opening anything: checks driver, model, uri
    } catch (const DriverError& error) {
        fail(source, device, name, error.what());
    }
    return spec;
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
    for (const auto& entry : root) {
        const auto key = entry.first.as<std::string>();
        if (key == "frame") {
            rig.frame = read_device(source, entry.second, key, make_frame);
        } else if (key == "furnace") {
            rig.furnace = read_device(source, entry.second, key, make_furnace);
        } else {
            fail(source, entry.first, key, "unknown field (expected frame or furnace)");
        }
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
