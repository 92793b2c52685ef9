#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <utility>

#include "dmacycle/protocols/job.hpp"

// Instrument profiles as job files see them: the frame and furnace limits a job is checked
// against, from the profile's text (io/profiles.hpp finds and reads the file).
namespace dmacycle::protocols {

namespace {

// A positive number in a profile, or why not.
std::optional<double> positive_number(const YAML::Node& node, std::string& problem) {
    double value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    const auto [stop, code] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (code != std::errc() || stop != text.data() + text.size() || !std::isfinite(value) ||
        value <= 0) {
        problem = "'" + text + "' is not a positive number";
        return std::nullopt;
    }
    return value;
}

}  // namespace

ProfileLimit parse_profile_limit(std::string_view yaml_text, const std::string& where) {
    try {
        const YAML::Node profile = YAML::Load(std::string(yaml_text));
        const YAML::Node force = profile["frame"]["force_max_n"];
        if (!force || !force.IsScalar()) {
            return {std::nullopt, where + " has no frame.force_max_n"};
        }
        std::string problem;
        ProfileLimit limit;
        limit.force_max_n = positive_number(force, problem);
        if (!limit.force_max_n) {
            return {std::nullopt, where + ": frame.force_max_n " + problem + " of newtons"};
        }
        // The DMTA keys are optional: a profile without them leaves the job's own ranges.
        const std::pair<const char*, std::optional<double> ProfileLimit::*> optional_keys[] = {
            {"frame.frequency_min_hz", &ProfileLimit::frequency_min_hz},
            {"frame.frequency_max_hz", &ProfileLimit::frequency_max_hz},
            {"frame.amplitude_min_m", &ProfileLimit::amplitude_min_m},
            {"frame.amplitude_max_m", &ProfileLimit::amplitude_max_m},
            {"furnace.ambient_k", &ProfileLimit::ambient_k}};
        for (const auto& [key, member] : optional_keys) {
            const std::string path = key;
            const auto dot = path.find('.');
            const YAML::Node section = profile[path.substr(0, dot)];
            // A missing key reads as an invalid node: IsDefined() is the one safe question.
            const YAML::Node node = section.IsDefined() && section.IsMap()
                                        ? section[path.substr(dot + 1)]
                                        : YAML::Node(YAML::NodeType::Undefined);
            if (node.IsDefined() && !node.IsNull()) {
                limit.*member = positive_number(node, problem);
                if (!(limit.*member)) {
                    return {std::nullopt, where + ": " + path + " " + problem};
                }
            }
        }
        return limit;
    } catch (const YAML::Exception& error) {
        return {std::nullopt, where + ": " + error.what()};
    }
}

}  // namespace dmacycle::protocols
