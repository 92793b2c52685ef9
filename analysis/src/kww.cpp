#include "dmacycle/analysis/kww.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include "separable_fit.hpp"

namespace dmacycle::analysis {
namespace {

using detail::Samples;

// β is bounded to where a stretched (or mildly compressed) exponential is meaningful; a fit that
// ends on the bound is reported as not usable.
constexpr double kBetaLo = 0.05;
constexpr double kBetaHi = 1.5;

// Instant β: local regression over ±kHalfWindowDecades of ln t', centres kStepDecades apart,
// reported where the slope's standard error is below kMaxBetaStderr and the anelastic strain
// stays kSignalMarginSigmas noise σ away from both 0 and ε_an(0) across the window. Each β carries
// its standard error: 0.005 keeps β within 0.02 at 4σ; real curves of a few hundred points reach
// 0.01-0.03 (docs/validation.md), which the bound lets through.
constexpr double kHalfWindowDecades = 0.25;
constexpr double kStepDecades = 0.1;
constexpr double kMaxBetaStderr = 0.03;
constexpr double kSignalMarginSigmas = 10;

// f = exp(−(t/τ)^β) and its derivatives with respect to ln τ and β.
struct Stretched {
    double f, d_log_tau, d_beta;
};

Stretched stretched(double time_s, double log_time, double log_tau, double beta) {
    if (time_s <= 0) {
        return {1.0, 0.0, 0.0};
    }
    const double log_ratio = log_time - log_tau;
    const double x = std::exp(beta * log_ratio);
    const double f = std::exp(-x);
    return {f, f * x * beta, -f * x * log_ratio};
}

enum class Form { recovery, creep };

// Recovery: basis (f, 1), ε_an is column 0. Creep: basis (1, 1 − f, t), ε_an is column 1.
int amplitude_column(Form form) {
    return form == Form::recovery ? 0 : 1;
}

// θ = (ln τ, β).
detail::SeparableModel kww_model(const Samples& samples, Form form) {
    const int linear_count = form == Form::recovery ? 2 : 3;
    const int shape_column = amplitude_column(form);
    const double shape_sign = form == Form::recovery ? 1.0 : -1.0;
    detail::SeparableModel model;
    model.linear_count = linear_count;
    model.nonlinear_count = 2;
    const Eigen::Vector2d log_tau = detail::log_tau_bounds(samples);
    model.theta_lo = Eigen::Vector2d(log_tau(0), kBetaLo);
    model.theta_hi = Eigen::Vector2d(log_tau(1), kBetaHi);
    model.bound_messages = {detail::kTauBoundMessage, "β ran into its bound [0.05, 1.5]"};
    model.evaluate = [=](const Samples& at, const Eigen::VectorXd& theta, Eigen::MatrixXd& basis,
                         std::vector<Eigen::MatrixXd>* d_basis) {
        const auto n = static_cast<Eigen::Index>(at.time_s.size());
        basis.resize(n, linear_count);
        if (d_basis) {
            detail::resize_zero(*d_basis, 2, n, linear_count);
        }
        for (Eigen::Index i = 0; i < n; ++i) {
            const auto k = static_cast<std::size_t>(i);
            const Stretched s = stretched(at.time_s[k], at.log_time[k], theta(0), theta(1));
            if (form == Form::recovery) {
                basis(i, 0) = s.f;
                basis(i, 1) = 1.0;
            } else {
                basis(i, 0) = 1.0;
                basis(i, 1) = 1.0 - s.f;
                basis(i, 2) = at.time_s[k];
            }
            if (d_basis) {
                (*d_basis)[0](i, shape_column) = shape_sign * s.d_log_tau;
                (*d_basis)[1](i, shape_column) = shape_sign * s.d_beta;
            }
        }
    };
    return model;
}

std::vector<Eigen::VectorXd> kww_candidates(const Samples& samples) {
    std::vector<Eigen::VectorXd> candidates;
    for (const double log_tau : detail::log_tau_grid(samples, 0.2)) {
        for (int tenths = 1; tenths <= 10; ++tenths) {
            candidates.emplace_back(Eigen::Vector2d(log_tau, 0.1 * tenths));
        }
    }
    return candidates;
}

// Runs the fit and fills τ, β, the summary and the residual; the caller maps the linear part.
detail::SeparableResult fit_kww(const Samples& samples, Form form, KwwFit& out) {
    const detail::SeparableModel model = kww_model(samples, form);
    const auto candidates = kww_candidates(samples);
    detail::SeparableResult result = detail::fit_separable(model, samples, candidates);
    if (result.theta.size() == 2) {
        out.tau_s = std::exp(result.theta(0));
        out.beta = result.theta(1);
        out.rms_residual = result.rms_residual;
        out.misfit_ratio = result.misfit_ratio;
    }
    if (!result.usable) {
        out.summary = FitSummary::failure(FitStatus::not_converged, result.message);
        return result;
    }
    out.tau_s_stderr = out.tau_s * result.theta_stderr(0);
    out.beta_stderr = result.theta_stderr(1);
    out.summary = detail::judge_relaxation(result, amplitude_column(form));
    return result;
}

// Per bin: x = ln t', y = ln ln(ε_an(0)/ε_an(t')), weight 1/σ_y² (0: not used), and whether the
// signal is adequate there: ε_an(t') and ε_an(0) − ε_an(t') both kSignalMarginSigmas noise σ
// clear of 0.
struct Linearized {
    std::vector<double> log_time, y, weight;
    std::vector<bool> adequate;
};

// The paper's instant β (Zhang et al., eq. 3 rewritten, Fig. 2c-d): ε_an(t') = ε(t') − ε_vp with
// ε_vp the KWW fit's, and ε_an(0) the strain measured at unloading minus ε_vp. `start_noise`
// is the noise of that measured strain.
Linearized linearize(const BinnedCurve& curve, double strain_vp, double start, double noise,
                     double start_noise) {
    const double amplitude = start - strain_vp;
    const std::size_t n = curve.size();
    Linearized out{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n, 0.0),
                   std::vector<bool>(n, false)};
    for (std::size_t i = 0; i < n; ++i) {
        const double bin_noise = noise * std::sqrt(1.0 / curve.count[i]);
        const double remaining = curve.value[i] - strain_vp;  // ε_an(t')
        const double recovered = start - curve.value[i];      // ε_an(0) − ε_an(t')
        const double margin = kSignalMarginSigmas * std::hypot(bin_noise, start_noise);
        out.log_time[i] = std::log(curve.time_s[i]);
        // In the direction of the recovery (a compressive run recovers upward).
        const double sign = amplitude < 0 ? -1.0 : 1.0;
        out.adequate[i] =
            amplitude != 0 && sign * remaining >= margin && sign * recovered >= margin;
        if (out.adequate[i]) {
            const double fraction = remaining / amplitude;
            out.y[i] = std::log(-std::log(fraction));
            const double sigma_fraction =
                std::hypot(bin_noise, fraction * start_noise) / std::abs(amplitude);
            const double sigma_y = sigma_fraction / (fraction * std::abs(std::log(fraction)));
            out.weight[i] = 1 / (sigma_y * sigma_y);
        }
    }
    return out;
}

struct LocalSlope {
    double slope, slope_stderr, y_at_centre;
};

// Weighted line through the points from `begin` up to ln t' = hi, x centred on the window so the
// sums do not cancel. Nothing when a point in the window lacks signal, fewer than 3 points carry
// weight, or x does not vary.
std::optional<LocalSlope> local_slope(const Linearized& points, std::size_t begin, double centre,
                                      double hi) {
    double sum_w = 0, sum_x = 0, sum_y = 0, sum_xx = 0, sum_xy = 0;
    bool whole_window_adequate = true;
    int count = 0;
    for (std::size_t i = begin; i < points.log_time.size() && points.log_time[i] <= hi; ++i) {
        whole_window_adequate = whole_window_adequate && points.adequate[i];
        const double w = points.weight[i];
        if (w > 0) {
            const double x = points.log_time[i] - centre;
            sum_w += w;
            sum_x += w * x;
            sum_y += w * points.y[i];
            sum_xx += w * x * x;
            sum_xy += w * x * points.y[i];
            ++count;
        }
    }
    if (!whole_window_adequate || count < 3) {
        return std::nullopt;
    }
    const double mean_x = sum_x / sum_w;
    const double mean_y = sum_y / sum_w;
    const double spread_xx = sum_xx - sum_w * mean_x * mean_x;
    if (!(spread_xx > 0)) {
        return std::nullopt;
    }
    const double slope = (sum_xy - sum_w * mean_x * mean_y) / spread_xx;
    return LocalSlope{slope, 1 / std::sqrt(spread_xx), mean_y - slope * mean_x};
}

}  // namespace

KwwFit fit_recovery_kww(std::span<const double> time_s, std::span<const double> strain,
                        double t0_s) {
    if (auto rejected = detail::reject_curve(time_s, strain, t0_s)) {
        KwwFit out;
        out.summary = std::move(*rejected);
        return out;
    }
    return fit_recovery_kww(bin_recovery(time_s, strain, t0_s));
}

KwwFit fit_recovery_kww(const BinnedCurve& recovery) {
    KwwFit out;
    if (auto rejected = detail::reject_bins(recovery)) {
        out.summary = std::move(*rejected);
        return out;
    }
    const Samples samples = detail::make_samples(recovery);
    const auto result = fit_kww(samples, Form::recovery, out);
    if (result.coefficients.size() == 2) {
        out.strain_an = result.coefficients(0);
        out.strain_vp = result.coefficients(1);
    }
    if (result.coefficient_stderr.size() == 2) {
        out.strain_an_stderr = result.coefficient_stderr(0);
        out.strain_vp_stderr = result.coefficient_stderr(1);
    }
    return out;
}

KwwFit fit_creep_kww(std::span<const double> time_s, std::span<const double> strain) {
    KwwFit out;
    if (auto rejected = detail::reject_curve(time_s, strain, std::nullopt)) {
        out.summary = std::move(*rejected);
        return out;
    }
    const Samples samples = detail::make_samples(time_s, strain);
    const auto result = fit_kww(samples, Form::creep, out);
    if (result.coefficients.size() == 3) {
        out.strain_e = result.coefficients(0);
        out.strain_an = result.coefficients(1);
        out.strain_rate_vp = result.coefficients(2);
    }
    if (result.coefficient_stderr.size() == 3) {
        out.strain_e_stderr = result.coefficient_stderr(0);
        out.strain_an_stderr = result.coefficient_stderr(1);
        out.strain_rate_vp_stderr = result.coefficient_stderr(2);
    }
    return out;
}

InstantKww instant_kww(std::span<const double> time_s, std::span<const double> strain, double t0_s,
                       const KwwFit& fit) {
    if (auto rejected = detail::reject_curve(time_s, strain, t0_s)) {
        InstantKww out;
        out.summary = std::move(*rejected);
        return out;
    }
    return instant_kww(bin_recovery(time_s, strain, t0_s), fit);
}

InstantKww instant_kww(const BinnedCurve& recovery, const KwwFit& fit) {
    InstantKww out;
    if (auto rejected = detail::reject_bins(recovery)) {
        out.summary = std::move(*rejected);
        return out;
    }
    if (!fit.summary.usable) {
        out.summary = FitSummary::failure(FitStatus::invalid_input, "the KWW fit is not usable");
        return out;
    }
    // The noise is what scatters ln ln(...) point to point; model misfit is not, so it comes from
    // the data rather than the fit residual. The floor keeps noise-free curves finite.
    out.noise = std::max(recovery.noise, 1e-12 * std::abs(fit.strain_an));
    // ε_an(0) from the strain measured at unloading; a file without that row starts at its
    // earliest bin, which the summary says.
    const bool at_unloading = recovery.value_at_origin.has_value();
    const double start = at_unloading ? *recovery.value_at_origin : recovery.value.front();
    const double start_noise =
        at_unloading ? out.noise : out.noise * std::sqrt(1.0 / recovery.count.front());
    const Linearized points = linearize(recovery, fit.strain_vp, start, out.noise, start_noise);

    const std::size_t n = recovery.size();
    const double ln10 = std::log(10.0);
    const double first = std::log10(recovery.time_s.front()) + kHalfWindowDecades;
    const double last = std::log10(recovery.time_s.back()) - kHalfWindowDecades;
    const auto window_count = static_cast<int>(std::floor((last - first) / kStepDecades)) + 1;
    std::size_t begin = 0;
    for (int w = 0; w < window_count; ++w) {
        const double centre = (first + w * kStepDecades) * ln10;
        const double lo = centre - kHalfWindowDecades * ln10;
        const double hi = centre + kHalfWindowDecades * ln10;
        while (begin < n && points.log_time[begin] < lo) {
            ++begin;
        }
        const std::optional<LocalSlope> local = local_slope(points, begin, centre, hi);
        // Below the fit's own β bound a local slope is no stretched exponential, and
        // τ = t'·exp(−y/β) would explode.
        if (!local || !(local->slope >= kBetaLo) || local->slope_stderr > kMaxBetaStderr) {
            continue;
        }
        const double centre_s = std::exp(centre);
        out.time_s.push_back(centre_s);
        out.beta.push_back(local->slope);
        out.beta_stderr.push_back(local->slope_stderr);
        out.tau_s.push_back(centre_s * std::exp(-local->y_at_centre / local->slope));
    }
    out.summary =
        out.time_s.empty()
            ? FitSummary::failure(FitStatus::insufficient_data,
                                  "signal-to-noise too low for a local β anywhere")
            : FitSummary::success(
                  at_unloading ? "local β where the signal allows; ε_an(0) from the strain "
                                 "measured at unloading"
                               : "local β where the signal allows; ε_an(0) from the earliest "
                                 "strain measured (no row at t0)");
    return out;
}

}  // namespace dmacycle::analysis
