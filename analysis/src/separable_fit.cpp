#include "separable_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dmacycle::analysis::detail {
namespace {

constexpr int kMaxIterations = 2000;
// Damping beyond which no step lowers the RSS any more: the minimum, to rounding.
constexpr double kStationaryDamping = 1e12;
constexpr double kRelativeRssTolerance = 1e-12;

struct Linear {
    Eigen::VectorXd coefficients;
    double rss = std::numeric_limits<double>::infinity();
};

Eigen::Map<const Eigen::VectorXd> values_of(const Samples& samples) {
    return {samples.value.data(), static_cast<Eigen::Index>(samples.value.size())};
}

// Column-pivoting QR stays accurate when a slow mode and the constant offset are nearly
// collinear, which the normal equations would not.
Linear solve_linear(const Eigen::MatrixXd& basis, const Eigen::VectorXd& y) {
    Linear out;
    out.coefficients = basis.colPivHouseholderQr().solve(y);
    const double rss = (y - basis * out.coefficients).squaredNorm();
    if (std::isfinite(rss)) {
        out.rss = rss;
    }
    return out;
}

struct Evaluation {
    Eigen::MatrixXd basis;
    std::vector<Eigen::MatrixXd> d_basis;
};

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

struct LmResult {
    Eigen::VectorXd theta, coefficients;
    Evaluation evaluation;  // at theta, for the covariance
    double rss = 0;
    bool converged = false;
};

// Every trial is evaluated with its derivatives: they share the model's exponentials, and an
// accepted trial then needs no second evaluation.
LmResult levenberg_marquardt(const SeparableModel& model, const Samples& samples,
                             Eigen::VectorXd theta, Eigen::VectorXd coefficients) {
    const auto y = values_of(samples);
    const Eigen::Index linear_count = model.linear_count;
    LmResult out;
    Evaluation& current = out.evaluation;
    Evaluation trial;
    model.evaluate(samples, theta, current.basis, &current.d_basis);
    Eigen::VectorXd residual = y - current.basis * coefficients;
    double rss = residual.squaredNorm();
    double damping = 1e-3;
    const auto finish = [&](bool converged) {
        out.theta = std::move(theta);
        out.coefficients = std::move(coefficients);
        out.rss = rss;
        out.converged = converged;
        return std::move(out);
    };
    for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
        const Eigen::MatrixXd jac = jacobian(current, coefficients);
        const Eigen::MatrixXd normal = jac.transpose() * jac;
        const Eigen::VectorXd scale = unit_diagonal_scale(normal);
        const Eigen::MatrixXd scaled = scale.asDiagonal() * normal * scale.asDiagonal();
        const Eigen::VectorXd scaled_gradient = scale.cwiseProduct(jac.transpose() * residual);
        const auto identity = Eigen::MatrixXd::Identity(scaled.rows(), scaled.cols());
        while (true) {
            const Eigen::VectorXd step =
                scale.cwiseProduct((scaled + damping * identity).ldlt().solve(scaled_gradient));
            const Eigen::VectorXd trial_coefficients = coefficients + step.head(linear_count);
            const Eigen::VectorXd trial_theta = (theta + step.tail(model.nonlinear_count))
                                                    .cwiseMax(model.theta_lo)
                                                    .cwiseMin(model.theta_hi);
            model.evaluate(samples, trial_theta, trial.basis, &trial.d_basis);
            Eigen::VectorXd trial_residual = y - trial.basis * trial_coefficients;
            const double trial_rss = trial_residual.squaredNorm();
            if (trial_rss < rss) {
                const bool small_gain = rss - trial_rss <= kRelativeRssTolerance * rss;
                theta = trial_theta;
                coefficients = trial_coefficients;
                residual = std::move(trial_residual);
                rss = trial_rss;
                std::swap(current, trial);
                damping = std::max(damping / 10, 1e-12);
                if (small_gain) {
                    return finish(true);
                }
                break;
            }
            damping *= 10;
            if (damping > kStationaryDamping) {
                return finish(std::isfinite(rss));
            }
        }
    }
    return finish(false);
}

double first_positive_time(const Samples& samples) {
    const auto it =
        std::find_if(samples.time_s.begin(), samples.time_s.end(), [](double t) { return t > 0; });
    return it == samples.time_s.end() ? 1.0 : *it;
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
        if (i > 0 && !(time_s[i] > time_s[i - 1])) {
            return FitSummary::failure(FitStatus::invalid_input, "time is not strictly increasing");
        }
    }
    if (t0_s ? !(time_s.front() > *t0_s) : time_s.front() < 0) {
        return FitSummary::failure(FitStatus::invalid_input, t0_s
                                                                 ? "recovery times must be after t0"
                                                                 : "creep times must be >= 0");
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
            std::log(samples.time_s.back()) + three_decades};
}

std::vector<double> log_tau_grid(const Samples& samples, double step_decades) {
    const double lo = std::log10(first_positive_time(samples)) - 1;
    const double hi = std::log10(samples.time_s.back()) + 1;
    const auto count = static_cast<int>(std::floor((hi - lo) / step_decades)) + 1;
    std::vector<double> grid;
    for (int i = 0; i < count; ++i) {
        grid.push_back((lo + i * step_decades) * std::log(10.0));
    }
    return grid;
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

    // Starting values: the best grid point of the nonlinear parameters on the binned curve.
    constexpr int kBinCount = 128;
    const Samples binned = log_binned(samples, kBinCount);
    const Eigen::VectorXd binned_values = values_of(binned);
    Eigen::MatrixXd basis;
    Linear best;
    Eigen::VectorXd best_theta;
    for (const auto& theta : theta_candidates) {
        model.evaluate(binned, theta, basis, nullptr);
        Linear trial = solve_linear(basis, binned_values);
        if (trial.rss < best.rss) {
            best = std::move(trial);
            best_theta = theta;
        }
    }
    if (!std::isfinite(best.rss)) {
        out.message = "no starting values: the model is not finite on this data";
        return out;
    }

    // Refine on the binned curve first (cheap), so that the full data need only a few steps.
    const LmResult coarse =
        levenberg_marquardt(model, binned, std::move(best_theta), std::move(best.coefficients));
    const LmResult fine = levenberg_marquardt(model, samples, coarse.theta, coarse.coefficients);
    out.theta = fine.theta;
    out.coefficients = fine.coefficients;
    out.rms_residual = std::sqrt(fine.rss / point_count);
    if (!fine.converged) {
        out.message = "Levenberg-Marquardt did not converge";
        return out;
    }

    const Eigen::MatrixXd jac = jacobian(fine.evaluation, fine.coefficients);
    const Eigen::MatrixXd normal = jac.transpose() * jac;
    const Eigen::VectorXd scale = unit_diagonal_scale(normal);
    const Eigen::MatrixXd scaled = scale.asDiagonal() * normal * scale.asDiagonal();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(scaled);
    const auto& eigenvalues = eigen.eigenvalues();
    // The unit-diagonal scaling would hide a θ column that is only rounding (no amplitude).
    bool theta_resolved = true;
    for (Eigen::Index j = 0; j < model.nonlinear_count; ++j) {
        theta_resolved = theta_resolved &&
                         jac.col(model.linear_count + j).norm() > 1e-9 * values_of(samples).norm();
    }
    if (!theta_resolved || eigen.info() != Eigen::Success ||
        !(eigenvalues.minCoeff() > 1e-13 * eigenvalues.maxCoeff())) {
        out.message = "parameters not determined by the data (singular Jacobian)";
        return out;
    }
    const double residual_variance = fine.rss / (point_count - parameter_count);
    const Eigen::MatrixXd scaled_inverse = eigen.eigenvectors() *
                                           eigenvalues.cwiseInverse().asDiagonal() *
                                           eigen.eigenvectors().transpose();
    const Eigen::VectorXd stderr_all =
        (residual_variance * scaled_inverse.diagonal()).cwiseSqrt().cwiseProduct(scale);
    out.coefficient_stderr = stderr_all.head(model.linear_count);
    out.theta_stderr = stderr_all.tail(model.nonlinear_count);
    out.usable = true;
    out.message = "converged";
    return out;
}

FitSummary judge_relaxation(const SeparableResult& result, const SeparableModel& model,
                            int amplitude_column) {
    if (result.theta(0) <= model.theta_lo(0) || result.theta(0) >= model.theta_hi(0)) {
        return FitSummary::failure(FitStatus::not_converged,
                                   "τ is far outside the sampled time range");
    }
    if (!(std::abs(result.coefficients(amplitude_column)) >
          3 * result.coefficient_stderr(amplitude_column))) {
        // τ (and β) mean nothing when the relaxation itself is lost in the noise.
        return FitSummary::failure(FitStatus::insufficient_data,
                                   "no relaxation resolved above the noise");
    }
    return FitSummary::success();
}

}  // namespace dmacycle::analysis::detail
