#pragma once
// For the store benchmarks: samples as the frame sends them and the runner makes them
// (drivers/src/scpi_frame.cpp, Run::make_row_locked): instrument time with 6 decimals, force 7
// significant digits, displacement 9 (1 nm quantum), temperature 3 decimals, each parsed from
// its text, with noise; t_s the instrument's time minus the first's; stress and strain force /
// area and displacement / gauge length; the wall clock the run's start + t + 0-3 ms. (Smooth
// synthetic values would flatter the store's codes.)
#include <charconv>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "dmacycle/store/sample_store.hpp"

inline constexpr double cross_section_m2 = 1.2e-3 * 30e-6, gauge_length_m = 10e-3;

// `value` as the instrument's text gives it: `precision` digits in `format`, parsed.
inline double sent(double value, std::chars_format format, int precision) {
    char text[64];
    const auto end = std::to_chars(text, text + sizeof text, value, format, precision);
    double parsed = 0;
    std::from_chars(text, end.ptr, parsed);
    return parsed;
}

// 0-200 MPa triangles at 50 MPa/min: the main job's cycling record, at `rate_hz`.
inline std::vector<dmacycle::store::SampleRow> instrument_rows(std::size_t count, double rate_hz,
                                                               bool whole_us_t = true) {
    using namespace dmacycle::store;
    std::vector<SampleRow> rows(count);
    std::mt19937_64 random(5);
    std::normal_distribution<double> noise(0, 1);
    std::uniform_int_distribution<int> jitter_ms(0, 3);
    const auto start = WallClock::now();
    const double t_first = sent(1234.567891, std::chars_format::fixed, 6);
    for (std::size_t i = 0; i < count; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        const double phase = std::fmod(t, 480.0);
        const double stress = (phase < 240 ? phase * 50 / 60 : 200 - (phase - 240) * 50 / 60) * 1e6;
        auto& row = rows[i];
        row.seq = static_cast<std::int64_t>(i);
        // Run::make_row_locked: the difference in whole µs (both times have 6 decimals); before
        // store version 6, a double subtraction.
        const double t_sent = sent(t_first + t, std::chars_format::fixed, 6);
        const double whole =
            static_cast<double>(std::llround(t_sent * 1e6) - std::llround(t_first * 1e6)) / 1e6;
        row.t_s = whole_us_t ? whole : t_sent - t_first;
        row.t_wall = start + std::chrono::milliseconds(std::llround(t * 1000) + jitter_ms(random));
        row.segment = "cycle";
        row.temperature_k = sent(365.0 + 0.02 * noise(random), std::chars_format::fixed, 3);
        row.force_n = sent(stress * cross_section_m2 + 1e-3 * noise(random),
                           std::chars_format::scientific, 6);
        row.displacement_m = sent(std::round((stress / 36e9 * gauge_length_m) * 1e9) * 1e-9,
                                  std::chars_format::scientific, 8);
        row.stress_pa = row.force_n / cross_section_m2;
        row.strain = row.displacement_m / gauge_length_m;
    }
    return rows;
}
