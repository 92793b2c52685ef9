#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"

// Eqs. (4)-(5): cycles, hysteresis loop areas and the work done by stress cycling.
namespace dmacycle::analysis {

struct CycleRecord {
    double t_start_s = 0, t_end_s = 0;
    double stress_min_pa = 0, stress_max_pa = 0;
    double strain_min = 0, strain_max = 0, strain_creep = 0;
    double loop_area_j_m3 = 0;      // after removing the cycle's linear strain drift
    double loop_area_raw_j_m3 = 0;  // shoelace area of the raw (ε, σ) polygon
};

struct WorkDoneOptions {
    std::optional<double> molar_mass_g_mol;
    std::optional<double> density_g_cm3;
    // The record starts and ends at valleys of the triangle (a runner cutting its cycling
    // segment out of the plan knows this): the edge valleys are kept even where the stress there
    // differs from the interpolated corners of the interior ones, as when the triangle is
    // clipped at the pre-tension.
    bool edges_are_valleys = false;
};

struct WorkDone {
    FitSummary summary;
    std::vector<CycleRecord> cycles;  // complete σ_min → σ_max → σ_min cycles only
    double stress_creep_pa = 0;       // (σ_max + σ_min)/2
    double strain_creep = 0;          // of the last cycle (pure creep: the last strain)
    double v_creep_j_m3 = 0, v_cycling_j_m3 = 0, v_total_j_m3 = 0;
    std::optional<double> molar_mass_g_mol, work_done_kj_mol;
    // v_total, v_creep and the cumulative v_cycling after each completed cycle (pure creep: at
    // the last sample).
    std::vector<double> v_total_time_s, v_total_over_time_j_m3;
    std::vector<double> v_creep_over_time_j_m3, v_cycling_over_time_j_m3;
};

WorkDone analyze_cycling(std::span<const double> time_s, std::span<const double> stress_pa,
                         std::span<const double> strain, const WorkDoneOptions& options = {});

struct MolarMass {
    bool ok = false;
    double g_mol = 0;
    std::string error;  // what is wrong with the formula, when !ok
};

// "La30Ce30Ni10Al20Co10" (atomic fractions, any scale) → molar mass of the mixture.
MolarMass molar_mass_from_composition(std::string_view formula);

}  // namespace dmacycle::analysis
