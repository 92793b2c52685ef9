// The version-6 upgrade of a store's samples: every row of the old `samples` table moved into
// `sample_rows` as codes (store::codec), exact to the bit against what the old table read.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "dmacycle/store/sample_codec.hpp"
#include "store_schema.hpp"

namespace dmacycle::store {
namespace {

// ms since the epoch of a wall-clock text exactly as UtcText writes it; nullopt for any other.
std::optional<std::int64_t> utc_ms(const char* text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0, length = 0;
    if (text == nullptr || std::sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &year, &month, &day,
                                       &hour, &minute, &second, &ms, &length) != 7) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const auto date =
        year_month_day(std::chrono::year(year), std::chrono::month(month), std::chrono::day(day));
    if (!date.ok()) {
        return std::nullopt;
    }
    const auto at =
        sys_days(date) + hours(hour) + minutes(minute) + seconds(second) + milliseconds(ms);
    const auto count = at.time_since_epoch().count();
    if (UtcText(WallClock::time_point(milliseconds(count))).view() != text) {
        return std::nullopt;  // e.g. 24:00:00, or anything after the Z
    }
    return count;
}

double real(sqlite3_value* value) {
    return sqlite3_value_double(value);
}

std::int64_t integer(sqlite3_value* value) {
    return sqlite3_value_int64(value);
}

// The line a sample's t and wall codes are relative to, from (first_seq, first_t_us, step_us,
// first_wall_ms) arguments starting at `at`.
codec::RunLine line_from(sqlite3_value** argv, int at) {
    return {.first_seq = integer(argv[at]),
            .first_t_us = integer(argv[at + 1]),
            .first_wall_ms = integer(argv[at + 3]),
            .step_us = integer(argv[at + 2])};
}

void result(sqlite3_context* context, const codec::Cell& cell) {
    if (const auto* code = std::get_if<std::int64_t>(&cell)) {
        sqlite3_result_int64(context, *code);
    } else {
        sqlite3_result_double(context, std::get<double>(cell));
    }
}

// dmacycle_utc_ms(text): its ms since the epoch, NULL unless UtcText wrote it.
void utc_ms_function(sqlite3_context* context, int, sqlite3_value** argv) {
    if (const auto ms = utc_ms(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])))) {
        sqlite3_result_int64(context, *ms);
    } else {
        sqlite3_result_null(context);
    }
}

// dmacycle_whole_us(t_s): t in whole µs, NULL unless exact.
void whole_us_function(sqlite3_context* context, int, sqlite3_value** argv) {
    if (const auto ticks = codec::whole_us(real(argv[0]))) {
        sqlite3_result_int64(context, *ticks);
    } else {
        sqlite3_result_null(context);
    }
}

// dmacycle_time_codes(run_id, seq, t_s, t_wall_utc, first_seq, first_t_us, step_us,
// first_wall_ms, which): the t code (which = 0) or the wall code (1); an error naming the run
// and seq for a wall clock UtcText did not write.
void time_codes_function(sqlite3_context* context, int, sqlite3_value** argv) {
    const auto seq = integer(argv[1]);
    const auto* wall = reinterpret_cast<const char*>(sqlite3_value_text(argv[3]));
    const auto wall_ms = utc_ms(wall);
    if (!wall_ms) {
        const std::string message = "run " + std::to_string(integer(argv[0])) + " seq " +
                                    std::to_string(seq) + ": t_wall_utc '" +
                                    (wall ? wall : "NULL") + "' is not ISO 8601 UTC with ms";
        sqlite3_result_error(context, message.c_str(), -1);
        return;
    }
    const auto codes =
        codec::encode(line_from(argv, 4), seq, {.t_s = real(argv[2]), .wall_ms = *wall_ms});
    if (integer(argv[8]) == 0) {
        result(context, codes.t);
    } else {
        sqlite3_result_int64(context, codes.wall);
    }
}

// dmacycle_value_code(x): k·16 + d, or x.
void value_code_function(sqlite3_context* context, int, sqlite3_value** argv) {
    result(context, codec::value_cell(real(argv[0])));
}

// dmacycle_unless_derived(value, base, divisor): NULL when base / divisor is the very value.
void unless_derived_function(sqlite3_context* context, int, sqlite3_value** argv) {
    const double divisor = sqlite3_value_type(argv[2]) == SQLITE_NULL ? 0 : real(argv[2]);
    const auto codes = codec::encode({.cross_section_m2 = divisor}, 0,
                                     {.force_n = real(argv[1]), .stress_pa = real(argv[0])});
    if (codes.stress) {
        sqlite3_result_double(context, *codes.stress);
    } else {
        sqlite3_result_null(context);
    }
}

struct Function {
    const char* name;
    int arguments;
    SqlConnection::Function function;
};
constexpr Function functions[] = {{"dmacycle_utc_ms", 1, utc_ms_function},
                                  {"dmacycle_whole_us", 1, whole_us_function},
                                  {"dmacycle_time_codes", 9, time_codes_function},
                                  {"dmacycle_value_code", 1, value_code_function},
                                  {"dmacycle_unless_derived", 3, unless_derived_function}};

// Each run's line from its first sample, its step from its first and last, its divisors from
// its first row with nonzero values: only predictions (a poor one costs bytes, never a value).
constexpr const char* runs_sql = R"sql(
ALTER TABLE runs ADD COLUMN cross_section_m2 REAL;
ALTER TABLE runs ADD COLUMN gauge_length_m REAL;
ALTER TABLE runs ADD COLUMN sample_step_us INTEGER;
ALTER TABLE runs ADD COLUMN first_seq INTEGER;
ALTER TABLE runs ADD COLUMN first_t_us INTEGER;
ALTER TABLE runs ADD COLUMN first_wall_ms INTEGER;
UPDATE runs SET first_seq = (SELECT min(seq) FROM samples WHERE run_id = runs.id);
UPDATE runs SET
    first_t_us = coalesce((SELECT dmacycle_whole_us(t_s) FROM samples
                           WHERE run_id = runs.id AND seq = runs.first_seq), 0),
    first_wall_ms = coalesce((SELECT dmacycle_utc_ms(t_wall_utc) FROM samples
                              WHERE run_id = runs.id AND seq = runs.first_seq), 0),
    sample_step_us = coalesce((SELECT CAST(round((max(t_s) - min(t_s)) * 1e6 /
                                                 (max(seq) - min(seq))) AS INTEGER)
                               FROM samples WHERE run_id = runs.id HAVING max(seq) > min(seq)), 0),
    cross_section_m2 = (SELECT force_n / stress_pa FROM samples WHERE run_id = runs.id
                        AND force_n != 0 AND stress_pa != 0 ORDER BY seq LIMIT 1),
    gauge_length_m = (SELECT displacement_m / strain FROM samples WHERE run_id = runs.id
                      AND displacement_m != 0 AND strain != 0 ORDER BY seq LIMIT 1)
WHERE first_seq IS NOT NULL;
)sql";

constexpr const char* rows_sql = R"sql(
INSERT OR IGNORE INTO segments (name) SELECT DISTINCT segment FROM samples;
INSERT INTO sample_rows
SELECT s.run_id, s.seq,
       dmacycle_time_codes(s.run_id, s.seq, s.t_s, s.t_wall_utc, r.first_seq, r.first_t_us,
                           r.sample_step_us, r.first_wall_ms, 0),
       dmacycle_time_codes(s.run_id, s.seq, s.t_s, s.t_wall_utc, r.first_seq, r.first_t_us,
                           r.sample_step_us, r.first_wall_ms, 1),
       g.id, dmacycle_value_code(s.temperature_k), dmacycle_value_code(s.force_n),
       dmacycle_value_code(s.displacement_m),
       dmacycle_unless_derived(s.stress_pa, s.force_n, r.cross_section_m2),
       dmacycle_unless_derived(s.strain, s.displacement_m, r.gauge_length_m)
FROM samples s JOIN runs r ON r.id = s.run_id JOIN segments g ON g.name = s.segment
ORDER BY s.run_id, s.seq;
)sql";

}  // namespace

void upgrade_samples_to_rows(SqlConnection& db) {
    for (const auto& f : functions) {
        db.define_function(f.name, f.arguments, f.function);
    }
    db.exec(runs_sql);
    db.exec(sample_tables_sql());
    db.exec(rows_sql);
    const auto old_rows = std::stoll(db.text("SELECT count(*) FROM samples"));
    const auto new_rows = std::stoll(db.text("SELECT count(*) FROM sample_rows"));
    if (old_rows != new_rows) {
        throw StoreError(std::to_string(old_rows - new_rows) +
                         " samples belong to no run in `runs`: not upgraded");
    }
    // Debian's SQLite zeroes every dropped page through the WAL (SECURE_DELETE): FAST frees the
    // old table's pages without writing each one again.
    const auto secure_delete = db.text("PRAGMA secure_delete");
    db.exec("PRAGMA secure_delete = FAST; DROP TABLE samples; " + codec::samples_view_sql() +
            "PRAGMA secure_delete = " + secure_delete);
    for (const auto& f : functions) {
        db.define_function(f.name, f.arguments, nullptr);
    }
}

}  // namespace dmacycle::store
