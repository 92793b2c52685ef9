#include "separable_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

namespace dmacycle::analysis::detail {
namespace {

// Variable projection converges in a handful of steps; the binned stage gets room for hard
// starts (it is cheap), while the full data start next to the binned optimum and need only a few.
constexpr int kBinnedMaxIterations = 200;
constexpr int kFullMaxIterations = 50;
// Damping beyond which no step lowers the RSS any more: the minimum, to rounding.
constexpr double kStationaryDamping = 1e12;
constexpr double kRelativeRssTolerance = 1e-12;

struct Linear {
    Eigen::VectorXd coefficients;
    double rss = std::numeric_limits<double>::infinity();
};

Eigen::Map<const Eigen::VectorXd> map(const std::vector<double>& values) {
    return {values.data(), static_cast<Eigen::Index>(values.size())};
}

// The values as the least squares see them: times the square roots of their weights.
Eigen::VectorXd values_of(const Samples& samples) {
    if (samples.sqrt_weight.empty()) {
        return map(samples.value);
    }
    return map(samples.value).cwiseProduct(map(samples.sqrt_weight));
}

double total_weight(const Samples& samples) {
    return samples.sqrt_weight.empty() ? static_cast<double>(samples.value.size())
                                       : map(samples.sqrt_weight).squaredNorm();
}

// The model at θ, and its derivatives when asked for.
struct Evaluation {
    Eigen::MatrixXd basis;
    std::vector<Eigen::MatrixXd> d_basis;
};

// The model at θ (a bin's mean over its spread), its rows weighted like values_of. `upper` holds
// the bins' upper edges: kept by the caller, so that repeated evaluations allocate nothing.
void evaluate(const SeparableModel& model, const Samples& samples, const Eigen::VectorXd& theta,
              bool with_derivatives, Evaluation& out, Evaluation& upper) {
    std::vector<Eigen::MatrixXd>* const d_basis = with_derivatives ? &out.d_basis : nullptr;
    if (samples.below) {
        model.evaluate(*samples.below, theta, out.basis, d_basis);
        model.evaluate(*samples.above, theta, upper.basis,
                       with_derivatives ? &upper.d_basis : nullptr);
        out.basis = 0.5 * (out.basis + upper.basis);
        for (std::size_t j = 0; d_basis && j < d_basis->size(); ++j) {
            (*d_basis)[j] = 0.5 * ((*d_basis)[j] + upper.d_basis[j]);
        }
    } else {
        model.evaluate(samples, theta, out.basis, d_basis);
    }
    if (samples.sqrt_weight.empty()) {
        return;
    }
    const auto w = map(samples.sqrt_weight).array();
    out.basis.array().colwise() *= w;
    for (std::size_t j = 0; d_basis && j < d_basis->size(); ++j) {
        (*d_basis)[j].array().colwise() *= w;
    }
}

// Column-pivoting QR stays accurate when a slow mode and the constant offset are nearly
// collinear, which the normal equations would not. Fills `residual` too (y − basis c), into
// storage kept by the caller.
void solve_linear(const Eigen::ColPivHouseholderQR<Eigen::MatrixXd>& qr,
                  const Eigen::MatrixXd& basis, const Eigen::VectorXd& y, Linear& out,
                  Eigen::VectorXd& residual) {
    out.coefficients = qr.solve(y);
    residual.noalias() = basis * out.coefficients;
    residual = y - residual;
    const double rss = residual.squaredNorm();
    out.rss = std::isfinite(rss) ? rss : std::numeric_limits<double>::infinity();
}

// Model Jacobian with respect to (c, θ), c first.
Eigen::MatrixXd jacobian(const Evaluation& eval, const Eigen::VectorXd& coefficients) {
    const auto linear_count = eval.basis.cols();
    const auto nonlinear_count = static_cast<Eigen::Index>(eval.d_basis.size());
    Eigen::MatrixXd jac(eval.basis.rows(), linear_count + nonlinear_count);
    jac.leftCols(linear_count) = eval.basis;
    for (Eigen::Index j = 0; j < nonlinear_count; ++j) {
        jac.col(linear_count + j) = eval.d_basis[static_cast<std::size_t>(j)] * coefficients;
    }
    return jac;
}

// Marquardt's scaling: the normal matrix rescaled to unit diagonal, so strains of 1e-3 and
// rates of 1e-8 1/s sit on the same footing.
Eigen::VectorXd unit_diagonal_scale(const Eigen::MatrixXd& normal) {
    Eigen::VectorXd scale(normal.rows());
    for (Eigen::Index i = 0; i < normal.rows(); ++i) {
        const double d = normal(i, i);
        scale(i) = d > 0 && std::isfinite(d) ? 1.0 / std::sqrt(d) : 1.0;
    }
    return scale;
}

// The model at θ with the linear parameters solved exactly, and what the θ step needs. Kept
// across trials: every evaluation reuses its matrices (no copies or allocations in the loop).
struct Projected {
    Evaluation evaluation;
    Linear linear;
    Eigen::VectorXd residual;
    // Kaufman's Jacobian of the projected residual: −P⊥ ∂basis/∂θ_j c, P⊥ = I − basis basis⁺.
    Eigen::MatrixXd theta_jacobian;
    // Scratch: the QR of basis, the bins' upper edges, ∂basis/∂θ_j c and its projection.
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr;
    Evaluation upper;
    Eigen::VectorXd d, solved;
};

// `y` is values_of(samples).
void project(const SeparableModel& model, const Samples& samples, const Eigen::VectorXd& y,
             const Eigen::VectorXd& theta, Projected& out) {
    evaluate(model, samples, theta, true, out.evaluation, out.upper);
    const Eigen::MatrixXd& basis = out.evaluation.basis;
    out.qr.compute(basis);
    solve_linear(out.qr, basis, y, out.linear, out.residual);
    out.theta_jacobian.resize(basis.rows(), model.nonlinear_count);
    for (int j = 0; j < model.nonlinear_count; ++j) {
        out.d.noalias() =
            out.evaluation.d_basis[static_cast<std::size_t>(j)] * out.linear.coefficients;
        out.solved = out.qr.solve(out.d);
        auto column = out.theta_jacobian.col(j);
        column.noalias() = basis * out.solved;
        column = out.d - column;
    }
}

struct LmResult {
    Eigen::VectorXd theta, coefficients;
    Evaluation evaluation;  // at theta, for the covariance
    double rss = 0;
    bool converged = false;
};

// Levenberg-Marquardt over θ alone (variable projection): the linear parameters are solved
// exactly at every trial, so the iteration never crawls along the flat valleys where an
// amplitude and a rate trade off, which a joint (c, θ) iteration takes thousands of steps over.
// A θ on its bound with the gradient pointing out is held there (projected gradient), so an
// optimum beyond the box converges on the box's face instead of creeping at the bound.
LmResult levenberg_marquardt(const SeparableModel& model, const Samples& samples,
                             Eigen::VectorXd theta, int max_iterations) {
    const Eigen::Index q = model.nonlinear_count;
    LmResult out;
    const Eigen::VectorXd y = values_of(samples);
    Projected current;
    Projected trial;
    project(model, samples, y, theta, current);
    double damping = 1e-3;
    const auto finish = [&](bool converged) {
        out.theta = std::move(theta);
        out.coefficients = std::move(current.linear.coefficients);
        out.evaluation = std::move(current.evaluation);
        out.rss = current.linear.rss;
        out.converged = converged;
        return std::move(out);
    };
    if (!std::isfinite(current.linear.rss)) {
        return finish(false);
    }
    for (int iteration = 0; iteration < max_iterations; ++iteration) {
        const Eigen::MatrixXd& jac = current.theta_jacobian;
        const Eigen::MatrixXd normal = jac.transpose() * jac;
        const Eigen::VectorXd scale = unit_diagonal_scale(normal);
        Eigen::MatrixXd scaled = scale.asDiagonal() * normal * scale.asDiagonal();
        Eigen::VectorXd scaled_gradient = scale.cwiseProduct(jac.transpose() * current.residual);
        for (Eigen::Index j = 0; j < q; ++j) {
            const bool pinned = (theta(j) <= model.theta_lo(j) && scaled_gradient(j) < 0) ||
                                (theta(j) >= model.theta_hi(j) && scaled_gradient(j) > 0);
            if (pinned) {
                scaled.row(j).setZero();
                scaled.col(j).setZero();
                scaled(j, j) = 1;
                scaled_gradient(j) = 0;
            }
        }
        if (scaled_gradient.isZero(0)) {
            return finish(true);
        }
        const auto identity = Eigen::MatrixXd::Identity(q, q);
        while (true) {
            const Eigen::VectorXd step =
                scale.cwiseProduct((scaled + damping * identity).ldlt().solve(scaled_gradient));
            const Eigen::VectorXd trial_theta =
                (theta + step).cwiseMax(model.theta_lo).cwiseMin(model.theta_hi);
            project(model, samples, y, trial_theta, trial);
            const double rss = current.linear.rss;
            if (trial.linear.rss < rss) {
                const bool small_gain = rss - trial.linear.rss <= kRelativeRssTolerance * rss;
                theta = trial_theta;
                std::swap(current, trial);
                damping = std::max(damping / 10, 1e-12);
                if (small_gain) {
                    return finish(true);
                }
                break;
            }
            damping *= 10;
            if (damping > kStationaryDamping) {
                return finish(true);
            }
        }
    }
    return finish(false);
}

double last_time(const Samples& samples) {
    return samples.last_s > 0 ? samples.last_s : samples.time_s.back();
}

double first_positive_time(const Samples& samples) {
    if (samples.first_s > 0) {
        return samples.first_s;
    }
    const auto it =
        std::find_if(samples.time_s.begin(), samples.time_s.end(), [](double t) { return t > 0; });
    return it == samples.time_s.end() ? 1.0 : *it;
}

// Starting values: the candidate with the least RSS, linear parameters solved at each; nothing
// when the model is not finite at any of them.
std::optional<Eigen::VectorXd> best_candidate(const SeparableModel& model, const Samples& samples,
                                              std::span<const Eigen::VectorXd> theta_candidates) {
    const Eigen::VectorXd values = values_of(samples);
    Evaluation eval, upper;
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr;
    Linear linear;
    Eigen::VectorXd residual;
    double best_rss = std::numeric_limits<double>::infinity();
    Eigen::VectorXd best_theta;
    for (const auto& theta : theta_candidates) {
        evaluate(model, samples, theta, false, eval, upper);
        qr.compute(eval.basis);
        solve_linear(qr, eval.basis, values, linear, residual);
        if (linear.rss < best_rss) {
            best_rss = linear.rss;
            best_theta = theta;
        }
    }
    if (!std::isfinite(best_rss)) {
        return std::nullopt;
    }
    return best_theta;
}

// Standard errors of (c, θ) from s²(JᵀJ)⁻¹ at the optimum, s² = RSS/(N − p); nothing when the
// data do not determine the parameters.
std::optional<Eigen::VectorXd> standard_errors(const SeparableModel& model, const Samples& samples,
                                               const LmResult& fit) {
    const auto point_count = static_cast<int>(samples.value.size());
    const int parameter_count = model.linear_count + model.nonlinear_count;
    const Eigen::MatrixXd jac = jacobian(fit.evaluation, fit.coefficients);
    const Eigen::MatrixXd normal = jac.transpose() * jac;
    const Eigen::VectorXd scale = unit_diagonal_scale(normal);
    const Eigen::MatrixXd scaled_normal = scale.asDiagonal() * normal * scale.asDiagonal();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(scaled_normal);
    const auto& eigenvalues = eigen.eigenvalues();
    // The unit-diagonal scaling would hide a θ column that is only rounding (no amplitude).
    bool theta_resolved = true;
    for (Eigen::Index j = 0; j < model.nonlinear_count; ++j) {
        theta_resolved = theta_resolved &&
                         jac.col(model.linear_count + j).norm() > 1e-9 * values_of(samples).norm();
    }
    if (!theta_resolved || eigen.info() != Eigen::Success ||
        !(eigenvalues.minCoeff() > 1e-13 * eigenvalues.maxCoeff())) {
        return std::nullopt;
    }
    const Eigen::MatrixXd scaled_inverse = eigen.eigenvectors() *
                                           eigenvalues.cwiseInverse().asDiagonal() *
                                           eigen.eigenvectors().transpose();
    if (samples.noise_sd.empty()) {
        const double residual_variance = fit.rss / (point_count - parameter_count);
        return (residual_variance * scaled_inverse.diagonal()).cwiseSqrt().cwiseProduct(scale);
    }
    // Sandwich: the rows of jac carry √w, so the weighted residual of row i varies by w_i V_i.
    Eigen::VectorXd row_variance = map(samples.noise_sd).cwiseAbs2();
    if (!samples.sqrt_weight.empty()) {
        row_variance = row_variance.cwiseProduct(map(samples.sqrt_weight).cwiseAbs2());
    }
    const Eigen::MatrixXd scaled_jac = jac * scale.asDiagonal();
    const Eigen::MatrixXd meat = scaled_jac.transpose() * row_variance.asDiagonal() * scaled_jac;
    const Eigen::MatrixXd covariance = scaled_inverse * meat * scaled_inverse;
    return covariance.diagonal().cwiseMax(0.0).cwiseSqrt().cwiseProduct(scale);
}

}  // namespace

std::optional<FitSummary> reject_curve(std::span<const double> time_s,
                                       std::span<const double> strain, std::optional<double> t0_s) {
    constexpr std::size_t kMinPoints = 10;
    if (time_s.size() != strain.size()) {
        return FitSummary::failure(FitStatus::invalid_input, "time and strain differ in length");
    }
    if (time_s.size() < kMinPoints) {
        return FitSummary::failure(FitStatus::insufficient_data, "fewer than 10 points");
    }
    if (t0_s && !std::isfinite(*t0_s)) {
        return FitSummary::failure(FitStatus::invalid_input, "t0 is not finite");
    }
    for (std::size_t i = 0; i < time_s.size(); ++i) {
        if (!std::isfinite(time_s[i]) || !std::isfinite(strain[i])) {
            return FitSummary::failure(FitStatus::invalid_input, "non-finite time or strain");
        }
        // Repeated time stamps are measurements too (real files have them); a time that goes
        // back is not.
        if (i > 0 && time_s[i] < time_s[i - 1]) {
            return FitSummary::failure(FitStatus::invalid_input, "time goes backwards");
        }
    }
    // A recovery's row at t0 itself is its strain at unloading (log_bins.hpp).
    if (t0_s ? !(time_s.front() >= *t0_s) : time_s.front() < 0) {
        return FitSummary::failure(
            FitStatus::invalid_input,
            t0_s ? "recovery times must not be before t0" : "creep times must be >= 0");
    }
    return std::nullopt;
}

std::optional<FitSummary> reject_bins(const BinnedCurve& curve) {
    if (curve.size() < 10) {
        return FitSummary::failure(FitStatus::insufficient_data,
                                   "fewer than 10 bins of log time hold samples");
    }
    return std::nullopt;
}

void resize_zero(std::vector<Eigen::MatrixXd>& d_basis, int nonlinear_count, Eigen::Index rows,
                 Eigen::Index cols) {
    d_basis.resize(static_cast<std::size_t>(nonlinear_count));
    for (auto& d : d_basis) {
        d.setZero(rows, cols);
    }
}

Eigen::Vector2d log_tau_bounds(const Samples& samples) {
    const double three_decades = 3 * std::log(10.0);
    return {std::log(first_positive_time(samples)) - three_decades,
            std::log(last_time(samples)) + three_decades};
}

std::vector<double> log_tau_grid(const Samples& samples, double step_decades) {
    const double lo = std::log10(first_positive_time(samples)) - 1;
    const double hi = std::log10(last_time(samples)) + 1;
    const auto count = static_cast<int>(std::floor((hi - lo) / step_decades)) + 1;
    std::vector<double> grid;
    for (int i = 0; i < count; ++i) {
        grid.push_back((lo + i * step_decades) * std::log(10.0));
    }
    return grid;
}

Samples make_samples(const BinnedCurve& curve) {
    Samples out = make_samples(curve.time_s, curve.value);
    out.first_s = curve.first_s;
    out.last_s = curve.last_s;
    std::vector<double> lower(curve.time_s), upper(curve.time_s);
    for (std::size_t i = 0; i < curve.size(); ++i) {
        out.noise_sd.push_back(curve.mean_noise(i));
        lower[i] -= curve.time_spread_s[i];
        upper[i] += curve.time_spread_s[i];
    }
    out.below = std::make_shared<const Samples>(make_samples(lower, curve.value));
    out.above = std::make_shared<const Samples>(make_samples(upper, curve.value));
    for (const double w : curve.weight) {
        out.sqrt_weight.push_back(std::sqrt(w));
    }
    return out;
}

Samples make_samples(std::span<const double> time_s, std::span<const double> value) {
    Samples out;
    out.time_s.assign(time_s.begin(), time_s.end());
    out.value.assign(value.begin(), value.end());
    out.log_time.reserve(time_s.size());
    for (const double t : time_s) {
        out.log_time.push_back(t > 0 ? std::log(t) : -std::numeric_limits<double>::infinity());
    }
    return out;
}

Samples log_binned(const Samples& samples, int bin_count) {
    const auto first_positive =
        std::find_if(samples.time_s.begin(), samples.time_s.end(), [](double t) { return t > 0; });
    Samples out;
    if (first_positive == samples.time_s.end() || bin_count < 1) {
        return samples;
    }
    const auto first = static_cast<std::size_t>(first_positive - samples.time_s.begin());
    const double log_lo = samples.log_time[first];
    const double bin_width = (samples.log_time.back() - log_lo) / bin_count;
    // Samples at t ≤ 0 (creep starts at 0) keep one bin of their own.
    std::size_t begin = 0;
    std::size_t end = first;
    for (int bin = 0; bin <= bin_count; ++bin) {
        if (bin > 0) {
            const double upper = bin == bin_count ? std::numeric_limits<double>::infinity()
                                                  : log_lo + bin * bin_width;
            while (end < samples.time_s.size() && samples.log_time[end] < upper) {
                ++end;
            }
        }
        if (end > begin) {
            double time_sum = 0;
            double value_sum = 0;
            for (std::size_t i = begin; i < end; ++i) {
                time_sum += samples.time_s[i];
                value_sum += samples.value[i];
            }
            const auto count = static_cast<double>(end - begin);
            out.time_s.push_back(time_sum / count);
            out.value.push_back(value_sum / count);
            out.log_time.push_back(out.time_s.back() > 0
                                       ? std::log(out.time_s.back())
                                       : -std::numeric_limits<double>::infinity());
        }
        begin = end;
    }
    return out;
}

SeparableResult fit_separable(const SeparableModel& model, const Samples& samples,
                              std::span<const Eigen::VectorXd> theta_candidates) {
    SeparableResult out;
    const int parameter_count = model.linear_count + model.nonlinear_count;
    const auto point_count = static_cast<int>(samples.value.size());
    if (point_count <= parameter_count + 2 || theta_candidates.empty()) {
        out.message = "too few points for the model";
        return out;
    }

    // Fitted in units of max|value|, so that sums of squares cannot overflow; the linear
    // parameters, their errors and the RMS scale back, θ is unaffected.
    const double max_abs = map(samples.value).cwiseAbs().maxCoeff();
    const double unit = max_abs > 0 ? max_abs : 1.0;
    Samples scaled = samples;
    for (double& v : scaled.value) {
        v /= unit;
    }
    for (double& v : scaled.noise_sd) {
        v /= unit;
    }

    // The grid search and a first refinement on the binned curve (cheap), so that the full data
    // need only a few steps.
    constexpr int kBinCount = 128;
    const bool rebin = scaled.value.size() > 4 * kBinCount;
    const Samples rebinned = rebin ? log_binned(scaled, kBinCount) : Samples{};
    const Samples& binned = rebin ? rebinned : scaled;
    std::optional<Eigen::VectorXd> start = best_candidate(model, binned, theta_candidates);
    if (!start) {
        out.message = "no starting values: the model is not finite on this data";
        return out;
    }
    const LmResult coarse =
        levenberg_marquardt(model, binned, std::move(*start), kBinnedMaxIterations);
    const LmResult fine = levenberg_marquardt(model, scaled, coarse.theta, kFullMaxIterations);
    out.theta = fine.theta;
    out.coefficients = unit * fine.coefficients;
    out.rms_residual = unit * std::sqrt(fine.rss / total_weight(scaled));
    if (!scaled.noise_sd.empty()) {
        // What a perfect model leaves: Σ w_i V_i / Σw.
        double expected = 0;
        for (std::size_t i = 0; i < scaled.noise_sd.size(); ++i) {
            const double w = scaled.sqrt_weight.empty() ? 1.0 : scaled.sqrt_weight[i];
            expected += w * w * scaled.noise_sd[i] * scaled.noise_sd[i];
        }
        expected = unit * std::sqrt(expected / total_weight(scaled));
        out.misfit_ratio = expected > 0 ? out.rms_residual / expected : 0.0;
    }
    for (Eigen::Index j = 0; j < model.nonlinear_count; ++j) {
        if (fine.theta(j) <= model.theta_lo(j) || fine.theta(j) >= model.theta_hi(j)) {
            // The optimum lies beyond the box: the value is only a bound, its error meaningless.
            out.message = model.bound_messages[static_cast<std::size_t>(j)];
            return out;
        }
    }
    if (!fine.converged) {
        out.message = "Levenberg-Marquardt did not converge";
        return out;
    }

    const std::optional<Eigen::VectorXd> stderr_all = standard_errors(model, scaled, fine);
    if (!stderr_all) {
        out.message = "parameters not determined by the data (singular Jacobian)";
        return out;
    }
    out.coefficient_stderr = unit * stderr_all->head(model.linear_count);
    out.theta_stderr = stderr_all->tail(model.nonlinear_count);
    if (!out.theta.allFinite() || !out.coefficients.allFinite() ||
        !out.coefficient_stderr.allFinite() || !out.theta_stderr.allFinite() ||
        !std::isfinite(out.rms_residual)) {
        out.message = "results beyond the floating-point range";
        return out;
    }
    out.usable = true;
    out.message = "converged";
    return out;
}

FitSummary judge_relaxation(const SeparableResult& result, int amplitude_column) {
    if (!(std::abs(result.coefficients(amplitude_column)) >
          3 * result.coefficient_stderr(amplitude_column))) {
        // τ (and β) mean nothing when the relaxation itself is lost in the noise.
        return FitSummary::failure(FitStatus::insufficient_data,
                                   "no relaxation resolved above the noise");
    }
    if (result.misfit_ratio > kMisfitWarnRatio) {
        char text[200];
        std::snprintf(text, sizeof text,
                      "converged; warning: the RMS residual is %.3g x the noise level: the "
                      "parameters describe the model's best approximation of this curve, and "
                      "their standard errors only the noise",
                      result.misfit_ratio);
        return FitSummary::success(text);
    }
    return FitSummary::success();
}

}  // namespace dmacycle::analysis::detail
