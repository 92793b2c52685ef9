#include "dmacycle/store/run_archive.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <span>

#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/store/analysis_json.hpp"
#include "dmacycle/store/names.hpp"
#include "dmacycle/store/sample_codec.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "dmacycle/store/sql_connection.hpp"
#include "sample_rows.hpp"
#include "store_schema.hpp"

namespace dmacycle::store {
namespace {

// The select list of `columns` from `table` of a file of `version`: a column an older version
// stored in MPa is read as Pa.
std::string select_list(std::string_view table, std::span<const names::Column> columns,
                        std::int64_t version) {
    std::string list;
    for (const auto& column : columns) {
        list += list.empty() ? "" : ", ";
        const auto* in_mpa = std::find_if(
            std::begin(columns_in_mpa), std::end(columns_in_mpa),
            [&](const MpaColumn& mpa) { return mpa.table == table && mpa.pa_name == column.name; });
        if (version < stress_in_pa_since_version && in_mpa != std::end(columns_in_mpa)) {
            list += std::string(in_mpa->mpa_name) + " * 1e6";
        } else {
            list += column.name;
        }
    }
    return list;
}

// A coded column of sample_rows: its INTEGER code, or the REAL value itself.
codec::Cell cell(const SqlRow& row, int column) {
    if (row.integral(column)) {
        return row.integer(column);
    }
    return row.real(column);
}

std::optional<double> unless_null(const SqlRow& row, int column) {
    if (row.null(column)) {
        return std::nullopt;
    }
    return row.real(column);
}

// The columns decode_row reads, in its order.
constexpr const char* sample_rows_columns =
    "seq, t_code, wall_code, segment_id, temperature_code, force_code, displacement_code, "
    "stress_pa, strain";

codec::Values decode_row(const codec::RunLine& line, const SqlRow& row) {
    return codec::decode(line, row.integer(0),
                         {.t = cell(row, 1),
                          .wall = row.integer(2),
                          .temperature = cell(row, 4),
                          .force = cell(row, 5),
                          .displacement = cell(row, 6),
                          .stress = unless_null(row, 7),
                          .strain = unless_null(row, 8)});
}

}  // namespace

// Version 6: sample_rows decoded here, as the `samples` view does in SQL but 3-4 times faster
// (the report reads every sample of a run).
struct RunArchive::Coded {
    codec::RunLine line;
    std::map<std::int64_t, std::string> segments;

    Coded(SqlConnection& db, std::int64_t run_id) {
        db.query("SELECT id, name FROM segments", {},
                 [&](const SqlRow& row) { segments[row.integer(0)] = row.text(1); });
        line = read_run_line(db, run_id);
    }
    const std::string& segment(std::int64_t id) const { return segments.at(id); }
};

RunArchive::RunArchive(const std::filesystem::path& file) : file_(file) {
    const auto refuse = [&](const std::string& problem) {
        throw io::InputError(file.string() + ": " + problem);
    };
    if (!std::filesystem::is_regular_file(file)) {
        refuse("no such store file");
    }
    try {
        db_ = std::make_unique<SqlConnection>(file, SqlConnection::Access::read_only);
        std::int64_t version = -1;
        db_->query("PRAGMA user_version", {}, [&](const SqlRow& row) { version = row.integer(0); });
        version_ = version;
        bool has_runs = false;
        db_->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'", {},
                   [&](const SqlRow&) { has_runs = true; });
        // Read-only, so a version-2 file (before the DMTA table) is read as it is, not upgraded.
        if (version < 2 || version > store_schema_version || !has_runs) {
            refuse("not a dmacycle store (schema version " + std::to_string(version) +
                   ", expected 2 to " + std::to_string(store_schema_version) + ")");
        }
        db_->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dmta'", {},
                   [&](const SqlRow&) { has_dmta_ = true; });
    } catch (const StoreError& error) {
        refuse(std::string("not a readable SQLite store: ") + error.what());
    }
}

RunArchive::~RunArchive() = default;

ArchivedRun RunArchive::run(std::int64_t run_id) const {
    bool has_job_runs = false;
    db_->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job_runs'", {},
               [&](const SqlRow&) { has_job_runs = true; });
    const std::string sql =
        "SELECT r.id, r.job_text, r.sample_id, r.profile, r.software_version, "
        "r.instrument_identity, r.status, r.created_utc, r.started_utc, r.ended_utc, " +
        std::string(has_job_runs ? "j.job_id, j.point FROM runs r LEFT JOIN job_runs j ON "
                                   "j.run_id = r.id WHERE r.id = ?"
                                 : "NULL, NULL FROM runs r WHERE r.id = ?");
    std::optional<ArchivedRun> found;
    db_->query(sql, {run_id}, [&](const SqlRow& row) {
        found = ArchivedRun{.id = row.integer(0),
                            .job_id = row.integer(10),
                            .sweep_point = row.integer(11),
                            .job_text = row.text(1),
                            .sample_id = row.text(2),
                            .profile = row.text(3),
                            .software_version = row.text(4),
                            .instrument_identity = row.text(5),
                            .status = row.text(6),
                            .created_utc = row.text(7),
                            .started_utc = row.text(8),
                            .ended_utc = row.text(9)};
    });
    if (!found) {
        throw io::InputError(file_.string() + ": no run " + std::to_string(run_id));
    }
    return *found;
}

std::vector<std::int64_t> RunArchive::runs_of_job(std::int64_t job_id) const {
    bool has_jobs = false;
    db_->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job_runs'", {},
               [&](const SqlRow&) { has_jobs = true; });
    std::vector<std::int64_t> runs;
    if (has_jobs) {
        db_->query("SELECT run_id FROM job_runs WHERE job_id = ? ORDER BY point", {job_id},
                   [&](const SqlRow& row) { runs.push_back(row.integer(0)); });
    }
    if (runs.empty()) {
        throw io::InputError(file_.string() + ": no job " + std::to_string(job_id) + " with runs");
    }
    return runs;
}

void RunArchive::for_each_sample(std::int64_t run_id,
                                 const std::function<void(const ArchivedSample&)>& each,
                                 std::int64_t every) const {
    if (version_ >= sample_rows_since_version) {
        const Coded coded(*db_, run_id);
        db_->query(
            std::string("SELECT ") + sample_rows_columns +
                " FROM sample_rows WHERE run_id = ? AND seq % ? = 0 ORDER BY seq",
            {run_id, std::max<std::int64_t>(every, 1)}, [&](const SqlRow& row) {
                const auto v = decode_row(coded.line, row);
                const UtcText wall(WallClock::time_point(std::chrono::milliseconds(v.wall_ms)));
                each(ArchivedSample{.seq = row.integer(0),
                                    .t_s = v.t_s,
                                    .t_wall_utc = std::string(wall.view()),
                                    .segment = coded.segment(row.integer(3)),
                                    .temperature_k = v.temperature_k,
                                    .force_n = v.force_n,
                                    .displacement_m = v.displacement_m,
                                    .stress_pa = v.stress_pa,
                                    .strain = v.strain});
            });
        return;
    }
    constexpr auto& at = names::samples;
    db_->query(
        "SELECT " + select_list("samples", at, version_) +
            " FROM samples WHERE run_id = ? AND seq % ? = 0 ORDER BY seq",
        {run_id, std::max<std::int64_t>(every, 1)}, [&](const SqlRow& row) {
            each(ArchivedSample{.seq = row.integer(names::index_of(at, "seq")),
                                .t_s = row.real(names::index_of(at, "t_s")),
                                .t_wall_utc = row.text(names::index_of(at, "t_wall_utc")),
                                .segment = row.text(names::index_of(at, "segment")),
                                .temperature_k = row.real(names::index_of(at, "temperature_k")),
                                .force_n = row.real(names::index_of(at, "force_n")),
                                .displacement_m = row.real(names::index_of(at, "displacement_m")),
                                .stress_pa = row.real(names::index_of(at, "stress_pa")),
                                .strain = row.real(names::index_of(at, "strain"))});
        });
}

void RunArchive::for_each_trace(std::int64_t run_id,
                                const std::function<void(const ArchivedTrace&)>& each) const {
    if (version_ >= sample_rows_since_version) {
        const Coded coded(*db_, run_id);
        db_->query(std::string("SELECT ") + sample_rows_columns +
                       " FROM sample_rows WHERE run_id = ? ORDER BY seq",
                   {run_id}, [&](const SqlRow& row) {
                       const auto v = decode_row(coded.line, row);
                       each(ArchivedTrace{.t_s = v.t_s,
                                          .segment = coded.segment(row.integer(3)),
                                          .stress_pa = v.stress_pa,
                                          .strain = v.strain});
                   });
        return;
    }
    constexpr auto& at = names::samples;
    const std::array<names::Column, 4> columns = {
        at[names::index_of(at, "t_s")], at[names::index_of(at, "segment")],
        at[names::index_of(at, "stress_pa")], at[names::index_of(at, "strain")]};
    db_->query("SELECT " + select_list("samples", columns, version_) +
                   " FROM samples WHERE run_id = ? ORDER BY seq",
               {run_id}, [&](const SqlRow& row) {
                   each(ArchivedTrace{.t_s = row.real(0),
                                      .segment = row.text_view(1),
                                      .stress_pa = row.real(2),
                                      .strain = row.real(3)});
               });
}

std::vector<ArchivedEvent> RunArchive::events(std::int64_t run_id) const {
    std::vector<ArchivedEvent> events;
    db_->query(
        "SELECT t_s, t_wall_utc, kind, message FROM events WHERE run_id = ? ORDER BY t_s, id",
        {run_id}, [&](const SqlRow& row) {
            events.push_back({row.real(0), row.text(1), row.text(2), row.text(3)});
        });
    return events;
}

std::vector<ArchivedCycle> RunArchive::cycles(std::int64_t run_id) const {
    std::vector<ArchivedCycle> cycles;
    constexpr auto& at = names::cycles;
    db_->query("SELECT " + select_list("cycles", at, version_) +
                   " FROM cycles WHERE run_id = ? ORDER BY cycle",
               {run_id}, [&](const SqlRow& row) {
                   cycles.push_back(ArchivedCycle{
                       .cycle = static_cast<int>(row.integer(names::index_of(at, "cycle"))),
                       .t_start_s = row.real(names::index_of(at, "t_start_s")),
                       .t_end_s = row.real(names::index_of(at, "t_end_s")),
                       .stress_min_pa = row.real(names::index_of(at, "stress_min_pa")),
                       .stress_max_pa = row.real(names::index_of(at, "stress_max_pa")),
                       .strain_min = row.real(names::index_of(at, "strain_min")),
                       .strain_max = row.real(names::index_of(at, "strain_max"))});
               });
    return cycles;
}

std::vector<ArchivedDmta> RunArchive::dmta(std::int64_t run_id) const {
    std::vector<ArchivedDmta> rows;
    if (!has_dmta_) {
        return rows;
    }
    constexpr auto& at = names::dmta;
    db_->query("SELECT " + names::joined(at) + " FROM dmta WHERE run_id = ? ORDER BY seq", {run_id},
               [&](const SqlRow& row) {
                   rows.push_back(
                       ArchivedDmta{.seq = row.integer(names::index_of(at, "seq")),
                                    .t_s = row.real(names::index_of(at, "t_s")),
                                    .t_wall_utc = row.text(names::index_of(at, "t_wall_utc")),
                                    .frequency_hz = row.real(names::index_of(at, "frequency_hz")),
                                    .temperature_k = row.real(names::index_of(at, "temperature_k")),
                                    .storage_pa = row.real(names::index_of(at, "storage_pa")),
                                    .loss_pa = row.real(names::index_of(at, "loss_pa")),
                                    .tan_delta = row.real(names::index_of(at, "tan_delta"))});
               });
    return rows;
}

std::map<std::string, nlohmann::json> RunArchive::results(std::int64_t run_id) const {
    std::map<std::string, nlohmann::json> results;
    db_->query("SELECT kind, json FROM results WHERE run_id = ?", {run_id}, [&](const SqlRow& row) {
        const std::string kind = row.text(0);
        try {
            auto result = nlohmann::json::parse(row.text(1));
            // An older file is read as it is, its work_done stresses as Pa.
            if (kind == "work_done" && version_ < work_done_in_pa_since_version) {
                result = work_done_stresses_in_pa(std::move(result));
            }
            results[kind] = std::move(result);
        } catch (const nlohmann::json::exception& error) {
            throw io::InputError(file_.string() + ": run " + std::to_string(run_id) +
                                 ": stored result '" + kind + "' is not JSON: " + error.what());
        }
    });
    return results;
}

}  // namespace dmacycle::store
