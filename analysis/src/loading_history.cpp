#include "dmacycle/analysis/loading_history.hpp"

#include <algorithm>
#include <cmath>

namespace dmacycle::analysis {
namespace {

constexpr double kLog10TauLo = -4;
constexpr double kLog10TauHi = 12;
constexpr int kPerDecade = 10;

}  // namespace

LoadingHistory::LoadingHistory() {
    const int count = static_cast<int>((kLog10TauHi - kLog10TauLo) * kPerDecade) + 1;
    for (int k = 0; k < count; ++k) {
        tau_s_.push_back(std::pow(10.0, kLog10TauLo + static_cast<double>(k) / kPerDecade));
    }
    state_.assign(tau_s_.size(), 0.0);
}

void LoadingHistory::add(double t_s, double stress_pa) {
    if (samples_++ == 0) {
        first_t_s_ = last_t_s_ = t_s;
        last_stress_pa_ = stress_pa;
        // The stress before the first sample was nothing: the modes start empty.
        return;
    }
    const double step_s = t_s - last_t_s_;
    if (!(step_s > 0)) {
        last_stress_pa_ = stress_pa;  // a repeated time: the later reading stands
        return;
    }
    if (std::abs(step_s - step_s_) > 1e-9 * step_s) {
        // Sampling is uniform almost always: the factors are computed once per step (times
        // read back as doubles differ from one step to the next in their last bits only).
        decay_.resize(tau_s_.size());
        ramp_.resize(tau_s_.size());
        for (std::size_t k = 0; k < tau_s_.size(); ++k) {
            const double ratio = step_s / tau_s_[k];
            decay_[k] = std::exp(-ratio);
            ramp_[k] = ratio > 1e-8 ? -std::expm1(-ratio) / ratio : 1.0 - 0.5 * ratio;
        }
        step_s_ = step_s;
    }
    // Exact for a stress linear between the samples: x ← u₂ − (u₂ − u₁)·g + (x − u₁)·f.
    const double rise = stress_pa - last_stress_pa_;
    for (std::size_t k = 0; k < tau_s_.size(); ++k) {
        state_[k] = stress_pa - rise * ramp_[k] + (state_[k] - last_stress_pa_) * decay_[k];
    }
    stress_time_pa_s_ += 0.5 * (stress_pa + last_stress_pa_) * step_s;
    last_t_s_ = t_s;
    last_stress_pa_ = stress_pa;
}

double LoadingHistory::mean_stress_pa() const {
    const double duration = duration_s();
    return duration > 0 ? stress_time_pa_s_ / duration : last_stress_pa_;
}

std::vector<double> LoadingHistory::response(std::span<const double> tau_s) const {
    const double reference = mean_stress_pa();
    std::vector<double> out;
    for (const double tau : tau_s) {
        const double position = std::clamp((std::log10(tau) - kLog10TauLo) * kPerDecade, 0.0,
                                           static_cast<double>(tau_s_.size() - 1));
        const auto below = std::min(static_cast<std::size_t>(position), tau_s_.size() - 2);
        const double fraction = position - static_cast<double>(below);
        const double lo = state_[below] / reference;
        const double hi = state_[below + 1] / reference;
        // Between modes h goes as a power of τ where it is positive, linearly otherwise.
        out.push_back(lo > 0 && hi > 0 ? lo * std::pow(hi / lo, fraction)
                                       : lo + (hi - lo) * fraction);
    }
    return out;
}

double strain_from_unload(double strain_at_unload, double response) {
    return response >= kMinLoadResponse ? strain_at_unload / response : strain_at_unload;
}

}  // namespace dmacycle::analysis
