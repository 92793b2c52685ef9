#include "dmacycle/io/profiles.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include "dmacycle/io/shipped_config.hpp"

namespace dmacycle::io {

protocols::ProfileLimit read_profile_limit(const std::filesystem::path& profile_path) {
    const std::string where = profile_path.string();
    std::ifstream in(profile_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
        return {std::nullopt, where + ": cannot read the profile"};
    }
    return protocols::parse_profile_limit(text.str(), where);
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
