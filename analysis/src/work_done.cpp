#include "dmacycle/analysis/work_done.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dmacycle/analysis/numerics.hpp"

namespace dmacycle::analysis {
namespace {

constexpr double pa_per_mpa = 1e6;
constexpr std::size_t min_points = 10;
constexpr std::size_t median_half_width = 2;  // 5-point median: removes spikes of 1–2 samples

WorkDone failure(FitStatus status, std::string message) {
    WorkDone out;
    out.summary = FitSummary::failure(status, std::move(message));
    return out;
}

// q-quantile (0..1) of a copy of the values.
double quantile(std::span<const double> values, double q) {
    std::vector<double> copy(values.begin(), values.end());
    const auto k = static_cast<std::size_t>(q * static_cast<double>(copy.size() - 1));
    auto kth = copy.begin() + static_cast<std::ptrdiff_t>(k);
    std::nth_element(copy.begin(), kth, copy.end());
    return *kth;
}

double median_of(std::vector<double> values) {
    return values.empty() ? 0.0 : quantile(values, 0.5);
}

std::vector<double> median_filter(std::span<const double> values) {
    const std::size_t n = values.size();
    std::vector<double> out(values.begin(), values.end());
    if (n <= 2 * median_half_width) {
        return out;
    }
    std::array<double, 2 * median_half_width + 1> window{};
    for (std::size_t i = median_half_width; i + median_half_width < n; ++i) {
        std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(i - median_half_width),
                    window.size(), window.begin());
        std::nth_element(window.begin(), window.begin() + median_half_width, window.end());
        out[i] = window[median_half_width];
    }
    return out;
}

double median_abs_step(std::span<const double> values) {
    std::vector<double> steps;
    steps.reserve(values.size());
    for (std::size_t i = 1; i < values.size(); ++i) {
        steps.push_back(std::abs(values[i] - values[i - 1]));
    }
    return median_of(std::move(steps));
}

// Replaces isolated spikes by the running median. A sample is a spike when it departs from the
// median by much more than both the noise and the typical sample-to-sample change, so that the
// sharp corners of the triangle wave are kept.
std::vector<double> despike(std::span<const double> values, const std::vector<double>& median,
                            double noise, double typical_step) {
    const double threshold = std::max(8.0 * noise, 3.0 * typical_step);
    std::vector<double> out(values.begin(), values.end());
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (std::abs(out[i] - median[i]) > threshold) {
            out[i] = median[i];
        }
    }
    return out;
}

struct Valley {
    std::size_t index;
    bool at_record_edge;  // the low excursion touches the start or end of the record
};

// Valleys of a triangle wave: hysteresis at 25 %/75 % of the robust range splits the record into
// alternating low and high excursions (noise near one threshold cannot toggle the state); the
// valley of each low excursion is the minimum of the smoothed stress, refined on the despiked
// stress (the median filter flattens the corner of the triangle over three samples).
std::vector<Valley> find_valleys(const std::vector<double>& smooth_mpa,
                                 const std::vector<double>& clean_mpa, double low_mpa,
                                 double high_mpa) {
    std::vector<Valley> valleys;
    bool in_low = false;
    std::size_t low_start = 0;
    std::size_t argmin = 0;
    for (std::size_t i = 0; i < smooth_mpa.size(); ++i) {
        const double s = smooth_mpa[i];
        if (in_low) {
            if (s > high_mpa) {
                valleys.push_back({argmin, low_start == 0});
                in_low = false;
            } else if (s < smooth_mpa[argmin]) {
                argmin = i;
            }
        } else if (s < low_mpa) {
            in_low = true;
            low_start = i;
            argmin = i;
        }
    }
    if (in_low) {
        valleys.push_back({argmin, true});
    }
    for (Valley& v : valleys) {
        const std::size_t lo = v.index - std::min(v.index, median_half_width);
        const std::size_t hi = std::min(clean_mpa.size() - 1, v.index + median_half_width);
        v.index = static_cast<std::size_t>(
            std::min_element(clean_mpa.begin() + static_cast<std::ptrdiff_t>(lo),
                             clean_mpa.begin() + static_cast<std::ptrdiff_t>(hi) + 1) -
            clean_mpa.begin());
    }
    return valleys;
}

}  // namespace

namespace {

std::string input_problem(std::span<const double> time_s, std::span<const double> stress_mpa,
                          std::span<const double> strain) {
    if (time_s.size() != stress_mpa.size() || time_s.size() != strain.size()) {
        return "time, stress and strain differ in length (" + std::to_string(time_s.size()) + ", " +
               std::to_string(stress_mpa.size()) + ", " + std::to_string(strain.size()) + ")";
    }
    for (std::size_t i = 0; i < time_s.size(); ++i) {
        if (!std::isfinite(time_s[i]) || !std::isfinite(stress_mpa[i]) ||
            !std::isfinite(strain[i])) {
            return "non-finite value in row " + std::to_string(i);
        }
        if (i > 0 && time_s[i] < time_s[i - 1]) {
            return "time goes backwards at row " + std::to_string(i);
        }
    }
    return {};
}

// ∮σ dε of the closed polygon of rows [first, last] (trapezoids, then the closing edge back to
// the first row); positive when the strain lags the stress, i.e. for a dissipative loop. The
// drift (strain per second) is removed from ε first.
double loop_area_j_m3(std::span<const double> time_s, const std::vector<double>& stress_mpa,
                      const std::vector<double>& strain, std::size_t first, std::size_t last,
                      double drift_per_s) {
    const auto corrected = [&](std::size_t i) {
        return strain[i] - strain[first] - drift_per_s * (time_s[i] - time_s[first]);
    };
    double sum_mpa = 0.0;
    for (std::size_t i = first; i < last; ++i) {
        sum_mpa += (stress_mpa[i] + stress_mpa[i + 1]) * (corrected(i + 1) - corrected(i));
    }
    sum_mpa += (stress_mpa[last] + stress_mpa[first]) * (corrected(first) - corrected(last));
    return 0.5 * sum_mpa * pa_per_mpa;
}

// Value at `first` of the least-squares line through rows [first, last] (in either order).
double line_at(std::span<const double> time_s, const std::vector<double>& y, std::size_t first,
               std::size_t last) {
    const std::size_t lo = std::min(first, last), hi = std::max(first, last);
    const auto count = static_cast<double>(hi - lo + 1);
    double mean_t = 0, mean_y = 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        mean_t += time_s[i] - time_s[first];
        mean_y += y[i];
    }
    mean_t /= count;
    mean_y /= count;
    double stt = 0, sty = 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        const double dt = time_s[i] - time_s[first] - mean_t;
        stt += dt * dt;
        sty += dt * (y[i] - mean_y);
    }
    return stt > 0 ? mean_y - sty / stt * mean_t : mean_y;
}

// Strain at a valley, robust to the strain noise that would otherwise enter the drift
// correction at full weight: the mean of lines fitted just before and just after the valley
// (one side at the record's edges). Lines, not plain means, because the strain has a corner
// there whose slopes differ between the first loading and later cycles.
double corner_strain(std::span<const double> time_s, const std::vector<double>& strain,
                     std::size_t valley, std::size_t half_window) {
    double sum = 0.0;
    int sides = 0;
    if (valley >= 2) {
        sum += line_at(time_s, strain, valley, valley - std::min(half_window, valley));
        ++sides;
    }
    if (valley + 2 < strain.size()) {
        sum += line_at(time_s, strain, valley,
                       valley + std::min(half_window, strain.size() - 1 - valley));
        ++sides;
    }
    return sides > 0 ? sum / sides : strain[valley];
}

void add_work_done_per_mole(WorkDone& out, const WorkDoneOptions& options) {
    out.molar_mass_g_mol = options.molar_mass_g_mol;
    if (!options.molar_mass_g_mol || !options.density_g_cm3) {
        return;
    }
    const double molar_mass = *options.molar_mass_g_mol;
    const double density = *options.density_g_cm3;
    if (!(std::isfinite(molar_mass) && molar_mass > 0 && std::isfinite(density) && density > 0)) {
        out.summary.message += "; molar mass and density must be positive: no work per mole";
        return;
    }
    // V_m = M/ρ in cm³/mol → m³/mol; J/mol → kJ/mol.
    const double molar_volume_m3_mol = molar_mass / density * 1e-6;
    out.work_done_kj_mol = out.v_total_j_m3 * molar_volume_m3_mol / 1000.0;
}

}  // namespace

WorkDone analyze_cycling(std::span<const double> time_s, std::span<const double> stress_mpa,
                         std::span<const double> strain, const WorkDoneOptions& options) {
    if (const std::string problem = input_problem(time_s, stress_mpa, strain); !problem.empty()) {
        return failure(FitStatus::invalid_input, problem);
    }
    const std::size_t n = time_s.size();
    if (n < min_points) {
        return failure(FitStatus::insufficient_data, "need at least " + std::to_string(min_points) +
                                                         " rows, got " + std::to_string(n));
    }

    const double stress_noise_mpa = estimate_noise(stress_mpa);
    const double stress_step_mpa = median_abs_step(stress_mpa);
    const std::vector<double> smooth_mpa = median_filter(stress_mpa);
    const std::vector<double> clean_mpa =
        despike(stress_mpa, smooth_mpa, stress_noise_mpa, stress_step_mpa);
    const std::vector<double> clean_strain =
        despike(strain, median_filter(strain), estimate_noise(strain), median_abs_step(strain));

    // Percentiles ignore the occasional spike that would stretch a min/max range.
    const double lo_mpa = quantile(stress_mpa, 0.01);
    const double range_mpa = quantile(stress_mpa, 0.99) - lo_mpa;
    const double median_mpa = quantile(stress_mpa, 0.5);

    WorkDone out;
    if (range_mpa < std::max(1.0, 0.02 * std::abs(median_mpa))) {
        // Pure creep: the mean of the last samples averages the strain noise (10 samples of a
        // creep curve move far less than the noise).
        const std::size_t tail = std::min<std::size_t>(10, n);
        double strain_end = 0.0;
        for (std::size_t i = n - tail; i < n; ++i) {
            strain_end += clean_strain[i];
        }
        out.stress_creep_mpa = median_mpa;
        out.strain_creep = strain_end / static_cast<double>(tail);
        out.v_creep_j_m3 = out.stress_creep_mpa * pa_per_mpa * out.strain_creep;
        out.v_total_j_m3 = out.v_creep_j_m3;
        out.v_total_time_s = {time_s[n - 1]};
        out.v_total_over_time_j_m3 = {out.v_total_j_m3};
        out.summary = FitSummary::success("pure creep at " + std::to_string(median_mpa) +
                                          " MPa: no stress cycles");
        add_work_done_per_mole(out, options);
        return out;
    }

    std::vector<Valley> valleys =
        find_valleys(smooth_mpa, clean_mpa, lo_mpa + 0.25 * range_mpa, lo_mpa + 0.75 * range_mpa);
    // A valley at the record's edge is real only if the stress there reached the level of the
    // other valleys; otherwise the record starts or ends mid-ramp (a partial cycle).
    std::vector<double> interior_levels_mpa;
    for (const Valley& v : valleys) {
        if (!v.at_record_edge) {
            interior_levels_mpa.push_back(clean_mpa[v.index]);
        }
    }
    const double valley_level_mpa = interior_levels_mpa.empty()
                                        ? *std::min_element(clean_mpa.begin(), clean_mpa.end())
                                        : median_of(interior_levels_mpa);
    const double level_tolerance_mpa =
        std::max({6.0 * stress_noise_mpa, 1.5 * stress_step_mpa, 0.005 * range_mpa});
    std::erase_if(valleys, [&](const Valley& v) {
        return v.at_record_edge &&
               std::abs(clean_mpa[v.index] - valley_level_mpa) > level_tolerance_mpa;
    });

    for (std::size_t k = 0; k + 1 < valleys.size(); ++k) {
        const std::size_t first = valleys[k].index;
        const std::size_t last = valleys[k + 1].index;
        const double period_s = time_s[last] - time_s[first];
        if (!(period_s > 0)) {
            continue;
        }
        CycleRecord c;
        c.t_start_s = time_s[first];
        c.t_end_s = time_s[last];
        const auto stress_span = std::span(clean_mpa).subspan(first, last - first + 1);
        const auto strain_span = std::span(clean_strain).subspan(first, last - first + 1);
        const auto [smin, smax] = std::minmax_element(stress_span.begin(), stress_span.end());
        const auto [emin, emax] = std::minmax_element(strain_span.begin(), strain_span.end());
        c.stress_min_mpa = *smin;
        c.stress_max_mpa = *smax;
        c.strain_min = *emin;
        c.strain_max = *emax;
        c.strain_creep = 0.5 * (c.strain_max + c.strain_min);
        const std::size_t half_window = std::clamp<std::size_t>((last - first) / 100, 2, 50);
        const double drift_per_s = (corner_strain(time_s, clean_strain, last, half_window) -
                                    corner_strain(time_s, clean_strain, first, half_window)) /
                                   period_s;
        c.loop_area_j_m3 =
            loop_area_j_m3(time_s, clean_mpa, clean_strain, first, last, drift_per_s);
        c.loop_area_raw_j_m3 = loop_area_j_m3(time_s, clean_mpa, clean_strain, first, last, 0.0);
        out.cycles.push_back(c);
    }
    if (out.cycles.empty()) {
        return failure(FitStatus::insufficient_data,
                       "stress varies over " + std::to_string(range_mpa) +
                           " MPa but the record holds no complete cycle");
    }

    std::vector<double> mean_stresses_mpa;
    for (const CycleRecord& c : out.cycles) {
        mean_stresses_mpa.push_back(0.5 * (c.stress_min_mpa + c.stress_max_mpa));
    }
    out.stress_creep_mpa = median_of(mean_stresses_mpa);
    const double stress_creep_pa = out.stress_creep_mpa * pa_per_mpa;
    double v_cycling = 0.0;
    for (const CycleRecord& c : out.cycles) {
        v_cycling += c.loop_area_j_m3;
        out.v_total_time_s.push_back(c.t_end_s);
        out.v_total_over_time_j_m3.push_back(stress_creep_pa * c.strain_creep + 0.5 * v_cycling);
    }
    out.strain_creep = out.cycles.back().strain_creep;
    out.v_creep_j_m3 = stress_creep_pa * out.strain_creep;
    out.v_cycling_j_m3 = v_cycling;
    out.v_total_j_m3 = out.v_total_over_time_j_m3.back();
    out.summary = FitSummary::success(std::to_string(out.cycles.size()) + " complete cycles");
    add_work_done_per_mole(out, options);
    return out;
}

}  // namespace dmacycle::analysis
