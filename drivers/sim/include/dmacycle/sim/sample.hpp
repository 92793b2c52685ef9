#pragma once
#include <span>
#include <vector>
#include "dmacycle/analysis/synthetic.hpp"

// The simulated ribbon (domain.md §4): elastic + Kelvin spectrum + viscoplastic flow + thermal
// expansion. Pure state and arithmetic: no clock, no noise, no I/O.
namespace dmacycle::sim {

inline constexpr double boltzmann_j_k = 1.380649e-23;

struct KelvinElement {
    double tau_s;              // at the reference temperature
    double compliance_per_pa;  // J_i: the element's strain is J_i σ at equilibrium
};

using LogNormalPeak = analysis::synthetic::LogNormalPeak;

// Elements on a log grid whose compliances follow log-normal peaks in log10 τ, normalised to
// total_compliance_per_pa: analysis::synthetic::log_normal_spectrum's construction, so the
// analysis tests and the simulator share one definition of the domain.md spectrum.
std::vector<KelvinElement> log_normal_elements(std::span<const LogNormalPeak> peaks,
                                               double total_compliance_per_pa, double log10_tau_lo,
                                               double log10_tau_hi, int per_decade);

struct SampleParams {
    double youngs_modulus_pa = 36e9;
    double reference_temperature_k = 365.0;
    double thermal_expansion_per_k = 1e-5;
    std::vector<KelvinElement> elements;
    double attempt_time_s = 1e-13;  // τ_0 of Q_i = k_B T_ref ln(τ_i/τ_0)
    bool stress_activation = true;
    double activation_volume_m3 = 0.2e-27;
    // Rejuvenation: every J_i grows with the energy w dissipated in the Kelvin elements, so
    // larger cycling amplitudes store more anelastic strain: J_i0 (1 + u/(1 + u/m)), u = w/w_rej,
    // i.e. as 1 + w/w_rej at first and saturating at (1 + m) J_i0 (a ribbon cannot rejuvenate
    // without bound); w_rej 0 = off. Both estimates.
    double rejuvenation_energy_j_m3 = 1e7;
    double rejuvenation_max_growth = 10.0;    // m
    double viscoplastic_prefactor_per_s = 0;  // A of ε̇_vp = A sinh(c_v σ), at T_ref
    double viscoplastic_volume_m3 = 0.12e-27;
    // A(T) = A exp[(Q_vp/k_B)(1/T_ref − 1/T)], so flow speeds up when heated (estimate).
    double viscoplastic_energy_ev = 1.2;
};

// A such that ε̇_vp(stress_pa) = rate_per_s at temperature_k.
double viscoplastic_prefactor(double rate_per_s, double stress_pa, double volume_m3,
                              double temperature_k);

class Sample {
  public:
    explicit Sample(SampleParams params);

    // Instantaneous stress step: only the elastic strain follows; Kelvin elements and flow
    // need time.
    void set_stress(double stress_pa) { stress_pa_ = stress_pa; }
    // Advances by h_s with stress linear from the current value to stress_end_pa. Exact for
    // piecewise-linear stress without stress activation and rejuvenation; with them, τ* and
    // J_i are taken at the step start (τ* with the midpoint stress), so keep h well below the
    // shortest τ*.
    void advance(double h_s, double stress_end_pa);
    void set_temperature(double temperature_k);

    double stress_pa() const { return stress_pa_; }
    double temperature_k() const { return temperature_k_; }
    double elastic_strain() const { return stress_pa_ / params_.youngs_modulus_pa; }
    double anelastic_strain() const;
    double viscoplastic_strain() const { return strain_vp_; }
    double thermal_strain() const;
    double strain() const;  // total true strain, dimensionless
    std::span<const double> element_strains() const { return strains_; }
    double dissipated_j_m3() const { return dissipated_j_m3_; }  // in the Kelvin dashpots
    double compliance_scale() const;  // J_i / J_i0 from rejuvenation (1 when off)

    const SampleParams& params() const { return params_; }
    // The true spectrum with τ_i(T) = τ_i exp[(Q_i/k_B)(1/T − 1/T_ref)].
    std::vector<KelvinElement> spectrum_at(double temperature_k) const;
    double viscoplastic_rate_per_s(double stress_pa) const;

  private:
    SampleParams params_;
    std::vector<double> strains_;
    std::vector<double> tau_now_s_;  // τ_i at temperature_k_
    double stress_pa_ = 0;
    double strain_vp_ = 0;
    double dissipated_j_m3_ = 0;
    double temperature_k_;
    double vp_prefactor_now_per_s_;  // A(T) at temperature_k_
};

}  // namespace dmacycle::sim
