#pragma once
// The service's back end under test: JobService with its config folder in a temporary directory
// (the simulator in-process at max speed unless told), short jobs, and waits without timing
// assertions.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../runner/runner_rig.hpp"
#include "dmacycle/service/job_service.hpp"

namespace service_test {

namespace fs = std::filesystem;
using dmacycle::service::ApiError;
using dmacycle::service::JobService;
using dmacycle::service::ServiceConfig;
using Json = nlohmann::json;
using runner_test::TempDir;

inline void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// The shipped job cut short: no hold, 1 h of cycling, 1 h of recovery.
inline std::string short_job(const std::string& name = "short-1") {
    return runner_test::shipped_job("mode1-0-200.yaml", {{"name: mode1-0-200", "name: " + name},
                                                         {"hold: 10 min", "hold: 0 s"},
                                                         {"duration: 8 h", "duration: 1 h"},
                                                         {"recovery: 8 h", "recovery: 1 h"}});
}

// A config folder as installed: dmacycled.yaml, instruments/, a spool folder.
struct ServiceDir {
    TempDir dir;
    fs::path config_path = dir.path / "dmacycled.yaml";
    fs::path db = dir.path / "store.db";
    fs::path spool = dir.path / "spool";

    explicit ServiceDir(const std::string& extra = "", const std::string& speed = "max") {
        fs::create_directories(dir.path / "instruments");
        fs::copy_file(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml",
                      dir.path / "instruments" / "sim-la30.yaml");
        write_file(config_path,
                   "listen: 127.0.0.1:0\n"
                   "database: store.db\n"
                   "spool: spool\n"
                   "tokens: tokens.yaml\n"
                   "instrument:\n"
                   "  simulate: {profile: instruments/sim-la30.yaml, speed: " +
                       speed +
                       "}\n"
                       "sample_rate: 2\n" +
                       extra);
    }
    ServiceConfig config() const { return dmacycle::service::load_service_config(config_path); }
};

inline bool finished(const std::string& status) {
    return status != "queued" && status != "running" && status != "paused";
}

// Polls until the job has ended (no timing assertion: the deadline only stops a hung test).
inline Json wait_job(const JobService& service, std::int64_t job_id) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (true) {
        auto job = service.job(job_id);
        if (finished(job["status"]) || std::chrono::steady_clock::now() > give_up) {
            return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// The status and details of what `call` throws (0 when it does not throw ApiError).
template <class F>
std::pair<int, std::vector<std::string>> api_error(F&& call) {
    try {
        call();
    } catch (const ApiError& error) {
        return {error.status(), error.details()};
    }
    return {0, {}};
}

}  // namespace service_test
