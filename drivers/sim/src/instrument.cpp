#include "dmacycle/sim/instrument.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace dmacycle::sim {

Instrument::Instrument(Profile profile, SimClock clock)
    : profile_(std::move(profile)),
      clock_(clock),
      geometry_(profile_.geometry),
      sample_(profile_.sample),
      beta_(profile_.dmta),
      furnace_(profile_.furnace),
      sample_temperature_k_(profile_.furnace.initial_k),
      physics_t_s_(clock.now_s()),
      slope_changed_s_(physics_t_s_),
      rng_(profile_.noise.seed) {
    sample_.set_temperature(sample_temperature_k_);
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
    if (program_.empty() || t_s >= program_.back().t1_s) {
        return hold_pa_;
    }
    const auto seg = std::upper_bound(program_.begin(), program_.end(), t_s,
                                      [](double t, const Segment& g) { return t < g.t1_s; });
    if (t_s <= seg->t0_s) {
        return seg->s0_pa;
    }
    return seg->s0_pa + (seg->s1_pa - seg->s0_pa) * (t_s - seg->t0_s) / (seg->t1_s - seg->t0_s);
}

double Instrument::program_end_s() const {
    return program_.empty() ? clock_.now_s() : std::max(clock_.now_s(), program_.back().t1_s);
}

void Instrument::clear_program(double stress_pa) {
    program_.clear();
    hold_pa_ = stress_pa;
    slope_changed_s_ = physics_t_s_;
}

namespace {

// Sample steps grow to this fraction of the time since the stress slope last changed: the
// Kelvin update is exact for any step at fixed τ*, and τ* (stress activation) and J_i
// (rejuvenation) drift only on the time scale of the elements still relaxing, i.e. ≳ that age.
// Keeps a client's jump of 1e6 s at constant stress to a few hundred steps.
constexpr double step_growth = 0.05;
// And the stress moves at most this much per step on a ramp: c_a·Δσ ≈ 0.02 at the defaults.
constexpr double max_stress_step_pa = 1e6;
// The sample temperature moves at most this much within one sample step; below it τ_i(T)
// shifts by < 1e-4 (as in set_temperature's re-derivation threshold).
constexpr double max_temperature_step_k = 1e-3;
// Furnace and sample this close to the setpoint (and each other) count as settled: a fixed
// point of the PID and the lag, so the furnace need not be stepped.
constexpr double settled_k = 1e-4;
// Physics steps kept for samples measured late: at speed 300 a stream ~1 wall second late.
constexpr std::size_t max_past_states = 4096;

}  // namespace

void Instrument::advance_to(double t_s) {
    const double control_step = std::min(profile_.max_step_s, profile_.furnace.control_period_s);
    const double lag = profile_.furnace.sample_lag_s;
    while (physics_t_s_ < t_s) {
        double boundary = std::numeric_limits<double>::infinity();
        double rate = 0;
        // Split at segment ends so each step sees linear stress (the update is exact then).
        const auto seg = std::upper_bound(program_.begin(), program_.end(), physics_t_s_,
                                          [](double t, const Segment& g) { return t < g.t1_s; });
        if (seg != program_.end()) {
            if (seg->t0_s > physics_t_s_) {
                boundary = seg->t0_s;
            } else {
                boundary = seg->t1_s;
                rate = (seg->s1_pa - seg->s0_pa) / (seg->t1_s - seg->t0_s);
            }
        }
        const double end = std::min(t_s, boundary);
        double h = step_growth * (physics_t_s_ - slope_changed_s_);
        if (rate != 0) {
            h = std::min(h, max_stress_step_pa / std::abs(rate));
        }
        double next = std::min(end, physics_t_s_ + std::max(control_step, h));
        if (!(next > physics_t_s_)) {
            next = end;  // a step below the resolution of t (t ≳ 1e15 s) would never progress
        }
        // The furnace runs at its control period unless settled; the sample step ends early
        // once the sample temperature has moved noticeably.
        if (!furnace_.settled(settled_k) ||
            std::abs(sample_temperature_k_ - furnace_.temperature_k()) > settled_k) {
            for (double t = physics_t_s_; t < next;) {
                const double dt = std::min(control_step, next - t);
                furnace_.step(dt);
                sample_temperature_k_ +=
                    (furnace_.temperature_k() - sample_temperature_k_) * -std::expm1(-dt / lag);
                t = t + dt > t ? t + dt : next;  // at t ≳ 1e15 s a control period adds nothing
                if (std::abs(sample_temperature_k_ - sample_.temperature_k()) >
                    max_temperature_step_k) {
                    next = t;
                }
            }
        }
        // Re-deriving τ_i(T) costs an exp per element; below 1 mK the shift is < 1e-4.
        if (std::abs(sample_temperature_k_ - sample_.temperature_k()) > max_temperature_step_k) {
            sample_.set_temperature(sample_temperature_k_);
        }
        sample_.advance(next - physics_t_s_, stress_at(next));
        physics_t_s_ = next;
        beta_.observe(next, sample_.stress_pa());
        past_.push_back({next, sample_.stress_pa(), sample_.strain(), sample_temperature_k_});
        if (past_.size() > max_past_states) {
            past_.pop_front();
        }
        if (next == boundary) {
            slope_changed_s_ = next;
        }
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
    const double from = stress_at(now);
    clear_program(target_pa);
    if (target_pa != from) {
        program_.push_back({now, now + std::abs(target_pa - from) / rate_pa_s, from, target_pa});
    }
}

void Instrument::append_ramp(double target_pa, double rate_pa_s) {
    const std::lock_guard lock(mutex_);
    const double start = program_end_s();
    const double from = hold_pa_;
    if (target_pa != from) {
        program_.push_back(
            {start, start + std::abs(target_pa - from) / rate_pa_s, from, target_pa});
        hold_pa_ = target_pa;
    }
}

void Instrument::append_dwell(double duration_s) {
    const std::lock_guard lock(mutex_);
    const double start = program_end_s();
    program_.push_back({start, start + duration_s, hold_pa_, hold_pa_});
}

bool Instrument::cut_program(double t_s) {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    if (!(t_s >= now)) {
        return false;
    }
    const double stress_pa = stress_at(t_s);
    while (!program_.empty() && program_.back().t0_s >= t_s) {
        program_.pop_back();
    }
    if (!program_.empty() && program_.back().t1_s > t_s) {
        program_.back().t1_s = t_s;
        program_.back().s1_pa = stress_pa;
    }
    hold_pa_ = stress_pa;
    const double end_s = program_end_s();
    if (end_s < t_s) {
        program_.push_back({end_s, t_s, stress_pa, stress_pa});
    }
    return true;
}

void Instrument::hold() {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    clear_program(stress_at(now));
}

void Instrument::step_stress(double stress_pa) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    clear_program(stress_pa);
    sample_.set_stress(stress_pa);
}

double Instrument::commanded_stress_pa() const {
    const std::lock_guard lock(mutex_);
    return stress_at(clock_.now_s());
}

double Instrument::ramp_target_pa() const {
    const std::lock_guard lock(mutex_);
    return hold_pa_;
}

bool Instrument::ramping() const {
    const std::lock_guard lock(mutex_);
    return !program_.empty() && clock_.now_s() < program_.back().t1_s;
}

double Instrument::ramp_end_s() const {
    const std::lock_guard lock(mutex_);
    return program_end_s();
}

std::size_t Instrument::program_segments() const {
    const std::lock_guard lock(mutex_);
    return program_.size();
}

void Instrument::reset_frame() {
    const std::lock_guard lock(mutex_);
    const double now = clock_.now_s();
    advance_to(now);
    geometry_ = profile_.geometry;
    clear_program(0);
    sample_.set_stress(0);
}

void Instrument::new_sample() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    sample_ = Sample(profile_.sample);
    beta_ = BetaHistory(profile_.dmta);
    sample_.set_temperature(sample_temperature_k_);
    slope_changed_s_ = physics_t_s_;
    sample_.set_stress(stress_at(physics_t_s_));
}

Measurement Instrument::measure_at(double t_s) {
    const std::lock_guard lock(mutex_);
    clock_.advance_to(t_s);
    t_s = std::min(t_s, clock_.now_s());
    advance_to(t_s);
    const PastState state = t_s < physics_t_s_ ? state_at(t_s)
                                               : PastState{t_s, sample_.stress_pa(),
                                                           sample_.strain(), sample_temperature_k_};
    const Noise& noise = profile_.noise;
    const double drift = noise.strain_drift_per_hour * t_s / 3600.0;
    double displacement =
        (state.strain + drift) * geometry_.gauge_length_m + noise.displacement_m * normal_(rng_);
    if (noise.displacement_quantum_m > 0) {
        displacement =
            noise.displacement_quantum_m * std::round(displacement / noise.displacement_quantum_m);
    }
    return {t_s, state.stress_pa * geometry_.area_m2() + noise.force_n * normal_(rng_),
            displacement, state.temperature_k + noise.temperature_k * normal_(rng_)};
}

// Linear between the physics steps around t_s (the stress is linear within a step; strain and
// temperature change smoothly); before the oldest state kept, that state.
Instrument::PastState Instrument::state_at(double t_s) const {
    const auto after = std::lower_bound(past_.begin(), past_.end(), t_s,
                                        [](const PastState& p, double t) { return p.t_s < t; });
    if (after == past_.end()) {
        return {t_s, sample_.stress_pa(), sample_.strain(), sample_temperature_k_};
    }
    if (after == past_.begin() || after->t_s == t_s) {
        return *after;
    }
    const PastState& before = *std::prev(after);
    const double w = (t_s - before.t_s) / (after->t_s - before.t_s);
    const auto mix = [w](double a, double b) { return a + (b - a) * w; };
    return {t_s, mix(before.stress_pa, after->stress_pa), mix(before.strain, after->strain),
            mix(before.temperature_k, after->temperature_k)};
}

Measurement Instrument::measure() {
    return measure_at(now_s());
}

DynamicModulus Instrument::dynamic_modulus_at(double frequency_hz) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    auto m =
        dynamic_modulus(profile_.dmta, beta_.energy_ev(physics_t_s_),
                        profile_.sample.youngs_modulus_pa, frequency_hz, sample_temperature_k_);
    const double relative = profile_.noise.dmta_relative;
    m.storage_pa *= 1 + relative * normal_(rng_);
    m.loss_pa *= 1 + relative * normal_(rng_);
    m.tan_delta = m.loss_pa / m.storage_pa;
    return m;
}

double Instrument::beta_energy_ev() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    return beta_.energy_ev(physics_t_s_);
}

void Instrument::set_beta_energy_ev(double energy_ev) {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    beta_.set(physics_t_s_, energy_ev);
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

std::vector<KelvinElement> Instrument::true_spectrum() {
    const std::lock_guard lock(mutex_);
    advance_to(clock_.now_s());
    auto spectrum = sample_.spectrum_at(sample_.temperature_k());
    for (auto& element : spectrum) {
        element.compliance_per_pa *= sample_.compliance_scale();
    }
    return spectrum;
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

void Instrument::drop_furnace_links(double for_wall_s) {
    const std::lock_guard lock(link_faults_mutex_);
    ++furnace_link_faults_.drop_generation;
    furnace_link_faults_.drop_until =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(for_wall_s));
}

void Instrument::set_furnace_reply_delay(double wall_s) {
    const std::lock_guard lock(link_faults_mutex_);
    furnace_link_faults_.delay_s = wall_s;
}

void Instrument::garble_next_furnace_reply() {
    const std::lock_guard lock(link_faults_mutex_);
    furnace_link_faults_.garble_next = true;
}

Instrument::FurnaceLinkFaults Instrument::furnace_link_faults() const {
    const std::lock_guard lock(link_faults_mutex_);
    return furnace_link_faults_;
}

bool Instrument::take_furnace_garble() {
    const std::lock_guard lock(link_faults_mutex_);
    return std::exchange(furnace_link_faults_.garble_next, false);
}

}  // namespace dmacycle::sim
