// The store's schema (docs/store-schema.md): the tables of a new file, and the upgrades of files
// written by older versions.
#include <string>
#include <string_view>

#include "dmacycle/store/sample_store.hpp"
#include "sqlite_helpers.hpp"

namespace dmacycle::store {
namespace {

constexpr std::string_view schema_sql = R"sql(
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY,
    job_text            TEXT NOT NULL,
    sample_id           TEXT NOT NULL,
    profile             TEXT NOT NULL,
    software_version    TEXT NOT NULL,
    instrument_identity TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                        ('queued', 'running', 'completed', 'aborted', 'faulted', 'interrupted')),
    created_utc         TEXT NOT NULL,
    started_utc         TEXT,
    ended_utc           TEXT
);
CREATE TABLE samples (
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    seq            INTEGER NOT NULL,
    t_s            REAL NOT NULL,
    t_wall_utc     TEXT NOT NULL,
    segment        TEXT NOT NULL,
    temperature_k  REAL NOT NULL,
    force_n        REAL NOT NULL,
    displacement_m REAL NOT NULL,
    stress_mpa     REAL NOT NULL,
    strain         REAL NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    t_s        REAL NOT NULL,
    t_wall_utc TEXT NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE UNIQUE INDEX events_once ON events (run_id, t_s, kind, message);
CREATE TABLE cycles (
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    cycle          INTEGER NOT NULL,
    t_start_s      REAL NOT NULL,
    t_end_s        REAL NOT NULL,
    stress_min_mpa REAL NOT NULL,
    stress_max_mpa REAL NOT NULL,
    strain_min     REAL NOT NULL,
    strain_max     REAL NOT NULL,
    PRIMARY KEY (run_id, cycle)
) WITHOUT ROWID;
CREATE TABLE results (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    kind        TEXT NOT NULL,
    json        TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;
)sql";

// Version 3 added the DMTA measurements: part of the schema, and what an upgrade adds.
constexpr std::string_view dmta_table_sql = R"sql(
CREATE TABLE IF NOT EXISTS dmta (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    seq           INTEGER NOT NULL,
    t_s           REAL NOT NULL,
    t_wall_utc    TEXT NOT NULL,
    frequency_hz  REAL NOT NULL,
    temperature_k REAL NOT NULL,
    storage_pa    REAL NOT NULL,
    loss_pa       REAL NOT NULL,
    tan_delta     REAL NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

}  // namespace

std::string_view store_schema_sql() {
    static const std::string full = std::string(schema_sql) + std::string(dmta_table_sql);
    return full;
}

void create_or_upgrade_schema(sqlite3* db, const std::string& path) {
    // Read and create under one write lock, so two processes opening a new file at once
    // cannot both create the schema.
    exec(db, "BEGIN IMMEDIATE");
    const int version = std::stoi(query_text(db, "PRAGMA user_version"));
    if (version < 0 || version > store_schema_version) {
        throw StoreError(path + ": store schema version " + std::to_string(version) +
                         " is not the version this program writes (" +
                         std::to_string(store_schema_version) + ")");
    }
    if (version == 0) {
        exec(db, std::string(store_schema_sql()).c_str());
    } else if (version == 1) {
        // Version 1 stored a re-sent event twice: keep the first of each, then key them.
        exec(db,
             "DELETE FROM events WHERE id NOT IN (SELECT min(id) FROM events GROUP BY run_id, "
             "t_s, kind, message); DROP INDEX IF EXISTS events_by_run; CREATE UNIQUE INDEX "
             "events_once ON events (run_id, t_s, kind, message)");
    }
    if (version == 1 || version == 2) {
        exec(db, std::string(dmta_table_sql).c_str());
    }
    if (version != store_schema_version) {
        exec(db, ("PRAGMA user_version=" + std::to_string(store_schema_version)).c_str());
    }
    exec(db, "COMMIT");
}

}  // namespace dmacycle::store
