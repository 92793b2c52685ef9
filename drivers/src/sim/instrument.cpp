#include "dmacycle/drivers/sim/instrument.hpp"

#include <algorithm>
#include <cmath>

namespace dmacycle::drivers::sim {

Instrument::Instrument(Profile profile, SimClock clock)
    : profile_(std::move(profile)),
      clock_(clock),
      geometry_(profile_.geometry),
      sample_(profile_.sample),
      furnace_(profile_.furnace),
      sample_temperature_k_(profile_.furnace.initial_k),
      physics_t_s_(clock.now_s()),
      rng_(profile_.noise.seed) {
    sample_.set_temperature(sample_temperature_k_);
    ramp_start_t_s_ = physics_t_s_;
}

double Instrument::now_s() const {
    const std::lock_guard lock(mutex_);
    return clock_.now_s();
}

SimClock::WallClock::time_point Instrument::wall_at(double t_s) const {
    const std::lock_guard lock(mutex_);
    return clock_.wall_at(t_s);
}

void Instrument::advance_clock_to(double t_s) {
    const std::lock_guard lock(mutex_);
    clock_.advance_to(t_s);
}

double Instrument::stress_at(double t_s) const {
    if (ramp_rate_pa_s_ <= 0) {
        return ramp_target_pa_;
    }
    const double moved = ramp_rate_pa_s_ * (t_s - ramp_start_t_s_);
    const double gap = ramp_target_pa_ - ramp_start_pa_;
    return std::abs(gap) <= moved ? ramp_target_pa_ : ramp_start_pa_ + std::copysign(moved, gap);
}

void Instrument::advance_to(double t_s) {
    const double max_step = std::min(profile_.max_step_s, profile_.furnace.control_period_s);
    const double ramp_end =
        ramp_rate_pa_s_ > 0
            ? ramp_start_t_s_ + std::abs(ramp_target_pa_ - ramp_start_pa_) / ramp_rate_pa_s_
            : physics_t_s_;
    const double lag = profile_.furnace.sample_lag_s;
    while (physics_t_s_ < t_s) {
        double next = std::min(t_s, physics_t_s_ + max_step);
        // Split at the ramp's end so each step sees linear stress (exact update).
        if (ramp_end > physics_t_s_ && ramp_end < next) {
            next = ramp_end;
        }
        const double h = next - physics_t_s_;
        furnace_.step(h);
        sample_temperature_k_ +=
            (furnace_.temperature_k() - sample_temperature_k_) * -std::expm1(-h / lag);
        // Re-deriving τ_i(T) costs an exp per element; below 1 mK the shift is < 1e-4.
        if (std::abs(sample_temperature_k_ - sample_.temperature_k()) > 1e-3) {
            sample_.set_temperature(sample_temperature_k_);
        }
        sample_.advance(h, stress_at(next));
        physics_t_s_ = next;
    }
}

Geometry Instrument::geometry() const {
    const std::lock_guard lock(mutex_);
    return geometry_;
}

void Instrument::set_geometry(const Geometry& geometry) {
    const std::lock_guard lock(mutex_);
    geometry_ = geometry;
}

void Instrument::ramp_stress(double target_pa, double rate_pa_s) {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    ramp_start_pa_ = stress_at(now);
    ramp_start_t_s_ = now;
    ramp_target_pa_ = target_pa;
    ramp_rate_pa_s_ = rate_pa_s;
}

void Instrument::hold() {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    ramp_target_pa_ = stress_at(now);
    ramp_start_pa_ = ramp_target_pa_;
    ramp_start_t_s_ = now;
    ramp_rate_pa_s_ = 0;
}

void Instrument::step_stress(double stress_pa) {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    ramp_target_pa_ = ramp_start_pa_ = stress_pa;
    ramp_start_t_s_ = now;
    ramp_rate_pa_s_ = 0;
    sample_.set_stress(stress_pa);
}

double Instrument::commanded_stress_pa() const {
    const std::lock_guard lock(mutex_);
    return stress_at(clock_.now_s());
}

double Instrument::ramp_target_pa() const {
    const std::lock_guard lock(mutex_);
    return ramp_target_pa_;
}

bool Instrument::ramping() const {
    const std::lock_guard lock(mutex_);
    return stress_at(clock_.now_s()) != ramp_target_pa_;
}

double Instrument::ramp_end_s() const {
    const std::lock_guard lock(mutex_);
    if (ramp_rate_pa_s_ <= 0) {
        return clock_.now_s();
    }
    return std::max(clock_.now_s(),
                    ramp_start_t_s_ + std::abs(ramp_target_pa_ - ramp_start_pa_) / ramp_rate_pa_s_);
}

void Instrument::reset_frame() {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    geometry_ = profile_.geometry;
    ramp_target_pa_ = ramp_start_pa_ = 0;
    ramp_start_t_s_ = now;
    ramp_rate_pa_s_ = 0;
    sample_.set_stress(0);
}

void Instrument::new_sample() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    sample_ = Sample(profile_.sample);
    sample_.set_temperature(sample_temperature_k_);
    sample_.set_stress(stress_at(physics_t_s_));
}

Measurement Instrument::measure_at(double t_s) {
    const std::lock_guard lock(mutex_);
    clock_.advance_to(t_s);
    t_s = std::min(t_s, clock_.now_s());
    advance_to(t_s);
    const Noise& noise = profile_.noise;
    const double drift = noise.strain_drift_per_hour * physics_t_s_ / 3600.0;
    double displacement = (sample_.strain() + drift) * geometry_.gauge_length_m +
                          noise.displacement_m * normal_(rng_);
    if (noise.displacement_quantum_m > 0) {
        displacement =
            noise.displacement_quantum_m * std::round(displacement / noise.displacement_quantum_m);
    }
    return {t_s, sample_.stress_pa() * geometry_.area_m2() + noise.force_n * normal_(rng_),
            displacement, sample_temperature_k_ + noise.temperature_k * normal_(rng_)};
}

Measurement Instrument::measure() {
    return measure_at(now_s());
}

DynamicModulus Instrument::dynamic_modulus_at(double frequency_hz) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    return dynamic_modulus(profile_.dmta, profile_.sample.youngs_modulus_pa, frequency_hz,
                           sample_temperature_k_);
}

TrueState Instrument::true_state() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    return {physics_t_s_,
            sample_.stress_pa(),
            sample_.strain(),
            sample_.anelastic_strain(),
            sample_.viscoplastic_strain(),
            sample_temperature_k_,
            furnace_.temperature_k()};
}

FurnaceView Instrument::furnace() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    return {furnace_.temperature_k() + profile_.noise.temperature_k * normal_(rng_),
            furnace_.target_setpoint_k(),
            furnace_.working_setpoint_k(),
            furnace_.output_percent(),
            furnace_.rate_limit_k_per_min(),
            furnace_.manual(),
            furnace_.status_bits()};
}

void Instrument::set_furnace_setpoint_k(double t_k) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    furnace_.set_target_setpoint_k(t_k);
}

void Instrument::set_furnace_rate_limit_k_per_min(double rate) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    furnace_.set_rate_limit_k_per_min(rate);
}

void Instrument::set_furnace_manual(bool manual) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    furnace_.set_manual(manual);
}

void Instrument::set_furnace_manual_output_percent(double percent) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    furnace_.set_manual_output_percent(percent);
}

void Instrument::set_furnace_sensor_break(bool broken) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    furnace_.set_sensor_break(broken);
}

}  // namespace dmacycle::drivers::sim
