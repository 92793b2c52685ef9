#include "spectrum_lambda.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
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
// The evidence's grid: 4 points per decade over [kTinyLambda, 10²], weighed downwards from the
// top (warm starts) until log p falls kEvidenceSpan below its maximum (p < 1e-13).
constexpr double kEvidenceLog10Step = 0.25;
constexpr double kEvidenceSpan = 30.0;
constexpr double kPlausibleTail = 0.025;

// The nearly unregularized solution: the best residual the model reaches.
VectorXd solve_best(const NormalEquations& problem, bool& converged) {
    VectorXd amplitude = VectorXd::Zero(problem.modes());
    converged = problem.solve(kTinyLambda, amplitude);
    return amplitude;
}

// log10 λ where the cumulative posterior (ascending λ) reaches `level`.
double quantile_log10(const std::vector<double>& log10_lambda, const std::vector<double>& p,
                      double level) {
    double cumulative = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        cumulative += p[k];
        if (cumulative >= level) {
            return log10_lambda[k];
        }
    }
    return log10_lambda.back();
}

}  // namespace

LambdaEvidence weigh_lambdas(const NormalEquations& problem) {
    const double rows = static_cast<double>(problem.rows());
    const double modes = static_cast<double>(problem.modes());
    std::vector<double> log10_lambda, log_p;
    std::vector<VectorXd> amplitude;
    std::vector<VectorXd> variance;
    LambdaEvidence out;
    VectorXd a = VectorXd::Zero(problem.modes());
    double best = -std::numeric_limits<double>::infinity();
    const int steps =
        static_cast<int>(std::lround((2.0 - std::log10(kTinyLambda)) / kEvidenceLog10Step));
    for (int k = steps; k >= 0; --k) {
        const double log10_l = std::log10(kTinyLambda) + k * kEvidenceLog10Step;
        const double lambda = std::pow(10.0, log10_l);
        out.converged = problem.solve(lambda, a) && out.converged;
        const double objective =
            std::max(problem.mean_square_residual(a) + lambda * a.squaredNorm(),
                     std::numeric_limits<double>::min());
        const double log_evidence = -0.5 * rows * std::log(objective) +
                                    0.5 * modes * std::log(lambda) -
                                    0.5 * problem.log_det_hessian(lambda);
        log10_lambda.push_back(log10_l);
        log_p.push_back(log_evidence);
        amplitude.push_back(a);
        // σ²/W at its posterior mode is Φ/N (the objective is a mean over the weight W).
        variance.push_back(objective / rows * problem.free_set_inverse(lambda, a).diagonal());
        best = std::max(best, log_evidence);
        if (log_evidence < best - kEvidenceSpan) {
            break;
        }
    }
    std::reverse(log10_lambda.begin(), log10_lambda.end());
    std::reverse(log_p.begin(), log_p.end());
    std::reverse(amplitude.begin(), amplitude.end());
    std::reverse(variance.begin(), variance.end());
    std::vector<double> p;
    double total = 0;
    for (double& value : log_p) {
        value -= best;
        p.push_back(std::exp(value));
        total += p.back();
    }
    double mean_log10 = 0;
    out.mean = VectorXd::Zero(problem.modes());
    VectorXd second = VectorXd::Zero(problem.modes());
    for (std::size_t k = 0; k < p.size(); ++k) {
        p[k] /= total;
        mean_log10 += p[k] * log10_lambda[k];
        out.mean += p[k] * amplitude[k];
        second += p[k] * (variance[k] + amplitude[k].cwiseAbs2());
    }
    out.sd = (second - out.mean.cwiseAbs2()).cwiseMax(0.0).cwiseSqrt();
    out.lambda_bayes = std::pow(10.0, mean_log10);
    out.plausible_low = std::pow(10.0, quantile_log10(log10_lambda, p, kPlausibleTail));
    out.plausible_high = std::pow(10.0, quantile_log10(log10_lambda, p, 1.0 - kPlausibleTail));
    return out;
}

RegularizedSolution solve_by_evidence(const NormalEquations& problem,
                                      const LambdaEvidence& evidence) {
    RegularizedSolution out = solve_with_lambda(problem, evidence.lambda_bayes);
    char how[200];
    std::snprintf(how, sizeof how,
                  "lambda %.3g by the evidence (Bayesian; 95 %% of p(lambda) within [%.3g, %.3g])",
                  evidence.lambda_bayes, evidence.plausible_low, evidence.plausible_high);
    out.how = how;
    if (evidence.plausible_low <= kTinyLambda) {
        out.how +=
            "; warning: the evidence rises to the smallest lambda weighed, 1e-12: these "
            "data ask for no smoothing (many points, or a misfit the noise does not "
            "explain), so the evidence's lambda is only a bound";
    }
    out.converged = out.converged && evidence.converged;
    return out;
}

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
