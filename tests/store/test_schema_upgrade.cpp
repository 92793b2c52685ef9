// A store file written by version 3 (stress in MPa, under `stress_mpa` and the cycles'
// `stress_min_mpa`, `stress_max_mpa`, and in the work_done result), built here with raw SQL as
// that version wrote it, and one of version 4 (the work_done result alone in MPa): opened for
// writing they are converted to Pa in place, once, every row kept; read-only they are read as Pa
// and left as they are; an upgrade that fails changes nothing.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "old_store_versions.hpp"
#include "store_reader.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::store;

namespace {

// Version 3's tables as its CREATE statements made them, one run with 1000 samples (stress from
// the pre-tension 0.278 MPa up in steps of 0.25 MPa), two cycles, an event, a result and a DMTA
// row. `cycles_max` is the name of the cycles' maximum stress column.
std::string version_3_sql(const std::string& cycles_max = "stress_max_mpa") {
    return R"sql(
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, job_text TEXT NOT NULL, sample_id TEXT NOT NULL,
    profile TEXT NOT NULL, software_version TEXT NOT NULL, instrument_identity TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
        ('queued', 'running', 'completed', 'aborted', 'faulted', 'interrupted')),
    created_utc TEXT NOT NULL, started_utc TEXT, ended_utc TEXT);
CREATE TABLE samples (
    run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, t_s REAL NOT NULL,
    t_wall_utc TEXT NOT NULL, segment TEXT NOT NULL, temperature_k REAL NOT NULL,
    force_n REAL NOT NULL, displacement_m REAL NOT NULL, stress_mpa REAL NOT NULL,
    strain REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE events (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), t_s REAL NOT NULL,
    t_wall_utc TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE UNIQUE INDEX events_once ON events (run_id, t_s, kind, message);
CREATE TABLE cycles (
    run_id INTEGER NOT NULL REFERENCES runs(id), cycle INTEGER NOT NULL,
    t_start_s REAL NOT NULL, t_end_s REAL NOT NULL, stress_min_mpa REAL NOT NULL, )sql" +
           cycles_max + R"sql( REAL NOT NULL, strain_min REAL NOT NULL,
    strain_max REAL NOT NULL, PRIMARY KEY (run_id, cycle)) WITHOUT ROWID;
CREATE TABLE results (
    run_id INTEGER NOT NULL REFERENCES runs(id), kind TEXT NOT NULL, json TEXT NOT NULL,
    created_utc TEXT NOT NULL, PRIMARY KEY (run_id, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dmta (
    run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, t_s REAL NOT NULL,
    t_wall_utc TEXT NOT NULL, frequency_hz REAL NOT NULL, temperature_k REAL NOT NULL,
    storage_pa REAL NOT NULL, loss_pa REAL NOT NULL, tan_delta REAL NOT NULL,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
INSERT INTO runs (job_text, sample_id, profile, software_version, instrument_identity, status,
    created_utc) VALUES ('name: old', 'R1', 'sim-la30', '0.3.0', 'sim', 'completed',
    '2026-01-01T00:00:00.000Z');
WITH RECURSIVE n(seq) AS (SELECT 0 UNION ALL SELECT seq + 1 FROM n WHERE seq < 999)
INSERT INTO samples SELECT 1, seq, seq * 0.1, '2026-01-01T00:00:00.000Z', 'cycle', 365.0,
    0.01 + seq * 0.009, 1e-5 * seq, 0.278 + seq * 0.25, 1e-3 + seq * 1e-6 FROM n;
INSERT INTO events (run_id, t_s, t_wall_utc, kind, message)
    VALUES (1, 0.0, '2026-01-01T00:00:00.000Z', 'segment', 'cycle started');
INSERT INTO cycles VALUES (1, 1, 0, 48, 0.278, 100.25, 1e-3, 4e-3),
                          (1, 2, 48, 96, 0.278, 199.75, 1e-3, 6e-3);
INSERT INTO results VALUES (1, 'work_done', '{"stress_creep_mpa": 100, "v_total_j_m3": 4.5e4,
    "per_cycle": [{"t_start_s": 0, "stress_min_mpa": 0.278, "stress_max_mpa": 199.75}]}',
    '2026-01-01T00:00:00.000Z');
INSERT INTO dmta VALUES (1, 0, 1.5, '2026-01-01T00:00:00.000Z', 1.0, 350.0, 2e10, 1e8, 0.005);
PRAGMA user_version = 3;
)sql";
}

void write_file(const fs::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    CHECK_MESSAGE(code == SQLITE_OK, sqlite3_errmsg(db));
    sqlite3_close(db);
}

const std::string other_samples =
    "SELECT seq, t_s, temperature_k, force_n, displacement_m, strain FROM samples ORDER BY seq";
const std::string cycles_other =
    "SELECT cycle, t_start_s, t_end_s, strain_min, strain_max FROM "
    "cycles ORDER BY cycle";

// Every stored stress of the file, in the order of the samples then the cycles, by its column
// names in that version.
std::vector<double> stresses(daemon_test::Store& reader, const std::string& unit) {
    std::vector<double> values;
    for (const auto& row :
         reader.real_rows("SELECT stress_" + unit + " FROM samples ORDER BY seq")) {
        values.push_back(row[0]);
    }
    for (const auto& row : reader.real_rows("SELECT stress_min_" + unit + ", stress_max_" + unit +
                                            " FROM cycles ORDER BY cycle")) {
        values.insert(values.end(), row.begin(), row.end());
    }
    return values;
}

// The version-3 work_done result as version 5 stores it (keys in nlohmann's order).
const std::string work_done_in_pa =
    R"({"per_cycle":[{"stress_max_pa":199750000.0,"stress_min_pa":278000.0,"t_start_s":0}],)"
    R"("stress_creep_pa":100000000.0,"v_total_j_m3":45000.0})";

std::vector<double> times_1e6(std::vector<double> values) {
    for (double& value : values) {
        value *= 1e6;
    }
    return values;
}

// A second run for version_3_sql as the runner wrote them: a wall clock per sample, times not all
// in whole µs, instrument decimals and values that are not, a gap in seq, a segment name this
// version does not know, stress in MPa from the force.
const std::string second_run_sql = R"sql(
INSERT INTO runs (job_text, sample_id, profile, software_version, instrument_identity, status,
    created_utc) VALUES ('name: second', 'R2', 'sim-la30', '0.3.0', 'sim', 'completed',
    '2026-06-01T00:00:00.000Z');
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
INSERT INTO samples SELECT 2, i * 3 + (i > 1500) * 7, i * 0.3 + (i % 3) * 1e-7,
    strftime('%Y-%m-%dT%H:%M:%fZ', 1796000000 + i * 0.3 + (i % 4) * 0.001, 'unixepoch'),
    CASE WHEN i % 500 = 0 THEN 'warmup' ELSE 'recovery' END, round(365 + (i % 1000) * 0.001, 3),
    (i % 200 - 100) * 0.0123, i * 1e-9 - 1e-6, (i % 200 - 100) * 0.0123 / 3.6e-8 / 1e6,
    (i * 1e-9 - 1e-6) / 0.01 FROM n;
)sql";

std::string bits(double value) {
    char text[24];
    std::snprintf(text, sizeof text, "%016llx",
                  static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(value)));
    return text;
}

// Every sample of every run as RunArchive reads it, each double as its bits.
std::vector<std::string> archived_samples(const fs::path& path) {
    std::vector<std::string> rows;
    const RunArchive archive(path);
    for (const auto& run : daemon_test::Store(path).column("SELECT id FROM runs ORDER BY id")) {
        archive.for_each_sample(std::stoll(run), [&](const ArchivedSample& s) {
            rows.push_back(run + " " + std::to_string(s.seq) + " " + bits(s.t_s) + " " +
                           s.t_wall_utc + " " + s.segment + " " + bits(s.temperature_k) + " " +
                           bits(s.force_n) + " " + bits(s.displacement_m) + " " +
                           bits(s.stress_pa) + " " + bits(s.strain));
        });
    }
    return rows;
}

}  // namespace

TEST_CASE("a version-3 store keeps every sample bit for bit through the version-6 upgrade") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "v3.db";
    write_file(path, version_3_sql() + second_run_sql);
    const auto before = archived_samples(path);  // read-only: stress_mpa * 1e6
    REQUIRE(before.size() == 4000);
    { SampleStore upgraded(path.string()); }
    CHECK(archived_samples(path) == before);
    daemon_test::Store reader(path);
    CHECK(reader.integer("PRAGMA user_version") == 6);
    CHECK(reader.integer("SELECT count(*) FROM sample_rows") == 4000);
    CHECK(reader.integer("SELECT count(*) FROM sqlite_master WHERE name = 'samples' AND type = "
                         "'view'") == 1);
    // The temperatures (3 decimals) took integer codes; the run's step was inferred from its
    // first and last samples (the gap in seq makes it 0.08 % short, costing bytes, no value).
    CHECK(reader.integer("SELECT count(*) FROM sample_rows WHERE run_id = 2 AND "
                         "typeof(temperature_code) = 'integer'") == 3000);
    CHECK(reader.integer("SELECT sample_step_us FROM runs WHERE id = 2") == 99'922);
    CHECK(reader.column("SELECT DISTINCT segment FROM samples WHERE run_id = 2 ORDER BY 1") ==
          std::vector<std::string>{"recovery", "warmup"});
}

TEST_CASE(
    "a wall clock the store did not write fails the upgrade, and the file is left as it was") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "v3.db";
    write_file(path, version_3_sql() + second_run_sql +
                         "UPDATE samples SET t_wall_utc = 'yesterday' WHERE run_id = 2 AND "
                         "seq = 9;");
    const auto before = archived_samples(path);
    CHECK_THROWS_WITH_AS(SampleStore(path.string()), doctest::Contains("run 2 seq 9: t_wall_utc"),
                         StoreError);
    CHECK(daemon_test::Store(path).integer("PRAGMA user_version") == 3);
    CHECK(archived_samples(path) == before);
}

TEST_CASE("a version-3 store's stress in MPa is converted to Pa in place, once, every row kept") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "v3.db";
    write_file(path, version_3_sql());
    std::vector<double> mpa;
    std::vector<std::vector<double>> samples_before, cycles_before;
    {
        daemon_test::Store old(path);
        mpa = stresses(old, "mpa");
        samples_before = old.real_rows(other_samples);
        cycles_before = old.real_rows(cycles_other);
    }
    REQUIRE(mpa.size() == 1004);
    { SampleStore upgraded(path.string()); }
    {
        daemon_test::Store reader(path);
        CHECK(reader.integer("PRAGMA user_version") == store_schema_version);
        CHECK(reader.integer("SELECT count(*) FROM pragma_table_info('samples') WHERE name = "
                             "'stress_mpa'") == 0);
        CHECK(stresses(reader, "pa") == times_1e6(mpa));  // exactly: the same multiplication
        CHECK(reader.real_rows(other_samples) == samples_before);
        CHECK(reader.real_rows(cycles_other) == cycles_before);
        CHECK(reader.integer("SELECT count(*) FROM events") == 1);
        CHECK(reader.integer("SELECT count(*) FROM results") == 1);
        CHECK(reader.column("SELECT json FROM results").at(0) == work_done_in_pa);
        CHECK(reader.reals("SELECT storage_pa FROM dmta").at(0) == 2e10);
    }
    // Opened again, nothing is converted twice; new rows are written in Pa beside the old.
    {
        SampleStore reopened(path.string());
        SampleRow row;
        row.seq = 1000;
        row.t_s = 100;
        row.segment = "cycle";
        row.stress_pa = 2e8;
        reopened.append(1, row);
    }
    daemon_test::Store reader(path);
    auto expected = times_1e6(mpa);
    expected.insert(expected.begin() + 1000, 2e8);
    CHECK(stresses(reader, "pa") == expected);
    const RunArchive archive(path);
    std::vector<double> archived;
    archive.for_each_sample(1, [&](const ArchivedSample& s) { archived.push_back(s.stress_pa); });
    CHECK(archived.size() == 1001);
    CHECK(archived.back() == 2e8);
    CHECK(archive.cycles(1).at(1).stress_max_pa == 199.75e6);
}

TEST_CASE("a run archive reads a version-3 file's stress as Pa and leaves the file as it is") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "v3.db";
    write_file(path, version_3_sql());
    const auto mpa = [&] {
        daemon_test::Store old(path);
        return stresses(old, "mpa");
    }();
    const auto modified = fs::last_write_time(path);
    const auto size = fs::file_size(path);

    const RunArchive archive(path);
    std::vector<double> pa;
    archive.for_each_sample(1, [&](const ArchivedSample& s) { pa.push_back(s.stress_pa); });
    for (const auto& cycle : archive.cycles(1)) {
        pa.push_back(cycle.stress_min_pa);
        pa.push_back(cycle.stress_max_pa);
    }
    CHECK(pa == times_1e6(mpa));
    CHECK(archive.results(1).at("work_done").dump() == work_done_in_pa);
    CHECK(daemon_test::Store(path).integer("PRAGMA user_version") == 3);
    CHECK(fs::last_write_time(path) == modified);
    CHECK(fs::file_size(path) == size);
}

TEST_CASE("an upgrade that fails part way leaves the version-3 file as it was") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "odd.db";
    // The samples convert, then the cycles' maximum is not where version 3 kept it.
    write_file(path, version_3_sql("stress_top_mpa"));
    const auto mpa =
        daemon_test::Store(path).real_rows("SELECT stress_mpa FROM samples ORDER BY seq");
    CHECK_THROWS_WITH_AS(SampleStore(path.string()), doctest::Contains("stress_max_mpa"),
                         StoreError);
    daemon_test::Store reader(path);
    CHECK(reader.integer("PRAGMA user_version") == 3);
    CHECK(reader.real_rows("SELECT stress_mpa FROM samples ORDER BY seq") == mpa);
    CHECK(reader.reals("SELECT stress_min_mpa FROM cycles WHERE cycle = 1").at(0) == 0.278);
}

TEST_CASE("a version-4 store's work_done result is converted to Pa, its other results kept") {
    test_support::TempDir dir("dmacycle-upgrade");
    const auto path = dir.path / "v4.db";
    { SampleStore created(path.string()); }
    write_file(path, store_test::to_version_5_sql + R"sql(
INSERT INTO runs (id, job_text, sample_id, profile, software_version, instrument_identity,
    created_utc) VALUES (1, 'job', 'ribbon', 'default', '0.4', 'sim', '2026-01-01T00:00:00.000Z');
INSERT INTO results VALUES (1, 'work_done', '{"stress_creep_mpa": 100, "v_total_j_m3": 4.5e4,
    "per_cycle": [{"t_start_s": 0, "stress_min_mpa": 0.278, "stress_max_mpa": 199.75}]}',
    '2026-01-01T00:00:00.000Z');
INSERT INTO results VALUES (1, 'kww', '{"beta": 0.34}', '2026-01-01T00:00:00.000Z');
PRAGMA user_version = 4;
)sql");
    CHECK(RunArchive(path).results(1).at("work_done").dump() == work_done_in_pa);
    { SampleStore upgraded(path.string()); }
    daemon_test::Store reader(path);
    CHECK(reader.integer("PRAGMA user_version") == store_schema_version);
    CHECK(reader.column("SELECT json FROM results WHERE kind = 'work_done'").at(0) ==
          work_done_in_pa);
    CHECK(reader.column("SELECT json FROM results WHERE kind = 'kww'").at(0) ==
          R"({"beta": 0.34})");
}
