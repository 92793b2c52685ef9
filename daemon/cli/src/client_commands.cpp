// The `dmacycle` client of dmacycled: submit, list, status, wait, pause, resume, abort, export
// (docs/cli.md), over the HTTP API (docs/api.md); export also reads a store file itself.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/exports/run_export.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_store.hpp"

namespace dmacycle::cli {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* default_server = "http://127.0.0.1:8470";
constexpr std::chrono::milliseconds wait_poll{500};
// Rows per samples request: few round trips, answers of a few MB.
constexpr int export_page_rows = 50000;

struct Command {
    const char* name;
    const char* usage;  // after "dmacycle "
    std::set<std::string> valued, flags;
};

// What the user gave for the connection, kept to explain a 401 or 403 without the token.
struct Connection {
    ApiClient client;
    std::string token_source;  // empty when no token was given
};

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

// Parses the options common to every client command and the command's own, then runs `body`,
// which connects (fills `connection`) when it needs the server; errors become messages on `err`
// and exit codes (commands.hpp).
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
        err << "dmacycle " << command.name << ": " << error.what() << " (usage: dmacycle "
            << command.usage << " [--server URL] [--token-file FILE])\n";
        return exit_bad_input;
    } catch (const io::InputError& error) {
        err << "dmacycle " << command.name << ": " << error.what() << "\n";
        return exit_bad_input;
    } catch (const ClientError& error) {  // only thrown once connected
        return report_client_error(command, *connection, error, err);
    }
}

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

// The one positional argument, a job or run id.
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

std::string text_of(const Json& object, const char* key) {
    const auto found = object.find(key);
    if (found == object.end() || found->is_null()) {
        return "-";
    }
    return found->is_string() ? found->get<std::string>() : found->dump();
}

// A number field with `decimals` digits after the point, "-" when it is absent or null.
std::string number_of(const Json& object, const char* key, int decimals) {
    const auto found = object.find(key);
    if (found == object.end() || !found->is_number()) {
        return "-";
    }
    return io::format("%.*f", decimals, found->get<double>());
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
            << " K, σ " << number_of(p, "stress_mpa", 2) << " MPa, ε " << number_of(p, "strain", 6)
            << ", paused " << pause_state(p) << "\n";
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

enum class ExportFormat { csv, ta };

// --format, else from the file name: FILE.txt is a TA text export, anything else CSV.
ExportFormat export_format(const io::Arguments& arguments, const std::string& out_path) {
    if (const auto name = arguments.text("format")) {
        if (*name == "csv" || *name == "ta") {
            return *name == "ta" ? ExportFormat::ta : ExportFormat::csv;
        }
        throw io::UsageError("--format must be csv or ta, not '" + *name + "'");
    }
    return fs::path(out_path).extension() == ".txt" ? ExportFormat::ta : ExportFormat::csv;
}

// An output written to FILE.part and renamed to FILE by commit(), so an interrupted or refused
// export leaves no partial file; without commit() the .part is removed.
class PartFile {
  public:
    explicit PartFile(std::string path)
        : path_(std::move(path)),
          partial_(path_ + ".part"),
          file_(partial_, std::ios::binary | std::ios::trunc) {
        if (!file_) {
            throw io::InputError(path_ + ": cannot write");
        }
    }
    ~PartFile() {
        if (!committed_) {
            file_.close();
            std::error_code ignored;
            fs::remove(partial_, ignored);
        }
    }
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;

    const std::string& path() const { return path_; }
    std::ostream& stream() { return file_; }
    void commit() {
        file_.close();
        std::error_code error;
        if (!file_ || (fs::rename(partial_, path_, error), error)) {
            throw io::InputError(path_ + ": cannot write");
        }
        committed_ = true;
    }

  private:
    std::string path_, partial_;
    std::ofstream file_;
    bool committed_ = false;
};

// Where `export` reads a run: the server's API or a store file; the writers do not know which.
struct ExportSource {
    store::ArchivedRun run;
    // Calls `each` for every sample whose seq is a multiple of `every`, in seq order.
    std::function<void(int every, const std::function<void(const store::ArchivedSample&)>& each)>
        samples;
    std::function<Json()> results;  // the stored results by kind
    // Calls `each` for every DMTA measurement of the run, in seq order (none without a scan).
    std::function<void(const std::function<void(const store::ArchivedDmta&)>& each)> dmta;
};

// Reads `path` (a GET with a query ending in `since=`) page after page until `more` is false;
// `rows_of` takes each page's rows.
void page_through(const ApiClient& client, const std::string& path_since,
                  const std::function<void(const Json&)>& rows_of) {
    long long since = -1;
    while (true) {
        const auto page = client.get(path_since + std::to_string(since));
        rows_of(page);
        const auto next = page.value("next_since", since);
        if (!page.value("more", false)) {
            return;
        }
        if (next <= since) {
            throw ClientError(0, "unexpected page of " + path_since + ": next_since " +
                                     std::to_string(next) + " does not advance past " +
                                     std::to_string(since));
        }
        since = next;
    }
}

ExportSource server_source(const ApiClient& client, std::int64_t id) {
    const auto path = "/api/v1/runs/" + std::to_string(id);
    const auto answer = client.get(path);
    const auto text = [&](const char* key) {
        const auto found = answer.find(key);
        return found != answer.end() && found->is_string() ? found->get<std::string>()
                                                           : std::string();
    };
    const auto job = answer.find("job_id");
    store::ArchivedRun run{
        .id = id,
        .job_id = job != answer.end() && job->is_number() ? job->get<std::int64_t>() : 0,
        .job_text = text("job_text"),
        .sample_id = text("sample"),
        .profile = text("profile"),
        .software_version = text("software_version"),
        .instrument_identity = text("instrument_identity"),
        .status = text("status"),
        .created_utc = text("created_utc"),
        .started_utc = text("started_utc"),
        .ended_utc = text("ended_utc")};
    const auto samples =
        [&client, path](int every, const std::function<void(const store::ArchivedSample&)>& each) {
            page_through(client,
                         io::format("%s/samples?limit=%d&every=%d&since=", path.c_str(),
                                    export_page_rows, every),
                         [&](const Json& page) { for_each_page_sample(page, each); });
        };
    const auto results = [&client, path] {
        return client.get(path + "/results").value("results", Json::object());
    };
    const auto dmta = [&client, path](const std::function<void(const store::ArchivedDmta&)>& each) {
        page_through(client, io::format("%s/dmta?limit=%d&since=", path.c_str(), export_page_rows),
                     [&](const Json& page) { for_each_page_dmta(page, each); });
    };
    return {std::move(run), samples, results, dmta};
}

ExportSource store_source(const std::string& file, std::int64_t id) {
    const auto archive = std::make_shared<const store::RunArchive>(file);
    // A store that fails while being read (an I/O error, a file truncated under us) is named.
    const auto reading = [file](const auto& read) {
        try {
            return read();
        } catch (const store::StoreError& error) {
            throw io::InputError(file + ": cannot read: " + error.what());
        }
    };
    auto run = reading([&] { return archive->run(id); });
    const auto samples = [archive, id, reading](
                             int every,
                             const std::function<void(const store::ArchivedSample&)>& each) {
        reading([&] { archive->for_each_sample(id, each, every); });
    };
    const auto results = [archive, id, reading] {
        return reading([&] { return Json(archive->results(id)); });
    };
    const auto dmta = [archive, id,
                       reading](const std::function<void(const store::ArchivedDmta&)>& each) {
        for (const auto& row : reading([&] { return archive->dmta(id); })) {
            each(row);
        }
    };
    return {std::move(run), samples, results, dmta};
}

}  // namespace

int run_submit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{
        "submit", "submit JOB.yaml [--wait [--timeout S]] [--json]", {"timeout"}, {"wait", "json"}};
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
    static const Command command{"list", "list [--json]", {}, {"json"}};
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
    static const Command command{"status", "status JOB [--json]", {}, {"json"}};
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
    static const Command command{"wait", "wait JOB [--timeout S] [--json]", {"timeout"}, {"json"}};
    return client_command(command, args, err,
                          [&](const io::Arguments& arguments, const Connection& c) {
                              const auto id = the_id(arguments, "job");
                              return wait_and_report(command, c.client, id, timeout_of(arguments),
                                                     arguments.flag("json"), out, err);
                          });
}

int run_pause(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"pause", "pause JOB [--json]", {}, {"json"}};
    return job_action(command, "pause", args, out, err);
}

int run_resume(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"resume", "resume JOB [--json]", {}, {"json"}};
    return job_action(command, "resume", args, out, err);
}

int run_abort(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"abort", "abort JOB [--json]", {}, {"json"}};
    return job_action(command, "abort", args, out, err);
}

int run_export(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"export",
                                 "export RUN --out FILE [--format csv|ta] [--every K] "
                                 "[--results FILE.json|FILE.csv] [--dmta FILE.csv] [--db STORE]",
                                 {"out", "format", "every", "results", "dmta", "db"},
                                 {}};
    return guarded_command(
        command, args, err,
        [&](const io::Arguments& arguments, std::optional<Connection>& connection) {
            const auto id = the_id(arguments, "run");
            const auto out_path = arguments.text("out");
            if (!out_path || out_path->empty()) {
                throw io::UsageError("--out FILE is required");
            }
            const auto export_as = export_format(arguments, *out_path);
            const int every = arguments.integer("every").value_or(1);
            if (every < 1) {
                throw io::UsageError("--every must be ≥ 1");
            }
            const auto results_path = arguments.text("results");
            const auto results_extension =
                results_path ? fs::path(*results_path).extension().string() : std::string();
            if (results_path && results_extension != ".json" && results_extension != ".csv") {
                throw io::UsageError(
                    "--results takes FILE.json (the API's answer) or FILE.csv (tables), "
                    "not '" +
                    *results_path + "'");
            }
            const auto dmta_path = arguments.text("dmta");
            if (dmta_path && dmta_path->empty()) {
                throw io::UsageError("--dmta takes the CSV file to write");
            }
            const auto db = arguments.text("db");
            if (db && (arguments.text("server") || arguments.text("token-file"))) {
                throw io::UsageError(
                    "--db reads the store file itself: no --server or --token-file");
            }
            const ExportSource source =
                db ? store_source(*db, id)
                   : server_source(connection.emplace(connect(arguments)).client, id);

            PartFile samples_file(*out_path);
            const auto writer = export_as == ExportFormat::ta
                                    ? exports::ta_sample_writer(samples_file.stream(), source.run)
                                    : exports::csv_sample_writer(samples_file.stream());
            std::size_t rows = 0;
            source.samples(every, [&](const store::ArchivedSample& sample) {
                writer->write(sample);
                ++rows;
            });
            // Every file is complete beside its name before any is renamed into place.
            std::vector<std::unique_ptr<PartFile>> results_files;
            if (results_path) {
                const auto results = source.results();
                const auto add = [&](const std::string& path, const std::string& text) {
                    results_files.push_back(std::make_unique<PartFile>(path));
                    results_files.back()->stream() << text;
                };
                if (results_extension == ".json") {
                    add(*results_path, Json{{"run_id", id}, {"results", results}}.dump(2) + "\n");
                } else {
                    const auto csv = exports::results_csv(results);
                    add(*results_path, csv.scalars);
                    const auto stem = results_path->substr(0, results_path->size() - 4);
                    for (const auto& table : csv.tables) {
                        add(stem + "-" + table.name + ".csv", table.text);
                    }
                }
            }
            std::optional<PartFile> dmta_file;
            std::size_t dmta_rows = 0;
            if (dmta_path) {
                exports::write_dmta_csv_header(dmta_file.emplace(*dmta_path).stream());
                source.dmta([&](const store::ArchivedDmta& row) {
                    exports::write_dmta_csv_row(dmta_file->stream(), row);
                    ++dmta_rows;
                });
            }
            for (const auto& file : results_files) {
                file->commit();
            }
            if (dmta_file) {
                dmta_file->commit();
            }
            samples_file.commit();

            out << "run " << id << " (" << source.run.status << "): " << rows
                << (every > 1 ? io::format(" samples (every %d-th seq)", every)
                              : std::string(" samples"))
                << " written to " << *out_path
                << (export_as == ExportFormat::ta ? " (TA text, UTF-16)" : "") << "\n";
            if (!results_files.empty()) {
                out << "results of run " << id << " written to";
                for (std::size_t i = 0; i < results_files.size(); ++i) {
                    out << (i ? ", " : " ") << results_files[i]->path();
                }
                out << "\n";
            }
            if (dmta_file) {
                out << "DMTA measurements of run " << id << ": " << dmta_rows << " written to "
                    << dmta_file->path() << "\n";
            }
            return exit_ok;
        });
}

}  // namespace dmacycle::cli
