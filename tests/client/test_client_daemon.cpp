// The `dmacycle` client executable against dmacycled started as a child process (the simulated
// instrument in the daemon, loopback port 0, a fresh SQLite file): submit, wait, status, list,
// abort and export as users run them, how refusals (401, 403, 404, 409, 422) are reported, and
// the exit codes.
#include <doctest/doctest.h>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "daemon_process.hpp"
#include "long_run.hpp"

namespace fs = std::filesystem;
using daemon_test::DaemonProcess;
using daemon_test::Run;
using daemon_test::slurp;
using nlohmann::json;

namespace {

// The main job shortened to 2 cycles and 10 min of recovery: seconds at --speed max.
const std::vector<std::pair<std::string, std::string>> short_job{
    {"duration: 8 h", "duration: 16 min"}, {"recovery: 8 h", "recovery: 10 min"}};

std::int64_t submitted_id(const Run& run) {
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return json::parse(run.out).at("job_id").get<std::int64_t>();
}

std::size_t count_lines(const std::string& text) {
    std::size_t lines = 0;
    for (const char c : text) {
        lines += c == '\n';
    }
    return lines;
}

}  // namespace

TEST_SUITE("client") {
    TEST_CASE("a job submitted through the CLI runs - wait, status and export agree") {
        // 50 Hz: more samples than the 50,000 of one page, so export pages through them.
        daemon_test::DaemonOptions options;
        options.extra_config = "sample_rate: 50\n";
        DaemonProcess daemon(options);
        INFO(daemon.log());
        const auto id = submitted_id(daemon.dmacycle(
            "submit " + daemon.job("mode1-0-200.yaml", short_job).string() + " --json"));

        const auto waited = daemon.dmacycle("wait " + std::to_string(id) + " --timeout 300 --json");
        INFO(waited.err);
        REQUIRE(waited.exit_code == 0);
        const auto job = json::parse(waited.out);
        CHECK(job["status"] == "completed");
        REQUIRE(job["run_ids"].size() == 1);
        const auto run_id = job["run_ids"][0].get<std::int64_t>();
        const auto samples = job["runs"][0]["samples"].get<std::int64_t>();
        CHECK(samples > 50000);

        const auto status = daemon.dmacycle("status " + std::to_string(id));
        CHECK(status.exit_code == 0);
        CHECK(status.out.find("job " + std::to_string(id) + " mode1-0-200: completed") == 0);

        const auto csv = daemon.dir() / "run.csv";
        const auto results = daemon.dir() / "results.json";
        const auto exported = daemon.dmacycle("export " + std::to_string(run_id) + " --out " +
                                              csv.string() + " --results " + results.string());
        INFO(exported.err);
        REQUIRE(exported.exit_code == 0);
        const auto text = slurp(csv);
        CHECK(text.rfind("seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,"
                         "stress_pa,strain\n",
                         0) == 0);
        CHECK(count_lines(text) == static_cast<std::size_t>(samples) + 1);
        CHECK(exported.out.find("run " + std::to_string(run_id) +
                                " (completed): " + std::to_string(samples) +
                                " samples written to " + csv.string()) == 0);
        CHECK(!fs::exists(csv.string() + ".part"));
        CHECK(json::parse(slurp(results))["results"].contains("kww"));

        // --every 10: exactly the rows whose seq is a multiple of 10.
        std::size_t tenths = 0;
        std::istringstream rows(text);
        std::string row;
        std::getline(rows, row);  // the header
        while (std::getline(rows, row)) {
            tenths += std::stoll(row.substr(0, row.find(','))) % 10 == 0;
        }
        const auto decimated = daemon.dmacycle("export " + std::to_string(run_id) + " --out " +
                                               csv.string() + " --every 10");
        REQUIRE(decimated.exit_code == 0);
        CHECK(count_lines(slurp(csv)) == tenths + 1);
    }

    TEST_CASE("list shows both jobs and the second runs after the first") {
        DaemonProcess daemon;
        INFO(daemon.log());
        const auto job = daemon.job("mode1-0-200.yaml", short_job);
        const auto first = submitted_id(daemon.dmacycle("submit " + job.string() + " --json"));
        const auto second = submitted_id(daemon.dmacycle("submit " + job.string() + " --json"));
        CHECK(second != first);

        const auto listed = daemon.dmacycle("list --json");
        REQUIRE(listed.exit_code == 0);
        std::vector<std::int64_t> ids;
        const auto jobs = json::parse(listed.out);
        for (const auto& entry : jobs["jobs"]) {
            ids.push_back(entry["job_id"].get<std::int64_t>());
        }
        CHECK(ids == std::vector<std::int64_t>{second, first});  // newest first
        const auto table = daemon.dmacycle("list");
        CHECK(table.exit_code == 0);
        CHECK(table.out.find(" " + std::to_string(first) + "  ") != std::string::npos);
        CHECK(table.out.find(" " + std::to_string(second) + "  ") != std::string::npos);

        const auto done =
            daemon.dmacycle("wait " + std::to_string(second) + " --timeout 300 --json");
        INFO(done.err);
        REQUIRE(done.exit_code == 0);
        const auto first_job =
            json::parse(daemon.dmacycle("status " + std::to_string(first) + " --json").out);
        const auto second_job = json::parse(done.out);
        CHECK(first_job["status"] == "completed");
        // ISO 8601 UTC stamps of one format compare as text.
        CHECK(second_job["started_utc"].get<std::string>() >=
              first_job["ended_utc"].get<std::string>());
    }

    TEST_CASE("abort through the CLI: a running job ends aborted, a queued one cancelled") {
        daemon_test::DaemonOptions options;
        options.speed = "20";  // slow enough that the 16 h job is still running
        DaemonProcess daemon(options);
        INFO(daemon.log());
        const auto job = daemon.job("mode1-0-200.yaml", {});
        const auto running = submitted_id(daemon.dmacycle("submit " + job.string() + " --json"));
        const auto queued = submitted_id(daemon.dmacycle("submit " + job.string() + " --json"));
        for (int i = 0; i < 600; ++i) {
            const auto status = daemon.dmacycle("status " + std::to_string(running) + " --json");
            REQUIRE(status.exit_code == 0);
            if (json::parse(status.out)["progress"].is_object()) {  // its run has begun
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }

        const auto status = daemon.dmacycle("status " + std::to_string(running));
        CHECK(status.exit_code == 0);
        CHECK(status.out.find("job " + std::to_string(running) + " mode1-0-200: running\n") == 0);
        CHECK(status.out.find("segment ") != std::string::npos);
        CHECK(status.out.find("paused no") != std::string::npos);
        const auto listed = daemon.dmacycle("list");
        CHECK(listed.exit_code == 0);
        CHECK(listed.out.find("queued") != std::string::npos);
        CHECK(listed.out.find("running") != std::string::npos);
        const auto impatient = daemon.dmacycle("wait " + std::to_string(running) + " --timeout 0");
        CHECK(impatient.exit_code == 3);
        CHECK(impatient.err.find("is still running, run ") != std::string::npos);
        CHECK(impatient.err.find("(--timeout)") != std::string::npos);

        const auto cancelled = daemon.dmacycle("abort " + std::to_string(queued));
        INFO(cancelled.err);
        CHECK(cancelled.exit_code == 0);
        CHECK(cancelled.out.find("cancelled") != std::string::npos);

        const auto aborted = daemon.dmacycle("abort " + std::to_string(running));
        INFO(aborted.err);
        CHECK(aborted.exit_code == 0);
        const auto waited =
            daemon.dmacycle("wait " + std::to_string(running) + " --timeout 120 --json");
        CHECK(waited.exit_code == 3);
        CHECK(json::parse(waited.out)["status"] == "aborted");
        CHECK(waited.err.find("ended aborted") != std::string::npos);

        // A finished job cannot be aborted again: 409, exit 2.
        const auto again = daemon.dmacycle("abort " + std::to_string(running));
        CHECK(again.exit_code == 2);
    }

    TEST_CASE("no token or a token without the scope: exit 2 saying which") {
        DaemonProcess daemon;
        INFO(daemon.log());
        const auto none = daemon.dmacycle("list", "");
        CHECK(none.exit_code == 2);
        CHECK(none.err.find("no token was given: use --token-file FILE or set DMACYCLE_TOKEN") !=
              std::string::npos);

        const auto job = daemon.job("mode1-0-200.yaml", short_job);
        const auto reader = daemon.dmacycle("submit " + job.string(),
                                            "--token-file " + daemon.token_file("reader").string());
        CHECK(reader.exit_code == 2);
        CHECK(reader.err.find("lacks the 'submit' scope") != std::string::npos);
        CHECK(reader.err.find(slurp(daemon.token_file("reader")).substr(0, 48)) ==
              std::string::npos);
        // Nothing was queued.
        const auto listed =
            daemon.dmacycle("list --json", "--token-file " + daemon.token_file("reader").string());
        REQUIRE(listed.exit_code == 0);
        CHECK(json::parse(listed.out)["jobs"].empty());

        // A token it does not know, and one without the scope from the environment.
        const auto stranger = daemon.dir() / "stranger.token";
        std::ofstream(stranger) << "stranger-0123456789abcdef0123456789abcdef\n";
        const auto unknown = daemon.dmacycle("list", "--token-file " + stranger.string());
        CHECK(unknown.exit_code == 2);
        CHECK(unknown.err.find("the token from --token-file " + stranger.string() +
                               " is not one it knows") != std::string::npos);
        CHECK(unknown.err.find("stranger-0123") == std::string::npos);
        const auto pause =
            daemon.dmacycle("pause 1", "", "DMACYCLE_TOKEN=" + daemon_test::reader_token);
        CHECK(pause.exit_code == 2);
        CHECK(pause.err.find("the token from DMACYCLE_TOKEN lacks the 'control' scope (POST "
                             "/api/v1/jobs/1/pause)") != std::string::npos);
        CHECK(pause.err.find(daemon_test::reader_token) == std::string::npos);
        CHECK(pause.out.empty());

        // An invalid job file: 422, its problems one per line, exit 2.
        const auto invalid =
            daemon.dmacycle("submit " + daemon
                                            .job("mode1-0-200.yaml",
                                                 {{"temperature: 365 K", "temperature: 365 MPa"},
                                                  {"hold: 10 min", "hold: 10 kg"}})
                                            .string());
        CHECK(invalid.exit_code == 2);
        CHECK(invalid.err.starts_with("dmacycle submit: the job file was refused: "));
        CHECK(count_lines(invalid.err) >= 3);  // the head, then one problem a line
        CHECK(invalid.err.find("(HTTP 422)\n") != std::string::npos);
        CHECK(invalid.err.find("temperature") != std::string::npos);
        CHECK(invalid.err.find("hold") != std::string::npos);

        // An unknown run: 404, exit 2, no file written.
        const auto csv = daemon.dir() / "run99.csv";
        const auto missing = daemon.dmacycle("export 99 --out " + csv.string());
        CHECK(missing.exit_code == 2);
        CHECK(missing.err == "dmacycle export: no run 99 (HTTP 404)\n");
        CHECK(!fs::exists(csv));
    }

    TEST_CASE("demo runs the main job through a dmacycled of its own and stops it" * long_run) {
        std::string pattern = (fs::temp_directory_path() / "dmacycle-demo-test-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        const fs::path dir = pattern;
        const auto db = dir / "demo.db";
        const auto out = dir / "demo.out";
        const int status = std::system((std::string(DMACYCLE_BIN_DIR) + "/dmacycle demo --db " +
                                        db.string() + " >" + out.string() + " 2>&1")
                                           .c_str());
        const auto text = slurp(out);
        INFO(text);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(text.find("60 cycles") != std::string::npos);
        CHECK(text.find("verdict: PASS") != std::string::npos);
        CHECK(fs::file_size(db) > 0);
        // The daemon it started is gone (reaped, so not even a zombie is left).
        const auto at = text.find("dmacycled (pid ");
        REQUIRE(at != std::string::npos);
        const pid_t pid = std::stoi(text.substr(at + 15));
        CHECK(kill(pid, 0) == -1);
        CHECK(errno == ESRCH);
        fs::remove_all(dir);
    }

    TEST_CASE("a stopped server: exit 3, cannot reach") {
        DaemonProcess daemon;
        const std::string url = daemon.url();
        daemon.stop();
        const auto result = std::system(("env -u DMACYCLE_TOKEN " + std::string(DMACYCLE_BIN_DIR) +
                                         "/dmacycle list --server " + url + " 2>/dev/null")
                                            .c_str());
        CHECK(WIFEXITED(result));
        CHECK(WEXITSTATUS(result) == 3);
    }
}
