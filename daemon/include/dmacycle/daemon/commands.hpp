#pragma once
#include <ostream>
#include <span>
#include <string_view>

// Subcommands of the `dmacycle` command-line tool. Each returns the process exit code:
// 0 success, 1 the analysis ran but a fit is not usable, 2 bad input or bad arguments.
namespace dmacycle::daemon {

inline constexpr int exit_ok = 0;
inline constexpr int exit_fit_failed = 1;
inline constexpr int exit_bad_input = 2;

// args: what follows `analyze` on the command line.
int run_analyze(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_demo(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// Job files: `validate JOB.yaml...` checks them, `plan JOB.yaml [--json]` prints the segment plan
// of each run. Invalid jobs exit 2 with one "FILE:LINE:COLUMN: field: problem" line per problem.
int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_plan(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace dmacycle::daemon
