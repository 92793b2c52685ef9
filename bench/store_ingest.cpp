// Store ingest against the fastest plain SQLite insert of the same rows, in the same run.
//
// usage: bench_store_ingest [ROWS] [DIR]   (default 580,000 rows: 16.1 h at 10 Hz, the main
// job; DIR default: the system temp folder). Goal (issue 5): the store reaches >= 0.8 of the
// plain insert's rate, bar 0.5. Prints a markdown table for docs/benchmarks.md.
//
// Plain: one connection, the same schema and pragmas, one prepared INSERT OR IGNORE bound per
// row, all rows in one transaction. Store: SampleStore::append per row from this thread, the
// writer thread committing batches within the default commit window, then flush().
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

#include "dmacycle/store/sample_store.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int repeats = 3;

void check(sqlite3* db, int code) {
    if (code != SQLITE_OK && code != SQLITE_DONE) {
        std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        std::exit(1);
    }
}

// 0-200 MPa at 50 MPa/min, 10 Hz: the main job's cycling record.
std::vector<SampleRow> make_rows(std::size_t count) {
    std::vector<SampleRow> rows(count);
    const auto start = WallClock::now();
    for (std::size_t i = 0; i < count; ++i) {
        const double t_s = 0.1 * static_cast<double>(i);
        const double phase = std::fmod(t_s, 480.0);
        const double stress_mpa = phase < 240 ? phase * 50 / 60 : 200 - (phase - 240) * 50 / 60;
        auto& row = rows[i];
        row.seq = static_cast<std::int64_t>(i);
        row.t_s = t_s;
        row.t_wall = start + std::chrono::milliseconds(100 * static_cast<long long>(i));
        row.segment = "cycle";
        row.temperature_k = 365.0 + 0.05 * std::sin(t_s);
        row.force_n = stress_mpa * 1e6 * 3.6e-8;
        row.strain = stress_mpa * 1e6 / 36e9;
        row.displacement_m = row.strain * 0.01;
        row.stress_pa = stress_mpa * 1e6;
    }
    return rows;
}

long long count_rows(const std::string& path) {
    sqlite3* db = nullptr;
    check(db, sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr));
    sqlite3_stmt* statement = nullptr;
    check(db, sqlite3_prepare_v2(db, "SELECT count(*) FROM samples", -1, &statement, nullptr));
    sqlite3_step(statement);
    const long long count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return count;
}

double plain_insert_s(const std::string& path, const std::vector<SampleRow>& rows) {
    sqlite3* db = nullptr;
    check(db, sqlite3_open(path.c_str(), &db));
    const std::string setup =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;" +
        std::string(store_schema_sql()) +
        "INSERT INTO runs (job_text, sample_id, profile, software_version, "
        "instrument_identity, created_utc) VALUES ('', 'R1', 'sim', '0', "
        "'', '');";
    check(db, sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr));
    sqlite3_stmt* insert = nullptr;
    check(db, sqlite3_prepare_v2(db,
                                 "INSERT OR IGNORE INTO samples (run_id, seq, t_s, t_wall_utc, "
                                 "segment, temperature_k, force_n, displacement_m, stress_pa, "
                                 "strain) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 -1, &insert, nullptr));
    const auto start = Clock::now();
    check(db, sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr));
    for (const auto& row : rows) {
        const UtcText wall(row.t_wall);
        sqlite3_bind_int64(insert, 1, row.seq);
        sqlite3_bind_double(insert, 2, row.t_s);
        sqlite3_bind_text(insert, 3, wall.view().data(), static_cast<int>(wall.view().size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 4, row.segment.data(), static_cast<int>(row.segment.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_double(insert, 5, row.temperature_k);
        sqlite3_bind_double(insert, 6, row.force_n);
        sqlite3_bind_double(insert, 7, row.displacement_m);
        sqlite3_bind_double(insert, 8, row.stress_pa);
        sqlite3_bind_double(insert, 9, row.strain);
        check(db, sqlite3_step(insert));
        sqlite3_reset(insert);
    }
    check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return seconds;
}

double store_ingest_s(const std::string& path, const std::vector<SampleRow>& rows) {
    SampleStore store(path);
    const auto run = store.create_run({"", "R1", "sim", "0", ""});
    const auto start = Clock::now();
    for (const auto& row : rows) {
        store.append(run, row);
    }
    store.flush();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::stoul(argv[1]) : 580'000;
    const fs::path dir = fs::path(argc > 2 ? argv[2] : fs::temp_directory_path().string()) /
                         ("dmacycle-bench-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const auto rows = make_rows(count);

    std::vector<double> plain_s, store_s;
    for (int i = 0; i < repeats; ++i) {
        // Alternate, each on a fresh file, so neither side always runs on a warmer cache.
        const auto plain_path = (dir / ("plain-" + std::to_string(i) + ".db")).string();
        const auto store_path = (dir / ("store-" + std::to_string(i) + ".db")).string();
        plain_s.push_back(plain_insert_s(plain_path, rows));
        store_s.push_back(store_ingest_s(store_path, rows));
        if (count_rows(plain_path) != static_cast<long long>(count) ||
            count_rows(store_path) != static_cast<long long>(count)) {
            std::fprintf(stderr, "row count mismatch\n");
            return 1;
        }
        std::printf("repeat %d: plain %.3f s, store %.3f s\n", i + 1, plain_s.back(),
                    store_s.back());
    }
    fs::remove_all(dir);

    const double plain_rate = static_cast<double>(count) / median(plain_s);
    const double store_rate = static_cast<double>(count) / median(store_s);
    std::printf(
        "\n| rows | plain insert, one transaction | store (WAL, writer thread, "
        "batches) | ratio (goal >= 0.8, bar 0.5) |\n|---|---|---|---|\n");
    std::printf("| %zu | %.0f rows/s (%.3f s) | %.0f rows/s (%.3f s) | %.2f |\n", count, plain_rate,
                median(plain_s), store_rate, median(store_s), store_rate / plain_rate);
    return 0;
}
