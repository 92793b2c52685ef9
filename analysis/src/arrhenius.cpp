#include "dmacycle/analysis/arrhenius.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>
#include <utility>

namespace dmacycle::analysis {
namespace {

constexpr std::size_t min_curve_points = 12;
constexpr std::size_t min_window_points = 8;  // a cubic has 4 parameters
// The fit window holds the points above this fraction of the peak height (above the curve's
// minimum): wide enough to average the noise, narrow enough for a cubic to follow the shape.
constexpr double window_height_fraction = 0.65;
constexpr double frequency_rel_tolerance = 1e-3;

TanDeltaPeak peak_failure(FitStatus status, std::string message, double frequency_hz) {
    TanDeltaPeak out;
    out.summary = FitSummary::failure(status, std::move(message));
    out.frequency_hz = frequency_hz;
    return out;
}

std::vector<double> moving_average(const std::vector<double>& y, std::size_t half_width) {
    const std::size_t n = y.size();
    std::vector<double> prefix(n + 1, 0.0);
    std::partial_sum(y.begin(), y.end(), prefix.begin() + 1);
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t lo = i >= half_width ? i - half_width : 0;
        const std::size_t hi = std::min(n, i + half_width + 1);
        out[i] = (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo);
    }
    return out;
}

// The interior local maximum that stands out most from its surroundings (topographic
// prominence), so that noise wiggles and a rising α tail at the end of the range are ignored.
std::optional<std::size_t> most_prominent_maximum(const std::vector<double>& y) {
    std::optional<std::size_t> best;
    double best_prominence = 0.0;
    for (std::size_t i = 1; i + 1 < y.size(); ++i) {
        if (!(y[i] >= y[i - 1] && y[i] > y[i + 1])) {
            continue;
        }
        double left_min = y[i];
        for (std::size_t j = i; j-- > 0 && y[j] <= y[i];) {
            left_min = std::min(left_min, y[j]);
        }
        double right_min = y[i];
        for (std::size_t j = i + 1; j < y.size() && y[j] <= y[i]; ++j) {
            right_min = std::min(right_min, y[j]);
        }
        const double prominence = y[i] - std::max(left_min, right_min);
        if (prominence > best_prominence) {
            best_prominence = prominence;
            best = i;
        }
    }
    return best;
}

struct VertexFit {
    bool ok = false;
    std::string problem;
    double temperature_k = 0, temperature_stderr_k = 0;
    std::size_t points = 0;
};

// Cubic in x = 1/T over a window symmetric (in 1/T) about the centre; the cubic term absorbs
// the peak's skew, which would shift a parabola's vertex by about a kelvin. ln tan δ is fitted
// when positive (a Gaussian in 1/T is then exactly quadratic).
VertexFit fit_vertex(const std::vector<double>& inv_t, const std::vector<double>& y,
                     const std::vector<double>& smooth, std::size_t centre) {
    const double floor_value = *std::min_element(smooth.begin(), smooth.end());
    const double threshold = floor_value + window_height_fraction * (smooth[centre] - floor_value);
    std::size_t left = centre;
    while (left > 0 && smooth[left] >= threshold) {
        --left;
    }
    std::size_t right = centre;
    while (right + 1 < smooth.size() && smooth[right] >= threshold) {
        ++right;
    }
    const double half_width = std::min(inv_t[left] - inv_t[centre], inv_t[centre] - inv_t[right]);
    if (!(half_width > 0)) {
        return {false, "β peak at the end of the temperature range"};
    }

    std::vector<std::size_t> rows;
    bool all_positive = true;
    for (std::size_t i = 0; i < inv_t.size(); ++i) {
        if (std::abs(inv_t[i] - inv_t[centre]) <= half_width) {
            rows.push_back(i);
            all_positive = all_positive && y[i] > 0;
        }
    }
    if (rows.size() < min_window_points) {
        return {false, "only " + std::to_string(rows.size()) +
                           " points in the β peak window (peak too close to the end of the "
                           "temperature range, or too sparse)"};
    }
    const auto m = static_cast<Eigen::Index>(rows.size());
    Eigen::MatrixXd design(m, 4);
    Eigen::VectorXd values(m);
    for (Eigen::Index r = 0; r < m; ++r) {
        const std::size_t i = rows[static_cast<std::size_t>(r)];
        const double u = (inv_t[i] - inv_t[centre]) / half_width;
        design.row(r) << 1.0, u, u * u, u * u * u;
        values(r) = all_positive ? std::log(y[i]) : y[i];
    }
    const Eigen::Matrix4d normal = design.transpose() * design;
    const Eigen::Vector4d c = normal.ldlt().solve(design.transpose() * values);
    const double rss = (design * c - values).squaredNorm();
    const Eigen::Matrix4d covariance = normal.inverse() * (rss / static_cast<double>(m - 4));

    // Newton on the derivative c1 + 2 c2 u + 3 c3 u² = 0, from the centre.
    double u = 0.0;
    double slope_of_derivative = 0.0;
    for (int iteration = 0; iteration < 50; ++iteration) {
        const double derivative = c(1) + 2 * c(2) * u + 3 * c(3) * u * u;
        slope_of_derivative = 2 * c(2) + 6 * c(3) * u;
        if (!(slope_of_derivative < 0)) {
            break;
        }
        u -= derivative / slope_of_derivative;
    }
    if (!(slope_of_derivative < 0) || !std::isfinite(u) || std::abs(u) > 1.0) {
        return {false, "the local fit has no maximum inside the β peak window"};
    }
    // Implicit differentiation of the vertex condition gives du/dc.
    const Eigen::Vector4d gradient =
        Eigen::Vector4d(0.0, 1.0, 2 * u, 3 * u * u) / -slope_of_derivative;
    const double u_stderr = std::sqrt(std::max(0.0, gradient.dot(covariance * gradient)));
    const double inv_peak = inv_t[centre] + u * half_width;
    VertexFit out;
    out.ok = true;
    out.temperature_k = 1.0 / inv_peak;
    out.temperature_stderr_k = u_stderr * half_width / (inv_peak * inv_peak);
    out.points = rows.size();
    return out;
}

}  // namespace

TanDeltaPeak locate_beta_peak(std::span<const double> temperature_k,
                              std::span<const double> tan_delta, double frequency_hz) {
    if (temperature_k.size() != tan_delta.size()) {
        return peak_failure(FitStatus::invalid_input,
                            "temperature and tan δ differ in length (" +
                                std::to_string(temperature_k.size()) + ", " +
                                std::to_string(tan_delta.size()) + ")",
                            frequency_hz);
    }
    if (temperature_k.size() < min_curve_points) {
        return peak_failure(FitStatus::insufficient_data,
                            "need at least " + std::to_string(min_curve_points) +
                                " points for a β peak, got " + std::to_string(temperature_k.size()),
                            frequency_hz);
    }
    for (std::size_t i = 0; i < temperature_k.size(); ++i) {
        if (!std::isfinite(temperature_k[i]) || !(temperature_k[i] > 0) ||
            !std::isfinite(tan_delta[i])) {
            return peak_failure(
                FitStatus::invalid_input,
                "non-finite value or non-positive temperature in row " + std::to_string(i),
                frequency_hz);
        }
    }

    // Sorted by falling 1/T, i.e. rising T.
    std::vector<std::size_t> order(temperature_k.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return temperature_k[a] < temperature_k[b]; });
    std::vector<double> inv_t, y;
    for (const std::size_t i : order) {
        inv_t.push_back(1.0 / temperature_k[i]);
        y.push_back(tan_delta[i]);
    }
    const std::vector<double> smooth = moving_average(y, std::max<std::size_t>(2, y.size() / 40));
    const std::optional<std::size_t> maximum = most_prominent_maximum(smooth);
    if (!maximum) {
        return peak_failure(FitStatus::not_converged, "tan δ(T) has no interior maximum",
                            frequency_hz);
    }

    // Second pass: the window re-centred on the first fit's vertex, so that it is symmetric
    // about the peak rather than about the noisy smoothed maximum.
    VertexFit fit = fit_vertex(inv_t, y, smooth, *maximum);
    if (fit.ok) {
        const double inv_peak = 1.0 / fit.temperature_k;
        const auto nearest = std::min_element(inv_t.begin(), inv_t.end(), [&](double a, double b) {
            return std::abs(a - inv_peak) < std::abs(b - inv_peak);
        });
        fit = fit_vertex(inv_t, y, smooth, static_cast<std::size_t>(nearest - inv_t.begin()));
    }
    if (!fit.ok) {
        return peak_failure(FitStatus::not_converged, fit.problem, frequency_hz);
    }
    TanDeltaPeak out;
    out.summary =
        FitSummary::success("β peak from a cubic fit of " + std::to_string(fit.points) + " points");
    out.frequency_hz = frequency_hz;
    out.temperature_k = fit.temperature_k;
    out.temperature_stderr_k = fit.temperature_stderr_k;
    return out;
}

namespace {

std::string input_problem(std::span<const double> temperature_k,
                          std::span<const double> frequency_hz, std::span<const double> tan_delta) {
    if (temperature_k.size() != frequency_hz.size() || temperature_k.size() != tan_delta.size()) {
        return "temperature, frequency and tan δ differ in length (" +
               std::to_string(temperature_k.size()) + ", " + std::to_string(frequency_hz.size()) +
               ", " + std::to_string(tan_delta.size()) + ")";
    }
    for (std::size_t i = 0; i < frequency_hz.size(); ++i) {
        if (!std::isfinite(frequency_hz[i]) || !(frequency_hz[i] > 0)) {
            return "frequency must be finite and positive (row " + std::to_string(i) + ")";
        }
        // One bad row refuses the whole set rather than silently dropping its frequency.
        if (!std::isfinite(temperature_k[i]) || !(temperature_k[i] > 0) ||
            !std::isfinite(tan_delta[i])) {
            return "non-finite value or non-positive temperature in row " + std::to_string(i);
        }
    }
    return {};
}

// The β peak of each group of rows of equal frequency (within a relative tolerance), ascending;
// `failures` collects why a group has none.
std::vector<TanDeltaPeak> peaks_by_frequency(std::span<const double> temperature_k,
                                             std::span<const double> frequency_hz,
                                             std::span<const double> tan_delta,
                                             std::string& failures) {
    std::vector<std::size_t> order(frequency_hz.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return frequency_hz[a] < frequency_hz[b];
    });
    std::vector<TanDeltaPeak> peaks;
    for (std::size_t start = 0; start < order.size();) {
        const double group_first = frequency_hz[order[start]];
        std::size_t end = start;
        double frequency_sum = 0.0;
        std::vector<double> t_group, y_group;
        while (end < order.size() &&
               frequency_hz[order[end]] <= group_first * (1.0 + frequency_rel_tolerance)) {
            frequency_sum += frequency_hz[order[end]];
            t_group.push_back(temperature_k[order[end]]);
            y_group.push_back(tan_delta[order[end]]);
            ++end;
        }
        const double group_frequency_hz = frequency_sum / static_cast<double>(end - start);
        TanDeltaPeak peak = locate_beta_peak(t_group, y_group, group_frequency_hz);
        if (!peak.summary.usable) {
            failures += "; " + std::to_string(group_frequency_hz) + " Hz: " + peak.summary.message;
        }
        peaks.push_back(std::move(peak));
        start = end;
    }
    return peaks;
}

// x = 1/T_p regressed on ln f: the uncertainty is in T_p, not in the set frequency.
struct PeakPoints {
    std::vector<double> x, x_stderr, ln_f;
    bool weighted = false;  // every x has a usable standard error

    double weight(std::size_t i) const {
        return weighted ? 1.0 / (x_stderr[i] * x_stderr[i]) : 1.0;
    }
};

PeakPoints usable_points(const std::vector<TanDeltaPeak>& peaks) {
    PeakPoints out;
    for (const TanDeltaPeak& p : peaks) {
        if (p.summary.usable) {
            out.x.push_back(1.0 / p.temperature_k);
            out.x_stderr.push_back(p.temperature_stderr_k / (p.temperature_k * p.temperature_k));
            out.ln_f.push_back(std::log(p.frequency_hz));
        }
    }
    out.weighted = std::all_of(out.x_stderr.begin(), out.x_stderr.end(),
                               [](double s) { return std::isfinite(s) && s > 0; });
    return out;
}

// With 3 or more points, scales the covariance by the scatter about the line (reduced χ²),
// which also covers misjudged weights; with 2, says what the standard errors rest on.
std::string scale_covariance(const PeakPoints& points, double intercept, double slope,
                             Eigen::Matrix2d& covariance) {
    const std::size_t n = points.x.size();
    if (n >= 3) {
        double chi2 = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double w = points.weight(i);
            const double r = points.x[i] - intercept - slope * points.ln_f[i];
            chi2 += w * r * r;
        }
        covariance *= chi2 / static_cast<double>(n - 2);
        return {};
    }
    if (points.weighted) {
        return "; 2 frequencies: standard errors propagated from the peak temperatures only";
    }
    covariance.setZero();
    return "; 2 frequencies: no standard errors";
}

// The weighted line x = intercept + slope ln f through 2 or more points; fills E_β, ln f0 and
// the summary.
void fit_peak_line(const PeakPoints& points, const std::string& failures, ArrheniusFit& out) {
    const std::size_t n = points.x.size();
    Eigen::Matrix2d normal = Eigen::Matrix2d::Zero();
    Eigen::Vector2d rhs = Eigen::Vector2d::Zero();
    for (std::size_t i = 0; i < n; ++i) {
        const double w = points.weight(i);
        const Eigen::Vector2d row(1.0, points.ln_f[i]);
        normal += w * row * row.transpose();
        rhs += w * points.x[i] * row;
    }
    if (!(std::abs(normal.determinant()) > 0)) {
        out.summary = FitSummary::failure(FitStatus::invalid_input,
                                          "the frequencies do not differ enough to fit");
        return;
    }
    const Eigen::Vector2d coef = normal.inverse() * rhs;
    const double intercept = coef(0), slope = coef(1);
    if (!(slope < 0)) {
        out.summary =
            FitSummary::failure(FitStatus::not_converged,
                                "the β peak temperature does not rise with frequency" + failures);
        return;
    }
    Eigen::Matrix2d covariance = normal.inverse();
    const std::string note = scale_covariance(points, intercept, slope, covariance);

    // 1/T_p = (k_B/E_β)(ln f0 − ln f): slope = −k_B/E_β, intercept = (k_B/E_β) ln f0.
    out.e_beta_ev = -boltzmann_ev_k / slope;
    out.e_beta_stderr_ev = boltzmann_ev_k * std::sqrt(covariance(1, 1)) / (slope * slope);
    out.ln_f0 = -intercept / slope;
    const Eigen::Vector2d gradient(-1.0 / slope, intercept / (slope * slope));
    out.ln_f0_stderr = std::sqrt(std::max(0.0, gradient.dot(covariance * gradient)));
    out.summary =
        FitSummary::success("Arrhenius fit of " + std::to_string(n) + " β peaks" + note + failures);
}

}  // namespace

ArrheniusFit fit_arrhenius(std::span<const double> temperature_k,
                           std::span<const double> frequency_hz,
                           std::span<const double> tan_delta) {
    ArrheniusFit out;
    if (const std::string problem = input_problem(temperature_k, frequency_hz, tan_delta);
        !problem.empty()) {
        out.summary = FitSummary::failure(FitStatus::invalid_input, problem);
        return out;
    }
    std::string failures;
    out.peaks = peaks_by_frequency(temperature_k, frequency_hz, tan_delta, failures);
    const PeakPoints points = usable_points(out.peaks);
    if (points.x.size() < 2) {
        out.summary = FitSummary::failure(FitStatus::insufficient_data,
                                          "need β peaks at 2 or more frequencies, found " +
                                              std::to_string(points.x.size()) + failures);
        return out;
    }
    fit_peak_line(points, failures, out);
    return out;
}

}  // namespace dmacycle::analysis
