#pragma once
#include <ostream>
#include <span>
#include <string_view>

// Subcommands of the `dmacycle` command-line tool. Each returns the process exit code:
// 0 success, 1 the analysis ran but a fit is not usable, 2 bad input or bad arguments,
// 3 a device could not be reached or read.
namespace dmacycle::daemon {

inline constexpr int exit_ok = 0;
inline constexpr int exit_fit_failed = 1;
inline constexpr int exit_bad_input = 2;
// `probe`: a device could not be read. `run`: a run ended faulted (interlock, link, device), or
// could not start.
inline constexpr int exit_device_error = 3;
inline constexpr int exit_run_faulted = 3;

// args: what follows `analyze` on the command line.
int run_analyze(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_demo(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// Job files: `validate JOB.yaml...` checks them, `plan JOB.yaml [--json]` prints the segment plan
// of each run. Invalid jobs exit 2 with one "FILE:LINE:COLUMN: field: problem" line per problem.
int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_plan(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// `run JOB.yaml --db FILE [--speed X|max] [--json]`: runs each run of the job on the instrument of
// its profile (a `driver: sim` profile: the simulator in-process on loopback ports), storing into
// FILE; docs/runner.md. A refused job exits 2 and writes nothing.
int run_run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

// Connects to the frame and/or furnace once and reports identity, readings and link state.
int run_probe(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace dmacycle::daemon
