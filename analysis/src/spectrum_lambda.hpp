#pragma once
// The choice of the spectrum's λ (spectrum.cpp): given, by the discrepancy principle, or by the
// evidence.
#include <string>
#include <vector>

#include "spectrum_kernel.hpp"

namespace dmacycle::analysis::detail {

struct RegularizedSolution {
    VectorXd amplitude;  // scaled by 1/s
    double lambda = 0;
    bool converged = true;
    std::string how;      // how λ was chosen, for the summary
    double best_rms = 0;  // scaled by 1/s: the residual at λ → 0, the best the model can do
};

RegularizedSolution solve_with_lambda(const NormalEquations& problem, double lambda);
// Morozov's discrepancy principle: the largest λ whose RMS residual stays within a few per cent
// of max(noise_scaled, the best RMS residual).
RegularizedSolution choose_lambda(const NormalEquations& problem, double noise_scaled);

// The evidence for λ on a log grid (Bayesian, as pyReSpect-time): a Gaussian prior of
// precision ∝ λ on the amplitudes, the noise's σ² marginalized (Jeffreys), Laplace's
// approximation with the bound a ≥ 0 ignored:
//     log p(λ | data) = −(N/2) log Φ(λ) + (n/2) log λ − ½ log det(G + λI) + const,
// Φ(λ) = the objective at its minimum, N rows, n modes, under a uniform prior on log λ.
struct LambdaEvidence {
    double lambda_bayes = 0;                       // exp of the posterior mean of log λ
    double plausible_low = 0, plausible_high = 0;  // the central 95 % of p(λ)
    // The amplitudes' posterior mixed over λ: its mean and standard deviation, the spread over
    // plausible λ and, at each, the noise's (on the modes off the bound).
    VectorXd mean, sd;
    bool converged = true;
};
LambdaEvidence weigh_lambdas(const NormalEquations& problem);
// The solution at the evidence's λ.
RegularizedSolution solve_by_evidence(const NormalEquations& problem,
                                      const LambdaEvidence& evidence);

}  // namespace dmacycle::analysis::detail
