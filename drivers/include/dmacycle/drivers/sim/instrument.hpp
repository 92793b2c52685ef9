#pragma once
#include <cstdint>
#include <mutex>
#include <random>

#include "dmacycle/drivers/sim/clock.hpp"
#include "dmacycle/drivers/sim/dmta.hpp"
#include "dmacycle/drivers/sim/furnace.hpp"
#include "dmacycle/drivers/sim/profile.hpp"
#include "dmacycle/drivers/sim/sample.hpp"

// The simulated DMA as one object: load frame (stress program), sample, furnace, noise and the
// simulation clock. Every public member is thread-safe; the wire servers only call these.
// Physics is advanced lazily to the clock, so a paced clock costs nothing while idle.
namespace dmacycle::drivers::sim {

struct Measurement {
    double t_s;
    double force_n;
    double displacement_m;  // ΔL of the gauge length, from the unloaded ribbon
    double temperature_k;   // sample thermocouple
};

struct TrueState {  // for tests and benches: what the noisy measurement is made from
    double t_s;
    double stress_pa;
    double strain;
    double anelastic_strain;
    double viscoplastic_strain;
    double sample_temperature_k;
    double furnace_temperature_k;
};

struct FurnaceView {
    double temperature_k;  // PV as the controller measures it (with ripple)
    double target_setpoint_k;
    double working_setpoint_k;
    double output_percent;
    double rate_limit_k_per_min;
    bool manual;
    std::uint16_t status_bits;
};

class Instrument {
  public:
    Instrument(Profile profile, SimClock clock);

    const Profile& profile() const { return profile_; }
    bool clock_is_max() const { return clock_.is_max(); }
    double now_s() const;
    SimClock::WallClock::time_point wall_at(double t_s) const;
    // Max clock: moves simulated time forward to t_s. Paced: no effect.
    void advance_clock_to(double t_s);

    // --- load frame -------------------------------------------------------------------
    Geometry geometry() const;
    void set_geometry(const Geometry& geometry);
    // Ramps the commanded stress to target at rate (> 0) from now on.
    void ramp_stress(double target_pa, double rate_pa_s);
    void hold();                         // stops a ramp where it is
    void step_stress(double stress_pa);  // immediate (pre-tension)
    double commanded_stress_pa() const;
    double ramp_target_pa() const;
    bool ramping() const;
    double ramp_end_s() const;  // when the running ramp reaches its target (now if none)
    // Unloads and restores the profile geometry; the sample keeps its history.
    void reset_frame();
    // A fresh ribbon from the same profile.
    void new_sample();
    Measurement measure_at(double t_s);  // noisy; t_s is clamped to now at the latest
    Measurement measure();
    DynamicModulus dynamic_modulus_at(double frequency_hz);
    TrueState true_state();

    // --- furnace ---------------------------------------------------------------------
    FurnaceView furnace();
    void set_furnace_setpoint_k(double t_k);
    void set_furnace_rate_limit_k_per_min(double rate);
    void set_furnace_manual(bool manual);
    void set_furnace_manual_output_percent(double percent);
    void set_furnace_sensor_break(bool broken);

  private:
    void advance_to(double t_s);  // physics; caller holds mutex_
    double stress_at(double t_s) const;

    mutable std::mutex mutex_;
    Profile profile_;
    SimClock clock_;
    Geometry geometry_;
    Sample sample_;
    Furnace furnace_;
    double sample_temperature_k_;
    double physics_t_s_;
    // Stress program: linear from (ramp_start_t_s_, ramp_start_pa_) toward ramp_target_pa_.
    double ramp_start_t_s_ = 0;
    double ramp_start_pa_ = 0;
    double ramp_target_pa_ = 0;
    double ramp_rate_pa_s_ = 0;
    std::mt19937_64 rng_;
    std::normal_distribution<double> normal_{0.0, 1.0};
};

}  // namespace dmacycle::drivers::sim
