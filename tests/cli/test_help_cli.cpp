// Help and version on every binary and every `dmacycle` command (issue 17): walks the command
// table (dmacycle/cli/help.hpp) and runs the installed-layout binaries as a user would.
#include <doctest/doctest.h>

#include <string>

#include "command_output.hpp"
#include "dmacycle/cli/help.hpp"

namespace {

const std::string bin_dir = DMACYCLE_BIN_DIR;

using test_support::run_command;

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

}  // namespace

TEST_CASE("every dmacycle command answers --help, -h and help CMD with its usage, exit 0") {
    const auto overview = run_command(bin_dir + "/dmacycle --help");
    CHECK(overview.code == 0);
    for (const auto& command : dmacycle::cli::command_help()) {
        const std::string name(command.name);
        INFO(name);
        CHECK(overview.out.find("\n  " + name + " ") != std::string::npos);
        if (name == "--version" || name == "help") {
            continue;
        }
        const auto help = run_command(bin_dir + "/dmacycle " + name + " --help");
        CHECK(help.code == 0);
        CHECK(help.out.starts_with("usage: dmacycle " + name));
        CHECK(help.out.find(std::string(command.summary)) != std::string::npos);
        CHECK(run_command(bin_dir + "/dmacycle " + name + " -h").out == help.out);
        CHECK(run_command(bin_dir + "/dmacycle help " + name).out == help.out);
        // Help wins over anything else given: nothing is run, nothing refused.
        CHECK(run_command(bin_dir + "/dmacycle " + name + " --bogus 7 --help").code == 0);
        // An error's usage is the table's, on one line.
        const auto usage = dmacycle::cli::usage_of(name);
        CHECK(usage.find('\n') == std::string::npos);
        CHECK(usage.starts_with("usage: " + first_line(std::string(command.usage))));
    }
}

TEST_CASE("an unknown command or help topic exits 2 with the command list on stderr") {
    // stderr only: stdout goes to /dev/null.
    const auto unknown = run_command(bin_dir + "/dmacycle frobnicate 2>&1 >/dev/null");
    CHECK(unknown.code == 2);
    CHECK(unknown.out.starts_with("dmacycle: unknown command 'frobnicate'\nusage: dmacycle"));
    const auto topic = run_command(bin_dir + "/dmacycle help frobnicate 2>&1 >/dev/null");
    CHECK(topic.code == 2);
    CHECK(topic.out == "dmacycle help: no command 'frobnicate' (usage: dmacycle help [COMMAND])\n");
    const auto bad = run_command(bin_dir + "/dmacycle report --out 2>&1 >/dev/null");
    CHECK(bad.code == 2);
    // Appended: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
    const auto usage = std::string("(").append(dmacycle::cli::usage_of("report")).append(")");
    CHECK(bad.out.find(usage) != std::string::npos);
}

TEST_CASE("every binary prints its version and its help") {
    for (const std::string binary : {"dmacycle", "dmacycled", "dmacycle-sim"}) {
        INFO(binary);
        const auto version = run_command(bin_dir + "/" + binary + " --version");
        CHECK(version.code == 0);
        CHECK(version.out == binary + " " + DMACYCLE_VERSION + "\n");
        const auto help = run_command(bin_dir + "/" + binary + " --help");
        CHECK(help.code == 0);
        CHECK(help.out.starts_with("usage: " + binary));
    }
}
