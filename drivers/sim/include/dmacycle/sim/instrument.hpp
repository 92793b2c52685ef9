#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <vector>

#include "dmacycle/sim/clock.hpp"
#include "dmacycle/sim/consumer_pace.hpp"
#include "dmacycle/sim/dmta.hpp"
#include "dmacycle/sim/furnace.hpp"
#include "dmacycle/sim/profile.hpp"
#include "dmacycle/sim/sample.hpp"

// The simulated DMA as one object: load frame (stress program), sample, furnace, noise and the
// simulation clock. Every public member is thread-safe; the wire servers only call these.
// Physics is advanced lazily to the clock, so a paced clock costs nothing while idle.
namespace dmacycle::sim {

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
    // Max clock: where the stream waits for its consumer.
    ConsumerPace& pace() { return pace_; }

    // --- load frame -------------------------------------------------------------------
    Geometry geometry() const;
    void set_geometry(const Geometry& geometry);
    // The stress program is a list of linear segments run by the frame itself, so a run at
    // max speed does not depend on how quickly a client reacts. ramp_stress replaces it.
    void ramp_stress(double target_pa, double rate_pa_s);  // from now on, rate > 0
    // Append after the program's end (or now, if it has ended).
    void append_ramp(double target_pa, double rate_pa_s);
    void append_dwell(double duration_s);
    // Makes the program end at t_s: what follows t_s is dropped, the stress there is held, and
    // a program that ended earlier holds its final stress until t_s; what is appended next
    // starts at t_s. false (nothing changed) when t_s is in the past.
    bool cut_program(double t_s);
    void hold();                         // stops the program where it is
    void step_stress(double stress_pa);  // immediate (pre-tension); clears the program
    double commanded_stress_pa() const;
    double ramp_target_pa() const;  // where the program ends
    bool ramping() const;
    double ramp_end_s() const;  // when the program ends (now if it has)
    std::size_t program_segments() const;
    // Unloads and restores the profile geometry; the sample keeps its history.
    void reset_frame();
    // A fresh ribbon from the same profile.
    void new_sample();
    // Noisy; t_s is clamped to now at the latest. A t_s the physics has passed already (another
    // client, e.g. a furnace read, advanced it while the stream was late) is measured from the
    // recent states, not as the present.
    Measurement measure_at(double t_s);
    Measurement measure();
    DynamicModulus dynamic_modulus_at(double frequency_hz);
    // The ribbon's β energy now (its history, BetaHistory), and SIMulate:DMTA:BETA.
    double beta_energy_ev();
    void set_beta_energy_ev(double energy_ev);
    TrueState true_state();
    // The sample's spectrum now: τ_i at the sample temperature, J_i with rejuvenation.
    std::vector<KelvinElement> true_spectrum();

    // --- furnace ---------------------------------------------------------------------
    FurnaceView furnace();
    void set_furnace_setpoint_k(double t_k);
    void set_furnace_rate_limit_k_per_min(double rate);
    void set_furnace_manual(bool manual);
    void set_furnace_manual_output_percent(double percent);
    void set_furnace_sensor_break(bool broken);
    // Fault on demand: every Modbus request answered with this exception code (0 = off).
    void set_furnace_forced_exception(int code) { furnace_forced_exception_ = code; }
    int furnace_forced_exception() const { return furnace_forced_exception_; }
    // Furnace link faults on demand (SIMulate:FURNace:DROP/DELay/GARBle), on every endpoint:
    // the servers poll them. A DROP closes the clients connected now and refuses new ones until
    // `until` (wall clock); `generation` tells a server a new DROP came.
    struct FurnaceLinkFaults {
        unsigned drop_generation = 0;
        std::chrono::steady_clock::time_point drop_until{};
        double delay_s = 0;        // every reply this late (wall seconds)
        bool garble_next = false;  // the next reply, from any endpoint, scrambled
    };
    void drop_furnace_links(double for_wall_s);
    void set_furnace_reply_delay(double wall_s);
    void garble_next_furnace_reply();
    FurnaceLinkFaults furnace_link_faults() const;
    // Claims the pending garble for the caller's reply (true once per GARBle).
    bool take_furnace_garble();

    // Stream samples delivered intact to clients (written whole to the link, not garbled), on
    // every frame connection since start: what a test compares with the rows stored.
    void count_delivered_samples(std::uint64_t n) { delivered_samples_ += n; }
    std::uint64_t delivered_samples() const { return delivered_samples_; }

  private:
    void advance_to(double t_s);  // physics; caller holds mutex_
    double stress_at(double t_s) const;
    double program_end_s() const;
    void clear_program(double stress_pa);
    struct PastState {
        double t_s, stress_pa, strain, temperature_k;
    };
    PastState state_at(double t_s) const;  // t_s ≤ physics_t_s_, from past_

    struct Segment {  // stress linear from (t0_s, s0_pa) to (t1_s, s1_pa)
        double t0_s, t1_s, s0_pa, s1_pa;
    };

    mutable std::mutex mutex_;
    Profile profile_;
    SimClock clock_;
    Geometry geometry_;
    Sample sample_;
    BetaHistory beta_;
    Furnace furnace_;
    double sample_temperature_k_;
    double physics_t_s_;
    double slope_changed_s_;        // where the stress slope last changed: sets the step size
    std::deque<PastState> past_;    // the state at the end of each recent physics step
    std::vector<Segment> program_;  // contiguous, in time order
    double hold_pa_ = 0;            // the stress when no program runs, and after it
    std::atomic<int> furnace_forced_exception_{0};
    mutable std::mutex link_faults_mutex_;
    FurnaceLinkFaults furnace_link_faults_;
    std::atomic<std::uint64_t> delivered_samples_{0};
    ConsumerPace pace_;
    std::mt19937_64 rng_;
    std::normal_distribution<double> normal_{0.0, 1.0};
};

}  // namespace dmacycle::sim
