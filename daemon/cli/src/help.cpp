#include "dmacycle/cli/help.hpp"

#include <algorithm>
#include <array>

namespace dmacycle::cli {
namespace {

constexpr std::string_view client_flags = "[--server URL] [--token-file FILE]";

constexpr std::array<CommandHelp, 17> commands{{
    {"demo", "the main job through dmacycled on the simulator, and a verdict",
     "dmacycle demo [--db FILE] [--report DIR]\n"
     "dmacycle demo --synthetic [--write-csv FILE]",
     "--synthetic: the fits alone, on synthetic data with known truth."},
    {"analyze", "fit recovery, creep, cycling, Arrhenius or DSC data",
     "dmacycle analyze recovery (FILE [--t0 SECONDS] | REPTATE.creep --after CREEP\n"
     "                           | --db STORE --run ID)\n"
     "                          [--lambda X|evidence] [--modes N] [--tau-min S]\n"
     "                          [--tau-max S] [--json]\n"
     "dmacycle analyze creep (FILE --stress-mpa S | EXPORT | REPTATE.creep\n"
     "                       | --db STORE --run ID)\n"
     "                       [--lambda X|evidence] [--modes N] [--tau-min S]\n"
     "                       [--tau-max S] [--json]\n"
     "dmacycle analyze cycling (FILE | --db STORE --run ID) [--composition C\n"
     "                         --density G_PER_CM3] [--json]\n"
     "dmacycle analyze arrhenius FILE [--json]\n"
     "dmacycle analyze dsc SAMPLE BASELINE --composition C [--mass-mg M] [--exo-down]\n"
     "                     [--range T1:T2] [--work-done-kj-mol W | --run ID --db FILE]\n"
     "                     [--reference-kj-mol H0] [--json]",
     "FILE is CSV with a header: recovery/creep time_s,strain (recovery: with --t0, the loading\n"
     "time), or recovery from a run's own export (dmacycle export: its segments give t0);\n"
     "cycling time_s,stress_pa,strain (stress_mpa in MPa is read too); arrhenius\n"
     "temperature_k,frequency_hz,tan_delta. dsc: SAMPLE and BASELINE are heating scans as CSV\n"
     "time_s,temperature_k,heat_flow_w_g, TA Universal Analysis or Netzsch text exports\n"
     "(docs/dsc.md). Exit 0 ok, 1 a fit is not usable (dsc: no exotherm), 2 bad input."},
    {"validate", "check job files (YAML)", "dmacycle validate JOB.yaml [JOB.yaml ...]",
     "Each problem is one line FILE:LINE:COLUMN: field: problem (allowed range); exit 2 when any."},
    {"plan", "the segment plan of a job", "dmacycle plan JOB.yaml [--json]", ""},
    {"probe", "read identity, force, temperature and link state of instruments",
     "dmacycle probe [--rig FILE] [--frame URI] [--furnace URI] [--frame-model NAME]\n"
     "               [--furnace-model NAME] [--timeout-ms N] [--json]",
     "Exit 3 when a device cannot be reached or read."},
    {"run", "run a job in the foreground, without the service",
     "dmacycle run JOB.yaml --db FILE [--rig RIG.yaml] [--speed X|max] [--sample-rate HZ] "
     "[--json]",
     "On the rig's devices; without --rig on the simulator of the job's profile. --sample-rate\n"
     "defaults to the job file's sample_rate, else 10 Hz. Exit 1 a fit is not usable, 2 a\n"
     "refused job (nothing written), 3 a run faulted."},
    {"report", "a stored run's figures and tables as HTML + SVG",
     "dmacycle report RUN [RUN ...] [--db FILE] --out DIR\n"
     "dmacycle report --job JOB [--db FILE] --out DIR",
     "--job: a sweep's runs side by side. --db defaults to the service's store, "
     "/var/lib/dmacycled/dmacycle.db."},
    {"help", "this list, or one command's help", "dmacycle help [COMMAND]", ""},
    {"submit", "submit a job file to dmacycled",
     "dmacycle submit JOB.yaml [--wait [--timeout S]] [--json]", "", true},
    {"list", "the jobs, newest first", "dmacycle list [--json]", "", true},
    {"status", "a job's status", "dmacycle status JOB [--json]", "", true},
    {"wait", "wait until a job ends", "dmacycle wait JOB [--timeout S] [--json]", "", true},
    {"pause", "pause a job at the next cycle boundary, holding at sigma_creep",
     "dmacycle pause JOB [--json]", "", true},
    {"resume", "resume a paused job", "dmacycle resume JOB [--json]", "", true},
    {"abort", "abort a job (safe unload; a queued job is cancelled)", "dmacycle abort JOB [--json]",
     "", true},
    {"export", "a run's samples as CSV or TA text, and its results",
     "dmacycle export RUN --out FILE [--format csv|ta] [--every K]\n"
     "                [--results FILE.json|FILE.csv] [--dmta FILE.csv] [--db STORE]",
     "From the server or, with --db, from a store file read directly (docs/exports.md).", true},
    {"--version", "print the version", "dmacycle --version", ""},
}};

// Every line of `text` with `prefix` before the first and as many spaces before the others.
std::string indented(std::string_view text, std::string_view prefix) {
    std::string out(prefix);
    for (const char c : text) {
        out += c;
        if (c == '\n') {
            out.append(prefix.size(), ' ');
        }
    }
    return out;
}

}  // namespace

std::span<const CommandHelp> command_help() {
    return commands;
}

const CommandHelp* find_help(std::string_view name) {
    const auto found = std::find_if(commands.begin(), commands.end(),
                                    [&](const CommandHelp& c) { return c.name == name; });
    return found == commands.end() ? nullptr : &*found;
}

std::string usage_of(std::string_view name) {
    const CommandHelp* command = find_help(name);
    if (command == nullptr) {
        return "usage: dmacycle help";
    }
    // Alternatives joined by " | ", continuation lines by a space.
    std::string usage = "usage: ";
    std::string_view rest = command->usage;
    while (!rest.empty()) {
        const auto end = std::min(rest.find('\n'), rest.size());
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        const auto text_start = line.find_first_not_of(' ');
        if (usage.size() > 7) {
            usage += text_start == 0 ? " | " : " ";
        }
        usage += line.substr(text_start);
    }
    if (command->client) {
        usage.append(" ").append(client_flags);
    }
    return usage;
}

void print_overview(std::ostream& out) {
    out << "usage: dmacycle <command> [args]   (dmacycle <command> --help: its help)\n"
           "commands:\n";
    for (const auto& command : commands) {
        if (command.client && command.name == "submit") {
            out << "client of dmacycled (--server URL or DMACYCLE_SERVER, default "
                   "http://127.0.0.1:8470;\n--token-file FILE or DMACYCLE_TOKEN):\n";
        }
        std::string name(command.name);
        name.resize(std::max<std::size_t>(name.size() + 1, 11), ' ');
        out << "  " << name << command.summary << "\n";
    }
    out << "exit codes: 0 ok; 1 a fit is not usable; 2 bad input or arguments, or the server "
           "refused\nthe request (token, scope, invalid job); 3 a device or the server cannot be "
           "reached or\nfailed, or a job ended other than completed\n"
           "docs: docs/cli.md\n";
}

void print_help(std::ostream& out, const CommandHelp& command) {
    out << indented(command.usage, "usage: ") << (command.client ? " " : "")
        << (command.client ? client_flags : "") << "\n"
        << command.summary << "\n";
    if (!command.details.empty()) {
        out << command.details << "\n";
    }
    if (command.client) {
        out << "Server from --server URL, else $DMACYCLE_SERVER, else http://127.0.0.1:8470; "
               "token from\n--token-file FILE, else $DMACYCLE_TOKEN.\n";
    }
}

bool asks_help(std::span<const std::string_view> args) {
    for (const auto arg : args) {
        if (arg == "--") {
            return false;
        }
        if (arg == "--help" || arg == "-h") {
            return true;
        }
    }
    return false;
}

}  // namespace dmacycle::cli
