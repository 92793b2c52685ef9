#pragma once
#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"
#include "dmacycle/analysis/log_bins.hpp"

// Private: nonlinear least squares for models that are linear in most parameters,
// y ≈ Σ_k c_k φ_k(t; θ). Shared by the single-τ and KWW fits.
namespace dmacycle::analysis::detail {

// Why a curve cannot be fitted, or nothing if it can: sizes match, at least a handful of finite
// points, time never going back, none before t0 (recovery) or at t ≥ 0 (creep, no t0).
std::optional<FitSummary> reject_curve(std::span<const double> time_s,
                                       std::span<const double> strain, std::optional<double> t0_s);
// Why a binned recovery cannot be fitted: fewer than a handful of bins.
std::optional<FitSummary> reject_bins(const BinnedCurve& curve);

// Times (and their logarithms, −∞ for t ≤ 0) with the measured values and, for a binned curve,
// the square roots of the bins' weights (empty: every point weighs 1).
struct Samples {
    std::vector<double> time_s, log_time, value, sqrt_weight;
    // A binned curve's standard deviation of each value from the noise (empty: unknown, and the
    // standard errors come from the residual instead).
    std::vector<double> noise_sd;
    // A binned curve's bins at their mean time ∓ their time spread: the model is the mean of its
    // values there (null: at time_s alone).
    std::shared_ptr<const Samples> below, above;
    // A binned curve's first and last sample times (0: the first and last of time_s), which
    // bound τ rather than the bins' mean times.
    double first_s = 0, last_s = 0;
};
Samples make_samples(std::span<const double> time_s, std::span<const double> value);
// A binned curve's bins as weighted points.
Samples make_samples(const BinnedCurve& curve);

// Means over bins equally wide in ln t (empty bins skipped): a small, evenly weighted summary
// of a long curve, cheap enough for a grid search.
Samples log_binned(const Samples& samples, int bin_count);

struct SeparableModel {
    int linear_count = 0;
    int nonlinear_count = 0;
    // Fills basis (n × linear_count); if d_basis is not null, also ∂basis/∂θ_j, one
    // n × linear_count matrix per nonlinear parameter.
    std::function<void(const Samples&, const Eigen::VectorXd& theta, Eigen::MatrixXd& basis,
                       std::vector<Eigen::MatrixXd>* d_basis)>
        evaluate;
    // Box for θ; a result at its edge is reported, not trusted: bound_messages[j] says what
    // θ_j on its bound means.
    Eigen::VectorXd theta_lo, theta_hi;
    std::vector<std::string> bound_messages;
};

// Zeroed derivative matrices, reusing their storage between evaluations.
void resize_zero(std::vector<Eigen::MatrixXd>& d_basis, int nonlinear_count, Eigen::Index rows,
                 Eigen::Index cols);

// Box for ln τ: three decades beyond the sampled times either way.
Eigen::Vector2d log_tau_bounds(const Samples& samples);
inline constexpr const char* kTauBoundMessage =
    "τ ran into its bound, far outside the sampled time range";
// Candidate ln τ from a decade below the first positive time to a decade above the last.
std::vector<double> log_tau_grid(const Samples& samples, double step_decades);

struct SeparableResult {
    bool usable = false;
    std::string message;
    Eigen::VectorXd theta, coefficients;
    Eigen::VectorXd theta_stderr, coefficient_stderr;
    double rms_residual = 0;
    // With a known noise: the RMS residual over the RMS a perfect model would leave (0 else).
    double misfit_ratio = 0;
};

// Grid search over theta_candidates (linear parameters by least squares at each) on a log-binned
// copy of the data (the data themselves when they are few), Levenberg-Marquardt with variable
// projection on the binned data, then on all points, weighted. Not usable when θ ends on its box
// or any result is not finite. Standard errors: with the values' noise variances V known (a
// binned curve), what the noise alone moves the estimate by, (JᵀWJ)⁻¹ JᵀWVWJ (JᵀWJ)⁻¹, whatever
// the model's misfit (reported apart, as misfit_ratio); otherwise s²(JᵀWJ)⁻¹ with
// s² = RSS_w/(N − p). The RMS residual is sqrt(RSS_w / Σw).
SeparableResult fit_separable(const SeparableModel& model, const Samples& samples,
                              std::span<const Eigen::VectorXd> theta_candidates);

// Verdict on a usable relaxation fit: not usable when the amplitude (coefficient
// `amplitude_column`) is not resolved above the noise.
// A misfit well above the noise is a warning in the message, not a failure: the parameters are
// then those of the model's best approximation of the curve.
FitSummary judge_relaxation(const SeparableResult& result, int amplitude_column);
inline constexpr double kMisfitWarnRatio = 3.0;

}  // namespace dmacycle::analysis::detail
