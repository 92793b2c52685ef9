#pragma once
#include <span>
#include <vector>

// Small numerical building blocks shared by the fitters.
namespace dmacycle::analysis {

// Standard deviation of white noise on a smooth signal, from the median absolute value of the
// second differences (robust to the signal's curvature and to outliers). Sampling may be uneven.
double estimate_noise(std::span<const double> values);

// n points log-spaced on [lo, hi], both included.
std::vector<double> log_space(double lo, double hi, int n);

}  // namespace dmacycle::analysis
