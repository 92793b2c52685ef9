#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "dmacycle/cli/commands.hpp"

namespace {

const char* const usage_text =
    "usage: dmacycle <command> [args]\n"
    "commands:\n"
    "  demo       the main job through dmacycled on the simulated instrument, and a verdict\n"
    "             (demo [--db FILE] [--report DIR]; demo --synthetic [--write-csv FILE]: fits on\n"
    "             synthetic data with known truth)\n"
    "  analyze    fit recovery, creep, cycling or Arrhenius data from CSV files; dsc SAMPLE\n"
    "             BASELINE --composition C: relaxation enthalpy from DSC scans (CSV, TA or\n"
    "             Netzsch text exports) and its ratio to a run's work done\n"
    "  validate   check job files (YAML): validate JOB.yaml [JOB.yaml ...]\n"
    "  plan       the segment plan of a job: plan JOB.yaml [--json]\n"
    "  probe      read identity, force, temperature, setpoint and link state of instruments\n"
    "  run        run a job: run JOB.yaml --db FILE [--rig RIG.yaml] [--speed X|max]\n"
    "             [--sample-rate HZ] [--json] (on the rig's devices; without --rig on the\n"
    "             simulator of the job's profile)\n"
    "  report     a stored run's figures and tables as HTML + SVG: report RUN [RUN ...]\n"
    "             [--db FILE] --out DIR; a sweep job's runs side by side: report --job JOB\n"
    "             [--db FILE] --out DIR (default --db /var/lib/dmacycled/dmacycle.db)\n"
    "client of dmacycled (--server URL or DMACYCLE_SERVER, default http://127.0.0.1:8470;\n"
    "--token-file FILE or DMACYCLE_TOKEN):\n"
    "  submit     submit JOB.yaml [--wait [--timeout S]] [--json]\n"
    "  list       the jobs, newest first: list [--json]\n"
    "  status     status JOB [--json]\n"
    "  wait       wait until a job ends: wait JOB [--timeout S] [--json]\n"
    "  pause      pause JOB (at the next cycle boundary, holding at sigma_creep)\n"
    "  resume     resume JOB\n"
    "  abort      abort JOB (safe unload; a queued job is cancelled)\n"
    "  export     export RUN --out FILE.csv [--every K] [--results FILE.json]\n"
    "exit codes: 0 ok; 1 a fit is not usable; 2 bad input or arguments, or the server refused\n"
    "the request (token, scope, invalid job); 3 a device or the server cannot be reached or\n"
    "failed, or a job ended other than completed\n"
    "  --version  print the version\n";

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << usage_text;
        return dmacycle::cli::exit_bad_input;
    }
    const auto command = args.front();
    const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    using Command = int (*)(std::span<const std::string_view>, std::ostream&, std::ostream&);
    const std::pair<std::string_view, Command> client_commands[] = {
        {"submit", dmacycle::cli::run_submit}, {"list", dmacycle::cli::run_list},
        {"status", dmacycle::cli::run_status}, {"wait", dmacycle::cli::run_wait},
        {"pause", dmacycle::cli::run_pause},   {"resume", dmacycle::cli::run_resume},
        {"abort", dmacycle::cli::run_abort},   {"export", dmacycle::cli::run_export}};
    for (const auto& [name, run] : client_commands) {
        if (command == name) {
            return run(rest, std::cout, std::cerr);
        }
    }
    if (command == "analyze") {
        return dmacycle::cli::run_analyze(rest, std::cout, std::cerr);
    }
    if (command == "probe") {
        return dmacycle::cli::run_probe(rest, std::cout, std::cerr);
    }
    if (command == "demo") {
        return dmacycle::cli::run_demo(rest, std::cout, std::cerr);
    }
    if (command == "validate") {
        return dmacycle::cli::run_validate(rest, std::cout, std::cerr);
    }
    if (command == "plan") {
        return dmacycle::cli::run_plan(rest, std::cout, std::cerr);
    }
    if (command == "report") {
        return dmacycle::cli::run_report(rest, std::cout, std::cerr);
    }
    if (command == "run") {
        return dmacycle::cli::run_run(rest, std::cout, std::cerr);
    }
    if (command == "--version") {
        std::cout << "dmacycle " << DMACYCLE_VERSION << "\n";
        return dmacycle::cli::exit_ok;
    }
    if (command == "--help" || command == "-h") {
        std::cout << usage_text;
        return dmacycle::cli::exit_ok;
    }
    std::cerr << "dmacycle: unknown command '" << command << "'\n" << usage_text;
    return dmacycle::cli::exit_bad_input;
}
