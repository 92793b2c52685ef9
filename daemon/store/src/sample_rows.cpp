#include "sample_rows.hpp"

#include <chrono>

namespace dmacycle::store {
namespace {

void bind(SqlStatement& statement, int index, const codec::Cell& cell) {
    std::visit([&](auto value) { statement.bind(index, value); }, cell);
}

void bind(SqlStatement& statement, int index, const std::optional<double>& value) {
    if (value) {
        statement.bind(index, *value);
    } else {
        statement.bind(index, nullptr);
    }
}

}  // namespace

SampleRowWriter::SampleRowWriter(SqlConnection& db)
    : db_(db),
      insert_(db.statement(
          "INSERT OR IGNORE INTO sample_rows (run_id, seq, t_code, wall_code, segment_id, "
          "temperature_code, force_code, displacement_code, stress_pa, strain) VALUES (?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?)")) {}

void SampleRowWriter::forget() {
    lines_.clear();
    segments_.clear();
}

codec::RunLine read_run_line(SqlConnection& db, std::int64_t run_id, bool* has_origin) {
    codec::RunLine line;
    db.query(
        "SELECT first_seq, first_t_us, first_wall_ms, sample_step_us, cross_section_m2, "
        "gauge_length_m FROM runs WHERE id = ?",
        {run_id}, [&](const SqlRow& row) {
            if (has_origin != nullptr) {
                *has_origin = !row.null(0);
            }
            line = {.first_seq = row.integer(0),
                    .first_t_us = row.integer(1),
                    .first_wall_ms = row.integer(2),
                    .step_us = row.integer(3),
                    .cross_section_m2 = row.real(4),
                    .gauge_length_m = row.real(5)};
        });
    return line;
}

const codec::RunLine& SampleRowWriter::line_of(std::int64_t run_id, std::int64_t seq,
                                               const codec::Values& values) {
    if (const auto found = lines_.find(run_id); found != lines_.end()) {
        return found->second;
    }
    bool has_origin = false;
    codec::RunLine line = read_run_line(db_, run_id, &has_origin);
    if (!has_origin) {
        // Guarded, so a replay of the run's first rows cannot move an origin already set.
        line = codec::with_origin(line, seq, values);
        db_.run(
            "UPDATE runs SET first_seq = ?, first_t_us = ?, first_wall_ms = ? WHERE id = ? AND "
            "first_seq IS NULL",
            {line.first_seq, line.first_t_us, line.first_wall_ms, run_id});
    }
    return lines_.emplace(run_id, line).first->second;
}

std::int64_t SampleRowWriter::segment_id(const std::string& name) {
    if (const auto found = segments_.find(name); found != segments_.end()) {
        return found->second;
    }
    std::int64_t id = -1;
    db_.query("SELECT id FROM segments WHERE name = ?", {name},
              [&](const SqlRow& row) { id = row.integer(0); });
    if (id < 0) {
        db_.run("INSERT INTO segments (name) VALUES (?)", {name});
        id = db_.last_insert_id();
    }
    return segments_.emplace(name, id).first->second;
}

void SampleRowWriter::write(std::int64_t run_id, const SampleRow& row) {
    const codec::Values values{.t_s = row.t_s,
                               .wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                              row.t_wall.time_since_epoch())
                                              .count(),
                               .temperature_k = row.temperature_k,
                               .force_n = row.force_n,
                               .displacement_m = row.displacement_m,
                               .stress_pa = row.stress_pa,
                               .strain = row.strain};
    const auto codes = codec::encode(line_of(run_id, row.seq, values), row.seq, values);
    insert_.bind(1, run_id).bind(2, row.seq);
    bind(insert_, 3, codes.t);
    insert_.bind(4, codes.wall).bind(5, segment_id(row.segment));
    bind(insert_, 6, codes.temperature);
    bind(insert_, 7, codes.force);
    bind(insert_, 8, codes.displacement);
    bind(insert_, 9, codes.stress);
    bind(insert_, 10, codes.strain);
    insert_.run();
}

}  // namespace dmacycle::store
