// Discrete relaxation-time spectrum, eq. (2), by Tikhonov-regularized non-negative least squares.
//
// Unknowns. Each mode i is fitted through the strain the data actually determine, a_i:
//   recovery  a_i = ε_i (1 − exp(−t0/τ_i))  (the mode's strain at unloading),
//             model ε(t) = Σ a_i exp(−(t − t0)/τ_i) + c,          c = ε̇_vp t0;
//   creep     a_i = ε_i (1 − exp(−T/τ_i))   (the strain it reaches by the last time T),
//             model ε(t) = ε_e + Σ a_i (1 − exp(−t/τ_i)) / (1 − exp(−T/τ_i)) + ε̇_vp t.
// For τ ≫ the window ε_i itself is ill-determined (it trades against the viscoplastic term),
// a_i is not; a_i ≥ 0, the offset / elastic / viscoplastic terms are free and unregularized.
//
// λ normalization, scale-invariant: with s = max|y| over the N data points (a recovery's log-time
// bins, weights w_j; samples of a creep curve, w_j = 1) the fit minimizes
//     (1/Σw) Σ_j w_j ((model(t_j) − y_j) / s)²  +  λ Σ_i (a_i / s)²
// so λ means the same whatever the strain unit (%, raw), the number of points and the sampling.
// SpectrumFit::lambda reports λ in this normalization, whether given or chosen.
//
// Automatic λ: Morozov's discrepancy principle — the largest λ whose RMS residual stays within
// kDiscrepancyFactor of max(noise estimated from the data, RMS of the nearly unregularized fit).
// Unlike GCV it needs no trace of an influence matrix, which non-negativity makes ill-defined,
// and unlike the L-curve it needs no visible corner; the residual grows monotonically with λ,
// so a coarse log grid plus bisection in log λ finds it.
//
// Goodness of fit: the discrepancy target accepts whatever residual the model can reach, so the
// best residual is judged separately against the noise (kMisfitWarnFactor, kMisfitRejectFactor),
// and a peak on either end of the τ grid is flagged: its τ is only a bound.
#include "dmacycle/analysis/spectrum.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

#include "dmacycle/analysis/numerics.hpp"
#include "spectrum_kernel.hpp"
#include "spectrum_lambda.hpp"

namespace dmacycle::analysis {

namespace {

using detail::Index;
using detail::Kernel;
using detail::LambdaEvidence;
using detail::MatrixXd;
using detail::ModeColumn;
using detail::ModeShape;
using detail::NormalEquations;
using detail::RegularizedSolution;
using detail::rows_above_cutoff;
using detail::VectorXd;

constexpr std::size_t kMinPoints = 10;
// The n×n NNLS solves of the λ search grow like n³ or worse: on 2,000 points 400 modes take
// 0.2 s, 1,000 modes 13 s. 400 is still far more than the data resolve (a few per decade).
constexpr int kMaxModes = 400;
// Goodness of fit: the residual at λ → 0 (the model's own misfit) and at the λ used (a given λ
// can smooth the data away) against the noise a perfect model would leave (log_bins.hpp: the
// scatter within bins, over the bins' counts). White noise gives a ratio of about 1. The scatter
// within a bin sees correlated noise's whole amplitude but not the extra variance it gives the
// bins' means: AR(1) noise of lag-1 correlation 0.95 leaves 2.5x. Above kMisfitWarnFactor the
// summary carries a warning; above kMisfitRejectFactor no plausible noise explains the residual
// (a τ range missing the relaxation gave 170×) and the spectrum is not usable.
constexpr double kMisfitWarnFactor = 2.0;
constexpr double kMisfitRejectFactor = 20.0;
// The noise estimate is floored at this fraction of max|strain| for that judgement: the default
// grid (6 modes per decade) matches a single sharp line between its nodes only to ~1.2e-3 of
// max|strain|, so on nearly noise-free data the residual measures the grid, not a misfit.
constexpr double kMisfitNoiseFloor = 2e-3;
// Local maxima below this fraction of the largest are numerically zero, not peaks.
constexpr double kPeakRelativeFloor = 1e-3;

std::optional<FitSummary> check_series(std::span<const double> time_s,
                                       std::span<const double> strain,
                                       const SpectrumOptions& options) {
    if (const std::string problem = options.validate(); !problem.empty()) {
        return FitSummary::failure(FitStatus::invalid_input, problem);
    }
    if (time_s.size() != strain.size()) {
        return FitSummary::failure(FitStatus::invalid_input,
                                   "time and strain have different lengths");
    }
    if (time_s.size() < kMinPoints) {
        return FitSummary::failure(FitStatus::insufficient_data,
                                   "a spectrum needs at least 10 points");
    }
    for (std::size_t j = 0; j < time_s.size(); ++j) {
        if (!std::isfinite(time_s[j]) || !std::isfinite(strain[j])) {
            return FitSummary::failure(FitStatus::invalid_input, "non-finite time or strain");
        }
        // Repeated time stamps are measurements too; a time that goes back is not.
        if (j > 0 && time_s[j] < time_s[j - 1]) {
            return FitSummary::failure(FitStatus::invalid_input, "time goes backwards");
        }
    }
    return std::nullopt;
}

// Everything the recovery and creep fits share: scaling, projection, λ, residuals.
struct CoreFit {
    VectorXd amplitude;  // strain units
    VectorXd free_coefficients;
    std::vector<double> fitted;
    double lambda = 0;
    double noise = 0;
    double rms = 0;
    double misfit_ratio = 0;  // best RMS residual / max(noise estimate, floor)
    double lambda_ratio = 0;  // RMS residual at the λ used / max(noise estimate, floor)
    LambdaEvidence evidence;  // amplitudes in strain units
    MatrixXd covariance;      // of `amplitude` with the noise, at the λ used (strain units²)
    FitSummary summary;
};

// The values fitted, with their weights and noise.
struct FitData {
    std::span<const double> value;
    VectorXd sqrt_weight;       // empty: every value weighs 1
    double noise = 0;           // of one sample
    double residual_noise = 0;  // the weighted RMS residual a perfect model leaves
};

// F's first column must be the constant 1 (it absorbs the centring of the data).
CoreFit solve_spectrum(const Kernel& kernel, const FitData& fit_data,
                       const SpectrumOptions& options) {
    const Eigen::Map<const VectorXd> data(fit_data.value.data(),
                                          static_cast<Index>(fit_data.value.size()));
    const double max_abs = data.cwiseAbs().maxCoeff();
    const double scale = max_abs > 0 ? max_abs : 1.0;
    const double mean_scaled = data.mean() / scale;
    CoreFit out;
    out.noise = fit_data.noise;
    const VectorXd& sqrt_weight = fit_data.sqrt_weight;
    const double noise_scaled = fit_data.residual_noise / scale;

    const NormalEquations problem(kernel, (data / scale).array() - mean_scaled, sqrt_weight);
    out.evidence = detail::weigh_lambdas(problem);
    RegularizedSolution solution = options.lambda ? solve_with_lambda(problem, *options.lambda)
                                   : options.lambda_rule == LambdaRule::evidence
                                       ? detail::solve_by_evidence(problem, out.evidence)
                                       : choose_lambda(problem, noise_scaled);
    out.evidence.mean *= scale;
    out.evidence.sd *= scale;
    out.amplitude = scale * solution.amplitude;
    out.covariance =
        (scale * scale * noise_scaled * noise_scaled / static_cast<double>(problem.rows())) *
        problem.free_set_sandwich(solution.lambda, solution.amplitude);
    // Back to the unshifted kernel and the uncentred data.
    VectorXd free_coefficients =
        problem.free_coefficients(solution.amplitude) - kernel.shifts() * solution.amplitude;
    free_coefficients(0) += mean_scaled;
    out.free_coefficients = scale * free_coefficients;
    const VectorXd fitted_scaled =
        (problem.fitted(solution.amplitude).array() + mean_scaled).matrix();
    const VectorXd fitted = scale * fitted_scaled;
    out.fitted.assign(fitted.begin(), fitted.end());
    // In units of s: the unscaled sum of squares overflows for strains beyond ~1e154.
    const VectorXd residual_scaled = fitted_scaled - data / scale;
    out.rms =
        scale * (sqrt_weight.size() > 0
                     ? std::sqrt(residual_scaled.cwiseProduct(sqrt_weight).squaredNorm() /
                                 sqrt_weight.squaredNorm())
                     : std::sqrt(residual_scaled.squaredNorm() / static_cast<double>(data.size())));
    out.misfit_ratio = solution.best_rms / std::max(noise_scaled, kMisfitNoiseFloor);
    out.lambda_ratio = out.rms / scale / std::max(noise_scaled, kMisfitNoiseFloor);
    out.lambda = solution.lambda;
    out.summary = solution.converged
                      ? FitSummary::success(solution.how)
                      : FitSummary::failure(FitStatus::not_converged,
                                            "NNLS hit its iteration cap; " + solution.how);
    return out;
}

// Local maxima of `detect` (ignoring numerically-zero ones), each with the strains summed
// between its bounding minima and τ refined by a parabola in log τ through its neighbours.
// response: each mode's h (loading_history.hpp), empty for creep; a peak holding modes the
// loading left all but empty has modes whose eq. (2) strain is undetermined.
// Each peak's modes are [first, last] of `modes`.
struct ModeRange {
    Index first = 0, last = 0;
};
std::vector<SpectrumPeak> find_peaks(const VectorXd& detect, std::span<const double> tau_s,
                                     std::span<const double> strain,
                                     std::span<const double> strain_at_unload,
                                     std::span<const double> response, double noise,
                                     std::vector<ModeRange>& modes) {
    const Index n = detect.size();
    const double largest = detect.maxCoeff();
    if (!(largest > 0)) {
        return {};
    }
    const auto value = [&](Index i) { return i < 0 || i >= n ? 0.0 : detect(i); };
    std::vector<Index> maxima;
    for (Index i = 0; i < n; ++i) {
        // A plateau counts once, at its left end.
        if (value(i) > value(i - 1) && value(i) >= value(i + 1) &&
            value(i) >= kPeakRelativeFloor * largest) {
            maxima.push_back(i);
        }
    }
    // Bounding minimum between consecutive maxima (belongs to the left peak).
    std::vector<Index> last_of_peak;
    for (std::size_t k = 0; k + 1 < maxima.size(); ++k) {
        Index lowest = maxima[k];
        for (Index i = maxima[k]; i <= maxima[k + 1]; ++i) {
            if (detect(i) < detect(lowest)) {
                lowest = i;
            }
        }
        last_of_peak.push_back(lowest);
    }
    last_of_peak.push_back(n - 1);

    const double log10_step =
        (std::log10(tau_s.back()) - std::log10(tau_s.front())) / static_cast<double>(n - 1);
    std::vector<SpectrumPeak> peaks;
    Index first = 0;
    for (std::size_t k = 0; k < maxima.size(); ++k) {
        const Index top = maxima[k];
        const ModeRange range{first, last_of_peak[k]};
        SpectrumPeak peak;
        double detected = 0;
        for (Index i = first; i <= last_of_peak[k]; ++i) {
            detected += detect(i);
            peak.strain += strain[static_cast<std::size_t>(i)];
            peak.strain_at_unload += strain_at_unload[static_cast<std::size_t>(i)];
            peak.strain_undetermined =
                peak.strain_undetermined ||
                (!response.empty() && response[static_cast<std::size_t>(i)] < kMinLoadResponse &&
                 detect(i) > 0);
        }
        first = last_of_peak[k] + 1;
        double offset = 0;  // in grid steps
        if (top > 0 && top + 1 < n) {
            const double left = detect(top - 1), middle = detect(top), right = detect(top + 1);
            const double curvature = left - 2.0 * middle + right;
            if (curvature < 0) {
                offset = std::clamp(0.5 * (left - right) / curvature, -0.5, 0.5);
            }
        }
        peak.tau_s = tau_s[static_cast<std::size_t>(top)] * std::pow(10.0, offset * log10_step);
        peak.at_grid_edge = top == 0 || top + 1 == n;
        // A peak holding less strain than the noise is not evidenced by the data.
        if (detected > noise) {
            peaks.push_back(peak);
            modes.push_back(range);
        }
    }
    return peaks;
}

// Each mode's ε_i = to_strain_i · a_i (its loading kernel's reading), the band's ends read
// alike, the peaks (detected on a, flagged where `response` < kMinLoadResponse) and each
// peak's standard error. fit.strain_at_unload must be filled.
void add_modes(SpectrumFit& fit, const CoreFit& core, const std::vector<double>& to_strain,
               std::span<const double> response, double first_s) {
    const LambdaEvidence& evidence = core.evidence;
    for (std::size_t i = 0; i < to_strain.size(); ++i) {
        const auto at = static_cast<Index>(i);
        fit.strain.push_back(core.amplitude(at) * to_strain[i]);
        fit.strain_low.push_back(std::max(evidence.mean(at) - evidence.sd(at), 0.0) * to_strain[i]);
        fit.strain_high.push_back((evidence.mean(at) + evidence.sd(at)) * to_strain[i]);
    }
    std::vector<ModeRange> ranges;
    fit.peaks = find_peaks(core.amplitude, fit.tau_s, fit.strain, fit.strain_at_unload, response,
                           core.noise, ranges);
    for (std::size_t k = 0; k < fit.peaks.size(); ++k) {
        VectorXd weights = VectorXd::Zero(static_cast<Index>(to_strain.size()));
        // Modes outside the window are not identifiable: those faster than its first point show
        // only as a step before it, those slower are strain_beyond_window's. Left out.
        for (Index i = ranges[k].first; i <= ranges[k].last; ++i) {
            const auto mode = static_cast<std::size_t>(i);
            const double tau_s = fit.tau_s[mode];
            weights(i) = tau_s >= first_s && tau_s <= fit.window_s ? to_strain[mode] : 0.0;
        }
        fit.peaks[k].strain_stderr = std::sqrt(weights.dot(core.covariance * weights));
    }
}

double strain_beyond(std::span<const double> tau_s, const VectorXd& amplitude, double window_s) {
    double sum = 0;
    for (std::size_t i = 0; i < tau_s.size(); ++i) {
        if (tau_s[i] > window_s) {
            sum += amplitude(static_cast<Index>(i));
        }
    }
    return sum;
}

bool all_finite(std::span<const double> values) {
    return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

// Moves the shared results into `fit` and gives the verdict: the solver's, unless the outputs
// overflowed or the model cannot follow the data; warnings for a lesser misfit and for peaks on
// the ends of the τ grid, whose τ is then only a bound.
void finish(SpectrumFit& fit, CoreFit core) {
    fit.lambda = core.lambda;
    fit.lambda_evidence = core.evidence.lambda_bayes;
    fit.lambda_plausible_low = core.evidence.plausible_low;
    fit.lambda_plausible_high = core.evidence.plausible_high;
    fit.noise_estimate = core.noise;
    fit.rms_residual = core.rms;
    fit.fitted = std::move(core.fitted);
    fit.summary = std::move(core.summary);
    // Judged at the λ used, whoever chose it: a given λ can smooth the data away.
    fit.misfit = std::max(core.misfit_ratio, core.lambda_ratio) > kMisfitWarnFactor;
    bool finite =
        all_finite(fit.strain) && all_finite(fit.strain_at_unload) && all_finite(fit.fitted) &&
        all_finite(std::array{fit.strain_e, fit.strain_vp, fit.strain_rate_vp,
                              fit.strain_beyond_window, fit.noise_estimate, fit.rms_residual});
    for (const SpectrumPeak& peak : fit.peaks) {
        finite = finite && all_finite(std::array{peak.tau_s, peak.strain, peak.strain_at_unload});
    }
    if (!finite) {
        fit.summary = FitSummary::failure(FitStatus::invalid_input,
                                          "results beyond the floating-point range; rescale the "
                                          "strain");
        return;
    }
    if (!fit.summary.usable) {
        return;
    }
    char ratio[64];
    std::snprintf(ratio, sizeof ratio, "%.3g", core.misfit_ratio);
    char at_lambda[64];
    std::snprintf(at_lambda, sizeof at_lambda, "%.3g", core.lambda_ratio);
    if (core.misfit_ratio > kMisfitRejectFactor) {
        fit.summary = FitSummary::failure(
            FitStatus::not_converged,
            std::string("the model cannot fit these data: its best RMS residual is ") + ratio +
                " x the noise level (widen the tau range?); " + fit.summary.message);
        return;
    }
    if (core.lambda_ratio > kMisfitRejectFactor) {
        fit.summary =
            FitSummary::failure(FitStatus::not_converged,
                                std::string("lambda smooths the data away: the RMS residual is ") +
                                    at_lambda + " x the noise level (the model reaches " + ratio +
                                    " x; a smaller lambda?); " + fit.summary.message);
        return;
    }
    if (core.misfit_ratio > kMisfitWarnFactor) {
        fit.summary.message = std::string("warning: the best RMS residual is ") + ratio +
                              " x the noise level (model misfit, or correlated noise); " +
                              fit.summary.message;
    } else if (fit.misfit) {
        fit.summary.message = std::string("warning: at this lambda the RMS residual is ") +
                              at_lambda +
                              " x the noise level (or the tau grid's floor, 2e-3 of max|strain|): "
                              "over-smoothed; " +
                              fit.summary.message;
    }
    if (std::any_of(fit.peaks.begin(), fit.peaks.end(),
                    [](const SpectrumPeak& peak) { return peak.strain_undetermined; })) {
        fit.summary.message +=
            "; warning: some of a peak's modes show under 1 % of their strain (a ramp emptied or "
            "filled them first): their eq. (2) strain cannot be had, the strain they show stands "
            "in";
    }
    if (std::any_of(fit.peaks.begin(), fit.peaks.end(),
                    [](const SpectrumPeak& peak) { return peak.at_grid_edge; })) {
        fit.summary.message +=
            "; warning: a peak sits at an end of the tau grid, its tau is only a bound";
    }
}

}  // namespace

std::string SpectrumOptions::validate() const {
    if (modes < 2 || modes > kMaxModes) {
        return "the spectrum needs 2 to 400 modes";
    }
    if (!std::isfinite(tau_min_s) || tau_min_s <= 0) {
        return "tau_min_s must be positive and finite";
    }
    if (!std::isfinite(tau_max_s) || tau_max_s <= tau_min_s) {
        return "tau_max_s must be finite and greater than tau_min_s";
    }
    if (lambda && (!std::isfinite(*lambda) || *lambda < 0)) {
        return "lambda must be finite and non-negative";
    }
    return {};
}

SpectrumFit fit_recovery_spectrum(std::span<const double> time_s, std::span<const double> strain,
                                  double t0_s, const SpectrumOptions& options) {
    SpectrumFit fit;
    if (auto failure = check_series(time_s, strain, options)) {
        fit.summary = std::move(*failure);
        return fit;
    }
    if (!std::isfinite(t0_s) || t0_s <= 0) {
        fit.summary = FitSummary::failure(FitStatus::invalid_input, "t0 must be positive");
        return fit;
    }
    if (time_s.front() < t0_s) {
        fit.summary =
            FitSummary::failure(FitStatus::invalid_input, "recovery times must not be before t0");
        return fit;
    }
    return fit_recovery_spectrum(bin_recovery(time_s, strain, t0_s), t0_s, options);
}

SpectrumFit fit_recovery_spectrum(const BinnedCurve& recovery, double t0_s,
                                  const SpectrumOptions& options, const LoadingHistory* history) {
    SpectrumFit fit;
    if (const std::string problem = options.validate(); !problem.empty()) {
        fit.summary = FitSummary::failure(FitStatus::invalid_input, problem);
        return fit;
    }
    if (recovery.size() < kMinPoints) {
        fit.summary = FitSummary::failure(FitStatus::insufficient_data,
                                          "a spectrum needs at least 10 bins of log time");
        return fit;
    }
    if (!std::isfinite(t0_s) || t0_s <= 0) {
        fit.summary = FitSummary::failure(FitStatus::invalid_input, "t0 must be positive");
        return fit;
    }
    const std::span<const double> elapsed_s = recovery.time_s;
    const auto points = static_cast<Index>(elapsed_s.size());
    fit.tau_s = log_space(options.tau_min_s, options.tau_max_s, options.modes);
    // Columns nearly constant over the window are held as their departure from the value at
    // its middle; the others die out and are exactly zero past the exp() cutoff.
    const double middle_s = 0.5 * (elapsed_s.front() + elapsed_s.back());
    std::vector<ModeColumn> columns;
    for (const double tau_s : fit.tau_s) {
        const double at_middle = std::exp(-middle_s / tau_s);
        const bool nearly_constant = at_middle > 0.5;
        columns.push_back(
            {1.0 / tau_s, ModeShape::decay, 1.0,
             VectorXd::Constant(1, nearly_constant ? at_middle : 0.0),
             nearly_constant ? elapsed_s.size() : rows_above_cutoff(elapsed_s, 1.0 / tau_s)});
    }
    const Kernel kernel(elapsed_s, MatrixXd::Ones(points, 1), std::move(columns),
                        recovery.time_spread_s);
    const FitData data{recovery.value,
                       Eigen::Map<const VectorXd>(recovery.weight.data(), points).cwiseSqrt(),
                       recovery.noise, recovery.weighted_mean_noise()};
    CoreFit core = solve_spectrum(kernel, data, options);

    fit.window_s = recovery.last_s;
    const bool recorded = history != nullptr && !history->empty() && history->mean_stress_pa() != 0;
    std::vector<double> response;
    if (recorded) {
        response = history->response(fit.tau_s);
        char text[160];
        std::snprintf(text, sizeof text,
                      "recorded stress history (Boltzmann superposition over %.6g s, sigma_ref = "
                      "mean stress %.6g Pa)",
                      history->duration_s(), history->mean_stress_pa());
        fit.kernel = text;
    } else {
        for (const double tau_s : fit.tau_s) {
            response.push_back(-std::expm1(-t0_s / tau_s));
        }
        fit.kernel = "eq. (2): constant stress for t0, unloaded at once";
    }
    // Only a recorded unloading empties modes (those faster than the loading); a mode slower
    // than it was barely charged, under either kernel, and its ε_i is the ill-determined
    // strain_beyond_window's.
    std::vector<double> emptied_response, to_strain;
    for (std::size_t i = 0; i < fit.tau_s.size(); ++i) {
        const bool may_be_emptied = recorded && fit.tau_s[i] < t0_s;
        fit.strain_at_unload.push_back(core.amplitude(static_cast<Index>(i)));
        to_strain.push_back(may_be_emptied ? strain_from_unload(1.0, response[i])
                                           : 1.0 / response[i]);
        emptied_response.push_back(may_be_emptied ? response[i] : 1.0);
    }
    add_modes(fit, core, to_strain, emptied_response, recovery.time_s.front());
    fit.strain_vp = core.free_coefficients(0);
    fit.strain_rate_vp = fit.strain_vp / t0_s;
    fit.strain_beyond_window = strain_beyond(fit.tau_s, core.amplitude, fit.window_s);
    finish(fit, std::move(core));
    return fit;
}

SpectrumFit fit_creep_spectrum(std::span<const double> time_s, std::span<const double> strain,
                               const SpectrumOptions& options, const CreepRamp* ramp) {
    SpectrumFit fit;
    if (auto failure = check_series(time_s, strain, options)) {
        fit.summary = std::move(*failure);
        return fit;
    }
    if (time_s.front() <= 0) {
        fit.summary = FitSummary::failure(FitStatus::invalid_input, "creep times must be > 0");
        return fit;
    }
    const auto points = static_cast<Index>(time_s.size());
    const double last_s = time_s.back();
    fit.tau_s = log_space(options.tau_min_s, options.tau_max_s, options.modes);
    MatrixXd free_columns(points, 2);
    for (Index j = 0; j < points; ++j) {
        free_columns(j, 0) = 1.0;
        free_columns(j, 1) = time_s[static_cast<std::size_t>(j)] / last_s;
    }
    // Column i is (1 − exp(−t/τ_i)) / reached_i, reached_i = 1 − exp(−T/τ_i). Fast modes, nearly
    // constant over the window, are held as their departure from 1/reached_i, exactly zero past
    // the exp() cutoff; slow ones, nearly linear, as their departure from t/T.
    const double middle_s = 0.5 * (time_s.front() + last_s);
    std::vector<double> reached;
    std::vector<ModeColumn> columns;
    for (const double tau_s : fit.tau_s) {
        reached.push_back(-std::expm1(-last_s / tau_s));
        if (std::exp(-middle_s / tau_s) < 0.5) {
            columns.push_back({1.0 / tau_s, ModeShape::growth, 1.0 / reached.back(),
                               Eigen::Vector2d(1.0 / reached.back(), 0.0),
                               rows_above_cutoff(time_s, 1.0 / tau_s)});
        } else {
            columns.push_back({1.0 / tau_s, ModeShape::growth, 1.0 / reached.back(),
                               Eigen::Vector2d(0.0, 1.0), time_s.size()});
        }
    }
    const Kernel kernel(time_s, std::move(free_columns), std::move(columns));
    const double noise = estimate_noise(strain);
    CoreFit core = solve_spectrum(kernel, FitData{strain, VectorXd(), noise, noise}, options);

    fit.window_s = last_s;
    fit.strain_vp = core.free_coefficients(1);
    fit.strain_rate_vp = fit.strain_vp / last_s;
    fit.strain_e = core.free_coefficients(0);
    // g_i: the share of each mode's strain still to come when the hold began (1: a step load).
    std::vector<double> shown(fit.tau_s.size(), 1.0);
    const bool recorded = ramp != nullptr && !ramp->history.empty() &&
                          ramp->history.duration_s() > 0 && ramp->hold_stress_pa != 0;
    if (recorded) {
        const double to_hold = ramp->history.mean_stress_pa() / ramp->hold_stress_pa;
        const auto filled = ramp->history.response(fit.tau_s);
        for (std::size_t i = 0; i < shown.size(); ++i) {
            shown[i] = 1.0 - filled[i] * to_hold;
        }
        fit.strain_e -= fit.strain_rate_vp * ramp->history.duration_s() * to_hold;
        char text[160];
        std::snprintf(text, sizeof text,
                      "recorded load ramp (%.6g s up to %.6g Pa), times from the start of the hold",
                      ramp->history.duration_s(), ramp->hold_stress_pa);
        fit.kernel = text;
    } else {
        fit.kernel = "eq. (2): a step load at time 0";
    }
    std::vector<double> to_strain;
    for (std::size_t i = 0; i < fit.tau_s.size(); ++i) {
        fit.strain_at_unload.push_back(core.amplitude(static_cast<Index>(i)) / reached[i]);
        to_strain.push_back(strain_from_unload(1.0, shown[i]) / reached[i]);
    }
    fit.strain_beyond_window = strain_beyond(fit.tau_s, core.amplitude, fit.window_s);
    // Detected on the strain reached within the window: ε_i of modes far beyond it is
    // ill-determined and would dominate.
    add_modes(fit, core, to_strain, recorded ? shown : std::vector<double>{}, time_s.front());
    for (std::size_t i = 0; i < shown.size(); ++i) {
        if (shown[i] >= kMinLoadResponse) {  // what the ramp gave this mode is elastic-like
            fit.strain_e -= (1.0 - shown[i]) * fit.strain[i];
        }
    }
    finish(fit, std::move(core));
    return fit;
}

}  // namespace dmacycle::analysis
