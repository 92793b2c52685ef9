// The client commands without dmacycled: URL parsing, the export CSV, argument errors, an
// unreachable server, and against a scripted HTTP peer on a real loopback socket only the
// answers the real daemon cannot be made to give.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/exports/run_export.hpp"
#include "http_peer.hpp"

namespace fs = std::filesystem;
namespace cli = dmacycle::cli;
using client_test::HttpPeer;
using nlohmann::json;

namespace {

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
                           {"stress_pa", 120.1e6},
                           {"strain", 0.0033},
                           {"paused", false},
                           {"pause_pending", false}};
    }
    return job;
}

const json columns = {"seq",           "t_s",     "t_wall_utc",     "segment",
                      "temperature_k", "force_n", "displacement_m", "stress_pa",
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
        const auto csv = dmacycle::exports::csv_sample_writer(out);
        const auto write = [&](const dmacycle::store::ArchivedSample& sample) {
            csv->write(sample);
        };
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
        CHECK(cli::for_each_page_sample(page, write) == 2);
        CHECK(cli::for_each_page_sample({{"columns", columns}, {"rows", json::array()}}, write) ==
              0);
        CHECK(out.str() ==
              "seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,stress_pa,strain\n"
              "5,0.1,2026-11-28T22:00:00.1Z,cycle,365.02,0.01,1.25e-05,100.5,1e-04\n"
              "6,0.2,2026-11-28T22:00:00.2Z,\"odd, \"\"segment\"\"\",364.9,0,0,0,-0.5\n");

        json missing = columns;
        missing.erase(missing.begin() + 3);
        CHECK_THROWS_WITH_AS(
            cli::for_each_page_sample({{"columns", missing}, {"rows", json::array()}}, write),
            "unexpected samples page: no column 'segment'", cli::ClientError);
        CHECK_THROWS_AS(
            cli::for_each_page_sample({{"columns", columns}, {"rows", {{1, 2, 3}}}}, write),
            cli::ClientError);
        json text_in_number = {{"columns", columns},
                               {"rows", {{0, 0.1, "t", "s", "hot", 0, 0, 0, 0}}}};
        CHECK_THROWS_WITH_AS(cli::for_each_page_sample(text_in_number, write),
                             "unexpected samples page: column 'temperature_k' holds \"hot\"",
                             cli::ClientError);
    }

    TEST_CASE("the DMTA CSV has the documented columns in order whatever the page's order") {
        std::ostringstream out;
        dmacycle::exports::write_dmta_csv_header(out);
        const auto write = [&](const dmacycle::store::ArchivedDmta& row) {
            dmacycle::exports::write_dmta_csv_row(out, row);
        };
        const json page = {
            {"columns",
             {"tan_delta", "loss_pa", "storage_pa", "temperature_k", "frequency_hz", "t_wall_utc",
              "t_s", "seq"}},
            {"rows",
             {{0.0051, 1.836e8, 3.6e10, 300.15, 1, "2026-11-28T22:00:00.1Z", 1260.5, 0},
              {0.1, 3.3e9, 3.3e10, 371.5, 8, "2026-11-28T22:00:05.1Z", 1265.5, 1}}}};
        CHECK(cli::for_each_page_dmta(page, write) == 2);
        CHECK(out.str() ==
              "seq,t_s,t_wall_utc,frequency_hz,temperature_k,storage_pa,loss_pa,tan_delta\n"
              "0,1260.5,2026-11-28T22:00:00.1Z,1,300.15,3.6e+10,183600000,0.0051\n"
              "1,1265.5,2026-11-28T22:00:05.1Z,8,371.5,3.3e+10,3.3e+09,0.1\n");
        json text_in_number = page;
        text_in_number["rows"][0][3] = "hot";
        CHECK_THROWS_WITH_AS(cli::for_each_page_dmta(text_in_number, write),
                             "unexpected dmta page: column 'temperature_k' holds \"hot\"",
                             cli::ClientError);
        json missing = page;
        missing["columns"][0] = "tan";
        CHECK_THROWS_WITH_AS(cli::for_each_page_dmta(missing, write),
                             "unexpected dmta page: no column 'tan_delta'", cli::ClientError);
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
            // A token on the command line would show in ps: only a file or the environment.
            {cli::run_list,
             {"--token", "0123456789abcdef0123456789abcdef"},
             "unknown option --token"},
            {cli::run_pause, {"1", "2"}, "one job only"},
            {cli::run_export, {"7"}, "--out FILE is required"},
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

    // What dmacycled cannot be made to answer on demand: a 503 from a failing store, a server
    // that is not dmacycled, a completed run whose fits are unusable, a faulted job. Every
    // other answer is tested against the real daemon (test_client_daemon.cpp).
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
    }
}
