#pragma once
#include <string>

// Text helpers shared by the commands, reports and exports.
namespace dmacycle::io {

// printf into a std::string of whatever length the result needs.
[[gnu::format(printf, 1, 2)]] std::string format(const char* pattern, ...);

// The whole file; InputError "PATH: cannot open the job file" when it cannot be read.
std::string read_job_text(const std::string& path);

}  // namespace dmacycle::io
