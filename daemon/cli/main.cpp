#include <iostream>
#include <string_view>
#include <vector>

#include "dmacycle/daemon/commands.hpp"

namespace {

const char* const usage_text =
    "usage: dmacycle <command> [args]\n"
    "commands:\n"
    "  demo       the main job on synthetic data with known truth, and a verdict\n"
    "  analyze    fit recovery, creep, cycling or Arrhenius data from CSV files\n"
    "  validate   check job files (YAML): validate JOB.yaml [JOB.yaml ...]\n"
    "  plan       the segment plan of a job: plan JOB.yaml [--json]\n"
    "  probe      read identity, force, temperature, setpoint and link state of instruments\n"
    "  run        run a job: run JOB.yaml --db FILE [--speed X|max] [--json]\n"
    "  --version  print the version\n";

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << usage_text;
        return dmacycle::daemon::exit_bad_input;
    }
    const auto command = args.front();
    const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (command == "analyze") {
        return dmacycle::daemon::run_analyze(rest, std::cout, std::cerr);
    }
    if (command == "probe") {
        return dmacycle::daemon::run_probe(rest, std::cout, std::cerr);
    }
    if (command == "demo") {
        return dmacycle::daemon::run_demo(rest, std::cout, std::cerr);
    }
    if (command == "validate") {
        return dmacycle::daemon::run_validate(rest, std::cout, std::cerr);
    }
    if (command == "plan") {
        return dmacycle::daemon::run_plan(rest, std::cout, std::cerr);
    }
    if (command == "run") {
        return dmacycle::daemon::run_run(rest, std::cout, std::cerr);
    }
    if (command == "--version") {
        std::cout << "dmacycle " << DMACYCLE_VERSION << "\n";
        return dmacycle::daemon::exit_ok;
    }
    if (command == "--help" || command == "-h") {
        std::cout << usage_text;
        return dmacycle::daemon::exit_ok;
    }
    std::cerr << "dmacycle: unknown command '" << command << "'\n" << usage_text;
    return dmacycle::daemon::exit_bad_input;
}
