#include "dmacycle/store/sample_codec.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace dmacycle::store::codec {
namespace {

constexpr std::array<double, 16> powers_of_10 = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr double max_abs_k = 0x1p48;

// first_t_us + (seq - first_seq) * step_us, evaluated as the view does; nullopt where SQLite's
// integer arithmetic would overflow (and turn REAL).
std::optional<std::int64_t> clock_line(const RunLine& line, std::int64_t seq) {
    std::int64_t steps = 0, offset = 0, at = 0;
    if (__builtin_sub_overflow(seq, line.first_seq, &steps) ||
        __builtin_mul_overflow(steps, line.step_us, &offset) ||
        __builtin_add_overflow(line.first_t_us, offset, &at)) {
        return std::nullopt;
    }
    return at;
}

// The whole ms of t that the wall code is relative to: the view's expression for each kind of
// t cell.
std::int64_t t_ms(const std::optional<std::int64_t>& ticks, double t_s) {
    return ticks ? *ticks / 1000 : sql_integer(t_s * 1000);
}

// Stress or strain: nullopt when `base / divisor` is the very value.
std::optional<double> unless_derived(double value, double base, double divisor) {
    if (divisor != 0 && std::isfinite(divisor) && same_bits(base / divisor, value)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

std::optional<std::int64_t> whole_us(double t_s) {
    if (!(std::fabs(t_s) < max_abs_t_s)) {
        return std::nullopt;
    }
    const auto ticks = std::llround(t_s * 1e6);
    if (!same_bits(static_cast<double>(ticks) / 1e6, t_s)) {
        return std::nullopt;
    }
    return ticks;
}

std::optional<std::int64_t> decimal_code(double x) {
    if (x == 0 && std::signbit(x)) {
        return std::nullopt;  // k = 0 would give back +0.0
    }
    for (std::size_t d = 0; d < powers_of_10.size(); ++d) {
        const double scaled = x * powers_of_10[d];
        if (!(std::fabs(scaled) < max_abs_k)) {
            return std::nullopt;
        }
        const auto k = std::llround(scaled);
        if (same_bits(static_cast<double>(k) / powers_of_10[d], x)) {
            return k * 16 + static_cast<std::int64_t>(d);
        }
    }
    return std::nullopt;
}

double decimal_value(std::int64_t code) {
    // >> of a negative code is arithmetic (C++20, and SQLite's): k keeps its sign.
    return static_cast<double>(code >> 4) / powers_of_10[static_cast<std::size_t>(code & 15)];
}

Cell value_cell(double x) {
    if (const auto code = decimal_code(x)) {
        return *code;
    }
    return x;
}

double cell_value(const Cell& cell) {
    if (const auto* code = std::get_if<std::int64_t>(&cell)) {
        return decimal_value(*code);
    }
    return std::get<double>(cell);
}

std::int64_t sql_integer(double x) {
    constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
    constexpr auto highest = std::numeric_limits<std::int64_t>::max();
    if (std::isnan(x)) {
        return 0;
    }
    if (x <= static_cast<double>(lowest)) {
        return lowest;
    }
    if (x >= static_cast<double>(highest)) {
        return highest;
    }
    return static_cast<std::int64_t>(x);
}

RunLine with_origin(RunLine line, std::int64_t seq, const Values& values) {
    line.first_seq = seq;
    line.first_t_us = whole_us(values.t_s).value_or(0);
    line.first_wall_ms = values.wall_ms;
    return line;
}

Codes encode(const RunLine& line, std::int64_t seq, const Values& values) {
    Codes codes;
    auto ticks = whole_us(values.t_s);
    const auto at = clock_line(line, seq);
    std::int64_t t_code = 0;
    if (ticks && at && !__builtin_sub_overflow(*ticks, *at, &t_code)) {
        codes.t = t_code;
    } else {
        ticks.reset();
        codes.t = values.t_s;
    }
    // Bounded by |t_s| < max_abs_t_s and the clock's range: no overflow.
    codes.wall = values.wall_ms - line.first_wall_ms - t_ms(ticks, values.t_s);
    codes.temperature = value_cell(values.temperature_k);
    codes.force = value_cell(values.force_n);
    codes.displacement = value_cell(values.displacement_m);
    codes.stress = unless_derived(values.stress_pa, values.force_n, line.cross_section_m2);
    codes.strain = unless_derived(values.strain, values.displacement_m, line.gauge_length_m);
    return codes;
}

Values decode(const RunLine& line, std::int64_t seq, const Codes& codes) {
    Values values;
    std::optional<std::int64_t> ticks;
    if (const auto* t_code = std::get_if<std::int64_t>(&codes.t)) {
        ticks = *clock_line(line, seq) + *t_code;
        values.t_s = static_cast<double>(*ticks) / 1e6;
    } else {
        values.t_s = std::get<double>(codes.t);
    }
    values.wall_ms = line.first_wall_ms + codes.wall + t_ms(ticks, values.t_s);
    values.temperature_k = cell_value(codes.temperature);
    values.force_n = cell_value(codes.force);
    values.displacement_m = cell_value(codes.displacement);
    values.stress_pa = codes.stress.value_or(values.force_n / line.cross_section_m2);
    values.strain = codes.strain.value_or(values.displacement_m / line.gauge_length_m);
    return values;
}

std::string cell_sql(std::string_view cell) {
    const std::string c(cell);
    std::string divisor = "CASE " + c + " & 15";
    for (std::size_t d = 0; d < powers_of_10.size(); ++d) {
        divisor += " WHEN " + std::to_string(d) + " THEN 1e" + std::to_string(d);
    }
    return "CASE WHEN typeof(" + c + ") = 'integer' THEN (" + c + " >> 4) / " + divisor +
           " END ELSE " + c + " END";
}

std::string samples_view_sql() {
    const std::string ticks =
        "(u.first_t_us + (r.seq - u.first_seq) * u.sample_step_us + r.t_code)";
    const std::string is_ticks = "typeof(r.t_code) = 'integer'";
    const std::string force = cell_sql("r.force_code");
    const std::string displacement = cell_sql("r.displacement_code");
    return "CREATE VIEW samples AS\nSELECT r.run_id AS run_id, r.seq AS seq,\n    CASE WHEN " +
           is_ticks + " THEN " + ticks + " / 1e6 ELSE r.t_code END AS t_s,\n" +
           "    strftime('%Y-%m-%dT%H:%M:%fZ', (u.first_wall_ms + r.wall_code + CASE WHEN " +
           is_ticks + " THEN " + ticks +
           " / 1000 ELSE CAST(r.t_code * 1000 AS INTEGER) END) / 1000.0, 'unixepoch') AS "
           "t_wall_utc,\n    g.name AS segment,\n    " +
           cell_sql("r.temperature_code") + " AS temperature_k,\n    " + force +
           " AS force_n,\n    " + displacement +
           " AS displacement_m,\n    coalesce(r.stress_pa, (" + force +
           ") / u.cross_section_m2) AS stress_pa,\n    coalesce(r.strain, (" + displacement +
           ") / u.gauge_length_m) AS strain\n" +
           "FROM sample_rows r JOIN runs u ON u.id = r.run_id JOIN segments g ON g.id = "
           "r.segment_id;\n";
}

}  // namespace dmacycle::store::codec
