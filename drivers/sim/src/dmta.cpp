#include "dmacycle/sim/dmta.hpp"

#include <cmath>
#include <complex>
#include <numbers>

namespace dmacycle::sim {

namespace {
constexpr double boltzmann_ev_k = 8.617333262e-5;
}

DynamicModulus dynamic_modulus(const DmtaParams& p, double beta_energy_ev,
                               double unrelaxed_modulus_pa, double frequency_hz,
                               double temperature_k) {
    const double omega = 2 * std::numbers::pi * frequency_hz;
    const double kt_ev = boltzmann_ev_k * temperature_k;
    const double attempt_s =
        p.beta_attempt_time_s *
        std::exp(-(beta_energy_ev - p.beta_energy_ev) / (boltzmann_ev_k * p.beta_compensation_k));
    // ∫ g(E)/(1 + iωτ_β(E)) dE by the trapezoid rule over ±6 σ_E; the integrand is smooth.
    constexpr int nodes = 241;
    const double lo = beta_energy_ev - 6 * p.beta_energy_width_ev;
    const double step = 12 * p.beta_energy_width_ev / (nodes - 1);
    std::complex<double> beta{0, 0};
    double norm = 0;
    for (int k = 0; k < nodes; ++k) {
        const double energy = lo + k * step;
        const double z = (energy - beta_energy_ev) / p.beta_energy_width_ev;
        const double weight = std::exp(-0.5 * z * z) * ((k == 0 || k == nodes - 1) ? 0.5 : 1.0);
        const double tau = attempt_s * std::exp(energy / kt_ev);
        beta += weight / std::complex<double>(1.0, omega * tau);
        norm += weight;
    }
    beta /= norm;
    const double tau_alpha =
        p.alpha_tau_at_tg_s * std::exp((p.alpha_energy_ev / boltzmann_ev_k) *
                                       (1.0 / temperature_k - 1.0 / p.glass_transition_k));
    const std::complex<double> i_omega_tau{0, omega * tau_alpha};
    const std::complex<double> alpha = 1.0 / (1.0 + std::pow(i_omega_tau, p.alpha_exponent));
    const std::complex<double> m =
        unrelaxed_modulus_pa * (1.0 - p.beta_strength * beta - p.alpha_strength * alpha);
    return {m.real(), m.imag(), m.imag() / m.real()};
}

BetaHistory::BetaHistory(const DmtaParams& params)
    : params_(params), energy_ev_(params.beta_energy_ev) {}

void BetaHistory::observe(double t_s, double stress_pa) {
    const bool loaded = stress_pa > params_.beta_loaded_stress_pa;
    if (loaded && !loaded_) {
        energy_ev_ = params_.beta_energy_after_cycling_ev;
        recovering_ = false;
    } else if (loaded_) {
        since_s_ = t_s;
        recovering_ = true;
    }
    loaded_ = loaded;
}

void BetaHistory::set(double t_s, double energy_ev) {
    energy_ev_ = energy_ev;
    since_s_ = t_s;
    recovering_ = false;
}

double BetaHistory::energy_ev(double t_s) const {
    if (!recovering_ || t_s <= since_s_) {
        return energy_ev_;
    }
    const double target = params_.beta_energy_recovered_ev;
    return target +
           (energy_ev_ - target) * std::exp(-(t_s - since_s_) / params_.beta_recovery_time_s);
}

}  // namespace dmacycle::sim
