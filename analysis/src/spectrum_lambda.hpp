#pragma once
// The choice of the spectrum's λ (spectrum.cpp): given, or by the discrepancy principle.
#include <string>

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

}  // namespace dmacycle::analysis::detail
