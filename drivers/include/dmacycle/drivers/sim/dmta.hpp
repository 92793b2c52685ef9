#pragma once

// Dynamic modulus of the simulated ribbon (domain.md §4): a Gaussian distribution of β
// relaxation energies plus a Havriliak-Negami-like α term.
namespace dmacycle::drivers::sim {

struct DmtaParams {
    double beta_energy_ev = 0.83;
    double beta_energy_width_ev = 0.07;
    double beta_attempt_time_s = 3.8e-13;
    double beta_strength = 0.10;
    double alpha_tau_at_tg_s = 100.0;
    double alpha_energy_ev = 3.5;
    double glass_transition_k = 438.0;
    double alpha_strength = 0.9;
    double alpha_exponent = 0.55;
};

struct DynamicModulus {
    double storage_pa;  // E′
    double loss_pa;     // E″
    double tan_delta;
};

DynamicModulus dynamic_modulus(const DmtaParams& params, double unrelaxed_modulus_pa,
                               double frequency_hz, double temperature_k);

}  // namespace dmacycle::drivers::sim
