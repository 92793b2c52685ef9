// The version-6 upgrade of a version-5 store: time, rows kept bit for bit, file size.
//
// usage: bench_store_upgrade [ROWS] [DIR]   (default 580,000 rows: the main job at 10 Hz, 16.1 h;
// DIR default: the system temp folder). Writes the rows (bench/instrument_rows.hpp, with the
// runner's t_s of version 5) through the store, turns the file into version 5's tables (a plain
// `samples` table, as version 5 wrote), then opens copies of it with SampleStore, which upgrades
// them, five times: prints min / median / max of the upgrade, whether every sample reads back
// with the same bits as before, and the file's size before, just after and after VACUUM.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dmacycle/store/sample_store.hpp"
#include "instrument_rows.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::store;

namespace {

constexpr int repeats = 5;

void exec(const fs::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        std::fprintf(stderr, "sqlite: %s\n", error);
        std::exit(1);
    }
    sqlite3_close(db);
}

// Version 5's samples table, the runs without version 6's columns.
const char* const to_version_5 = R"sql(
CREATE TABLE samples_v5 (
    run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, t_s REAL NOT NULL,
    t_wall_utc TEXT NOT NULL, segment TEXT NOT NULL, temperature_k REAL NOT NULL,
    force_n REAL NOT NULL, displacement_m REAL NOT NULL, stress_pa REAL NOT NULL,
    strain REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
INSERT INTO samples_v5 SELECT * FROM samples;
DROP VIEW samples; DROP TABLE sample_rows; DROP TABLE segments;
ALTER TABLE samples_v5 RENAME TO samples;
ALTER TABLE runs DROP COLUMN cross_section_m2; ALTER TABLE runs DROP COLUMN gauge_length_m;
ALTER TABLE runs DROP COLUMN sample_step_us; ALTER TABLE runs DROP COLUMN first_seq;
ALTER TABLE runs DROP COLUMN first_t_us; ALTER TABLE runs DROP COLUMN first_wall_ms;
PRAGMA user_version = 5; VACUUM;
)sql";

// Every sample as it reads, each value's bytes (doubles as their bits).
std::string samples_bits(const fs::path& path) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* select = nullptr;
    sqlite3_prepare_v2(db, "SELECT * FROM samples ORDER BY run_id, seq", -1, &select, nullptr);
    std::string bits;
    while (sqlite3_step(select) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(select); ++i) {
            if (sqlite3_column_type(select, i) == SQLITE_TEXT) {
                bits += reinterpret_cast<const char*>(sqlite3_column_text(select, i));
            } else {
                const double value = sqlite3_column_double(select, i);
                bits.append(reinterpret_cast<const char*>(&value), sizeof value);
            }
        }
    }
    sqlite3_finalize(select);
    sqlite3_close(db);
    return bits;
}

double megabytes(const fs::path& path) {
    return static_cast<double>(fs::file_size(path)) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::stoul(argv[1]) : 580'000;
    const fs::path dir = fs::path(argc > 2 ? argv[2] : fs::temp_directory_path().string()) /
                         ("dmacycle-upgrade-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const auto v5 = dir / "v5.db";
    {
        SampleStore store(v5.string());
        RunInfo info{"", "R1", "sim", "0", ""};
        const auto run = store.create_run(info);
        for (const auto& row : instrument_rows(count, 10, false)) {
            store.append(run, row);
        }
    }
    exec(v5, to_version_5);
    const auto before = samples_bits(v5);
    std::vector<double> seconds;
    bool same = true;
    double just_after = 0, vacuumed = 0;
    for (int i = 0; i < repeats; ++i) {
        const auto copy = dir / ("copy-" + std::to_string(i) + ".db");
        fs::copy_file(v5, copy);
        const auto start = std::chrono::steady_clock::now();
        { SampleStore upgraded(copy.string()); }
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        same = same && samples_bits(copy) == before;
        just_after = megabytes(copy);
        exec(copy, "VACUUM");
        vacuumed = megabytes(copy);
        fs::remove(copy);
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf(
        "| rows | upgrade (s), min / median / max of %d | every sample the same bits | file MB: "
        "version 5 / just after / after VACUUM | B/sample after VACUUM |\n|---|---|---|---|---|\n"
        "| %zu | %.2f / %.2f / %.2f | %s | %.1f / %.1f / %.1f | %.1f |\n",
        repeats, count, seconds.front(), seconds[seconds.size() / 2], seconds.back(),
        same ? "yes" : "NO", megabytes(v5), just_after, vacuumed,
        vacuumed * 1e6 / static_cast<double>(count));
    fs::remove_all(dir);
    return same ? 0 : 1;
}
