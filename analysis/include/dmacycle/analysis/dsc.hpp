#pragma once
#include <optional>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"

// The relaxation enthalpy ΔH from a DSC scan pair (docs/dsc.md): the baseline scan (the same
// sample crystallized or relaxed, same heating rate) interpolated onto the sample's temperatures,
// the difference Φ_sample − Φ_baseline integrated over time across the sub-Tg exotherm.
namespace dmacycle::analysis {

// One heating scan in SI: heat flow per gram of sample, exothermic positive.
struct DscScan {
    std::vector<double> time_s;
    std::vector<double> temperature_k;
    std::vector<double> heat_flow_w_g;
};

struct DscOptions {
    // Integrate over [first, second] K instead of detecting the exotherm.
    std::optional<double> range_lo_k, range_hi_k;
};

struct DscEnthalpy {
    // invalid_input: the scans cannot be compared (too short, temperature not increasing, no
    // overlap, different heating rates); insufficient_data: no exotherm found.
    FitSummary summary;
    bool range_given = false;
    double range_lo_k = 0, range_hi_k = 0;  // integration limits (sample temperatures)
    double onset_k = 0, end_k = 0;          // where the exotherm crosses 10 % of its peak height
    double peak_k = 0, peak_w_g = 0;        // maximum of the smoothed difference
    double delta_h_j_g = 0;                 // ∫ (Φ_sample − Φ_baseline) dt over the range
    double delta_h_stderr_j_g = 0;          // noise and baseline-offset terms combined
    double noise_term_j_g = 0;              // white noise of the difference through the integral
    double offset_term_j_g = 0;             // mean difference beside the range × its duration
    double noise_w_g = 0;                   // point-to-point noise of the difference
    double sample_rate_k_min = 0, baseline_rate_k_min = 0;
    std::size_t points = 0;  // sample points in the range
};

DscEnthalpy analyze_dsc(const DscScan& sample, const DscScan& baseline,
                        const DscOptions& options = {});

// J/g → kJ/mol for a molar mass M in g/mol (J/g × M / 1000).
inline double j_g_to_kj_mol(double j_g, double molar_mass_g_mol) {
    return j_g * molar_mass_g_mol / 1000.0;
}

}  // namespace dmacycle::analysis
