#pragma once
#include "job_reader.hpp"

// Private: the allowed range of each job-file field, in one table so that the bounds can be
// compared at a glance.
namespace dmacycle::protocols::detail {

// The frame's and the program's bounds on each field (TA Q800 where the instrument sets them).
// The furnace: −150…600 °C.
inline constexpr Range temperature_range{Dimension::temperature, 123.15, "K", 873.15, "K"};
inline constexpr Range tolerance_range{Dimension::temperature_difference, 0.05, "K", 10, "K"};
inline constexpr Range timeout_range{Dimension::time, 60, "min", 24 * 3600.0, "h"};
// Within the shortest timeout.
inline constexpr Range settle_range{Dimension::time, 0, "s", 30 * 60.0, "min"};
inline constexpr Range hold_range{Dimension::time, 0, "s", 24 * 3600.0, "h"};
// From the Q800's minimum force.
inline constexpr Range pre_tension_range{Dimension::force, 1e-4, "mN", 1, "N"};
inline constexpr Range stress_range{Dimension::stress, 0, "MPa", 5e9, "MPa"};
inline constexpr Range stress_rate_range{Dimension::stress_rate, 0.1e6 / 60, "MPa/min", 1000e6 / 60,
                                         "MPa/min"};
inline constexpr Range run_duration_range{Dimension::time, 60, "min", 168 * 3600.0, "h"};
inline constexpr Range width_range{Dimension::length, 0.1e-3, "mm", 15e-3, "mm"};
inline constexpr Range thickness_range{Dimension::length, 1e-6, "µm", 2e-3, "mm"};
inline constexpr Range gauge_length_range{Dimension::length, 5e-3, "mm", 30e-3, "mm"};
inline constexpr Range density_range{Dimension::density, 1e3, "g/cm3", 25e3, "g/cm3"};
inline constexpr Range max_stress_range{Dimension::stress, 1e6, "MPa", 5e9, "MPa"};
inline constexpr Range max_strain_range{Dimension::strain, 1e-3, "%", 1, "%"};
inline constexpr Range band_range{Dimension::temperature_difference, 0.1, "K", 20, "K"};
inline constexpr Range stale_link_range{Dimension::time, 0.1, "s", 60, "s"};
// The fastest stream of any frame driver (dmacycle-scpi: 1 kHz); the profile narrows it.
inline constexpr Range sample_rate_range{Dimension::frequency, 0.001, "Hz", 1000, "Hz"};
inline constexpr Range tau_min_range{Dimension::time, 1e-4, "s", 1e4, "s"};
inline constexpr Range tau_max_range{Dimension::time, 1, "s", 1e10, "s"};
// DMTA scans (TA Q800: heating up to 20 K/min, 0.01-200 Hz); the profile narrows them.
inline constexpr Range heating_rate_range{Dimension::temperature_rate, 0.1 / 60, "K/min", 20.0 / 60,
                                          "K/min"};
inline constexpr Range frequency_range{Dimension::frequency, 0.01, "Hz", 200, "Hz"};
inline constexpr Range dmta_amplitude_range{Dimension::length, 0.1e-6, "µm", 1e-3, "mm"};
inline constexpr Range dmta_interval_range{Dimension::time, 0.1, "s", 600, "min"};
inline constexpr Range after_recovery_range{Dimension::time, 0, "h", 168 * 3600.0, "h"};

}  // namespace dmacycle::protocols::detail
