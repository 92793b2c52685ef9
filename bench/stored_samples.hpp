#pragma once
// For the benchmarks: what a store file holds of one run, read after the daemon stopped.
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>

struct StoredSamples {
    std::int64_t count = 0, first_seq = 0, last_seq = 0;
};

inline StoredSamples stored_samples(const std::filesystem::path& database, std::int64_t run_id) {
    StoredSamples stored;
    sqlite3* db = nullptr;
    sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* query = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*), min(seq), max(seq) FROM sample_rows WHERE run_id = ?",
                       -1, &query, nullptr);
    sqlite3_bind_int64(query, 1, run_id);
    if (sqlite3_step(query) == SQLITE_ROW) {
        stored = {sqlite3_column_int64(query, 0), sqlite3_column_int64(query, 1),
                  sqlite3_column_int64(query, 2)};
    }
    sqlite3_finalize(query);
    sqlite3_close(db);
    return stored;
}
