#pragma once
#include <ostream>
#include <span>
#include <string>
#include <string_view>

// Every `dmacycle` command's usage and help in one table: the top-level help, `dmacycle help
// CMD`, `dmacycle CMD --help` and the usage line of each command's error messages read it.
namespace dmacycle::cli {

struct CommandHelp {
    std::string_view name;
    std::string_view summary;  // one line for the command list
    std::string_view usage;    // one or more lines "dmacycle NAME ...", without "usage: "
    std::string_view details;  // what the arguments mean; may be empty
    bool client = false;       // talks to dmacycled: takes --server and --token-file
};

std::span<const CommandHelp> command_help();
// nullptr for a name that is no command.
const CommandHelp* find_help(std::string_view name);
// "usage: dmacycle NAME ..." on one line, for an error message (alternatives joined by " | ").
std::string usage_of(std::string_view name);
// The command list, the exit codes and where the docs are.
void print_overview(std::ostream& out);
// Usage, summary and details of one command.
void print_help(std::ostream& out, const CommandHelp& command);
// Whether the arguments ask for help: --help or -h before any "--".
bool asks_help(std::span<const std::string_view> args);

}  // namespace dmacycle::cli
