// The client commands without dmacycled: URL parsing, the export CSV, argument errors, an
// unreachable server, and the client's side of the API against a scripted HTTP peer on a real
// loopback socket (paging, headers, how refusals are reported, exit codes).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "api_client.hpp"
#include "dmacycle/daemon/commands.hpp"
#include "http_peer.hpp"

namespace fs = std::filesystem;
namespace cli = dmacycle::daemon;
using client_test::Canned;
using client_test::HttpPeer;
using nlohmann::json;

namespace {

constexpr const char* token = "0123456789abcdef0123456789abcdef-secret";

struct Result {
    int exit_code = -1;
    std::string out, err;
};

using Command = int (*)(std::span<const std::string_view>, std::ostream&, std::ostream&);

// The command as main() calls it, with no server or token from the environment.
Result call(Command command, const std::vector<std::string>& args) {
    unsetenv("DMACYCLE_SERVER");
    unsetenv("DMACYCLE_TOKEN");
    const std::vector<std::string_view> views(args.begin(), args.end());
    std::ostringstream out, err;
    const int code = command(views, out, err);
    return {code, out.str(), err.str()};
}

class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "dmacycle-client-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { fs::remove_all(path_); }
    fs::path file(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name) << text;
        return path_ / name;
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::string slurp(const fs::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// A port nothing listens on: bound, then released.
int closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

json job_answer(const std::string& status, bool with_progress) {
    json job = {{"job_id", 3},
                {"name", "mode1-0-200"},
                {"source", "api:demo"},
                {"status", status},
                {"submitted_utc", "2026-11-28T22:00:00Z"},
                {"started_utc", "2026-11-28T22:00:01Z"},
                {"ended_utc", nullptr},
                {"message", ""},
                {"runs_planned", 1},
                {"run_ids", {7}},
                {"runs",
                 {{{"run_id", 7},
                   {"status", status},
                   {"sample", "LCNAC-0-200"},
                   {"sweep_point", ""},
                   {"samples", 12345}}}},
                {"progress", nullptr}};
    if (with_progress) {
        job["progress"] = {{"run_id", 7},
                           {"segment", "cycle"},
                           {"cycle", 12},
                           {"cycles_total", 60},
                           {"t_s", 6200.1},
                           {"plan_t_s", 6000.0},
                           {"plan_duration_s", 58200},
                           {"temperature_k", 365.0},
                           {"stress_mpa", 120.1},
                           {"strain", 0.0033},
                           {"paused", false},
                           {"pause_pending", false}};
    }
    return job;
}

const json columns = {"seq",           "t_s",     "t_wall_utc",     "segment",
                      "temperature_k", "force_n", "displacement_m", "stress_mpa",
                      "strain"};

}  // namespace

TEST_SUITE("client") {
    TEST_CASE("server URLs are http://HOST:PORT and nothing else") {
        const auto local = cli::parse_server_url("http://127.0.0.1:8470");
        CHECK(local.host == "127.0.0.1");
        CHECK(local.port == 8470);
        CHECK(local.text() == "http://127.0.0.1:8470");
        CHECK(cli::parse_server_url("http://dma-lab.example:1/").host == "dma-lab.example");
        const auto v6 = cli::parse_server_url("http://[::1]:65535");
        CHECK(v6.host == "::1");
        CHECK(v6.port == 65535);
        CHECK(v6.text() == "http://[::1]:65535");

        for (const char* bad :
             {"127.0.0.1:8470", "https://127.0.0.1:8470", "http://127.0.0.1", "http://:8470",
              "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:80/api/v1",
              "http://user@127.0.0.1:80", "http://127.0.0.1:8a", "http://[::1]", "http://[::1",
              "http://127.0.0.1:80?x=1", "", "http://"}) {
            CAPTURE(bad);
            try {
                cli::parse_server_url(bad);
                FAIL("accepted");
            } catch (const std::invalid_argument& error) {
                CHECK(std::string(error.what()).find("is not http://HOST:PORT (") !=
                      std::string::npos);
            }
        }
    }

    TEST_CASE("the export CSV has the documented columns in order whatever the page's order") {
        std::ostringstream out;
        cli::SamplesCsv csv(out);
        // The page's columns reversed: the CSV must put them back in the documented order.
        json reversed = json::array();
        for (auto it = columns.rbegin(); it != columns.rend(); ++it) {
            reversed.push_back(*it);
        }
        const json page = {
            {"columns", reversed},
            {"rows",
             {{0.0001, 100.5, 1.25e-05, 0.01, 365.02, "cycle", "2026-11-28T22:00:00.1Z", 0.1, 5},
              {-0.5, 0, 0, 0, 364.9, "odd, \"segment\"", "2026-11-28T22:00:00.2Z", 0.2, 6}}}};
        CHECK(csv.append(page) == 2);
        CHECK(csv.append({{"columns", columns}, {"rows", json::array()}}) == 0);
        CHECK(out.str() ==
              "seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,stress_mpa,strain\n"
              "5,0.1,2026-11-28T22:00:00.1Z,cycle,365.02,0.01,1.25e-05,100.5,0.0001\n"
              "6,0.2,2026-11-28T22:00:00.2Z,\"odd, \"\"segment\"\"\",364.9,0,0,0,-0.5\n");

        json missing = columns;
        missing.erase(missing.begin() + 3);
        CHECK_THROWS_WITH_AS(csv.append({{"columns", missing}, {"rows", json::array()}}),
                             "unexpected samples page: no column 'segment'", cli::ClientError);
        CHECK_THROWS_AS(csv.append({{"columns", columns}, {"rows", {{1, 2, 3}}}}),
                        cli::ClientError);
    }

    TEST_CASE("argument errors exit 2 and name the problem without contacting a server") {
        const TempDir dir;
        const auto empty_token = dir.file("empty-token", "\n");
        const struct {
            Command command;
            std::vector<std::string> args;
            const char* message;
        } cases[] = {
            {cli::run_submit, {}, "dmacycle submit: which job file?"},
            {cli::run_submit, {"a.yaml", "b.yaml"}, "one job file at a time"},
            {cli::run_submit, {"job.yaml", "--timeout", "5"}, "--timeout goes with --wait"},
            {cli::run_submit, {"/nonexistent/job.yaml"}, "cannot open the job file"},
            {cli::run_status, {"abc"}, "'abc' is not a job id"},
            {cli::run_status, {}, "which job?"},
            {cli::run_wait, {"1", "--timeout", "-1"}, "--timeout must be"},
            {cli::run_list, {"--bogus"}, "unknown option --bogus"},
            {cli::run_pause, {"1", "2"}, "one job only"},
            {cli::run_export, {"7"}, "--out FILE.csv is required"},
            {cli::run_export, {"7", "--out", "x.csv", "--every", "0"}, "--every must be"},
            {cli::run_list, {"--server", "ftp://127.0.0.1:1"}, "only http:// is supported"},
            {cli::run_list, {"--token-file", "/nonexistent/token"}, "cannot read the token file"},
            {cli::run_list, {"--token-file", empty_token.string()}, "the token file is empty"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.message);
            const auto result = call(c.command, c.args);
            CHECK(result.exit_code == cli::exit_bad_input);
            CHECK(result.out.empty());
            CHECK(result.err.find(c.message) != std::string::npos);
        }
    }

    TEST_CASE("an unreachable server exits 3 naming it") {
        const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
        const auto result = call(cli::run_list, {"--server", url});
        CHECK(result.exit_code == cli::exit_server_error);
        CHECK(result.err.find("dmacycle list: cannot reach " + url + ": ") != std::string::npos);
        // The environment gives the server when no flag does.
        setenv("DMACYCLE_SERVER", url.c_str(), 1);
        std::ostringstream out, err;
        CHECK(cli::run_status(std::vector<std::string_view>{"1"}, out, err) ==
              cli::exit_server_error);
        CHECK(err.str().find("cannot reach " + url) != std::string::npos);
        unsetenv("DMACYCLE_SERVER");
    }

    TEST_CASE("submit sends the job file with the token and prints 422 details one per line") {
        const TempDir dir;
        const auto job = dir.file("job.yaml", "name: broken\nprofile: sim-la30\n");
        const auto token_file = dir.file("token", std::string(token) + "\n");
        HttpPeer peer(
            {{422, json{{"error", "job file invalid"},
                        {"details",
                         {"job.yaml:3:1: temperature: missing", "job.yaml:2:10: profile: unknown"}}}
                       .dump()}});
        const auto result = call(cli::run_submit, {job.string(), "--server", peer.url(),
                                                   "--token-file", token_file.string()});
        CHECK(result.exit_code == cli::exit_bad_input);
        CHECK(result.err ==
              "dmacycle submit: the job file was refused: job file invalid (HTTP 422)\n"
              "job.yaml:3:1: temperature: missing\n"
              "job.yaml:2:10: profile: unknown\n");
        const auto requests = peer.requests();
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].rfind("POST /api/v1/jobs HTTP/1.1\r\n", 0) == 0);
        CHECK(requests[0].find("Authorization: Bearer " + std::string(token) + "\r\n") !=
              std::string::npos);
        CHECK(requests[0].find("\r\n\r\nname: broken\nprofile: sim-la30\n") != std::string::npos);
    }

    TEST_CASE("401 and 403 exit 2 saying which token or scope is missing and never the token") {
        const TempDir dir;
        const auto token_file = dir.file("token", token);
        SUBCASE("no token") {
            HttpPeer peer({{401, R"({"error": "no token", "details": []})"}});
            const auto result = call(cli::run_list, {"--server", peer.url()});
            CHECK(result.exit_code == cli::exit_bad_input);
            CHECK(result.err.find("no token was given: use --token-file FILE or set "
                                  "DMACYCLE_TOKEN") != std::string::npos);
            REQUIRE(peer.requests().size() == 1);
            CHECK(peer.requests()[0].find("Authorization") == std::string::npos);
        }
        SUBCASE("unknown token") {
            HttpPeer peer({{401, R"({"error": "unknown token", "details": []})"}});
            const auto result =
                call(cli::run_list, {"--server", peer.url(), "--token-file", token_file.string()});
            CHECK(result.exit_code == cli::exit_bad_input);
            CHECK(result.err.find("the token from --token-file " + token_file.string() +
                                  " is not one it knows") != std::string::npos);
            CHECK(result.err.find(token) == std::string::npos);
        }
        SUBCASE("missing scope, token from the environment") {
            HttpPeer peer({{403, R"({"error": "forbidden", "details": []})"}});
            setenv("DMACYCLE_TOKEN", token, 1);
            std::ostringstream out, err;
            const std::string url = peer.url();
            const std::vector<std::string_view> args{"3", "--server", url};
            const int code = cli::run_pause(args, out, err);
            unsetenv("DMACYCLE_TOKEN");
            CHECK(code == cli::exit_bad_input);
            CHECK(err.str().find("the token from DMACYCLE_TOKEN lacks the 'control' scope (POST "
                                 "/api/v1/jobs/3/pause)") != std::string::npos);
            CHECK(err.str().find(token) == std::string::npos);
            CHECK(out.str().empty());
        }
    }

    TEST_CASE("a failing or foreign server exits 3") {
        HttpPeer peer({{503, R"({"error": "the store is failing", "details": ["disk full"]})"},
                       {200, "<html>not the API</html>"}});
        const auto failing = call(cli::run_list, {"--server", peer.url()});
        CHECK(failing.exit_code == cli::exit_server_error);
        CHECK(failing.err == "dmacycle list: the store is failing (HTTP 503)\ndisk full\n");
        const auto foreign = call(cli::run_list, {"--server", peer.url()});
        CHECK(foreign.exit_code == cli::exit_server_error);
        CHECK(foreign.err.find("not JSON (is it dmacycled?)") != std::string::npos);
    }

    TEST_CASE("status prints the job's summary and list prints every job") {
        HttpPeer peer(
            {{200, job_answer("running", true).dump()},
             {200,
              json{{"jobs", {job_answer("queued", false), job_answer("running", false)}}}.dump()}});
        const auto status = call(cli::run_status, {"3", "--server", peer.url()});
        CHECK(status.exit_code == cli::exit_ok);
        CHECK(status.out.find("job 3 mode1-0-200: running\n") == 0);
        CHECK(status.out.find("segment cycle, cycle 12/60, t 6200.1 s (plan 6000.0 of 58200 s), "
                              "T 365.00 K, σ 120.10 MPa, ε 0.003300, paused no") !=
              std::string::npos);
        const auto list = call(cli::run_list, {"--server", peer.url()});
        CHECK(list.exit_code == cli::exit_ok);
        CHECK(list.out.find("queued") != std::string::npos);
        CHECK(list.out.find("running") != std::string::npos);
        const auto requests = peer.requests();
        REQUIRE(requests.size() == 2);
        CHECK(requests[0].rfind("GET /api/v1/jobs/3 HTTP/1.1\r\n", 0) == 0);
        CHECK(requests[1].rfind("GET /api/v1/jobs HTTP/1.1\r\n", 0) == 0);
    }

    TEST_CASE("wait polls until the job ends and judges the fits") {
        SUBCASE("completed with an unusable fit: exit 1 naming it") {
            auto done = job_answer("completed", false);
            HttpPeer peer(
                {{200, job_answer("running", true).dump()},
                 {200, done.dump()},
                 {200, json{{"run_id", 7},
                            {"results",
                             {{"kww", {{"fit", {{"usable", false}}}}},
                              {"spectrum", {{"spectrum", {{"fit", {{"usable", true}}}}}}}}}}
                           .dump()}});
            const auto result = call(cli::run_wait, {"3", "--server", peer.url()});
            CHECK(result.exit_code == cli::exit_fit_failed);
            CHECK(result.out.find("job 3 mode1-0-200: completed\n") == 0);
            CHECK(result.err.find("run 7: fits not usable: kww (") != std::string::npos);
            CHECK(peer.requests().size() == 3);
        }
        SUBCASE("faulted: exit 3") {
            auto faulted = job_answer("faulted", false);
            faulted["message"] = "frame: link lost";
            HttpPeer peer({{200, faulted.dump()}});
            const auto result = call(cli::run_wait, {"3", "--server", peer.url(), "--json"});
            CHECK(result.exit_code == cli::exit_job_not_completed);
            CHECK(json::parse(result.out)["message"] == "frame: link lost");
            CHECK(result.err.find("job 3 ended faulted") != std::string::npos);
        }
        SUBCASE("--timeout passes first: exit 3") {
            HttpPeer peer({{200, job_answer("running", true).dump()}});
            const auto result =
                call(cli::run_wait, {"3", "--server", peer.url(), "--timeout", "0"});
            CHECK(result.exit_code == cli::exit_job_not_completed);
            CHECK(result.err.find("is still running, run 7 segment cycle after 0 s (--timeout)") !=
                  std::string::npos);
        }
    }

    TEST_CASE("export pages through the samples and writes the CSV and the results") {
        const TempDir dir;
        const json page1 = {
            {"run_id", 7},
            {"columns", columns},
            {"rows",
             {{0, 0.0, "2026-11-28T22:00:00.0Z", "equilibrate", 300.0, 0.0, 0.0, 0.0, 0.0},
              {1, 0.1, "2026-11-28T22:00:00.1Z", "equilibrate", 300.5, 0.0, 0.0, 0.0, 0.0}}},
            {"next_since", 1},
            {"more", true}};
        const json page2 = {
            {"run_id", 7},
            {"columns", columns},
            {"rows",
             {{2, 0.2, "2026-11-28T22:00:00.2Z", "hold", 301.0, 0.01, 1e-06, 0.25, 2.5e-06}}},
            {"next_since", 2},
            {"more", false}};
        const json results = {{"run_id", 7}, {"results", {{"kww", {{"beta", 0.5}}}}}};
        HttpPeer peer({{200, json{{"run_id", 7}, {"status", "completed"}, {"samples", 3}}.dump()},
                       {200, page1.dump()},
                       {200, page2.dump()},
                       {200, results.dump()}});
        const auto csv = dir.path() / "run7.csv";
        const auto results_file = dir.path() / "run7.json";
        const auto result =
            call(cli::run_export, {"7", "--server", peer.url(), "--out", csv.string(), "--results",
                                   results_file.string()});
        CHECK(result.exit_code == cli::exit_ok);
        CHECK(result.out.find("run 7 (completed): 3 samples written to " + csv.string()) == 0);
        CHECK(slurp(csv) ==
              "seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,stress_mpa,strain\n"
              "0,0.0,2026-11-28T22:00:00.0Z,equilibrate,300.0,0.0,0.0,0.0,0.0\n"
              "1,0.1,2026-11-28T22:00:00.1Z,equilibrate,300.5,0.0,0.0,0.0,0.0\n"
              "2,0.2,2026-11-28T22:00:00.2Z,hold,301.0,0.01,1e-06,0.25,2.5e-06\n");
        CHECK(!fs::exists(csv.string() + ".part"));
        CHECK(json::parse(slurp(results_file)) == results);
        const auto requests = peer.requests();
        REQUIRE(requests.size() == 4);
        CHECK(requests[0].rfind("GET /api/v1/runs/7 HTTP/1.1", 0) == 0);
        CHECK(requests[1].rfind("GET /api/v1/runs/7/samples?since=-1&limit=50000&every=1 ", 0) ==
              0);
        CHECK(requests[2].rfind("GET /api/v1/runs/7/samples?since=1&limit=50000&every=1 ", 0) == 0);
        CHECK(requests[3].rfind("GET /api/v1/runs/7/results HTTP/1.1", 0) == 0);
    }

    TEST_CASE("export of an unknown run exits 2 and writes no file") {
        const TempDir dir;
        HttpPeer peer({{404, R"({"error": "no run 99", "details": []})"}});
        const auto csv = dir.path() / "run99.csv";
        const auto result =
            call(cli::run_export, {"99", "--server", peer.url(), "--out", csv.string()});
        CHECK(result.exit_code == cli::exit_bad_input);
        CHECK(result.err == "dmacycle export: no run 99 (HTTP 404)\n");
        CHECK(!fs::exists(csv));
    }
}
