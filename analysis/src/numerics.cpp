#include "dmacycle/analysis/numerics.hpp"

#include <algorithm>
#include <cmath>

namespace dmacycle::analysis {

double estimate_noise(std::span<const double> values) {
    if (values.size() < 5) {
        return 0.0;
    }
    // For white noise of variance s², y[i-1] − 2y[i] + y[i+1] has variance 6s²; the median of
    // |N(0,1)| is 0.6745. A smooth signal's second difference is negligible at dense sampling.
    std::vector<double> second_diff;
    second_diff.reserve(values.size() - 2);
    for (std::size_t i = 1; i + 1 < values.size(); ++i) {
        second_diff.push_back(std::abs(values[i - 1] - 2.0 * values[i] + values[i + 1]));
    }
    auto middle = second_diff.begin() + static_cast<std::ptrdiff_t>(second_diff.size() / 2);
    std::nth_element(second_diff.begin(), middle, second_diff.end());
    return *middle / (0.6745 * std::sqrt(6.0));
}

std::vector<double> log_space(double lo, double hi, int n) {
    std::vector<double> out;
    if (n <= 0) {
        return out;
    }
    out.reserve(static_cast<std::size_t>(n));
    if (n == 1) {
        out.push_back(lo);
        return out;
    }
    const double log_lo = std::log10(lo);
    const double step = (std::log10(hi) - log_lo) / (n - 1);
    for (int i = 0; i < n; ++i) {
        out.push_back(std::pow(10.0, log_lo + step * i));
    }
    return out;
}

}  // namespace dmacycle::analysis
