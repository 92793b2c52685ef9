#pragma once
#include <ostream>
#include <span>
#include <string_view>

// Subcommands of the `dmacycle` command-line tool. Each returns the process exit code:
// 0 success, 1 the analysis ran but a fit is not usable, 2 bad input or bad arguments,
// 3 a device could not be reached or read.
namespace dmacycle::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_fit_failed = 1;
inline constexpr int exit_bad_input = 2;
// `probe`: a device could not be read. `run`: a run ended faulted (interlock, link, device), or
// could not start.
inline constexpr int exit_device_error = 3;
inline constexpr int exit_run_faulted = 3;
// The client commands (submit, list, status, wait, pause, resume, abort, export; docs/cli.md):
// 2 also when the server refuses the request (4xx: no or unknown token, missing scope, invalid
// job file, unknown job or run, a request that does not fit the job's state); 3 when the server
// cannot be reached, times out or fails (5xx), and when a waited-for job ends other than
// `completed` or `wait --timeout` passes first; 1 when it completed but a fit is not usable.
inline constexpr int exit_server_error = 3;
inline constexpr int exit_job_not_completed = 3;

// args: what follows `analyze` on the command line.
int run_analyze(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// `demo [--db FILE]`: the main job through dmacycled (started as a child, the simulator at
// --speed max), then a verdict; `demo --synthetic [--write-csv FILE]`: the fits alone on
// synthetic data with known truth.
int run_demo(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// Job files: `validate JOB.yaml...` checks them, `plan JOB.yaml [--json]` prints the segment plan
// of each run. Invalid jobs exit 2 with one "FILE:LINE:COLUMN: field: problem" line per problem.
int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_plan(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// `run JOB.yaml --db FILE [--rig RIG.yaml] [--speed X|max] [--sample-rate HZ] [--json]`: runs each
// run of the job on the devices the rig names (real ones, or `driver: sim`: the simulator
// in-process on loopback ports), without --rig on the simulator of the job's profile, storing into
// FILE; docs/runner.md. A refused job exits 2 and writes nothing.
int run_run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

// The client of dmacycled (docs/cli.md). Server from `--server URL`, else $DMACYCLE_SERVER, else
// http://127.0.0.1:8470; token from `--token-file FILE`, else $DMACYCLE_TOKEN.
// submit JOB.yaml [--wait [--timeout S]] [--json]
int run_submit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_list(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_status(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// wait JOB [--timeout S] [--json]: polls until the job ends.
int run_wait(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_pause(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_resume(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_abort(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
// export RUN --out FILE [--format csv|ta] [--every K] [--results FILE.json|FILE.csv]
// [--db STORE]: the run's samples as CSV or TA text, and its results, from the server or, with
// --db, from a store file read directly (docs/exports.md).
int run_export(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

// report RUN [RUN ...] [--db FILE] --out DIR, report --job JOB [--db FILE] --out DIR: a run's
// report (or a campaign's) from a store file, read-only; docs/report.md. Prints the path of
// index.html.
int run_report(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

// Connects to the frame and/or furnace once and reports identity, readings and link state.
int run_probe(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace dmacycle::cli
