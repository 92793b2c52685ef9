#pragma once
#include <span>
#include <vector>

// The loading a recovery follows, for eq. (2)'s strains (docs/analysis.md). Each relaxation mode
// of time τ is a Kelvin element: τ dx/dt + x = σ(t)/σ_ref, with x its strain in units of its
// equilibrium strain ε_i under σ_ref. At unloading it holds h(τ) = x, so the recovery shows
// a_i = ε_i h(τ_i). Eq. (2) takes a constant σ_ref held for t0 and removed at once,
// h = 1 − exp(−t0/τ); a recorded history gives h by Boltzmann superposition over it, which the
// fast modes need: they follow an unloading ramp or a cycle's last descent down and keep little of
// their strain.
namespace dmacycle::analysis {

class LoadingHistory {
  public:
    LoadingHistory();
    // The stress at increasing times, from the start of loading to unloading (linear in between).
    void add(double t_s, double stress_pa);
    bool empty() const { return samples_ == 0; }
    // σ_ref: the mean stress over the loading (time-weighted).
    double mean_stress_pa() const;
    double duration_s() const { return samples_ > 0 ? last_t_s_ - first_t_s_ : 0.0; }
    // h(τ) at the last time added, for each τ (interpolated in log τ and log h between the modes
    // kept, 10 per decade over 1e-4 .. 1e12 s).
    std::vector<double> response(std::span<const double> tau_s) const;

  private:
    std::vector<double> tau_s_;
    std::vector<double> state_;         // ∫ stress response, in Pa (divided by σ_ref when asked)
    std::vector<double> decay_, ramp_;  // exp(−Δ/τ) and τ(1 − exp(−Δ/τ))/Δ for step_s_
    double step_s_ = -1;
    double first_t_s_ = 0, last_t_s_ = 0, last_stress_pa_ = 0;
    double stress_time_pa_s_ = 0;  // ∫ σ dt
    long samples_ = 0;
};

// Below this h a mode was left all but empty at unloading: its a_i says nothing of ε_i (dividing
// by h would blow up its noise, or a transient of the frame at the end of the unloading).
inline constexpr double kMinLoadResponse = 0.01;

// The eq. (2) strain ε_i = a_i / h(τ_i) that an amplitude a_i at unloading implies; for h below
// kMinLoadResponse, a_i itself stands in (undetermined).
double strain_from_unload(double strain_at_unload, double response);

}  // namespace dmacycle::analysis
