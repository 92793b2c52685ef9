#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/protocols/job.hpp"

// Instrument profiles as job files find them (docs/job-files.md): a job's `profile: NAME` is
// NAME.yaml in the instruments/ folder beside the job's folder, else in the shipped one.
namespace dmacycle::io {

// The limits of the profile file, read by the one profile reader (sim::load_profile, any
// driver), or why it cannot be read.
protocols::ProfileLimit read_profile_limit(const std::filesystem::path& profile_path);

// Where profile `name` may be for the job file at `job_path`, in the order searched:
// <job's folder>/../instruments/NAME.yaml, then shipped_config_dir()/instruments/NAME.yaml.
std::vector<std::filesystem::path> profile_candidates(const std::string& name,
                                                      const std::filesystem::path& job_path);
// The first candidate that exists, if any.
std::optional<std::filesystem::path> find_profile(const std::string& name,
                                                  const std::filesystem::path& job_path);

// The limits of the profile find_profile() picks.
protocols::ProfileLimit find_profile_limit(const std::string& name,
                                           const std::filesystem::path& job_path);

}  // namespace dmacycle::io
