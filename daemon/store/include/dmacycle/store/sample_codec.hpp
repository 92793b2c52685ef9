#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

// How a sample is stored compactly and exactly: small integers relative to the run's clock line and
// the instrument's decimals, or the value itself when no code gives back its very bits. The writer,
// the upgrade and the reader use these; the `samples` view decodes the same codes in SQL
// (samples_view_sql), and tests keep the two equal.
namespace dmacycle::store::codec {

// The same double, bit for bit (unlike ==, which has -0.0 == 0.0).
bool same_bits(double a, double b);

// A stored cell: an integer code, or the value itself (a REAL) when no code is exact.
using Cell = std::variant<std::int64_t, double>;

// t in whole µs when ticks / 1e6 is the very double t_s; |t_s| < max_abs_t_s.
std::optional<std::int64_t> whole_us(double t_s);
inline constexpr double max_abs_t_s = 1e12;  // the store refuses samples beyond (31,700 years)

// k·16 + d meaning k / 10^d (d in 0..15, |k| < 2^48), the smallest d that gives back x's bits:
// a value the instrument sent as a short decimal. nullopt for -0.0 and anything else.
std::optional<std::int64_t> decimal_code(double x);
double decimal_value(std::int64_t code);
Cell value_cell(double x);  // decimal_code(x), else x
double cell_value(const Cell& cell);

// SQLite's CAST(x AS INTEGER): truncated, saturated at the int64 limits.
std::int64_t sql_integer(double x);

// What a run's codes are relative to (the runs table's columns of the same names).
struct RunLine {
    std::int64_t first_seq = 0, first_t_us = 0, first_wall_ms = 0;
    std::int64_t step_us = 0;  // µs from one seq to the next; 0: unknown
    // The runner's divisors (stress = force / cross-section, strain = displacement / gauge
    // length); 0: unknown, so stress and strain are stored.
    double cross_section_m2 = 0, gauge_length_m = 0;
};

// A sample's values, as SampleRow has them; the wall clock in ms since the epoch.
struct Values {
    double t_s = 0;
    std::int64_t wall_ms = 0;
    double temperature_k = 0, force_n = 0, displacement_m = 0, stress_pa = 0, strain = 0;
};

// A sample's codes, as sample_rows stores them; stress and strain nullopt (NULL) when the
// run's divisor gives them.
struct Codes {
    Cell t;                 // µs off the run's clock line, or t_s
    std::int64_t wall = 0;  // ms off first_wall_ms + t in whole ms
    Cell temperature, force, displacement;
    std::optional<double> stress, strain;
};

// The run's origin when `seq` with these values is its first stored sample.
RunLine with_origin(RunLine line, std::int64_t seq, const Values& values);
// Exact for any finite values with |t_s| < max_abs_t_s: decode(line, seq, encode(...)) gives
// back the same bits.
Codes encode(const RunLine& line, std::int64_t seq, const Values& values);
Values decode(const RunLine& line, std::int64_t seq, const Codes& codes);

// The SQL twin of decimal_value/cell_value for a cell column (e.g. "r.force_code").
std::string cell_sql(std::string_view cell);
// CREATE VIEW samples: sample_rows decoded to the columns of names::samples.
std::string samples_view_sql();

}  // namespace dmacycle::store::codec
