#include "dmacycle/analysis/dsc.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dmacycle/analysis/numerics.hpp"

namespace dmacycle::analysis {
namespace {

constexpr std::size_t min_points = 10;
// The difference is smoothed over ±smooth_half_width_k to find the exotherm; a run of the
// smoothed difference above detect_sigmas of its noise must span at least twice that window,
// so that no run of correlated noise passes for an exotherm.
constexpr double smooth_half_width_k = 2.0;
constexpr double detect_sigmas = 5.0;
constexpr double onset_fraction = 0.1;
// Beside the range, this many kelvin on each side give the baseline offset term.
constexpr double offset_window_k = 10.0;
// Scans whose mean heating rates differ by more than this fraction are not a pair.
constexpr double rate_tolerance = 0.1;

[[gnu::format(printf, 1, 2)]] std::string text(const char* pattern, ...) {
    char buffer[256];
    va_list args;
    va_start(args, pattern);
    std::vsnprintf(buffer, sizeof buffer, pattern, args);
    va_end(args);
    return buffer;
}

DscEnthalpy refuse(FitSummary summary) {
    DscEnthalpy result;
    result.summary = std::move(summary);
    return result;
}

DscEnthalpy refuse(FitStatus status, std::string message) {
    return refuse(FitSummary::failure(status, std::move(message)));
}

// "" when the scan can be used; else what is wrong with it.
std::string check_scan(const DscScan& scan, const char* name) {
    const std::size_t n = scan.time_s.size();
    if (scan.temperature_k.size() != n || scan.heat_flow_w_g.size() != n) {
        return std::string(name) + " scan: columns of different lengths";
    }
    if (n < min_points) {
        return std::string(name) + " scan: " + std::to_string(n) + " points; need at least " +
               std::to_string(min_points);
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(scan.time_s[i]) || !std::isfinite(scan.temperature_k[i]) ||
            !std::isfinite(scan.heat_flow_w_g[i])) {
            return std::string(name) + " scan: point " + std::to_string(i + 1) + " is not finite";
        }
        if (i > 0 && !(scan.time_s[i] > scan.time_s[i - 1])) {
            return std::string(name) + " scan: time does not increase at point " +
                   std::to_string(i + 1);
        }
        if (i > 0 && !(scan.temperature_k[i] > scan.temperature_k[i - 1])) {
            return std::string(name) + " scan: temperature does not increase at point " +
                   std::to_string(i + 1) +
                   text(" (%.3f K after %.3f K); a heating scan is needed", scan.temperature_k[i],
                        scan.temperature_k[i - 1]);
        }
    }
    return {};
}

// Least-squares slope of T(t), in K/min.
double heating_rate_k_min(const DscScan& scan) {
    const auto n = static_cast<double>(scan.time_s.size());
    double mean_t = 0, mean_k = 0;
    for (std::size_t i = 0; i < scan.time_s.size(); ++i) {
        mean_t += scan.time_s[i] / n;
        mean_k += scan.temperature_k[i] / n;
    }
    double stt = 0, stk = 0;
    for (std::size_t i = 0; i < scan.time_s.size(); ++i) {
        stt += (scan.time_s[i] - mean_t) * (scan.time_s[i] - mean_t);
        stk += (scan.time_s[i] - mean_t) * (scan.temperature_k[i] - mean_k);
    }
    return stk / stt * 60.0;
}

// y(x) of the increasing table (xs, ys), linear between points; x within [xs.front, xs.back].
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
    const auto upper = std::upper_bound(xs.begin(), xs.end(), x);
    if (upper == xs.begin()) {
        return ys.front();
    }
    if (upper == xs.end()) {
        return ys.back();
    }
    const auto i = static_cast<std::size_t>(upper - xs.begin());
    const double f = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return ys[i - 1] + f * (ys[i] - ys[i - 1]);
}

// Where `s` falls through `level` walking from `peak` by `step` (±1), interpolated in `x`;
// the last point of [lo, hi] when it never does.
double crossing(const std::vector<double>& x, const std::vector<double>& s, std::size_t peak,
                std::size_t lo, std::size_t hi, int step, double level) {
    std::size_t i = peak;
    while (true) {
        const std::size_t next = step < 0 ? i - 1 : i + 1;
        if ((step < 0 && i == lo) || (step > 0 && i == hi)) {
            return x[i];
        }
        if (s[next] < level) {
            const double f = (s[i] - level) / (s[i] - s[next]);
            return x[i] + f * (x[next] - x[i]);
        }
        i = next;
    }
}

// What makes two scans a pair: the same heating rate and a common temperature range.
struct Pairing {
    std::string problem;  // empty when the scans are a pair
    double sample_rate_k_min = 0, baseline_rate_k_min = 0;
    double overlap_lo_k = 0, overlap_hi_k = 0;
};

Pairing pair_scans(const DscScan& sample, const DscScan& baseline) {
    Pairing out;
    for (const auto& problem : {check_scan(sample, "sample"), check_scan(baseline, "baseline")}) {
        if (!problem.empty()) {
            out.problem = problem;
            return out;
        }
    }
    const double sample_rate = heating_rate_k_min(sample);
    const double baseline_rate = heating_rate_k_min(baseline);
    if (std::abs(sample_rate - baseline_rate) > rate_tolerance * std::abs(sample_rate)) {
        out.problem = text(
            "heating rates differ: sample %.3g K/min, baseline %.3g K/min; the "
            "baseline must be scanned at the sample's rate",
            sample_rate, baseline_rate);
        return out;
    }
    const double overlap_lo =
        std::max(sample.temperature_k.front(), baseline.temperature_k.front());
    const double overlap_hi = std::min(sample.temperature_k.back(), baseline.temperature_k.back());
    if (!(overlap_hi > overlap_lo)) {
        out.problem = text(
            "the scans do not overlap in temperature: sample %.2f..%.2f K, "
            "baseline %.2f..%.2f K",
            sample.temperature_k.front(), sample.temperature_k.back(),
            baseline.temperature_k.front(), baseline.temperature_k.back());
        return out;
    }
    out.sample_rate_k_min = sample_rate;
    out.baseline_rate_k_min = baseline_rate;
    out.overlap_lo_k = overlap_lo;
    out.overlap_hi_k = overlap_hi;
    return out;
}

// Φ_sample − Φ_baseline on the sample's points inside the overlap.
struct Difference {
    std::vector<double> t, temp, diff;
};

Difference difference_in_overlap(const DscScan& sample, const DscScan& baseline,
                                 const Pairing& pairing) {
    Difference out;
    for (std::size_t i = 0; i < sample.time_s.size(); ++i) {
        const double k = sample.temperature_k[i];
        if (k >= pairing.overlap_lo_k && k <= pairing.overlap_hi_k) {
            out.t.push_back(sample.time_s[i]);
            out.temp.push_back(k);
            out.diff.push_back(sample.heat_flow_w_g[i] -
                               interpolate(baseline.temperature_k, baseline.heat_flow_w_g, k));
        }
    }
    return out;
}

// ±smooth_half_width_k in points at the median temperature step, within [1, n/4].
std::size_t smoothing_half_points(const std::vector<double>& temp) {
    const std::size_t n = temp.size();
    std::vector<double> spacing(n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) {
        spacing[i] = temp[i + 1] - temp[i];
    }
    std::nth_element(spacing.begin(), spacing.begin() + static_cast<std::ptrdiff_t>((n - 1) / 2),
                     spacing.end());
    const double step_k = spacing[(n - 1) / 2];
    return std::clamp<std::size_t>(
        static_cast<std::size_t>(std::lround(smooth_half_width_k / step_k)), 1, n / 4);
}

// Moving average over ±half points, narrower at the ends.
std::vector<double> moving_average(const std::vector<double>& values, std::size_t half) {
    const std::size_t n = values.size();
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t lo = i >= half ? i - half : 0;
        const std::size_t hi = std::min(n - 1, i + half);
        double sum = 0;
        for (std::size_t j = lo; j <= hi; ++j) {
            sum += values[j];
        }
        out[i] = sum / static_cast<double>(hi - lo + 1);
    }
    return out;
}

// The integration range as indices into the difference, or why there is none.
struct Range {
    std::size_t first = 0, last = 0;
    std::optional<FitSummary> refusal;
};

Range refused_range(FitStatus status, std::string message) {
    return {0, 0, FitSummary::failure(status, std::move(message))};
}

Range given_range(const std::vector<double>& temp, const DscOptions& options,
                  const Pairing& pairing) {
    if (!options.range_lo_k || !options.range_hi_k ||
        !(*options.range_hi_k > *options.range_lo_k)) {
        return refused_range(FitStatus::invalid_input, "the range needs T1 < T2");
    }
    const double lo = *options.range_lo_k, hi = *options.range_hi_k;
    if (lo < pairing.overlap_lo_k || hi > pairing.overlap_hi_k) {
        return refused_range(FitStatus::invalid_input,
                             text("the range %.2f..%.2f K is not inside the scans' overlap "
                                  "%.2f..%.2f K",
                                  lo, hi, pairing.overlap_lo_k, pairing.overlap_hi_k));
    }
    Range out;
    out.first =
        static_cast<std::size_t>(std::lower_bound(temp.begin(), temp.end(), lo) - temp.begin());
    out.last =
        static_cast<std::size_t>(std::upper_bound(temp.begin(), temp.end(), hi) - temp.begin());
    if (out.last < out.first + 3) {
        return refused_range(
            FitStatus::invalid_input,
            text("the range %.2f..%.2f K holds fewer than 3 sample points", lo, hi));
    }
    --out.last;
    return out;
}

// The exotherm below Tg is the lowest-temperature run of the smoothed difference above
// detect_sigmas × its noise spanning at least the smoothing window, widened to where the smoothed
// difference crosses zero on either side (so neither the crystallization peak above Tg nor the
// endothermic Tg step is taken).
Range detect_exotherm(const std::vector<double>& temp, const std::vector<double>& smooth,
                      double noise_w_g, std::size_t half) {
    const std::size_t n = smooth.size();
    const double smooth_noise = noise_w_g / std::sqrt(2.0 * static_cast<double>(half) + 1.0);
    double largest = 0;
    for (const double s : smooth) {
        largest = std::max(largest, std::abs(s));
    }
    const double threshold = std::max({detect_sigmas * smooth_noise, 1e-3 * largest, 1e-300});
    Range out;
    bool found = false;
    for (std::size_t i = 0; i < n && !found;) {
        if (!(smooth[i] > threshold)) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < n && smooth[j + 1] > threshold) {
            ++j;
        }
        if (temp[j] - temp[i] >= 4.0 * smooth_half_width_k) {
            out.first = i;
            out.last = j;
            found = true;
        }
        i = j + 1;
    }
    if (!found) {
        return refused_range(FitStatus::insufficient_data,
                             text("no exotherm: the smoothed difference never stays above %.3g "
                                  "W/g (5 noise levels) over %g K",
                                  threshold, 4.0 * smooth_half_width_k));
    }
    while (out.first > 0 && smooth[out.first - 1] > 0) {
        --out.first;
    }
    while (out.last + 1 < n && smooth[out.last + 1] > 0) {
        ++out.last;
    }
    return out;
}

// Peak, onset and end of the smoothed difference within the range.
void locate_peak(const std::vector<double>& temp, const std::vector<double>& smooth,
                 const Range& range, DscEnthalpy& result) {
    std::size_t peak = range.first;
    for (std::size_t i = range.first; i <= range.last; ++i) {
        if (smooth[i] > smooth[peak]) {
            peak = i;
        }
    }
    const double level = onset_fraction * smooth[peak];
    result.peak_k = temp[peak];
    result.peak_w_g = smooth[peak];
    result.onset_k = crossing(temp, smooth, peak, range.first, range.last, -1, level);
    result.end_k = crossing(temp, smooth, peak, range.first, range.last, +1, level);
}

// ΔH by trapezoids on time over the range, and its noise term: each point's weight enters it.
void integrate(const Difference& d, const Range& range, DscEnthalpy& result) {
    double sum_weight_sq = 0;
    for (std::size_t i = range.first; i <= range.last; ++i) {
        const double left = i > range.first ? d.t[i] - d.t[i - 1] : 0;
        const double right = i < range.last ? d.t[i + 1] - d.t[i] : 0;
        const double weight = (left + right) / 2;
        result.delta_h_j_g += weight * d.diff[i];
        sum_weight_sq += weight * weight;
    }
    result.noise_term_j_g = result.noise_w_g * std::sqrt(sum_weight_sq);
}

// The mean difference just beside the range: what a mismatch of the two scans' baselines would
// add over the range's duration. Zero when nothing lies beside the range.
double offset_term_j_g(const Difference& d, const Range& range) {
    double beside = 0;
    std::size_t beside_points = 0;
    for (std::size_t i = 0; i < d.diff.size(); ++i) {
        if ((i < range.first && d.temp[i] >= d.temp[range.first] - offset_window_k) ||
            (i > range.last && d.temp[i] <= d.temp[range.last] + offset_window_k)) {
            beside += d.diff[i];
            ++beside_points;
        }
    }
    if (beside_points == 0) {
        return 0;
    }
    return std::abs(beside / static_cast<double>(beside_points)) *
           (d.t[range.last] - d.t[range.first]);
}

}  // namespace

DscEnthalpy analyze_dsc(const DscScan& sample, const DscScan& baseline, const DscOptions& options) {
    const Pairing pairing = pair_scans(sample, baseline);
    if (!pairing.problem.empty()) {
        return refuse(FitStatus::invalid_input, pairing.problem);
    }
    const Difference d = difference_in_overlap(sample, baseline, pairing);
    const std::size_t n = d.diff.size();
    if (n < min_points) {
        return refuse(FitStatus::invalid_input,
                      text("the scans overlap over %.2f..%.2f K only (%g sample points); need "
                           "at least 10",
                           pairing.overlap_lo_k, pairing.overlap_hi_k, static_cast<double>(n)));
    }

    DscEnthalpy result;
    result.sample_rate_k_min = pairing.sample_rate_k_min;
    result.baseline_rate_k_min = pairing.baseline_rate_k_min;
    result.noise_w_g = estimate_noise(d.diff);
    const std::size_t half = smoothing_half_points(d.temp);
    const std::vector<double> smooth = moving_average(d.diff, half);

    result.range_given = options.range_lo_k || options.range_hi_k;
    const Range range = result.range_given
                            ? given_range(d.temp, options, pairing)
                            : detect_exotherm(d.temp, smooth, result.noise_w_g, half);
    if (range.refusal) {
        return refuse(*range.refusal);
    }
    result.range_lo_k = result.range_given ? *options.range_lo_k : d.temp[range.first];
    result.range_hi_k = result.range_given ? *options.range_hi_k : d.temp[range.last];
    locate_peak(d.temp, smooth, range, result);
    result.points = range.last - range.first + 1;

    integrate(d, range, result);
    result.offset_term_j_g = offset_term_j_g(d, range);
    result.delta_h_stderr_j_g = std::hypot(result.noise_term_j_g, result.offset_term_j_g);
    result.summary = FitSummary::success(result.range_given ? "integrated over the given range"
                                                            : "exotherm detected");
    return result;
}

}  // namespace dmacycle::analysis
