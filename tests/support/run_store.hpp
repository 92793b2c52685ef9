#pragma once
// What the dmacycled tests read back after a fault or a crash: the store opened read-only (as
// an operator would open it), its UTC times, and a job polled through the API until it is as
// awaited.
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

namespace daemon_test {

using SystemClock = std::chrono::system_clock;

// A read-only view of the store.
class Store {
  public:
    explicit Store(const std::filesystem::path& path) {
        REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_busy_timeout(db_, 5000);
    }
    ~Store() { sqlite3_close(db_); }
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // The first column of each row of `sql` as text (NULL as "").
    std::vector<std::string> column(const std::string& sql, std::int64_t bound = 0) {
        sqlite3_stmt* statement = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db_));
        for (int i = 1; i <= sqlite3_bind_parameter_count(statement); ++i) {
            sqlite3_bind_int64(statement, i, bound);
        }
        std::vector<std::string> values;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(statement, 0);
            values.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        sqlite3_finalize(statement);
        return values;
    }
    // Every column of each row as a double, exactly as stored (REAL; integers converted).
    std::vector<std::vector<double>> real_rows(const std::string& sql, std::int64_t bound = 0) {
        sqlite3_stmt* statement = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db_));
        for (int i = 1; i <= sqlite3_bind_parameter_count(statement); ++i) {
            sqlite3_bind_int64(statement, i, bound);
        }
        std::vector<std::vector<double>> rows;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            std::vector<double> row;
            for (int i = 0; i < sqlite3_column_count(statement); ++i) {
                row.push_back(sqlite3_column_double(statement, i));
            }
            rows.push_back(std::move(row));
        }
        sqlite3_finalize(statement);
        return rows;
    }
    // The first column of each row as a double.
    std::vector<double> reals(const std::string& sql, std::int64_t bound = 0) {
        std::vector<double> values;
        for (const auto& row : real_rows(sql, bound)) {
            values.push_back(row.at(0));
        }
        return values;
    }
    std::int64_t integer(const std::string& sql, std::int64_t bound = 0) {
        const auto values = column(sql, bound);
        REQUIRE(values.size() == 1);
        return std::stoll(values[0]);
    }

  private:
    sqlite3* db_ = nullptr;
};

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
