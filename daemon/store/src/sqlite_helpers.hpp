#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dmacycle/store/sample_store.hpp"

// The SQLite calls the sample store is written with (sample_store.cpp) and its schema
// (store_schema.cpp). Inline: they run once per stored row.
namespace dmacycle::store {

// A failed SQLite call with its primary result code, so the writer can tell a condition that
// passes (another connection's lock, a full disk, an I/O error) from one that will not.
class SqliteError : public StoreError {
  public:
    SqliteError(const std::string& what, int code) : StoreError(what), code_(code & 0xff) {}
    bool passes() const {
        return code_ == SQLITE_BUSY || code_ == SQLITE_LOCKED || code_ == SQLITE_FULL ||
               code_ == SQLITE_IOERR || code_ == SQLITE_NOMEM || code_ == SQLITE_PROTOCOL;
    }

  private:
    int code_;
};

inline void check(sqlite3* db, int code, const char* what) {
    if (code != SQLITE_OK && code != SQLITE_DONE && code != SQLITE_ROW) {
        throw SqliteError(
            std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(code)), code);
    }
}

inline void exec(sqlite3* db, const char* sql) {
    check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
}

// The first column of the first row of `sql` as text ("" when there is none).
inline std::string query_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(db, sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), sql);
    std::string text;
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
        text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return text;
}

// One prepared statement, reset after each use.
class Statement {
  public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr),
              sql);
    }
    ~Statement() { sqlite3_finalize(statement_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value) {
        check(db_, sqlite3_bind_int64(statement_, index, value), "bind");
        return *this;
    }
    Statement& bind(int index, double value) {
        check(db_, sqlite3_bind_double(statement_, index, value), "bind");
        return *this;
    }
    Statement& bind(int index, std::string_view text) {
        check(db_,
              sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                                SQLITE_TRANSIENT),
              "bind");
        return *this;
    }
    // Runs to completion; returns the first column of the first row when there is one.
    std::optional<std::int64_t> run() {
        const int code = sqlite3_step(statement_);
        std::optional<std::int64_t> value;
        if (code == SQLITE_ROW) {
            value = sqlite3_column_int64(statement_, 0);
            while (sqlite3_step(statement_) == SQLITE_ROW) {
            }
        }
        sqlite3_reset(statement_);
        check(db_, code, sqlite3_sql(statement_));
        return value;
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

// Creates the schema in a new file or upgrades an older one to store_schema_version, in one
// transaction; throws StoreError naming `path` when the file's schema is newer.
void create_or_upgrade_schema(sqlite3* db, const std::string& path);

// Versions 1 to 3 stored stress in MPa under these names; version 4 stores it in Pa, like every
// other quantity in SI. The upgrade renames and scales them; RunArchive reads an older file's
// as Pa without changing the file.
struct MpaColumn {
    std::string_view table, mpa_name, pa_name;
};
inline constexpr int stress_in_pa_since_version = 4;
// Version 5 also keeps the work_done result's stresses in Pa (store::work_done_stresses_in_pa).
inline constexpr int work_done_in_pa_since_version = 5;
inline constexpr MpaColumn columns_in_mpa[] = {{"samples", "stress_mpa", "stress_pa"},
                                               {"cycles", "stress_min_mpa", "stress_min_pa"},
                                               {"cycles", "stress_max_mpa", "stress_max_pa"}};

}  // namespace dmacycle::store
