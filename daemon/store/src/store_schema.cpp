// The store's schema (docs/store-schema.md): the tables of a new file, and the upgrades of files
// written by older versions.
#include <sqlite3.h>

#include <algorithm>
#include <span>
#include <string>
#include <string_view>

#include "dmacycle/store/analysis_json.hpp"
#include "dmacycle/store/names.hpp"
#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "store_schema.hpp"

namespace dmacycle::store {
namespace {

constexpr std::string_view runs_sql = R"sql(
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
    ended_utc           TEXT,
    cross_section_m2    REAL,
    gauge_length_m      REAL,
    sample_step_us      INTEGER,
    first_seq           INTEGER,
    first_t_us          INTEGER,
    first_wall_ms       INTEGER
);
)sql";

// The samples' storage (version 6): codes (store::codec) read through the `samples` view. The
// coded columns have no declared type, so a REAL is stored as bound (a REAL column would store
// -0.0 as the integer 0).
constexpr std::string_view sample_rows_sql = R"sql(
CREATE TABLE segments (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO segments (id, name) VALUES (0, 'equilibrate'), (1, 'hold'), (2, 'load'),
    (3, 'cycle'), (4, 'creep'), (5, 'unload'), (6, 'recovery'), (7, 'paused'),
    (8, 'safe_state'), (9, 'after_plan');
CREATE TABLE sample_rows (
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    seq               INTEGER NOT NULL,
    t_code            NOT NULL,
    wall_code         INTEGER NOT NULL,
    segment_id        INTEGER NOT NULL REFERENCES segments(id),
    temperature_code  NOT NULL,
    force_code        NOT NULL,
    displacement_code NOT NULL,
    stress_pa,
    strain,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

constexpr std::string_view events_sql = R"sql(
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    t_s        REAL NOT NULL,
    t_wall_utc TEXT NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE UNIQUE INDEX events_once ON events (run_id, t_s, kind, message);
)sql";

constexpr std::string_view results_sql = R"sql(
CREATE TABLE results (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    kind        TEXT NOT NULL,
    json        TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;
)sql";

std::string_view sql_type(names::Type type) {
    switch (type) {
        case names::Type::integer:
            return "INTEGER";
        case names::Type::real:
            return "REAL";
        case names::Type::text:
            return "TEXT";
    }
    return "";
}

// A table of a run's rows with the columns of its names table, keyed by (run_id, KEY) and kept
// in that order (WITHOUT ROWID), written out as one would by hand:
//   CREATE TABLE cycles (
//       run_id         INTEGER NOT NULL REFERENCES runs(id),
//       cycle          INTEGER NOT NULL, ...
std::string run_table_sql(std::string_view create, std::string_view table,
                          std::span<const names::Column> columns, std::string_view key) {
    constexpr std::size_t name_width = 15;
    const auto line = [&](std::string_view name, std::string_view definition) {
        std::string text(4, ' ');
        text += name;
        text.resize(4 + std::max(name_width, name.size() + 1), ' ');
        text += definition;
        return text + ",\n";
    };
    std::string sql(1, '\n');
    sql.append(create).append(" ").append(table).append(" (\n");
    sql += line("run_id", "INTEGER NOT NULL REFERENCES runs(id)");
    for (const auto& column : columns) {
        sql += line(column.name, std::string(sql_type(column.type)) + " NOT NULL");
    }
    return sql.append("    PRIMARY KEY (run_id, ").append(key).append(")\n) WITHOUT ROWID;\n");
}

// Version 3 added the DMTA measurements: part of the schema, and what an upgrade adds.
std::string dmta_table_sql() {
    return run_table_sql("CREATE TABLE IF NOT EXISTS", "dmta", names::dmta, "seq");
}

// SQL function for the version-5 upgrade: one stored work_done result with its stresses in Pa.
// Text that is not JSON is left as it is (a reader reports it, naming the run).
void work_done_in_pa(sqlite3_context* context, int, sqlite3_value** argv) {
    const auto* bytes = sqlite3_value_text(argv[0]);
    const std::string text = bytes ? reinterpret_cast<const char*>(bytes) : "";
    std::string out = text;
    try {
        out = work_done_stresses_in_pa(nlohmann::json::parse(text)).dump();
    } catch (const nlohmann::json::exception&) {
    }
    sqlite3_result_text(context, out.c_str(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

void convert_work_done_to_pa(SqlConnection& db) {
    constexpr const char* name = "dmacycle_work_done_in_pa";
    db.define_function(name, 1, work_done_in_pa);
    db.exec("UPDATE results SET json = dmacycle_work_done_in_pa(json) WHERE kind = 'work_done'");
    db.define_function(name, 1, nullptr);
}

}  // namespace

std::string sample_tables_sql() {
    return std::string(sample_rows_sql);
}

std::string_view store_schema_sql() {
    static const std::string full =
        std::string(runs_sql) + sample_tables_sql() + codec::samples_view_sql() +
        std::string(events_sql) + run_table_sql("CREATE TABLE", "cycles", names::cycles, "cycle") +
        std::string(results_sql) + dmta_table_sql();
    return full;
}

void create_or_upgrade_schema(SqlConnection& db, const std::string& path) {
    // Read and create under one write lock, so two processes opening a new file at once
    // cannot both create the schema.
    db.exec("BEGIN IMMEDIATE");
    const int version = std::stoi(db.text("PRAGMA user_version"));
    if (version < 0 || version > store_schema_version) {
        throw StoreError(path + ": store schema version " + std::to_string(version) +
                         " is not the version this program writes (" +
                         std::to_string(store_schema_version) + ")");
    }
    if (version == 0) {
        db.exec(std::string(store_schema_sql()));
    } else if (version == 1) {
        // Version 1 stored a re-sent event twice: keep the first of each, then key them.
        db.exec(
            "DELETE FROM events WHERE id NOT IN (SELECT min(id) FROM events GROUP BY run_id, "
            "t_s, kind, message); DROP INDEX IF EXISTS events_by_run; CREATE UNIQUE INDEX "
            "events_once ON events (run_id, t_s, kind, message)");
    }
    if (version == 1 || version == 2) {
        db.exec(dmta_table_sql());
    }
    if (version >= 1 && version < stress_in_pa_since_version) {
        // In this transaction with the version: converted entirely and once, or not at all.
        for (const auto& column : columns_in_mpa) {
            const std::string table(column.table), pa(column.pa_name);
            db.exec("ALTER TABLE " + table + " RENAME COLUMN " + std::string(column.mpa_name) +
                    " TO " + pa + "; UPDATE " + table + " SET " + pa + " = " + pa + " * 1e6");
        }
    }
    if (version >= 1 && version < work_done_in_pa_since_version) {
        convert_work_done_to_pa(db);
    }
    if (version >= 1 && version < sample_rows_since_version) {
        upgrade_samples_to_rows(db);
    }
    if (version != store_schema_version) {
        db.exec("PRAGMA user_version=" + std::to_string(store_schema_version));
    }
    db.exec("COMMIT");
}

}  // namespace dmacycle::store
