// The `dmacycle` client of dmacycled: submit, list, status, wait, pause, resume, abort
// (docs/cli.md), over the HTTP API (docs/api.md); export is in export_command.cpp.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client_common.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/text.hpp"

namespace dmacycle::cli {
namespace {

using Json = nlohmann::json;

constexpr const char* default_server = "http://127.0.0.1:8470";
constexpr std::chrono::milliseconds wait_poll{500};

std::string read_token_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw io::InputError(path + ": cannot read the token file");
    }
    std::ostringstream text;
    text << file.rdbuf();
    std::string token = text.str();
    const auto first = token.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        throw io::InputError(path + ": the token file is empty");
    }
    token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
    if (token.find_first_of(" \t\r\n") != std::string::npos) {
        throw io::InputError(path + ": the token file must hold the token alone, on one line");
    }
    return token;
}

// The scope docs/api.md requires for a request ("GET /api/v1/...", "POST ...").
const char* scope_of(const std::string& request) {
    if (request.rfind("GET ", 0) == 0) {
        return "read";
    }
    return request == "POST /api/v1/jobs" ? "submit" : "control";
}

// The exit code for a refused or failed request, after saying why on `err`.
int report_client_error(const Command& command, const Connection& connection,
                        const ClientError& error, std::ostream& err) {
    const std::string prefix = std::string("dmacycle ") + command.name + ": ";
    const int status = error.status();
    if (status == 0) {
        err << prefix << error.what() << "\n";
        return exit_server_error;
    }
    const std::string answer = io::format("%s (HTTP %d)", error.what(), status);
    if (status == 401) {
        err << prefix << connection.client.server().text() << " refused the request: " << answer
            << "; "
            << (connection.token_source.empty()
                    ? "no token was given: use --token-file FILE or set DMACYCLE_TOKEN"
                    : "the token from " + connection.token_source + " is not one it knows")
            << "\n";
        return exit_bad_input;
    }
    if (status == 403) {
        err << prefix << connection.client.server().text() << " refused the request: " << answer
            << "; the token from " << connection.token_source << " lacks the '"
            << scope_of(error.request()) << "' scope (" << error.request() << ")\n";
        return exit_bad_input;
    }
    err << prefix << (status == 422 ? "the job file was refused: " : "") << answer << "\n";
    for (const auto& detail : error.details()) {
        err << detail << "\n";
    }
    return status < 500 ? exit_bad_input : exit_server_error;
}

}  // namespace

Connection connect(const io::Arguments& arguments) {
    std::string url = default_server;
    if (const auto flag = arguments.text("server")) {
        url = *flag;
    } else if (const char* env = std::getenv("DMACYCLE_SERVER"); env != nullptr && *env) {
        url = env;
    }
    ServerUrl server;
    try {
        server = parse_server_url(url);
    } catch (const std::invalid_argument& error) {
        throw io::UsageError(std::string("server: ") + error.what());
    }
    std::optional<std::string> token;
    std::string source;
    if (const auto path = arguments.text("token-file")) {
        token = read_token_file(*path);
        source = "--token-file " + *path;
    } else if (const char* env = std::getenv("DMACYCLE_TOKEN"); env != nullptr && *env) {
        token = env;
        source = "DMACYCLE_TOKEN";
    }
    return {ApiClient(server, token), source};
}

int guarded_command(
    const Command& command, std::span<const std::string_view> args, std::ostream& err,
    const std::function<int(const io::Arguments&, std::optional<Connection>&)>& body) {
    auto valued = command.valued;
    valued.insert({"server", "token-file"});
    std::optional<Connection> connection;
    try {
        const io::Arguments arguments(args, valued, command.flags);
        return body(arguments, connection);
    } catch (const io::UsageError& error) {
        err << "dmacycle " << command.name << ": " << error.what() << " (" << usage_of(command.name)
            << ")\n";
        return exit_bad_input;
    } catch (const io::InputError& error) {
        err << "dmacycle " << command.name << ": " << error.what() << "\n";
        return exit_bad_input;
    } catch (const ClientError& error) {  // only thrown once connected
        return report_client_error(command, *connection, error, err);
    }
}

std::int64_t the_id(const io::Arguments& arguments, const char* what) {
    const auto& positionals = arguments.positionals();
    if (positionals.size() != 1) {
        throw io::UsageError(positionals.empty() ? std::string("which ") + what + "?"
                                                 : "one " + std::string(what) + " only");
    }
    const std::string& text = positionals.front();
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        throw io::UsageError("'" + text + "' is not a " + what + " id");
    }
    return std::stoll(text);
}

namespace {

// guarded_command for a command that always talks to the server.
int client_command(const Command& command, std::span<const std::string_view> args,
                   std::ostream& err,
                   const std::function<int(const io::Arguments&, const Connection&)>& body) {
    return guarded_command(
        command, args, err,
        [&](const io::Arguments& arguments, std::optional<Connection>& connection) {
            return body(arguments, connection.emplace(connect(arguments)));
        });
}

std::string text_of(const Json& object, const char* key) {
    const auto found = object.find(key);
    if (found == object.end() || found->is_null()) {
        return "-";
    }
    return found->is_string() ? found->get<std::string>() : found->dump();
}

// A number field times `scale` (to the unit shown) with `decimals` digits after the point, "-"
// when it is absent or null.
std::string number_of(const Json& object, const char* key, int decimals, double scale = 1) {
    const auto found = object.find(key);
    if (found == object.end() || !found->is_number()) {
        return "-";
    }
    return io::format("%.*f", decimals, found->get<double>() * scale);
}

std::string pause_state(const Json& progress) {
    if (progress.value("paused", false)) {
        return "yes, holding at sigma_creep";
    }
    return progress.value("pause_pending", false) ? "pending (at the next cycle boundary)" : "no";
}

void print_job(const Json& job, std::ostream& out) {
    out << "job " << text_of(job, "job_id") << " " << text_of(job, "name") << ": "
        << text_of(job, "status");
    if (const auto message = job.value("message", ""); !message.empty()) {
        out << " (" << message << ")";
    }
    out << "\n  source " << text_of(job, "source") << ", submitted "
        << text_of(job, "submitted_utc") << ", started " << text_of(job, "started_utc")
        << ", ended " << text_of(job, "ended_utc") << "\n";
    if (job.contains("runs") && job["runs"].is_array()) {
        for (const auto& run : job["runs"]) {
            out << "  run " << text_of(run, "run_id") << " (sample " << text_of(run, "sample");
            if (const auto point = run.value("sweep_point", ""); !point.empty()) {
                out << ", " << point;
            }
            out << "): " << text_of(run, "status") << ", " << text_of(run, "samples")
                << " samples\n";
        }
    }
    const auto progress = job.find("progress");
    if (progress != job.end() && progress->is_object()) {
        const auto& p = *progress;
        out << "  now: run " << text_of(p, "run_id") << ", segment " << text_of(p, "segment")
            << ", cycle " << text_of(p, "cycle") << "/" << text_of(p, "cycles_total") << ", t "
            << number_of(p, "t_s", 1) << " s (plan " << number_of(p, "plan_t_s", 1) << " of "
            << number_of(p, "plan_duration_s", 0) << " s), T " << number_of(p, "temperature_k", 2)
            << " K, σ " << number_of(p, "stress_pa", 2, 1e-6) << " MPa, ε "
            << number_of(p, "strain", 6) << ", paused " << pause_state(p) << "\n";
    }
}

// The fits of a run's results that are not usable, by kind (as `dmacycle run` judges them).
std::vector<std::string> unusable_fits(const Json& results) {
    std::vector<std::string> kinds;
    if (!results.is_object()) {
        return kinds;
    }
    for (const auto& [kind, doc] : results.items()) {
        const Json* fit = nullptr;
        if (doc.contains("spectrum") && doc["spectrum"].is_object()) {
            fit = doc["spectrum"].contains("fit") ? &doc["spectrum"]["fit"] : nullptr;
        } else if (doc.contains("fit")) {
            fit = &doc["fit"];
        }
        if (fit != nullptr && fit->is_object() && !fit->value("usable", false)) {
            kinds.push_back(kind);
        }
    }
    return kinds;
}

std::optional<double> timeout_of(const io::Arguments& arguments) {
    const auto timeout_s = arguments.number("timeout");
    if (timeout_s && *timeout_s < 0) {
        throw io::UsageError("--timeout must be ≥ 0 s");
    }
    return timeout_s;
}

// `wait` and `submit --wait`: polls, then prints the job and judges how it ended.
int wait_and_report(const Command& command, const ApiClient& client, std::int64_t job_id,
                    std::optional<double> timeout_s, bool json, std::ostream& out,
                    std::ostream& err) {
    std::optional<std::chrono::milliseconds> timeout;
    if (timeout_s) {
        timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*timeout_s * 1e3));
    }
    std::string last_state;
    const auto job = wait_for_job(client, job_id, timeout, wait_poll, [&](const Json& polled) {
        std::string state = text_of(polled, "status");
        if (const auto p = polled.find("progress"); p != polled.end() && p->is_object()) {
            state += ", run " + text_of(*p, "run_id") + " segment " + text_of(*p, "segment");
        }
        if (state != last_state) {
            err << "job " << job_id << ": " << state << "\n";
            last_state = state;
        }
    });
    if (!job) {
        err << "dmacycle " << command.name << ": job " << job_id << " is still " << last_state
            << " after " << io::format("%g", *timeout_s) << " s (--timeout)\n";
        return exit_job_not_completed;
    }
    if (json) {
        out << job->dump(2) << "\n";
    } else {
        print_job(*job, out);
    }
    if ((*job)["status"] != "completed") {
        err << "dmacycle " << command.name << ": job " << job_id << " ended "
            << text_of(*job, "status") << "\n";
        return exit_job_not_completed;
    }
    int code = exit_ok;
    for (const auto& run_id : job->value("run_ids", Json::array())) {
        const auto answer = client.get("/api/v1/runs/" + run_id.dump() + "/results");
        const auto unusable = unusable_fits(answer.value("results", Json::object()));
        if (!unusable.empty()) {
            err << "dmacycle " << command.name << ": run " << run_id.dump() << ": fits not usable:";
            for (const auto& kind : unusable) {
                err << " " << kind;
            }
            err << " (their results say why)\n";
            code = exit_fit_failed;
        }
    }
    return code;
}

// pause, resume, abort: a POST with no body that answers with the job.
int job_action(const Command& command, const char* action, std::span<const std::string_view> args,
               std::ostream& out, std::ostream& err) {
    return client_command(
        command, args, err, [&](const io::Arguments& arguments, const Connection& c) {
            const auto id = the_id(arguments, "job");
            const auto job = c.client.post("/api/v1/jobs/" + std::to_string(id) + "/" + action);
            if (arguments.flag("json")) {
                out << job.dump(2) << "\n";
            } else {
                out << action << " accepted; ";
                print_job(job, out);
            }
            return exit_ok;
        });
}

}  // namespace

int run_submit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"submit", {"timeout"}, {"wait", "json"}};
    return client_command(
        command, args, err, [&](const io::Arguments& arguments, const Connection& c) {
            if (arguments.positionals().size() != 1) {
                throw io::UsageError(arguments.positionals().empty() ? "which job file?"
                                                                     : "one job file at a time");
            }
            const bool wait = arguments.flag("wait");
            const auto timeout = timeout_of(arguments);
            if (timeout && !wait) {
                throw io::UsageError("--timeout goes with --wait");
            }
            const auto answer =
                c.client.post("/api/v1/jobs", io::read_job_text(arguments.positionals()[0]));
            const auto id = answer.at("job_id").get<std::int64_t>();
            if (!wait) {
                if (arguments.flag("json")) {
                    out << answer.dump(2) << "\n";
                } else {
                    out << "job " << id << " " << text_of(answer, "name") << ": "
                        << text_of(answer, "status") << " (" << text_of(answer, "runs")
                        << " run(s), " << text_of(answer, "position") << " job(s) ahead)\n";
                }
                return exit_ok;
            }
            err << "job " << id << " submitted; waiting for it\n";
            return wait_and_report(command, c.client, id, timeout, arguments.flag("json"), out,
                                   err);
        });
}

int run_list(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"list", {}, {"json"}};
    return client_command(
        command, args, err, [&](const io::Arguments& arguments, const Connection& c) {
            if (!arguments.positionals().empty()) {
                throw io::UsageError("unexpected argument '" + arguments.positionals().front() +
                                     "'");
            }
            const auto answer = c.client.get("/api/v1/jobs");
            if (arguments.flag("json")) {
                out << answer.dump(2) << "\n";
                return exit_ok;
            }
            const auto jobs = answer.value("jobs", Json::array());
            if (jobs.empty()) {
                out << "no jobs\n";
                return exit_ok;
            }
            out << io::format("%6s  %-11s  %-24s  %-12s  %s\n", "JOB", "STATUS", "NAME", "RUNS",
                              "SUBMITTED");
            for (const auto& job : jobs) {
                std::string runs;
                for (const auto& id : job.value("run_ids", Json::array())) {
                    if (!runs.empty()) {
                        runs += ',';
                    }
                    runs += id.dump();
                }
                out << io::format("%6s  %-11s  %-24s  %-12s  %s\n", text_of(job, "job_id").c_str(),
                                  text_of(job, "status").c_str(), text_of(job, "name").c_str(),
                                  runs.empty() ? "-" : runs.c_str(),
                                  text_of(job, "submitted_utc").c_str());
            }
            return exit_ok;
        });
}

int run_status(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"status", {}, {"json"}};
    return client_command(
        command, args, err, [&](const io::Arguments& arguments, const Connection& c) {
            const auto job =
                c.client.get("/api/v1/jobs/" + std::to_string(the_id(arguments, "job")));
            if (arguments.flag("json")) {
                out << job.dump(2) << "\n";
            } else {
                print_job(job, out);
            }
            return exit_ok;
        });
}

int run_wait(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"wait", {"timeout"}, {"json"}};
    return client_command(command, args, err,
                          [&](const io::Arguments& arguments, const Connection& c) {
                              const auto id = the_id(arguments, "job");
                              return wait_and_report(command, c.client, id, timeout_of(arguments),
                                                     arguments.flag("json"), out, err);
                          });
}

int run_pause(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"pause", {}, {"json"}};
    return job_action(command, "pause", args, out, err);
}

int run_resume(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"resume", {}, {"json"}};
    return job_action(command, "resume", args, out, err);
}

int run_abort(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"abort", {}, {"json"}};
    return job_action(command, "abort", args, out, err);
}

}  // namespace dmacycle::cli
