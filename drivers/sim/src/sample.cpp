#include "dmacycle/sim/sample.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>

namespace dmacycle::sim {
namespace {

// sinh(x)/x without the 0/0 at x = 0.
double sinhc(double x) {
    if (std::abs(x) < 1e-4) {
        return 1.0 + x * x / 6.0;
    }
    return std::sinh(x) / x;
}

}  // namespace

std::vector<KelvinElement> log_normal_elements(std::span<const LogNormalPeak> peaks,
                                               double total_compliance_per_pa, double log10_tau_lo,
                                               double log10_tau_hi, int per_decade) {
    std::vector<KelvinElement> elements;
    for (const auto& line : analysis::synthetic::log_normal_spectrum(
             peaks, total_compliance_per_pa, log10_tau_lo, log10_tau_hi, per_decade)) {
        elements.push_back({line.tau_s, line.strain});
    }
    return elements;
}

double viscoplastic_prefactor(double rate_per_s, double stress_pa, double volume_m3,
                              double temperature_k) {
    const double c = volume_m3 / (2 * boltzmann_j_k * temperature_k);
    return rate_per_s / std::sinh(c * stress_pa);
}

Sample::Sample(SampleParams params)
    : params_(std::move(params)),
      strains_(params_.elements.size(), 0.0),
      temperature_k_(params_.reference_temperature_k),
      vp_prefactor_now_per_s_(params_.viscoplastic_prefactor_per_s) {
    if (!(params_.youngs_modulus_pa > 0) || !(params_.reference_temperature_k > 0)) {
        throw std::invalid_argument("sample: modulus and reference temperature must be > 0");
    }
    set_temperature(params_.reference_temperature_k);
}

std::vector<KelvinElement> Sample::spectrum_at(double temperature_k) const {
    std::vector<KelvinElement> out = params_.elements;
    const double t_ref = params_.reference_temperature_k;
    for (auto& element : out) {
        // Q_i/k_B = T_ref ln(τ_i/τ_0), so the shift factor is (τ_i/τ_0)^(T_ref/T − 1).
        const double q_over_kb = t_ref * std::log(element.tau_s / params_.attempt_time_s);
        element.tau_s *= std::exp(q_over_kb * (1.0 / temperature_k - 1.0 / t_ref));
    }
    return out;
}

void Sample::set_temperature(double temperature_k) {
    if (!(temperature_k > 0)) {
        throw std::invalid_argument("sample: temperature must be > 0 K");
    }
    if (temperature_k == temperature_k_ && tau_now_s_.size() == strains_.size()) {
        return;
    }
    temperature_k_ = temperature_k;
    const auto spectrum = spectrum_at(temperature_k);
    constexpr double ev_j = 1.602176634e-19;
    vp_prefactor_now_per_s_ =
        params_.viscoplastic_prefactor_per_s *
        std::exp(params_.viscoplastic_energy_ev * ev_j / boltzmann_j_k *
                 (1.0 / params_.reference_temperature_k - 1.0 / temperature_k));
    tau_now_s_.resize(spectrum.size());
    for (std::size_t i = 0; i < spectrum.size(); ++i) {
        tau_now_s_[i] = spectrum[i].tau_s;
    }
}

double Sample::viscoplastic_rate_per_s(double stress_pa) const {
    const double c_v = params_.viscoplastic_volume_m3 / (2 * boltzmann_j_k * temperature_k_);
    return vp_prefactor_now_per_s_ * std::sinh(c_v * stress_pa);
}

void Sample::advance(double h_s, double stress_end_pa) {
    if (!(h_s > 0)) {
        set_stress(stress_end_pa);
        return;
    }
    const double s0 = stress_pa_;
    const double s1 = stress_end_pa;
    const double rate = (s1 - s0) / h_s;
    const double mid = 0.5 * (s0 + s1);
    const double kt2 = 2 * boltzmann_j_k * temperature_k_;
    const double c_a = params_.activation_volume_m3 / kt2;
    const double scale = compliance_scale();
    double dissipated = 0;
    for (std::size_t i = 0; i < strains_.size(); ++i) {
        const double j = params_.elements[i].compliance_per_pa * scale;
        const double before = strains_[i];
        double tau = tau_now_s_[i];
        if (params_.stress_activation) {
            // Effective stress on the element: what is not yet carried by its own strain.
            tau /= sinhc(c_a * (mid - strains_[i] / j));
        }
        const double one_minus_a = -std::expm1(-h_s / tau);
        const double a = 1.0 - one_minus_a;
        strains_[i] = a * strains_[i] + j * (s1 - a * s0 - rate * tau * one_minus_a);
        // ∫ (σ − ε_i/J_i) dε_i, midpoint rule: the element's dashpot work.
        dissipated += (mid - 0.5 * (before + strains_[i]) / j) * (strains_[i] - before);
    }
    dissipated_j_m3_ += dissipated;
    // Exact ∫ A sinh(c_v σ) dt for linear σ: A h sinh(c_v σ_mid) · sinhc(c_v Δσ/2), which is
    // A[cosh(c_v σ1) − cosh(c_v σ0)]/(c_v r) without the 0/0 at r = 0.
    const double c_v = params_.viscoplastic_volume_m3 / kt2;
    strain_vp_ +=
        vp_prefactor_now_per_s_ * h_s * std::sinh(c_v * mid) * sinhc(0.5 * c_v * (s1 - s0));
    stress_pa_ = s1;
}

double Sample::compliance_scale() const {
    if (!(params_.rejuvenation_energy_j_m3 > 0)) {
        return 1.0;
    }
    const double u = dissipated_j_m3_ / params_.rejuvenation_energy_j_m3;
    return 1.0 + u / (1.0 + u / params_.rejuvenation_max_growth);
}

double Sample::anelastic_strain() const {
    return std::accumulate(strains_.begin(), strains_.end(), 0.0);
}

double Sample::thermal_strain() const {
    return params_.thermal_expansion_per_k * (temperature_k_ - params_.reference_temperature_k);
}

double Sample::strain() const {
    return elastic_strain() + anelastic_strain() + viscoplastic_strain() + thermal_strain();
}

}  // namespace dmacycle::sim
