#include "dmacycle/analysis/single_tau.hpp"

#include <cmath>

#include "separable_fit.hpp"

namespace dmacycle::analysis {
namespace {

using detail::Samples;

// Recovery at t' = t − t0, basis (φ, 1) with φ = [1 − exp(−t0/τ)] exp(−t'/τ); θ = ln τ.
detail::SeparableModel recovery_model(const Samples& samples, double t0_s) {
    detail::SeparableModel model;
    model.linear_count = 2;
    model.nonlinear_count = 1;
    const Eigen::Vector2d bounds = detail::log_tau_bounds(samples);
    model.theta_lo = bounds.head<1>();
    model.theta_hi = bounds.tail<1>();
    model.bound_messages = {detail::kTauBoundMessage};
    model.evaluate = [t0_s](const Samples& at, const Eigen::VectorXd& theta, Eigen::MatrixXd& basis,
                            std::vector<Eigen::MatrixXd>* d_basis) {
        const auto n = static_cast<Eigen::Index>(at.time_s.size());
        const double tau_s = std::exp(theta(0));
        const double loaded_fraction = -std::expm1(-t0_s / tau_s);
        const double d_loaded_fraction = -std::exp(-t0_s / tau_s) * t0_s / tau_s;
        basis.resize(n, 2);
        basis.col(1).setOnes();
        if (d_basis) {
            detail::resize_zero(*d_basis, 1, n, 2);
        }
        for (Eigen::Index i = 0; i < n; ++i) {
            const double ratio = at.time_s[static_cast<std::size_t>(i)] / tau_s;
            const double decay = std::exp(-ratio);
            basis(i, 0) = loaded_fraction * decay;
            if (d_basis) {
                (*d_basis)[0](i, 0) = decay * (d_loaded_fraction + loaded_fraction * ratio);
            }
        }
    };
    return model;
}

// Creep, basis (1, 1 − exp(−t/τ), t); θ = ln τ.
detail::SeparableModel creep_model(const Samples& samples) {
    detail::SeparableModel model;
    model.linear_count = 3;
    model.nonlinear_count = 1;
    const Eigen::Vector2d bounds = detail::log_tau_bounds(samples);
    model.theta_lo = bounds.head<1>();
    model.theta_hi = bounds.tail<1>();
    model.bound_messages = {detail::kTauBoundMessage};
    model.evaluate = [](const Samples& at, const Eigen::VectorXd& theta, Eigen::MatrixXd& basis,
                        std::vector<Eigen::MatrixXd>* d_basis) {
        const auto n = static_cast<Eigen::Index>(at.time_s.size());
        const double tau_s = std::exp(theta(0));
        basis.resize(n, 3);
        basis.col(0).setOnes();
        if (d_basis) {
            detail::resize_zero(*d_basis, 1, n, 3);
        }
        for (Eigen::Index i = 0; i < n; ++i) {
            const double time = at.time_s[static_cast<std::size_t>(i)];
            const double ratio = time / tau_s;
            basis(i, 1) = -std::expm1(-ratio);
            basis(i, 2) = time;
            if (d_basis) {
                (*d_basis)[0](i, 1) = -std::exp(-ratio) * ratio;
            }
        }
    };
    return model;
}

// Fits and fills τ, ε_1 and the summary; returns the result for the caller's offsets.
detail::SeparableResult fit_single(const detail::SeparableModel& model, const Samples& samples,
                                   int amplitude_column, SingleTauFit& out) {
    std::vector<Eigen::VectorXd> candidates;
    for (const double log_tau : detail::log_tau_grid(samples, 0.05)) {
        candidates.emplace_back(Eigen::VectorXd::Constant(1, log_tau));
    }
    detail::SeparableResult result = detail::fit_separable(model, samples, candidates);
    if (result.theta.size() == 1) {
        out.tau_s = std::exp(result.theta(0));
        out.strain_an = result.coefficients(amplitude_column);
        out.rms_residual = result.rms_residual;
        out.misfit_ratio = result.misfit_ratio;
    }
    if (!result.usable) {
        out.summary = FitSummary::failure(FitStatus::not_converged, result.message);
        return result;
    }
    out.tau_s_stderr = out.tau_s * result.theta_stderr(0);
    out.strain_an_stderr = result.coefficient_stderr(amplitude_column);
    out.summary = detail::judge_relaxation(result, amplitude_column);
    return result;
}

}  // namespace

SingleTauFit fit_recovery_single_tau(std::span<const double> time_s, std::span<const double> strain,
                                     double t0_s) {
    SingleTauFit out;
    if (auto rejected = detail::reject_curve(time_s, strain, t0_s)) {
        out.summary = std::move(*rejected);
        return out;
    }
    if (!(t0_s > 0)) {
        out.summary = FitSummary::failure(FitStatus::invalid_input, "t0 must be positive");
        return out;
    }
    return fit_recovery_single_tau(bin_recovery(time_s, strain, t0_s), t0_s);
}

SingleTauFit fit_recovery_single_tau(const BinnedCurve& recovery, double t0_s) {
    SingleTauFit out;
    if (auto rejected = detail::reject_bins(recovery)) {
        out.summary = std::move(*rejected);
        return out;
    }
    // With no loading time no strain was stored, and ε_1 is undefined.
    if (!(t0_s > 0) || !std::isfinite(t0_s)) {
        out.summary = FitSummary::failure(FitStatus::invalid_input, "t0 must be positive");
        return out;
    }
    const Samples samples = detail::make_samples(recovery);
    const auto result = fit_single(recovery_model(samples, t0_s), samples, 0, out);
    if (result.coefficients.size() == 2) {
        out.strain_vp = result.coefficients(1);
        out.strain_rate_vp = out.strain_vp / t0_s;
    }
    return out;
}

SingleTauFit fit_creep_single_tau(std::span<const double> time_s, std::span<const double> strain) {
    SingleTauFit out;
    if (auto rejected = detail::reject_curve(time_s, strain, std::nullopt)) {
        out.summary = std::move(*rejected);
        return out;
    }
    const Samples samples = detail::make_samples(time_s, strain);
    const auto result = fit_single(creep_model(samples), samples, 1, out);
    if (result.coefficients.size() == 3) {
        out.strain_e = result.coefficients(0);
        out.strain_rate_vp = result.coefficients(2);
    }
    return out;
}

}  // namespace dmacycle::analysis
