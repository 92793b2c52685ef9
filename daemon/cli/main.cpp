#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"

namespace {

namespace cli = dmacycle::cli;
using Command = int (*)(std::span<const std::string_view>, std::ostream&, std::ostream&);

constexpr std::pair<std::string_view, Command> commands[] = {
    {"demo", cli::run_demo},     {"analyze", cli::run_analyze}, {"validate", cli::run_validate},
    {"plan", cli::run_plan},     {"probe", cli::run_probe},     {"run", cli::run_run},
    {"report", cli::run_report}, {"submit", cli::run_submit},   {"list", cli::run_list},
    {"status", cli::run_status}, {"wait", cli::run_wait},       {"pause", cli::run_pause},
    {"resume", cli::run_resume}, {"abort", cli::run_abort},     {"export", cli::run_export}};

// `help [COMMAND]`: the list, or one command's help.
int run_help(std::span<const std::string_view> args) {
    if (args.empty()) {
        cli::print_overview(std::cout);
        return cli::exit_ok;
    }
    const cli::CommandHelp* help = args.size() == 1 ? cli::find_help(args.front()) : nullptr;
    if (help == nullptr) {
        std::cerr << "dmacycle help: no command '" << args.front() << "' (" << cli::usage_of("help")
                  << ")\n";
        return cli::exit_bad_input;
    }
    cli::print_help(std::cout, *help);
    return cli::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        cli::print_overview(std::cerr);
        return cli::exit_bad_input;
    }
    const auto name = args.front();
    const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (name == "--version") {
        std::cout << "dmacycle " << DMACYCLE_VERSION << "\n";
        return cli::exit_ok;
    }
    if (name == "--help" || name == "-h" || name == "help") {
        return run_help(name == "help" ? rest : std::span<const std::string_view>());
    }
    for (const auto& [command, run] : commands) {
        if (name == command) {
            if (cli::asks_help(rest)) {
                cli::print_help(std::cout, *cli::find_help(command));
                return cli::exit_ok;
            }
            return run(rest, std::cout, std::cerr);
        }
    }
    std::cerr << "dmacycle: unknown command '" << name << "'\n";
    cli::print_overview(std::cerr);
    return cli::exit_bad_input;
}
