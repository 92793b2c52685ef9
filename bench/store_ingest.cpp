// Store ingest against the fastest plain SQLite insert of the same rows into the same schema, in
// the same run, and the bytes a sample takes in the file.
//
// usage: bench_store_ingest [ROWS] [DIR] [RATE_HZ]   (default 580,000 rows: 16.1 h at 10 Hz, the
// main job; DIR default: the system temp folder; RATE_HZ default 10). Goals (issue 19, point 5):
// the store reaches >= 0.8 of the plain insert's rate, and <= 40 B/sample. Prints a markdown
// table for docs/benchmarks.md: min / median / max over the repeats.
//
// Rows: bench/instrument_rows.hpp (the main job's triangles, shaped as the frame sends them).
//
// Plain: one connection, synchronous=NORMAL, the store's schema, one prepared INSERT OR IGNORE
// into sample_rows per row (its codes included), all rows in one transaction. Store:
// SampleStore::append per row from this thread, the writer thread committing batches within the
// default commit window (synchronous=FULL), then flush(). B/sample: the file after a checkpoint,
// divided by the rows.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "instrument_rows.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int repeats = 5;

void check(sqlite3* db, int code) {
    if (code != SQLITE_OK && code != SQLITE_DONE && code != SQLITE_ROW) {
        std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        std::exit(1);
    }
}

sqlite3* open(const std::string& path) {
    sqlite3* db = nullptr;
    check(db, sqlite3_open(path.c_str(), &db));
    return db;
}

long long scalar(sqlite3* db, const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(db, sqlite3_prepare_v2(db, sql, -1, &statement, nullptr));
    check(db, sqlite3_step(statement));
    const long long value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

// Rows in the file and its bytes per row once the WAL is checkpointed into it.
std::pair<long long, double> rows_and_bytes(const std::string& path) {
    sqlite3* db = open(path);
    check(db, sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr));
    const long long rows = scalar(db, "SELECT count(*) FROM sample_rows");
    sqlite3_close(db);
    return {rows, static_cast<double>(fs::file_size(path)) / static_cast<double>(rows)};
}

void bind(sqlite3_stmt* insert, int index, const codec::Cell& cell) {
    if (const auto* code = std::get_if<std::int64_t>(&cell)) {
        sqlite3_bind_int64(insert, index, *code);
    } else {
        sqlite3_bind_double(insert, index, std::get<double>(cell));
    }
}

void bind(sqlite3_stmt* insert, int index, const std::optional<double>& value) {
    if (value) {
        sqlite3_bind_double(insert, index, *value);
    } else {
        sqlite3_bind_null(insert, index);
    }
}

codec::Values values_of(const SampleRow& row) {
    return {.t_s = row.t_s,
            .wall_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(row.t_wall.time_since_epoch())
                    .count(),
            .temperature_k = row.temperature_k,
            .force_n = row.force_n,
            .displacement_m = row.displacement_m,
            .stress_pa = row.stress_pa,
            .strain = row.strain};
}

double plain_insert_s(const std::string& path, const std::vector<SampleRow>& rows, double rate_hz) {
    sqlite3* db = open(path);
    const auto line = codec::with_origin({.step_us = std::llround(1e6 / rate_hz),
                                          .cross_section_m2 = cross_section_m2,
                                          .gauge_length_m = gauge_length_m},
                                         0, values_of(rows.front()));
    const std::string setup =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;" +
        std::string(store_schema_sql()) +
        "INSERT INTO runs (job_text, sample_id, profile, software_version, instrument_identity, "
        "created_utc, cross_section_m2, gauge_length_m, sample_step_us, first_seq, first_t_us, "
        "first_wall_ms) VALUES ('', 'R1', 'sim', '0', '', '', " +
        std::to_string(cross_section_m2) + ", " + std::to_string(gauge_length_m) + ", " +
        std::to_string(line.step_us) + ", 0, " + std::to_string(line.first_t_us) + ", " +
        std::to_string(line.first_wall_ms) + ");";
    check(db, sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr));
    sqlite3_stmt* insert = nullptr;
    check(db, sqlite3_prepare_v2(db,
                                 "INSERT OR IGNORE INTO sample_rows (run_id, seq, t_code, "
                                 "wall_code, segment_id, temperature_code, force_code, "
                                 "displacement_code, stress_pa, strain) VALUES (1, ?, ?, ?, 3, "
                                 "?, ?, ?, ?, ?)",
                                 -1, &insert, nullptr));
    const auto start = Clock::now();
    check(db, sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr));
    for (const auto& row : rows) {
        const auto codes = codec::encode(line, row.seq, values_of(row));
        sqlite3_bind_int64(insert, 1, row.seq);
        bind(insert, 2, codes.t);
        sqlite3_bind_int64(insert, 3, codes.wall);
        bind(insert, 4, codes.temperature);
        bind(insert, 5, codes.force);
        bind(insert, 6, codes.displacement);
        bind(insert, 7, codes.stress);
        bind(insert, 8, codes.strain);
        check(db, sqlite3_step(insert));
        sqlite3_reset(insert);
    }
    check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return seconds;
}

double store_ingest_s(const std::string& path, const std::vector<SampleRow>& rows, double rate_hz) {
    SampleStore store(path);
    RunInfo info{"", "R1", "sim", "0", ""};
    info.cross_section_m2 = cross_section_m2;
    info.gauge_length_m = gauge_length_m;
    info.sample_period_s = 1 / rate_hz;
    const auto run = store.create_run(info);
    const auto start = Clock::now();
    for (const auto& row : rows) {
        store.append(run, row);
    }
    store.flush();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// "min / median / max" of `values`, with `decimals` decimals.
std::string spread(std::vector<double> values, int decimals) {
    std::sort(values.begin(), values.end());
    std::string text;
    for (const double value : {values.front(), values[values.size() / 2], values.back()}) {
        char part[32];
        std::snprintf(part, sizeof part, "%.*f", decimals, value);
        text += (text.empty() ? "" : " / ") + std::string(part);
    }
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::stoul(argv[1]) : 580'000;
    const fs::path dir = fs::path(argc > 2 ? argv[2] : fs::temp_directory_path().string()) /
                         ("dmacycle-bench-" + std::to_string(getpid()));
    const double rate_hz = argc > 3 ? std::stod(argv[3]) : 10.0;
    fs::create_directories(dir);
    const auto rows = instrument_rows(count, rate_hz);

    std::vector<double> plain_rate, store_rate, ratio, plain_bytes, store_bytes;
    for (int i = 0; i < repeats; ++i) {
        // Alternate, each on a fresh file, so neither side always runs on a warmer cache.
        const auto plain_path = (dir / ("plain-" + std::to_string(i) + ".db")).string();
        const auto store_path = (dir / ("store-" + std::to_string(i) + ".db")).string();
        const double plain_s = plain_insert_s(plain_path, rows, rate_hz);
        const double store_s = store_ingest_s(store_path, rows, rate_hz);
        const auto [plain_rows, plain_b] = rows_and_bytes(plain_path);
        const auto [store_rows, store_b] = rows_and_bytes(store_path);
        if (plain_rows != static_cast<long long>(count) ||
            store_rows != static_cast<long long>(count)) {
            std::fprintf(stderr, "row count mismatch\n");
            return 1;
        }
        const double n = static_cast<double>(count);
        plain_rate.push_back(n / plain_s);
        store_rate.push_back(n / store_s);
        ratio.push_back(plain_s / store_s);
        plain_bytes.push_back(plain_b);
        store_bytes.push_back(store_b);
        std::printf("repeat %d: plain %.3f s, store %.3f s, ratio %.2f, %.1f B/sample\n", i + 1,
                    plain_s, store_s, ratio.back(), store_b);
    }
    fs::remove_all(dir);

    std::printf(
        "\n| rows, rate | plain insert, one transaction (rows/s) | store: WAL, writer thread, "
        "batches (rows/s) | store / plain (goal >= 0.8) | store B/sample (goal <= 40) | plain "
        "B/sample |\n|---|---|---|---|---|---|\n");
    std::printf("| %zu at %g Hz | %s | %s | %s | %s | %s |\n", count, rate_hz,
                spread(plain_rate, 0).c_str(), spread(store_rate, 0).c_str(),
                spread(ratio, 2).c_str(), spread(store_bytes, 1).c_str(),
                spread(plain_bytes, 1).c_str());
    return 0;
}
