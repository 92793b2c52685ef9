// load_service_config: config/dmacycled.yaml (docs/service.md, "Configuration").
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/runner/rig.hpp"
#include "dmacycle/service/job_service.hpp"

namespace dmacycle::service {
namespace {

// Below this the store cannot even hold its schema and a short run.
constexpr std::uint64_t min_database_bytes = 1 << 20;

namespace fs = std::filesystem;

class ConfigReader {
  public:
    explicit ConfigReader(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& field,
                           const std::string& problem) const {
        const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
        throw io::InputError(source_ + ":" + std::to_string(line) + ": " + field + ": " + problem);
    }

    // Refuses keys not in `known`: a misspelt key must not silently fall back to a default.
    void only(const YAML::Node& map, const std::string& prefix,
              std::initializer_list<std::string_view> known) const {
        for (const auto& entry : map) {
            const auto key = entry.first.Scalar();
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                std::string list;
                for (const auto name : known) {
                    list += (list.empty() ? "" : ", ") + std::string(name);
                }
                fail(entry.first, prefix + key, "unknown key (expected one of: " + list + ")");
            }
        }
    }

    void mapping(const YAML::Node& node, const std::string& field, const std::string& what) const {
        if (!node.IsMap()) {
            fail(node, field, "expected a mapping: " + what);
        }
    }

    std::string scalar(const YAML::Node& node, const std::string& field) const {
        if (!node.IsScalar() || node.Scalar().empty()) {
            fail(node, field, "expected a non-empty value");
        }
        return node.Scalar();
    }

    fs::path path(const YAML::Node& node, const std::string& field, const fs::path& dir) const {
        const fs::path value = scalar(node, field);
        return value.is_absolute() ? value : (dir / value).lexically_normal();
    }

    std::uint64_t whole(const YAML::Node& node, const std::string& field, std::uint64_t max) const {
        const auto text = scalar(node, field);
        std::uint64_t value = 0;
        const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (code != std::errc() || end != text.data() + text.size() || value == 0 || value > max) {
            fail(node, field,
                 "'" + text + "': expected a whole number from 1 to " + std::to_string(max));
        }
        return value;
    }

    double positive(const YAML::Node& node, const std::string& field) const {
        const auto text = scalar(node, field);
        double value = 0;
        const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (code != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
            value <= 0) {
            fail(node, field, "'" + text + "': expected a positive number");
        }
        return value;
    }

  private:
    std::string source_;
};

void check_listen(const ConfigReader& reader, const YAML::Node& node, const std::string& text) {
    const auto colon = text.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < text.size();
    if (ok) {
        std::uint32_t port = 0;
        const char* end = text.data() + text.size();
        const auto [stop, code] = std::from_chars(text.data() + colon + 1, end, port);
        ok = code == std::errc() && stop == end && port <= 65535;
    }
    if (!ok) {
        reader.fail(node, "listen",
                    "'" + text + "': expected ADDR:PORT, e.g. 127.0.0.1:8470 (port 0: any free)");
    }
}

// `instrument: simulate: {profile, speed}`: the simulator alone, as a rig of `driver: sim`.
runner::RigSpec read_simulate(const ConfigReader& reader, const YAML::Node& simulate,
                              const fs::path& dir) {
    reader.mapping(simulate, "instrument.simulate", "profile: PATH, speed: X|max");
    reader.only(simulate, "instrument.simulate.", {"profile", "speed"});
    if (!simulate["profile"]) {
        reader.fail(simulate, "instrument.simulate.profile", "missing (an instrument profile)");
    }
    sim::Profile profile;
    try {
        profile =
            sim::load_profile(reader.path(simulate["profile"], "instrument.simulate.profile", dir));
    } catch (const sim::ProfileError& error) {
        reader.fail(simulate["profile"], "instrument.simulate.profile", error.what());
    }
    std::optional<sim::SimClock> clock = sim::SimClock(1.0);
    if (const YAML::Node speed = simulate["speed"]) {
        const auto text = reader.scalar(speed, "instrument.simulate.speed");
        clock = sim::SimClock::parse(text);
        if (!clock) {
            reader.fail(speed, "instrument.simulate.speed",
                        "'" + text + "': expected a positive number or max");
        }
    }
    return runner::simulated_rig(std::move(profile), *clock);
}

void read_instrument(const ConfigReader& reader, const YAML::Node& node, const fs::path& dir,
                     ServiceConfig& config) {
    reader.mapping(node, "instrument", "simulate: {profile, speed} or rig: PATH");
    reader.only(node, "instrument.", {"simulate", "rig"});
    const YAML::Node simulate = node["simulate"];
    const YAML::Node rig = node["rig"];
    if (simulate && rig) {
        reader.fail(rig, "instrument", "either simulate or rig, not both");
    }
    if (!simulate && !rig) {
        reader.fail(node, "instrument", "missing simulate: {profile, speed} or rig: PATH");
    }
    if (simulate) {
        config.instrument = read_simulate(reader, simulate, dir);
        return;
    }
    // Real devices, or `driver: sim` rows: brought up as `simulate:` is.
    try {
        config.instrument = runner::load_rig(reader.path(rig, "instrument.rig", dir));
    } catch (const drivers::DriverError& error) {
        reader.fail(rig, "instrument.rig", error.what());
    }
}

// The instrument must stream the rate asked for: refused here, at start, not when a run starts.
void check_sample_rate(const ConfigReader& reader, const YAML::Node& root,
                       const ServiceConfig& config) {
    const YAML::Node at = root["sample_rate"] ? root["sample_rate"] : root["instrument"];
    std::string problem;
    try {
        problem = runner::sample_rate_problem(*config.instrument, config.sample_rate_hz);
    } catch (const drivers::DriverError& error) {
        reader.fail(root["instrument"], "instrument", error.what());
    }
    if (!problem.empty()) {
        reader.fail(at, "sample_rate", problem);
    }
}

}  // namespace

ServiceConfig load_service_config(const fs::path& path) {
    const std::string source = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw io::InputError(source + ": cannot open the config file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    YAML::Node root;
    try {
        root = YAML::Load(text.str());
    } catch (const YAML::Exception& error) {
        throw io::InputError(source + ":" + std::to_string(error.mark.line + 1) + ": " + error.msg);
    }
    const ConfigReader reader(source);
    if (!root.IsMap()) {
        reader.fail(root, "<top>", "expected a mapping (listen, database, instrument, ...)");
    }
    reader.only(root, "",
                {"listen", "database", "spool", "tokens", "profiles", "instrument", "sample_rate",
                 "limits", "spool_poll"});

    ServiceConfig config;
    const fs::path dir = fs::absolute(path).parent_path();
    config.config_dir = dir;
    if (const YAML::Node listen = root["listen"]) {
        config.listen = reader.scalar(listen, "listen");
        check_listen(reader, listen, config.listen);
    }
    if (const YAML::Node database = root["database"]) {
        config.database = reader.path(database, "database", dir);
    }
    if (const YAML::Node spool = root["spool"]) {
        config.spool = reader.path(spool, "spool", dir);
    }
    if (const YAML::Node tokens = root["tokens"]) {
        config.tokens = reader.path(tokens, "tokens", dir);
    }
    config.profiles = dir / "instruments";
    if (const YAML::Node profiles = root["profiles"]) {
        config.profiles = reader.path(profiles, "profiles", dir);
    }
    if (const YAML::Node instrument = root["instrument"]) {
        read_instrument(reader, instrument, dir, config);
    } else {
        reader.fail(root, "instrument", "missing (simulate: {profile, speed} or rig: PATH)");
    }
    if (const YAML::Node rate = root["sample_rate"]) {
        config.sample_rate_hz = reader.positive(rate, "sample_rate");
    }
    check_sample_rate(reader, root, config);
    if (const YAML::Node limits = root["limits"]) {
        reader.mapping(limits, "limits", "max_request_bytes, max_job_bytes, max_database_bytes");
        reader.only(limits, "limits.",
                    {"max_request_bytes", "max_job_bytes", "max_database_bytes"});
        constexpr std::uint64_t max_bytes = 1ULL << 30;  // 1 GiB: anything more is a typo
        if (const YAML::Node request = limits["max_request_bytes"]) {
            config.max_request_bytes = reader.whole(request, "limits.max_request_bytes", max_bytes);
        }
        if (const YAML::Node job = limits["max_job_bytes"]) {
            config.max_job_bytes = reader.whole(job, "limits.max_job_bytes", max_bytes);
        }
        if (const YAML::Node database = limits["max_database_bytes"]) {
            // SQLite's own ceiling is 2^32 - 2 pages of 4 KiB.
            config.max_database_bytes =
                reader.whole(database, "limits.max_database_bytes", (1ULL << 32) * 4096);
            if (config.max_database_bytes < min_database_bytes) {
                reader.fail(database, "limits.max_database_bytes",
                            "at least " + std::to_string(min_database_bytes) + " (1 MiB)");
            }
        }
    }
    if (const YAML::Node poll = root["spool_poll"]) {
        config.spool_poll = std::chrono::milliseconds(reader.whole(poll, "spool_poll", 3600000));
    }
    return config;
}

}  // namespace dmacycle::service
