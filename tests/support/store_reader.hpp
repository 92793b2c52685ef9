#pragma once
// A store file opened read-only, as an operator would open it with sqlite3: what the tests read
// back to check what was stored, independent of the store's own code.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace daemon_test {

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

}  // namespace daemon_test
