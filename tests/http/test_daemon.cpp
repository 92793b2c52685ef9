// dmacycled as a process: its command line, and the HTTP API through real sockets against the
// real JobService, store and simulator.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "command_output.hpp"
#include "daemon_process.hpp"
#include "http_client.hpp"

using namespace daemon_test;
using namespace http_test;
using Json = nlohmann::json;

namespace {

// dmacycled with `args`, stdout captured, stderr to the test log.
test_support::CommandOutput run_dmacycled(const std::string& args) {
    return test_support::run_command(std::string(DMACYCLE_BIN_DIR) + "/dmacycled " + args);
}

// The main job, shortened so that it runs in about a second at --speed max.
std::string short_job() {
    return shipped_job("mode1-0-200.yaml", {{"duration: 8 h", "duration: 16 min"},
                                            {"recovery: 8 h", "recovery: 30 min"},
                                            {"hold: 10 min", "hold: 1 min"}});
}

// Polls the job until it leaves queued/running (at most 180 s of wall time).
Json wait_finished(unsigned short port, std::int64_t job_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    Json job;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto reply = get(port, "/api/v1/jobs/" + std::to_string(job_id), reader_token);
        REQUIRE(reply.status == 200);
        job = reply.json();
        const auto status = job.at("status").get<std::string>();
        if (status != "queued" && status != "running") {
            return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("job " << job_id << " still " << job.dump() << " after 180 s");
    return job;
}

}  // namespace

TEST_CASE("dmacycled: bad arguments exit 2 with the usage, --help exits 0") {
    for (const std::string args :
         {"", "--bogus", "--config", "--config c.yaml extra", "--config c.yaml --listen nowhere"}) {
        CAPTURE(args);
        const auto result = run_dmacycled(args + " 2>/dev/null");
        CHECK(result.code == 2);
        CHECK(result.out.empty());
    }
    const auto help = run_dmacycled("--help");
    CHECK(help.code == 0);
    CHECK(help.out.starts_with("usage: dmacycled --config FILE"));
}

TEST_CASE("dmacycled: a missing config file and a readable tokens file are refused, exit 2") {
    CHECK(run_dmacycled("--config /nonexistent/dmacycled.yaml 2>/dev/null").code == 2);
    DaemonProcess daemon;  // its folder holds a valid config and tokens file
    const auto tokens = daemon.dir() / "tokens.yaml";
    fs::permissions(tokens, fs::perms(0644));
    const auto result =
        run_dmacycled("--config " + daemon.config_file().string() + " --listen 127.0.0.1:0 --db " +
                      (daemon.dir() / "other.db").string() + " 2>&1");
    CHECK(result.code == 2);
    CHECK(result.out.find("tokens file is accessible by group or others") != std::string::npos);
    CHECK(result.out.find(admin_token) == std::string::npos);
}

TEST_CASE(
    "dmacycled: --check reads the config and exits, a sample rate the frame cannot stream "
    "is refused at start") {
    DaemonProcess daemon;  // a valid config; its store exists from the start
    const auto config = daemon.config_file().string();
    const auto check = run_dmacycled("--config " + config + " --check --db " +
                                     (daemon.dir() / "unused.db").string());
    CHECK(check.code == 0);
    CHECK(check.out.find(": ok (10 Hz") != std::string::npos);
    CHECK(!fs::exists(daemon.dir() / "unused.db"));  // --check opens nothing

    std::ofstream(config, std::ios::app) << "sample_rate: 2000\n";
    for (const std::string flag : {" --check", ""}) {
        const auto result =
            run_dmacycled("--config " + config + flag + " --listen 127.0.0.1:0 --db " +
                          (daemon.dir() / "other.db").string() + " 2>&1");
        CHECK(result.code == 2);
        CHECK(result.out.find("sample_rate: 2000 Hz is above the 1000 Hz the frame can stream") !=
              std::string::npos);
        CHECK(!fs::exists(daemon.dir() / "other.db"));
    }
}

TEST_CASE("dmacycled: 401 and 403 refused and audited without the token and healthz needs none") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    CHECK(get(port, "/healthz").status == 200);

    const auto missing = get(port, "/api/v1/jobs");
    CHECK(missing.status == 401);
    CHECK(missing.json().at("error").is_string());
    CHECK(missing.json().at("details").is_array());
    CHECK(get(port, "/api/v1/jobs", "not-a-token-0123456789abcdef0123456789").status == 401);
    CHECK(get(port, "/metrics").status == 401);

    const auto read_only = post(port, "/api/v1/jobs", reader_token, short_job());
    CHECK(read_only.status == 403);
    CHECK(post(port, "/api/v1/jobs/1/abort", submitter_token).status == 403);
    CHECK(get(port, "/api/v1/jobs", submitter_token).status == 403);
    CHECK(get(port, "/api/v1/jobs", reader_token).json().at("jobs").empty());  // nothing queued

    const auto log = daemon.log();
    CHECK(log.find("audit: token=- method=GET path=/api/v1/jobs peer=127.0.0.1:") !=
          std::string::npos);
    CHECK(log.find("audit: token=reader method=POST path=/api/v1/jobs") != std::string::npos);
    CHECK(log.find("status=403") != std::string::npos);
    for (const auto& secret : {admin_token, reader_token, submitter_token}) {
        CHECK(log.find(secret) == std::string::npos);
    }
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: malformed, oversized and unroutable requests get 4xx, then it serves on") {
    DaemonProcess daemon;
    const auto port = daemon.port();

    const auto bad_yaml = post(port, "/api/v1/jobs", submitter_token, "name: [unclosed\n");
    CHECK(bad_yaml.status == 422);
    CHECK_FALSE(bad_yaml.json().at("details").empty());
    const auto bad_job = post(port, "/api/v1/jobs", submitter_token, "name: x\nprofile: 3\n");
    CHECK(bad_job.status == 422);

    const auto bad_since = get(port, "/api/v1/runs/1/samples?since=abc", reader_token);
    CHECK(bad_since.status == 400);
    CHECK(bad_since.json().at("error").get<std::string>().find("'since'") != std::string::npos);
    CHECK(get(port, "/api/v1/runs/1/samples?limit=0", reader_token).status == 400);
    CHECK(get(port, "/api/v1/runs/1/samples?every=2&every=3", reader_token).status == 400);
    CHECK(get(port, "/api/v1/runs/1/samples?color=red", reader_token).status == 400);
    CHECK(get(port, "/api/v1/runs/1/dmta?color=red", reader_token).status == 400);
    CHECK(get(port, "/api/v1/runs/999/dmta", reader_token).status == 404);
    CHECK(get(port, "/api/v1/jobs/abc", reader_token).status == 400);
    CHECK(get(port, "/api/v1/jobs/-1", reader_token).status == 400);
    CHECK(get(port, "/api/v1/jobs/999", reader_token).status == 404);
    CHECK(get(port, "/api/v1/nothing", reader_token).status == 404);
    CHECK(get(port, "/nothing", reader_token).status == 404);  // "/" is the dashboard's page
    const auto wrong_method = request(port, http::verb::delete_, "/api/v1/jobs", admin_token);
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.allow == "GET, POST");
    CHECK(request(port, http::verb::post, "/api/v1/jobs", submitter_token, "{\"a\": 1}",
                  "application/json")
              .status == 415);

    // A body over max_request_bytes (1 MiB) is refused from its Content-Length alone.
    const std::string big(2 << 20, 'x');
    CHECK(post(port, "/api/v1/jobs", submitter_token, big).status == 413);
    // Over max_job_bytes (256 KiB) but within the request limit: JobService refuses it.
    const std::string long_job = short_job() + "\n#" + std::string(300 << 10, 'x') + "\n";
    CHECK(post(port, "/api/v1/jobs", submitter_token, long_job).status == 413);
    // A chunked body has no Content-Length.
    CHECK(exchange_raw(port, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                 submitter_token +
                                 "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
              .status == 411);
    // Headers over the limit, and bytes that are not HTTP.
    CHECK(exchange_raw(port,
                       "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(64 << 10, 'y') + "\r\n\r\n")
              .status == 413);
    CHECK(exchange_raw(port, "NOT HTTP AT ALL\r\n\r\n").status == 400);

    CHECK(get(port, "/healthz").status == 200);
    CHECK(get(port, "/api/v1/jobs", reader_token).json().at("jobs").empty());
    const auto metrics = get(port, "/metrics", reader_token);
    CHECK(metrics.status == 200);
    CHECK(metrics.body.find("dmacycle_http_requests_total{code=\"413\"}") != std::string::npos);
    CHECK(metrics.body.find("dmacycle_http_request_duration_seconds_count") != std::string::npos);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: submit, list, show, samples and results through HTTP") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    const auto submitted = post(port, "/api/v1/jobs", submitter_token, short_job());
    REQUIRE(submitted.status == 201);
    const auto job_id = submitted.json().at("job_id").get<std::int64_t>();
    CHECK(submitted.json().at("name") == "mode1-0-200");

    const auto list = get(port, "/api/v1/jobs", reader_token).json().at("jobs");
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("job_id") == job_id);
    CHECK(list[0].at("source") == "api:submitter");

    const auto job = wait_finished(port, job_id);
    CHECK(job.at("status") == "completed");
    REQUIRE(job.at("run_ids").size() == 1);
    const auto run_id = job.at("run_ids")[0].get<std::int64_t>();
    const auto run = get(port, "/api/v1/runs/" + std::to_string(run_id), reader_token);
    REQUIRE(run.status == 200);
    const auto stored = run.json().at("samples").get<std::int64_t>();
    CHECK(stored > 0);

    // Paging through every sample with since=next_since gives each seq once, in order.
    std::int64_t since = -1, rows = 0,
                 expected_seq = run.json().at("first_seq").get<std::int64_t>();
    for (bool more = true; more;) {
        const auto page = get(port,
                              "/api/v1/runs/" + std::to_string(run_id) +
                                  "/samples?since=" + std::to_string(since) + "&limit=5000",
                              reader_token);
        REQUIRE(page.status == 200);
        const auto body = page.json();
        for (const auto& row : body.at("rows")) {
            CHECK(row[0].get<std::int64_t>() == expected_seq);
            ++expected_seq;
            ++rows;
        }
        more = body.at("more").get<bool>();
        since = body.at("next_since").get<std::int64_t>();
    }
    CHECK(rows == stored);
    const auto decimated =
        get(port, "/api/v1/runs/" + std::to_string(run_id) + "/samples?every=10&limit=100000",
            reader_token)
            .json();
    for (const auto& row : decimated.at("rows")) {
        CHECK(row[0].get<std::int64_t>() % 10 == 0);
    }

    const auto results =
        get(port, "/api/v1/runs/" + std::to_string(run_id) + "/results", reader_token);
    REQUIRE(results.status == 200);
    CHECK(results.json().at("results").contains("spectrum"));
    // A cycling run has no scan: its DMTA page is empty (tests/service has one with a scan).
    const auto dmta = get(port, "/api/v1/runs/" + std::to_string(run_id) + "/dmta", reader_token);
    REQUIRE(dmta.status == 200);
    CHECK(dmta.json().at("columns").size() == 8);
    CHECK(dmta.json().at("rows").empty());

    // The accepted submission is audited with the token's name.
    CHECK(daemon.log().find("audit: token=submitter method=POST path=/api/v1/jobs peer=") !=
          std::string::npos);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: keep-alive serves several requests on one connection") {
    DaemonProcess daemon;
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
    beast::flat_buffer buffer;
    for (int i = 0; i < 3; ++i) {
        http::request<http::empty_body> req{http::verb::get, "/api/v1/jobs", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + reader_token);
        http::write(stream, req);
        http::response<http::string_body> response;
        http::read(stream, buffer, response);
        CHECK(response.result_int() == 200);
        CHECK(response.keep_alive());
    }
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: 50 clients polling at once all get their answers") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    REQUIRE(post(port, "/api/v1/jobs", submitter_token, short_job()).status == 201);
    constexpr int clients = 50, polls = 20;
    std::vector<std::thread> threads;
    std::vector<int> ok(clients, 0);
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            for (int i = 0; i < polls; ++i) {
                const auto target = i % 2 ? std::string("/api/v1/jobs/1")
                                          : std::string("/api/v1/runs/1/samples?limit=1000");
                const auto status = get(port, target, reader_token).status;
                // The run may not exist yet while the job is queued.
                ok[c] += status == 200 || (status == 404 && i % 2 == 0);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (int c = 0; c < clients; ++c) {
        CHECK(ok[c] == polls);
    }
    CHECK(get(port, "/healthz").status == 200);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: bytes that are not UTF-8 in a path, a job or a spool name are answered") {
    DaemonProcess daemon;
    const auto port = daemon.port();

    // The 404 quotes the path: the byte 0xFF is replaced, the body is valid JSON.
    const auto unknown = exchange_raw(port, "GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(unknown.status == 404);
    CHECK(unknown.json().at("error") == "no such route: /\xef\xbf\xbd");
    CHECK(exchange_raw(port,
                       "GET /api/v1/jobs/\xff\xfe HTTP/1.1\r\nHost: x\r\nAuthorization: "
                       "Bearer " +
                           reader_token + "\r\n\r\n")
              .status == 400);
    // A 422 whose details quote a YAML value.
    const auto bad_job = post(port, "/api/v1/jobs", submitter_token, "name: \xff\nprofile: \xfe\n");
    CHECK(bad_job.status == 422);
    CHECK(bad_job.json().at("details").is_array());

    // A spool file named with a byte that is not UTF-8 becomes a job whose source says so.
    std::ofstream(daemon.spool() / "bad-\xff.yaml", std::ios::binary) << short_job();
    Json jobs;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto reply = get(port, "/api/v1/jobs", reader_token);
        REQUIRE(reply.status == 200);
        jobs = reply.json().at("jobs");
        if (!jobs.empty()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].at("source") == "spool:bad-\xef\xbf\xbd.yaml");

    CHECK(get(port, "/healthz").status == 200);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: a spool file name cannot forge a log line") {
    DaemonProcess daemon;
    std::ofstream(daemon.spool() / "x\n<3>forged.yaml", std::ios::binary) << "name: [unclosed\n";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (daemon.log().find("forged") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto log = daemon.log();
    CHECK(log.find("spool: x\\n<3>forged.yaml rejected") != std::string::npos);
    CHECK(log.find("\n<3>forged") == std::string::npos);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: a request is refused from its headers without its body being read") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    // Each announces a body within max_request_bytes and never sends it: the answer can only
    // come from the headers (otherwise the daemon waits for the body until its read timeout).
    const auto headers_only = [&](const std::string& target, const std::string& extra) {
        return exchange_raw(port, "POST " + target +
                                      " HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n"
                                      "Content-Length: 1000000\r\n" +
                                      extra + "\r\n");
    };
    CHECK(headers_only("/api/v1/jobs", "").status == 401);
    // No 100 Continue for a request that will be refused.
    CHECK(headers_only("/api/v1/jobs", "Expect: 100-continue\r\n").status == 401);
    CHECK(headers_only("/api/v1/jobs", "Authorization: Bearer " + reader_token + "\r\n").status ==
          403);
    CHECK(headers_only("/nowhere", "").status == 404);
    CHECK(headers_only("/healthz", "").status == 405);

    // Not refused: the body is read and the request handled.
    CHECK(post(port, "/api/v1/jobs", submitter_token, "name: [unclosed\n").status == 422);
    CHECK(get(port, "/healthz").status == 200);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: a connection over the limit of 256 gets 503 and it serves on after") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    {
        asio::io_context io;
        std::vector<asio::ip::tcp::socket> idle;
        for (int i = 0; i < 256; ++i) {
            idle.emplace_back(io).connect(
                asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        }
        // Accepted in order: the daemon holds the 256 idle ones when this one arrives.
        const auto busy = get(port, "/healthz");
        CHECK(busy.status == 503);
        CHECK(busy.json().at("error").is_string());
    }
    // The closed connections are noticed one by one; then there is room again.
    unsigned status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if ((status = get(port, "/healthz").status) == 200) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(status == 200);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dmacycled: a job dropped in the spool folder runs, a bad one is rejected with why") {
    DaemonProcess daemon;
    const auto port = daemon.port();
    // Written beside, then renamed in: the spool takes whole files only.
    std::ofstream(daemon.dir() / "good.tmp", std::ios::binary) << short_job();
    std::filesystem::rename(daemon.dir() / "good.tmp", daemon.spool() / "good.yaml");
    std::ofstream(daemon.spool() / "bad.yaml", std::ios::binary) << "name: [unclosed\n";

    std::optional<std::int64_t> job_id;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!job_id && std::chrono::steady_clock::now() < deadline) {
        const auto reply = get(port, "/api/v1/jobs", reader_token);
        REQUIRE(reply.status == 200);
        const auto list = reply.json();
        for (const auto& job : list.at("jobs")) {
            if (job.at("source") == "spool:good.yaml") {
                job_id = job.at("job_id").get<std::int64_t>();
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(job_id.has_value());
    const auto job = wait_finished(port, *job_id);
    CHECK(job.at("status") == "completed");
    const auto run_id = job.at("run_ids").at(0).get<std::int64_t>();
    const auto results =
        get(port, "/api/v1/runs/" + std::to_string(run_id) + "/results", reader_token);
    CHECK(results.json().at("results").contains("spectrum"));
    CHECK(std::filesystem::exists(daemon.spool() / "accepted" /
                                  (std::to_string(*job_id) + "-good.yaml")));
    CHECK(std::filesystem::exists(daemon.spool() / "rejected" / "bad.yaml"));
    std::ifstream error(daemon.spool() / "rejected" / "bad.yaml.error");
    std::string first_line;
    std::getline(error, first_line);
    CHECK(first_line.rfind("bad.yaml:", 0) == 0);
    CHECK(!std::filesystem::exists(daemon.spool() / "good.yaml"));
    CHECK(daemon.stop() == 0);
}
