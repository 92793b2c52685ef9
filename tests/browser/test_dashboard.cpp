// The live dashboard (docs/dashboard.md): its files as dmacycled serves them (headers, no token,
// nothing from another origin), and Debian's Chromium, headless and driven by
// tests/browser/dashboard.mjs through playwright-core, following a running simulated job with a
// read-only token. The browser, Node.js and playwright-core come from scripts/setup.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "command_output.hpp"
#include "daemon_process.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "http_client.hpp"
#include "run_store.hpp"
#include "time_scale.hpp"

using namespace daemon_test;
using dmacycle::cli::ApiClient;
using dmacycle::cli::is_final_job_status;
using dmacycle::cli::parse_server_url;
using Json = nlohmann::json;

namespace {

const fs::path chromium = "/usr/bin/chromium";
const fs::path browser_tests = fs::path(DMACYCLE_SOURCE_DIR) / "tests" / "browser";

std::string header(const http_test::Reply& reply, const char* name) {
    return std::string(reply.headers[name]);
}

// The paper's main job, shortened: 1 min hold, one 8-min cycle, 1 h of recovery; about 90 s
// of wall time at the simulator's speed 48, so it is still running while the browser looks
// (a few seconds, more in a sanitizer build), and stopped with the daemon when the test ends.
std::string short_job() {
    return shipped_job("mode1-0-200.yaml", {{"name: mode1-0-200", "name: dashboard-demo"},
                                            {"hold: 10 min", "hold: 1 min"},
                                            {"duration: 8 h", "duration: 8 min"},
                                            {"recovery: 8 h", "recovery: 1 h"}});
}

}  // namespace

TEST_CASE("dashboard: the page and its files are served without a token under a strict CSP") {
    DaemonProcess daemon;
    const struct {
        const char* path;
        const char* type;
    } files[] = {{"/", "text/html; charset=utf-8"},
                 {"/index.html", "text/html; charset=utf-8"},
                 {"/dashboard.js", "text/javascript; charset=utf-8"},
                 {"/dashboard.css", "text/css; charset=utf-8"},
                 {"/favicon.svg", "image/svg+xml"}};
    for (const auto& file : files) {
        const std::string path = file.path;
        const auto reply = http_test::get(daemon.port(), path);
        CAPTURE(path);
        REQUIRE(reply.status == 200);
        CHECK(reply.content_type == file.type);
        CHECK(!reply.body.empty());
        const auto csp = header(reply, "Content-Security-Policy");
        CHECK(csp.find("default-src 'self'") != std::string::npos);
        CHECK(csp.find("connect-src 'self'") != std::string::npos);
        CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
        CHECK(csp.find("unsafe") == std::string::npos);
        CHECK(header(reply, "X-Content-Type-Options") == "nosniff");
        CHECK(header(reply, "Cache-Control") == "no-cache");
        CHECK(header(reply, "Referrer-Policy") == "no-referrer");
    }

    // The page loads only its own files: no inline script or style, no other origin.
    const auto page = http_test::get(daemon.port(), "/").body;
    CHECK(page.find("<script src=\"/dashboard.js\"") != std::string::npos);
    CHECK(!std::regex_search(page, std::regex("<script>|<script [^>]*>[^<]")));
    CHECK(page.find("style=") == std::string::npos);
    for (const char* path : {"/", "/dashboard.js", "/dashboard.css"}) {
        const std::string name = path;
        CHECK_MESSAGE(http_test::get(daemon.port(), path).body.find("://") == std::string::npos,
                      name << " names another origin");
    }

    // The routes around them keep the API's rules.
    CHECK(http_test::get(daemon.port(), "/?token=x").status == 400);
    const auto post = http_test::post(daemon.port(), "/", "");
    CHECK(post.status == 405);
    CHECK(post.allow == "GET");
    CHECK(http_test::get(daemon.port(), "/dashboard.js/").status == 404);
    CHECK(http_test::get(daemon.port(), "/web/dashboard.js").status == 404);
    CHECK(http_test::get(daemon.port(), "/api/v1/jobs").status == 401);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("dashboard: headless Chromium follows a running job with a read-only token") {
    const fs::path node = DMACYCLE_NODE;
    const auto playwright = browser_tests / "node_modules" / "playwright-core" / "package.json";
    REQUIRE_MESSAGE(fs::exists(chromium), chromium << " is missing: run scripts/setup");
    REQUIRE_MESSAGE(fs::exists(node), "node (Node.js) is missing: run scripts/setup");
    REQUIRE_MESSAGE(fs::exists(playwright),
                    playwright << " is missing: run scripts/setup (npm ci in tests/browser)");

    // First a job run at the simulator's full speed (done in about a second), so that the page
    // has results to show; then the daemon again on the same store with the simulator paced.
    DaemonOptions options;
    options.speed = "max";
    // 96 samples a wall second at speed 48: light for the sanitizer builds, and still a chart
    // that grows.
    options.extra_config = "sample_rate: 2\n";
    DaemonProcess daemon(options);
    const auto wait_limit = std::chrono::duration_cast<std::chrono::seconds>(
        test_support::scaled(std::chrono::seconds(60)));
    const auto submit = [&] {
        const ApiClient admin(parse_server_url(daemon.url()), admin_token);
        return admin.post("/api/v1/jobs", short_job()).at("job_id").get<std::int64_t>();
    };
    const auto api = [&] { return ApiClient(parse_server_url(daemon.url()), admin_token); };
    const auto done_id = submit();
    const auto done = poll_job(
        api(), done_id,
        [](const Json& job) { return is_final_job_status(job.at("status").get<std::string>()); },
        wait_limit);
    REQUIRE(done.at("status") == "completed");
    const auto done_run = done.at("run_ids").at(0).get<std::int64_t>();
    const auto results =
        api().get("/api/v1/runs/" + std::to_string(done_run) + "/results").at("results");
    REQUIRE(results.contains("work_done"));
    REQUIRE(results.contains("kww"));
    REQUIRE(daemon.stop() == 0);
    std::string config = slurp(daemon.config_file());
    const auto speed_at = config.find("speed: max");
    REQUIRE(speed_at != std::string::npos);
    config.replace(speed_at, 10, "speed: 48");
    std::ofstream(daemon.config_file()) << config;
    daemon.restart();

    const auto job_id = submit();
    // Cycling, so that the screenshot shows the load.
    poll_job(
        api(), job_id,
        [](const Json& job) {
            return job.at("status") != "queued" &&
                   (job.at("status") != "running" || (job.at("progress").is_object() &&
                                                      job.at("progress").at("segment") == "cycle"));
        },
        wait_limit);
    REQUIRE(api().get("/api/v1/jobs/" + std::to_string(job_id)).at("status") == "running");

    const auto artifacts = fs::path(DMACYCLE_ARTIFACT_DIR);
    fs::create_directories(artifacts);
    const auto screenshot = artifacts / "dashboard.png";
    fs::remove(screenshot);
    const auto timeout_s = std::chrono::duration_cast<std::chrono::seconds>(
                               test_support::scaled(std::chrono::seconds(60)))
                               .count();
    // Only the reader token: the page needs no scope but read.
    const auto result = test_support::run_command(
        "cd " + browser_tests.string() + " && " + node.string() + " dashboard.mjs --url " +
        daemon.url() + " --token " + reader_token + " --screenshot " + screenshot.string() +
        " --chromium " + chromium.string() + " --timeout-s " + std::to_string(timeout_s) +
        " --results-run " + std::to_string(done_run) + " --work-done-kj-mol " +
        results.at("work_done").at("work_done_kj_mol").dump() + " --kww-beta " +
        results.at("kww").at("beta").dump() + " --spectrum-modes " +
        std::to_string(results.at("spectrum").at("spectrum").at("tau_s").size()) + " 2>&1");
    MESSAGE(result.out);
    CHECK(result.code == 0);
    CHECK(fs::exists(screenshot));
    MESSAGE("screenshot: " << screenshot.string());

    // The reader's requests changed nothing: the job ran on.
    const auto job = api().get("/api/v1/jobs/" + std::to_string(job_id));
    CHECK((job.at("status") == "running" || job.at("status") == "completed"));
    CHECK(daemon.stop() == 0);
}
