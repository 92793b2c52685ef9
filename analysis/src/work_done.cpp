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

constexpr double pa_per_mpa = 1e6;  // for messages only: the fit works in Pa
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

// Replaces isolated spikes by straight-line interpolation between the nearest good samples (the
// running median where there is none on one side): a median would not lie on a triangle's
// branch near a corner, where the corner fits need it. A sample is a spike when it departs from
// the median by much more than both the noise and the typical sample-to-sample change, so that
// the sharp corners of the triangle wave are kept.
std::vector<double> despike(std::span<const double> time_s, std::span<const double> values,
                            const std::vector<double>& median, double noise, double typical_step) {
    const double threshold = std::max(8.0 * noise, 3.0 * typical_step);
    const std::size_t n = values.size();
    std::vector<bool> spike(n);
    for (std::size_t i = 0; i < n; ++i) {
        spike[i] = std::abs(values[i] - median[i]) > threshold;
    }
    std::vector<double> out(values.begin(), values.end());
    std::size_t before = n;  // last good sample so far (n: none)
    std::size_t after = 0;   // next good sample at or after i
    for (std::size_t i = 0; i < n; ++i) {
        if (!spike[i]) {
            before = i;
            continue;
        }
        after = std::max(after, i);
        while (after < n && spike[after]) {
            ++after;
        }
        const double span_s = after < n && before < n ? time_s[after] - time_s[before] : 0.0;
        out[i] = span_s > 0 ? values[before] + (values[after] - values[before]) *
                                                   (time_s[i] - time_s[before]) / span_s
                            : median[i];
    }
    return out;
}

// A turning point of the stress: index of the extreme sample (on the despiked stress).
struct Turn {
    std::size_t index;
    bool is_peak;
    bool at_record_edge;  // the first turn or an unconfirmed last valley: maybe cut off
};

// Turning points of the stress by hysteresis: an extreme is confirmed once the smoothed stress
// has moved `threshold` away from it, so noise smaller than the threshold never makes a turn and
// a monotone ramp into a hold makes none. The extremes are refined on the despiked stress (the
// median filter flattens the corner of a triangle over three samples).
std::vector<Turn> find_turns(const std::vector<double>& smooth_pa,
                             const std::vector<double>& clean_pa, double threshold_pa) {
    std::vector<Turn> turns;
    std::size_t argmin = 0, argmax = 0;
    enum class Seeking { either, peak, valley } seeking = Seeking::either;
    for (std::size_t i = 0; i < smooth_pa.size(); ++i) {
        const double s = smooth_pa[i];
        argmin = s < smooth_pa[argmin] ? i : argmin;
        argmax = s > smooth_pa[argmax] ? i : argmax;
        if (seeking != Seeking::valley && s < smooth_pa[argmax] - threshold_pa) {
            turns.push_back({argmax, true, seeking == Seeking::either});
            seeking = Seeking::valley;
            argmin = i;
        } else if (seeking != Seeking::peak && s > smooth_pa[argmin] + threshold_pa) {
            turns.push_back({argmin, false, seeking == Seeking::either});
            seeking = Seeking::peak;
            argmax = i;
        }
    }
    // The record may end in a valley that nothing after it confirms.
    if (seeking == Seeking::valley) {
        turns.push_back({argmin, false, true});
    }
    for (Turn& t : turns) {
        const std::size_t lo = t.index - std::min(t.index, median_half_width);
        const std::size_t hi = std::min(clean_pa.size() - 1, t.index + median_half_width);
        const auto first = clean_pa.begin() + static_cast<std::ptrdiff_t>(lo);
        const auto last = clean_pa.begin() + static_cast<std::ptrdiff_t>(hi) + 1;
        t.index = static_cast<std::size_t>(
            (t.is_peak ? std::max_element(first, last) : std::min_element(first, last)) -
            clean_pa.begin());
    }
    return turns;
}

std::string input_problem(std::span<const double> time_s, std::span<const double> stress_pa,
                          std::span<const double> strain) {
    if (time_s.size() != stress_pa.size() || time_s.size() != strain.size()) {
        return "time, stress and strain differ in length (" + std::to_string(time_s.size()) + ", " +
               std::to_string(stress_pa.size()) + ", " + std::to_string(strain.size()) + ")";
    }
    for (std::size_t i = 0; i < time_s.size(); ++i) {
        if (!std::isfinite(time_s[i]) || !std::isfinite(stress_pa[i]) ||
            !std::isfinite(strain[i])) {
            return "non-finite value in row " + std::to_string(i);
        }
        if (i > 0 && time_s[i] < time_s[i - 1]) {
            return "time goes backwards at row " + std::to_string(i);
        }
    }
    return {};
}

// A point of the (t, σ, ε) record, possibly between samples.
struct Vertex {
    double t_s, stress_pa, strain;
};

// ∮σ dε of the closed polygon (trapezoids, then the closing edge back to the first vertex);
// positive when the strain lags the stress, i.e. for a dissipative loop. The drift (strain per
// second) is removed from ε first.
double loop_area_j_m3(const std::vector<Vertex>& polygon, double drift_per_s) {
    const Vertex& origin = polygon.front();
    const auto corrected = [&](const Vertex& v) {
        return v.strain - origin.strain - drift_per_s * (v.t_s - origin.t_s);
    };
    double sum_pa = 0.0;
    for (std::size_t i = 0; i < polygon.size(); ++i) {
        const Vertex& a = polygon[i];
        const Vertex& b = polygon[i + 1 == polygon.size() ? 0 : i + 1];
        sum_pa += (a.stress_pa + b.stress_pa) * (corrected(b) - corrected(a));
    }
    return 0.5 * sum_pa;
}

// Least-squares line through rows [lo, hi]: value at t_ref and slope.
struct Line {
    double at_ref, slope;
};

Line fit_line(std::span<const double> time_s, const std::vector<double>& y, std::size_t lo,
              std::size_t hi, double t_ref) {
    const auto count = static_cast<double>(hi - lo + 1);
    double mean_t = 0, mean_y = 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        mean_t += time_s[i] - t_ref;
        mean_y += y[i];
    }
    mean_t /= count;
    mean_y /= count;
    double stt = 0, sty = 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        const double dt = time_s[i] - t_ref - mean_t;
        stt += dt * dt;
        sty += dt * (y[i] - mean_y);
    }
    const double slope = stt > 0 ? sty / stt : 0.0;
    return {mean_y - slope * mean_t, slope};
}

// The corner of the triangle at a turning sample, and the strain there for the drift correction.
struct Corner {
    Vertex vertex;
    double drift_strain;
};

// The corner of the triangle at turning sample k: where straight lines fitted to the stress
// before and after it intersect, so that a sample taken off the corner (sampling phase) does
// not become a cycle boundary at a different stress. When noise has moved the extreme sample
// off the corner, the fits are repeated around the sample nearest to the first estimate.
// The strain there is the mean of lines fitted on both sides over a shorter window (the creep
// strain is curved), which also averages the strain noise that would otherwise enter the drift
// correction at full weight; lines, not means, because the strain has a kink at the corner.
// When the lines do not meet between the sample's neighbours (rounded or flat corners, the
// record's edges) the sample itself is the vertex and only the drift uses the fitted strain.
Corner corner(std::span<const double> time_s, const std::vector<double>& stress_pa,
              const std::vector<double>& strain, std::size_t turn, std::size_t stress_window,
              std::size_t strain_window) {
    const std::size_t n = time_s.size();
    std::size_t k = turn;
    for (int pass = 0; pass < 3 && k >= 2 && k + 2 < n; ++pass) {
        const double t_k = time_s[k];
        const std::size_t lo = k - std::min(stress_window, k);
        const std::size_t hi = k + std::min(stress_window, n - 1 - k);
        const Line before = fit_line(time_s, stress_pa, lo, k - 1, t_k);
        const Line after = fit_line(time_s, stress_pa, k + 1, hi, t_k);
        const double dt = (before.at_ref - after.at_ref) / (after.slope - before.slope);
        if (!std::isfinite(dt) || dt < time_s[lo] - t_k || dt > time_s[hi] - t_k) {
            break;
        }
        if (dt >= time_s[k - 1] - t_k && dt <= time_s[k + 1] - t_k) {
            const std::size_t s_lo = k - std::min(strain_window, k);
            const std::size_t s_hi = k + std::min(strain_window, n - 1 - k);
            // Sample k joins the branch it lies on, or both when within 5 % of a sample of the
            // corner: the nearest sample shortens the extrapolation over the curved strain.
            const bool k_before = dt >= 0.05 * (time_s[k - 1] - t_k);
            const bool k_after = dt <= 0.05 * (time_s[k + 1] - t_k);
            const Line strain_before = fit_line(time_s, strain, s_lo, k_before ? k : k - 1, t_k);
            const Line strain_after = fit_line(time_s, strain, k_after ? k : k + 1, s_hi, t_k);
            const double strain_at = 0.5 * (strain_before.at_ref + strain_before.slope * dt +
                                            strain_after.at_ref + strain_after.slope * dt);
            return {{t_k + dt, before.at_ref + before.slope * dt, strain_at}, strain_at};
        }
        const auto first = time_s.begin() + static_cast<std::ptrdiff_t>(lo);
        const auto next =
            std::lower_bound(first, time_s.begin() + static_cast<std::ptrdiff_t>(hi), t_k + dt);
        k = static_cast<std::size_t>(next - time_s.begin());
        if (next != first && t_k + dt - *(next - 1) < *next - (t_k + dt)) {
            --k;
        }
    }
    const double t_turn = time_s[turn];
    double sum = 0.0;
    int sides = 0;
    if (turn >= 2) {
        sum += fit_line(time_s, strain, turn - std::min(strain_window, turn), turn, t_turn).at_ref;
        ++sides;
    }
    if (turn + 2 < n) {
        sum += fit_line(time_s, strain, turn, turn + std::min(strain_window, n - 1 - turn), t_turn)
                   .at_ref;
        ++sides;
    }
    return {{t_turn, stress_pa[turn], strain[turn]}, sides > 0 ? sum / sides : strain[turn]};
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

bool all_finite(const std::vector<double>& values) {
    return std::ranges::all_of(values, [](double v) { return std::isfinite(v); });
}

// Adds the work per mole, then refuses results that overflowed (finite but huge inputs).
WorkDone finish(WorkDone out, const WorkDoneOptions& options) {
    add_work_done_per_mole(out, options);
    bool finite = std::isfinite(out.stress_creep_pa) && std::isfinite(out.strain_creep) &&
                  std::isfinite(out.v_creep_j_m3) && std::isfinite(out.v_cycling_j_m3) &&
                  std::isfinite(out.v_total_j_m3) &&
                  (!out.work_done_kj_mol || std::isfinite(*out.work_done_kj_mol)) &&
                  all_finite(out.v_total_over_time_j_m3) &&
                  all_finite(out.v_creep_over_time_j_m3) &&
                  all_finite(out.v_cycling_over_time_j_m3);
    for (const CycleRecord& c : out.cycles) {
        finite = finite &&
                 all_finite({c.t_start_s, c.t_end_s, c.stress_min_pa, c.stress_max_pa, c.strain_min,
                             c.strain_max, c.strain_creep, c.loop_area_j_m3, c.loop_area_raw_j_m3});
    }
    if (!finite) {
        return failure(FitStatus::invalid_input,
                       "a result is not finite: stress or strain values too large");
    }
    return out;
}

// The record with spikes removed, and the stress smoothed by the running median.
struct Cleaned {
    std::vector<double> smooth_pa, clean_pa, clean_strain;
    double stress_noise_pa = 0;
};

Cleaned clean(std::span<const double> time_s, std::span<const double> stress_pa,
              std::span<const double> strain) {
    Cleaned out;
    out.smooth_pa = median_filter(stress_pa);
    const double max_abs_pa = std::max(std::abs(*std::ranges::max_element(stress_pa)),
                                       std::abs(*std::ranges::min_element(stress_pa)));
    // Floor: noise-free synthetic records still carry decimal rounding.
    out.stress_noise_pa = std::max(estimate_noise(stress_pa), 1e-9 * max_abs_pa);
    out.clean_pa =
        despike(time_s, stress_pa, out.smooth_pa, out.stress_noise_pa, median_abs_step(stress_pa));
    out.clean_strain = despike(time_s, strain, median_filter(strain), estimate_noise(strain),
                               median_abs_step(strain));
    return out;
}

// No cycles: v_total = v_creep = σ ε at the end of the hold.
WorkDone pure_creep(std::span<const double> time_s, std::span<const double> stress_pa,
                    const Cleaned& record) {
    const std::size_t n = time_s.size();
    WorkDone out;
    // The hold is what follows the last departure from the final stress level (the loading
    // ramp, if recorded). The mean of the last samples averages the strain noise (10 samples
    // of a creep curve move far less than the noise).
    const std::size_t tail = std::min<std::size_t>(10, n);
    const double final_pa = quantile(stress_pa.subspan(n - std::max(tail, n / 20)), 0.5);
    const double band_pa = std::max(6.0 * record.stress_noise_pa, 1e-3 * std::abs(final_pa));
    std::size_t hold_start = n;
    while (hold_start > 0 && std::abs(record.smooth_pa[hold_start - 1] - final_pa) <= band_pa) {
        --hold_start;
    }
    hold_start = std::min(hold_start, n - tail);
    double strain_end = 0.0;
    for (std::size_t i = n - tail; i < n; ++i) {
        strain_end += record.clean_strain[i];
    }
    out.stress_creep_pa = quantile(stress_pa.subspan(hold_start), 0.5);
    out.strain_creep = strain_end / static_cast<double>(tail);
    out.v_creep_j_m3 = out.stress_creep_pa * out.strain_creep;
    out.v_total_j_m3 = out.v_creep_j_m3;
    out.v_total_time_s = {time_s[n - 1]};
    out.v_total_over_time_j_m3 = {out.v_total_j_m3};
    out.v_creep_over_time_j_m3 = {out.v_creep_j_m3};
    out.v_cycling_over_time_j_m3 = {0.0};
    out.summary =
        FitSummary::success("pure creep at " + std::to_string(out.stress_creep_pa / pa_per_mpa) +
                            " MPa: no stress cycles");
    return out;
}

// The corner of every turn. The stress is fitted over 5 % of a period (the branches are straight;
// noise needs many samples when the stress changes little between them), the strain over 1 % (it
// is curved by the creep).
std::vector<Corner> corners_of(std::span<const double> time_s, const Cleaned& record,
                               const std::vector<Turn>& turns,
                               const std::vector<std::size_t>& valleys) {
    std::vector<std::size_t> spacings;
    for (std::size_t k = 1; k < valleys.size(); ++k) {
        spacings.push_back(turns[valleys[k]].index - turns[valleys[k - 1]].index);
    }
    std::nth_element(spacings.begin(), spacings.begin() + std::ssize(spacings) / 2, spacings.end());
    const std::size_t period_rows = spacings[spacings.size() / 2];
    const std::size_t stress_window = std::clamp<std::size_t>(period_rows / 20, 2, 500);
    const std::size_t strain_window = std::clamp<std::size_t>(period_rows / 100, 2, 50);
    std::vector<Corner> corners(turns.size());
    for (std::size_t k = 0; k < turns.size(); ++k) {
        corners[k] = corner(time_s, record.clean_pa, record.clean_strain, turns[k].index,
                            stress_window, strain_window);
    }
    return corners;
}

// A valley at the record's edge is real only if the stress there reached the level of the
// other valleys within the noise; otherwise the record starts or ends mid-ramp (a partial
// cycle, whose drift correction would take the strain at a different stress).
void drop_partial_edge_valleys(std::vector<std::size_t>& valleys, const std::vector<Turn>& turns,
                               const std::vector<Corner>& corners, double tolerance_pa,
                               bool edges_are_valleys) {
    std::vector<double> interior_levels_pa, edge_levels_pa;
    for (const std::size_t k : valleys) {
        (turns[k].at_record_edge ? edge_levels_pa : interior_levels_pa)
            .push_back(corners[k].vertex.stress_pa);
    }
    const double valley_level_pa = interior_levels_pa.empty()
                                       ? *std::ranges::min_element(edge_levels_pa)
                                       : median_of(interior_levels_pa);
    std::erase_if(valleys, [&](std::size_t k) {
        return turns[k].at_record_edge && !edges_are_valleys &&
               std::abs(corners[k].vertex.stress_pa - valley_level_pa) > tolerance_pa;
    });
}

// The cycle from valley corner `start` over `peak` to valley corner `end`. The polygon runs
// through the interpolated corners, not the samples nearest to them.
CycleRecord cycle_record(std::span<const double> time_s, const Cleaned& record, const Corner& start,
                         const Corner& peak, const Corner& end) {
    std::vector<Vertex> polygon(1, start.vertex);
    bool peak_added = false;
    for (auto i = static_cast<std::size_t>(std::ranges::upper_bound(time_s, start.vertex.t_s) -
                                           time_s.begin());
         i < time_s.size() && time_s[i] < end.vertex.t_s; ++i) {
        if (!peak_added && time_s[i] >= peak.vertex.t_s) {
            polygon.push_back(peak.vertex);
            peak_added = true;
        }
        if (time_s[i] != peak.vertex.t_s) {
            polygon.push_back({time_s[i], record.clean_pa[i], record.clean_strain[i]});
        }
    }
    polygon.push_back(end.vertex);
    CycleRecord c;
    c.t_start_s = start.vertex.t_s;
    c.t_end_s = end.vertex.t_s;
    const auto [smin, smax] =
        std::ranges::minmax(polygon, {}, [](const Vertex& p) { return p.stress_pa; });
    const auto [emin, emax] =
        std::ranges::minmax(polygon, {}, [](const Vertex& p) { return p.strain; });
    c.stress_min_pa = smin.stress_pa;
    c.stress_max_pa = smax.stress_pa;
    c.strain_min = emin.strain;
    c.strain_max = emax.strain;
    c.strain_creep = 0.5 * (c.strain_max + c.strain_min);
    const double drift_per_s =
        (end.drift_strain - start.drift_strain) / (end.vertex.t_s - start.vertex.t_s);
    c.loop_area_j_m3 = loop_area_j_m3(polygon, drift_per_s);
    c.loop_area_raw_j_m3 = loop_area_j_m3(polygon, 0.0);
    return c;
}

// Eqs. (4)-(5) over the cycles: v_creep at the median mean stress, v_cycling summed.
void add_totals(WorkDone& out) {
    std::vector<double> mean_stresses_pa;
    for (const CycleRecord& c : out.cycles) {
        mean_stresses_pa.push_back(0.5 * (c.stress_min_pa + c.stress_max_pa));
    }
    out.stress_creep_pa = median_of(mean_stresses_pa);
    double v_cycling = 0.0;
    for (const CycleRecord& c : out.cycles) {
        v_cycling += c.loop_area_j_m3;
        out.v_total_time_s.push_back(c.t_end_s);
        out.v_creep_over_time_j_m3.push_back(out.stress_creep_pa * c.strain_creep);
        out.v_cycling_over_time_j_m3.push_back(v_cycling);
        out.v_total_over_time_j_m3.push_back(out.v_creep_over_time_j_m3.back() + 0.5 * v_cycling);
    }
    out.strain_creep = out.cycles.back().strain_creep;
    out.v_creep_j_m3 = out.v_creep_over_time_j_m3.back();
    out.v_cycling_j_m3 = v_cycling;
    out.v_total_j_m3 = out.v_total_over_time_j_m3.back();
}

}  // namespace

WorkDone analyze_cycling(std::span<const double> time_s, std::span<const double> stress_pa,
                         std::span<const double> strain, const WorkDoneOptions& options) {
    if (const std::string problem = input_problem(time_s, stress_pa, strain); !problem.empty()) {
        return failure(FitStatus::invalid_input, problem);
    }
    const std::size_t n = time_s.size();
    if (n < min_points) {
        return failure(FitStatus::insufficient_data, "need at least " + std::to_string(min_points) +
                                                         " rows, got " + std::to_string(n));
    }
    const Cleaned record = clean(time_s, stress_pa, strain);

    // Percentiles ignore the occasional spike that would stretch a min/max range.
    const double lo_pa = quantile(stress_pa, 0.01);
    const double range_pa = quantile(stress_pa, 0.99) - lo_pa;
    const double median_pa = quantile(stress_pa, 0.5);
    // A turn of the stress must exceed 20σ of its noise (noise alone practically never does),
    // a quarter of the range (controller overshoot at a corner is no cycle) and 0.1 % of the
    // stress (flicker of a quantised creep load is no cycle either).
    const double turn_pa =
        std::max({20.0 * record.stress_noise_pa, 0.25 * range_pa, 1e-3 * std::abs(median_pa)});
    const std::vector<Turn> turns = find_turns(record.smooth_pa, record.clean_pa, turn_pa);

    // Cycling needs a high excursion that comes back down; a ramp into a hold is pure creep.
    if (std::none_of(turns.begin(), turns.end(),
                     [&](const Turn& t) { return t.is_peak && &t != &turns.back(); })) {
        return finish(pure_creep(time_s, stress_pa, record), options);
    }

    const std::string no_cycle = "stress varies over " + std::to_string(range_pa / pa_per_mpa) +
                                 " MPa but the record holds no complete cycle";
    std::vector<std::size_t> valleys;  // positions in `turns`
    for (std::size_t k = 0; k < turns.size(); ++k) {
        if (!turns[k].is_peak) {
            valleys.push_back(k);
        }
    }
    if (valleys.size() < 2) {
        return failure(FitStatus::insufficient_data, no_cycle);
    }
    const std::vector<Corner> corners = corners_of(time_s, record, turns, valleys);
    drop_partial_edge_valleys(valleys, turns, corners,
                              std::max(6.0 * record.stress_noise_pa, 1e-4 * range_pa),
                              options.edges_are_valleys);

    WorkDone out;
    for (std::size_t v = 0; v + 1 < valleys.size(); ++v) {
        const Corner& start = corners[valleys[v]];
        const Corner& end = corners[valleys[v + 1]];
        if (end.vertex.t_s > start.vertex.t_s) {
            out.cycles.push_back(cycle_record(time_s, record, start, corners[valleys[v] + 1], end));
        }
    }
    if (out.cycles.empty()) {
        return failure(FitStatus::insufficient_data, no_cycle);
    }
    add_totals(out);
    out.summary = FitSummary::success(std::to_string(out.cycles.size()) + " complete cycles");
    return finish(std::move(out), options);
}

}  // namespace dmacycle::analysis
