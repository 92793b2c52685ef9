#include "dmacycle/io/profiles.hpp"

#include <system_error>

#include "dmacycle/io/shipped_config.hpp"
#include "dmacycle/sim/profile.hpp"

namespace dmacycle::io {

protocols::ProfileLimit read_profile_limit(const std::filesystem::path& profile_path) {
    sim::Profile profile;
    try {
        profile = sim::load_profile(profile_path, sim::ProfileUse::limits);
    } catch (const sim::ProfileError& error) {
        return {std::nullopt, error.what()};
    }
    protocols::ProfileLimit limit;
    limit.force_max_n = profile.frame.force_max_n;
    limit.frequency_min_hz = profile.frame.frequency_min_hz;
    limit.frequency_max_hz = profile.frame.frequency_max_hz;
    limit.amplitude_min_m = profile.frame.amplitude_min_m;
    limit.amplitude_max_m = profile.frame.amplitude_max_m;
    limit.ambient_k = profile.furnace.ambient_k;
    limit.stream_rate_max_hz = profile.frame.stream_rate_max_hz;
    limit.stream_rate_limit_by = "profile frame.stream_rate_max_hz";
    return limit;
}

std::vector<std::filesystem::path> profile_candidates(const std::string& name,
                                                      const std::filesystem::path& job_path) {
    const std::string file_name = name + ".yaml";
    return {job_path.parent_path() / ".." / "instruments" / file_name,
            shipped_config_dir() / "instruments" / file_name};
}

std::optional<std::filesystem::path> find_profile(const std::string& name,
                                                  const std::filesystem::path& job_path) {
    for (const auto& candidate : profile_candidates(name, job_path)) {
        std::error_code ignored;
        if (std::filesystem::is_regular_file(candidate, ignored)) {
            return candidate;
        }
    }
    return std::nullopt;
}

protocols::ProfileLimit find_profile_limit(const std::string& name,
                                           const std::filesystem::path& job_path) {
    if (const auto path = find_profile(name, job_path)) {
        return read_profile_limit(*path);
    }
    const auto candidates = profile_candidates(name, job_path);
    return {std::nullopt, "unknown instrument profile '" + name + "' (looked for " +
                              candidates[0].lexically_normal().string() + " and " +
                              candidates[1].string() + ")"};
}

}  // namespace dmacycle::io
