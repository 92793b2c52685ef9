#pragma once
// What the dmacycled tests read back after a fault or a crash: the store opened read-only (as
// an operator would open it, store_reader.hpp), its UTC times, and a job polled through the API
// until it is as awaited.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/cli/api_client.hpp"
#include "store_reader.hpp"

namespace daemon_test {

using SystemClock = std::chrono::system_clock;

// "2026-11-28T22:00:00.125Z" (the store's t_wall_utc) as a time point.
inline SystemClock::time_point parse_utc(const std::string& text) {
    std::tm tm{};
    int millis = 0;
    REQUIRE(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) == 7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return SystemClock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

inline double seconds_between(SystemClock::time_point from, SystemClock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

// Polls job `id` (every 50 ms, at most `limit` of wall time) until `done` says so.
inline nlohmann::json poll_job(const dmacycle::cli::ApiClient& api, std::int64_t id,
                               const std::function<bool(const nlohmann::json&)>& done,
                               std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    nlohmann::json job;
    while (std::chrono::steady_clock::now() < deadline) {
        job = api.get("/api/v1/jobs/" + std::to_string(id));
        if (done(job)) {
            return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("job " << id << " not as awaited after " << limit.count() << " s: " << job.dump());
    return job;
}

}  // namespace daemon_test
