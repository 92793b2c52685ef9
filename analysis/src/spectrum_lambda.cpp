#include "spectrum_lambda.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

namespace dmacycle::analysis::detail {

namespace {

// The smallest λ tried: its residual is the best the model achieves on these data.
constexpr double kTinyLambda = 1e-12;
constexpr int kCoarseLog10LambdaFirst = -11;
constexpr int kCoarseLog10LambdaLast = 2;
constexpr int kBisectionSteps = 6;  // 1 decade / 2⁶ ≈ 0.016 decade
// Allowed RMS excess over max(noise, best residual). A few per cent keeps the misfit
// indistinguishable from the noise while giving the smoothest spectrum that fits; the noise
// estimate itself is only good to about a per cent, so a tighter factor would chase it.
constexpr double kDiscrepancyFactor = 1.02;

// The nearly unregularized solution: the best residual the model reaches.
VectorXd solve_best(const NormalEquations& problem, bool& converged) {
    VectorXd amplitude = VectorXd::Zero(problem.modes());
    converged = problem.solve(kTinyLambda, amplitude);
    return amplitude;
}

}  // namespace

RegularizedSolution solve_with_lambda(const NormalEquations& problem, double lambda) {
    bool best_converged = true;
    const VectorXd best = solve_best(problem, best_converged);
    RegularizedSolution out{best, lambda, true, "lambda given",
                            std::sqrt(problem.mean_square_residual(best))};
    out.converged = problem.solve(lambda, out.amplitude) && best_converged;
    return out;
}

RegularizedSolution choose_lambda(const NormalEquations& problem, double noise_scaled) {
    bool good_converged = true;
    VectorXd good = solve_best(problem, good_converged);
    double good_log10 = std::log10(kTinyLambda);
    const double best_rms = std::sqrt(problem.mean_square_residual(good));
    const double target_rms = kDiscrepancyFactor * std::max(noise_scaled, best_rms);
    // Solves at 10^log10_lambda warm-started from `good`; keeps it if within the target.
    const auto within_target = [&](double log10_lambda) {
        VectorXd trial = good;
        const bool converged = problem.solve(std::pow(10.0, log10_lambda), trial);
        if (std::sqrt(problem.mean_square_residual(trial)) > target_rms) {
            return false;
        }
        good = std::move(trial);
        good_converged = converged;
        good_log10 = log10_lambda;
        return true;
    };

    // Coarse grid upward until the residual exceeds the target, then bisection below that.
    std::optional<double> bad_log10;
    for (int exponent = kCoarseLog10LambdaFirst; exponent <= kCoarseLog10LambdaLast; ++exponent) {
        if (!within_target(exponent)) {
            bad_log10 = exponent;
            break;
        }
    }
    if (bad_log10) {
        double high_log10 = *bad_log10;
        for (int step = 0; step < kBisectionSteps; ++step) {
            const double middle_log10 = 0.5 * (good_log10 + high_log10);
            if (!within_target(middle_log10)) {
                high_log10 = middle_log10;
            }
        }
    }
    const double lambda = std::pow(10.0, good_log10);
    char how[160];
    std::snprintf(how, sizeof how,
                  "lambda %.3g by the discrepancy principle (rms target %.3g, noise %.3g, in units "
                  "of max|strain|)",
                  lambda, target_rms, noise_scaled);
    return {std::move(good), lambda, good_converged, how, best_rms};
}

}  // namespace dmacycle::analysis::detail
