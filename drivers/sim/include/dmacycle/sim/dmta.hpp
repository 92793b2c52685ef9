#pragma once

// Dynamic modulus of the simulated ribbon (domain.md §4): a Gaussian distribution of β
// relaxation energies plus a Havriliak-Negami-like α term; and the β energy's dependence on the
// ribbon's history (the paper's Fig. 5c: 0.92 eV as cast, 0.73 eV right after cycling, 0.82 eV
// after 8 h of recovery).
namespace dmacycle::sim {

struct DmtaParams {
    double beta_energy_ev = 0.92;  // as cast
    double beta_energy_width_ev = 0.07;
    double beta_attempt_time_s = 1e-14;  // τ_β0 at beta_energy_ev: 1 Hz peak near 355 K
    // Compensation (Meyer-Neldel): τ_β0(E) = τ_β0 exp[−(E − E_cast)/(k_B T_c)], so a changed E
    // rotates the Arrhenius line about T_c instead of shifting every peak by tens of kelvin;
    // with T_c above the peaks a higher E moves them up (the paper's shift with recovery).
    double beta_compensation_k = 400.0;
    // History: loaded above beta_loaded_stress_pa, E drops to the after-cycling value; once
    // unloaded it recovers towards beta_energy_recovered_ev with beta_recovery_time_s.
    double beta_energy_after_cycling_ev = 0.73;
    double beta_energy_recovered_ev = 0.835;
    double beta_recovery_time_s = 14400.0;  // 0.835 − 0.105 e^(−2) = 0.82 eV at 8 h
    double beta_loaded_stress_pa = 10e6;
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

// At the β energy `beta_energy_ev` (the ribbon's now, BetaHistory::energy_ev).
DynamicModulus dynamic_modulus(const DmtaParams& params, double beta_energy_ev,
                               double unrelaxed_modulus_pa, double frequency_hz,
                               double temperature_k);

// The ribbon's β energy from its stress history. Pure state: the instrument feeds it the stress
// after each physics step.
class BetaHistory {
  public:
    explicit BetaHistory(const DmtaParams& params);  // as cast

    // The stress at instrument time t_s (non-decreasing): crossing the threshold upwards sets
    // the after-cycling energy, crossing it downwards starts the recovery.
    void observe(double t_s, double stress_pa);
    // SIMulate:DMTA:BETA: this energy from t_s on, held until the ribbon is loaded again.
    void set(double t_s, double energy_ev);
    double energy_ev(double t_s) const;

  private:
    DmtaParams params_;
    double energy_ev_;         // at since_s_
    double since_s_ = 0;       // recovery start
    bool loaded_ = false;      // above the threshold now
    bool recovering_ = false;  // relaxing towards the recovered energy since since_s_
};

}  // namespace dmacycle::sim
