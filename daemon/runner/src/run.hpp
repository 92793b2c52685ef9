#pragma once
// The run engine's one class, Run, shared by the files that implement it (docs/runner.md): run.cpp
// (setup, links, the end), run_samples.cpp (each sample: segment, interlocks, progress),
// run_program.cpp (equilibration, the frame's program, waiting for the end), run_pause.cpp,
// run_dmta.cpp (the scan), run_safe_state.cpp and run_analysis.cpp (the fits).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/drivers/supervised_devices.hpp"
#include "dmacycle/drivers/supervisor.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/runner/runner.hpp"
#include "dmacycle/runner/settle_window.hpp"
#include "dmacycle/store/recovery_reading.hpp"
#include "dmacycle/store/sample_store.hpp"

namespace dmacycle::runner::detail {

namespace drv = dmacycle::drivers;
using protocols::SegmentKind;

// The pre-tension is a step in the plan; the frame gets it as a ramp this short at the end of
// the hold, so every later segment starts exactly where the plan says.
inline constexpr double pre_tension_step_s = 1e-3;
// The frame reports instrument time in µs (docs/frame-protocol.md); whole ticks divided by this
// give exact boundaries (600 s is 6e8 / 1e6 exactly, not 6e8 · 1e-6).
inline constexpr double instrument_ticks_per_s = 1e6;
// How long the safe state keeps trying to reach a device whose link is down.
inline constexpr std::chrono::seconds safe_state_retry{10};
// Progress goes to RunControl at most this often (and at every change of segment): at --speed
// max samples arrive by the hundred thousand per second.
inline constexpr std::chrono::milliseconds progress_interval{20};
// The runner's waits are woken by what they wait for (samples while equilibrating, the plan's
// end, a latch, a scan's step, RunControl's requests); this bounds them otherwise. wait_for_end
// asks the frame's state once a round, so at least this often: a trip shows in the samples
// first (the load gone), the state says why.
inline constexpr std::chrono::milliseconds idle_wait{250};

// Segments in which the frame follows a stress command the sample must carry.
inline bool is_loading(SegmentKind kind) {
    return kind == SegmentKind::load || kind == SegmentKind::cycle || kind == SegmentKind::creep ||
           kind == SegmentKind::unload;
}

inline std::int64_t step_for(double ratio) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(ratio)));
}

inline std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// What the analysis needs, kept during the acquisition and handed over when the recovery has
// ended. Its size is bounded whatever the run's length (so is the fits' memory): every stored
// sample read into the recovery's log-time bins (store::RecoveryReading, the reading
// `analyze --db --run` and `analyze` of an export make too); the cycling every
// `cycling_step`-th sample so that at most `analysis_max_points` remain, as long as a cycle keeps
// `min_points_per_cycle`. Every sample is in the store regardless.
inline constexpr double analysis_max_points = 40000;
inline constexpr double min_points_per_cycle = 200;

struct AnalysisInput {
    std::vector<double> cycling_t_s, cycling_stress_pa, cycling_strain;
    // Every DMTA measurement of the scan (one per interval: hundreds, not thousands).
    std::vector<double> dmta_temperature_k, dmta_frequency_hz, dmta_tan_delta;
    store::RecoveryReading recovery;
    std::int64_t cycling_step = 1;
    std::int64_t cycling_seen = 0;
};

// " (means over 60 s)" for an equilibration's end event; nothing for the one-reading rule.
inline std::string settled_over(double settle_s) {
    return settle_s > 0 ? " (means over " + fixed(settle_s, 0) + " s)" : "";
}

class Run {
  public:
    Run(const protocols::Job& job, const std::string& job_text, store::SampleStore& store,
        const RunnerOptions& options)
        : job_(job),
          job_text_(job_text),
          store_(store),
          options_(options),
          plan_(protocols::make_plan(job)),
          // Measured stress this far from the command means the load is gone (a trip seen on
          // another connection, a broken ribbon) or the frame cannot follow.
          tracking_tolerance_pa_(std::max(0.1 * plan_.peak_stress_pa, 1e6)) {
        for (const auto& segment : plan_.segments) {
            if (segment.kind == SegmentKind::dmta_scan) {
                scan_ = &segment;
            }
            // A chained scan's own equilibration, after the recovery.
            if (segment.kind == SegmentKind::equilibrate && &segment != &plan_.segments.front()) {
                reequilibrate_ = &segment;
            }
            if (segment.kind == SegmentKind::cycle && cycling_ == nullptr) {
                cycling_ = &segment;
            }
            if (segment.kind == SegmentKind::cycle || segment.kind == SegmentKind::creep) {
                const double samples = segment.duration_s * options.sample_rate_hz;
                double step = samples / analysis_max_points;
                if (segment.kind == SegmentKind::cycle) {
                    step = std::min(
                        step, segment.period_s * options.sample_rate_hz / min_points_per_cycle);
                }
                data_.cycling_step = step_for(step);
            }
        }
    }

    RunOutcome execute(const drv::DeviceSpec& frame_spec, const drv::DeviceSpec& furnace_spec);

  private:
    // --- the steps of execute ----------------------------------------------------------------
    std::string make_links(const drv::DeviceSpec& frame_spec, const drv::DeviceSpec& furnace_spec);
    void open_run(const std::string& setup_error, RunOutcome& outcome);
    void leave_devices(bool completed);
    std::string store_results(std::jthread& analysis, const RunOutcome& outcome);
    void close_outcome(bool completed, const std::string& store_failure, RunOutcome& outcome);

  private:
    // --- called from the supervisors' threads (and the drain) -----------------------------
    void on_sample(const drv::FrameSample& sample);
    void on_device_event(const drv::DeviceEvent& event);

    // --- helpers; the `_locked` ones expect mutex_ held ------------------------------------
    void event_locked(double t_s, const std::string& kind, const std::string& message);
    // At the latest sample's time.
    void event(const std::string& kind, const std::string& message) {
        std::lock_guard lock(mutex_);
        event_locked(last_run_t_s_, kind, message);
    }
    void latch_locked(double t_s, const std::string& what);
    void latch(const std::string& what) {
        std::lock_guard lock(mutex_);
        latch_locked(last_run_t_s_, what);
    }
    const protocols::Segment* segment_at(double plan_t_s) const;
    // The steps of on_sample, in its order.
    store::SampleRow make_row_locked(const drv::FrameSample& sample);
    double plan_time_locked(double t_s, bool& paused);
    const protocols::Segment* tag_segment_locked(store::SampleRow& row, double plan_t_s,
                                                 bool paused, double t_s);
    void change_segment_locked(const protocols::Segment* segment, const store::SampleRow& row);
    void check_sample_locked(const store::SampleRow& row, const protocols::Segment* segment,
                             double plan_t_s, bool paused, double t_s);
    void keep_for_analysis_locked(const protocols::Segment& segment, double plan_t_s,
                                  const store::SampleRow& row);
    // setpoint_pa: the commanded stress when the frame follows one; band_segment: the segment
    // named when the temperature leaves the band ("" = no band).
    void check_interlocks_locked(const store::SampleRow& row, std::optional<double> setpoint_pa,
                                 const std::string& band_segment);
    void track_cycle_locked(double plan_t_s, const store::SampleRow& row,
                            const protocols::Segment& segment);
    void close_cycle_locked();
    double run_time_locked(double plan_t_s) const {
        return plan_t_s + program_start_s_ + paused_s_ - t_first_;
    }
    bool plan_ended_locked() const {
        return program_started_ && !pause_ && !reequilibrating_locked() &&
               latest_t_s_ - program_start_s_ - paused_s_ >= plan_.duration_s;
    }
    void check_abort_locked();
    // The chained scan's equilibration has begun (plan time reached it) and not yet ended.
    bool reequilibrating_locked() const {
        return reequilibrate_ != nullptr && reequilibrate_from_s_ && !reequilibrated_;
    }
    // The runner thread has scan work: the scan's start, or a measurement now due.
    bool scan_due_locked() const {
        return scan_ != nullptr && current_segment_ == scan_ && !latched_ &&
               (!scan_started_ || latest_t_s_ >= next_measure_s_);
    }
    // The furnace and the sample settled within the tolerance of `target_k` (SettleWindow).
    bool equilibrated_locked(double target_k) const;
    // Starts judging an equilibration: the samples from now on fill settle_window_.
    void start_settling_locked();
    // While settling, before a sample at t_s is judged: when the furnace PV it would be paired
    // with was first used more than settle_furnace_step_s() of instrument time ago, reads the
    // furnace now (without the lock; the furnace's own polls are 200 ms of wall time apart,
    // which at --speed max is any amount of instrument time).
    void refresh_settle_furnace(double t_s);
    double settle_furnace_step_s() const { return std::max(1.0, job_.equilibrate_settle_s / 10); }
    // The furnace PV a sample at t_s is paired with: the supervisor's latest reading, or the
    // one refresh_settle_furnace read when newer.
    std::optional<double> settle_furnace_k_locked(double t_s);
    // The chained scan's equilibration and the scan's measurements, from wait_for_end; true when
    // it spoke to the frame (a scan's start or a measurement).
    bool step_dmta();
    // Where an in-process simulator must hold its stream (options_.hold_at): at the scan's
    // start, then at each measurement, so that each lands at its simulated time. Nowhere while
    // paused, re-equilibrating, latched or stopping, where simulated time must flow.
    std::optional<double> scan_hold_locked() const;
    void sync_hold_locked();  // tells options_.hold_at when the hold changed
    // The steps of step_dmta, entered with `lock` held; each releases it around its exchanges.
    void step_reequilibrate(std::unique_lock<std::mutex>& lock);
    void start_scan(std::unique_lock<std::mutex>& lock);
    void measure_scan(std::unique_lock<std::mutex>& lock);
    // After a scan exchange failed on the link: re-activates the frame once its supervisor has
    // reconnected (the scan is the runner's own), and latches when the exchanges have failed for
    // longer than limits.stale_link.
    void retry_scan_exchange(const drv::DriverError& error);
    void report_progress_locked(const store::SampleRow& row, double plan_t_s, bool paused,
                                bool force);

    bool connect(drv::Supervisor& supervisor, const char* name);
    bool equilibrate();
    void upload_program();
    // The plan's stress program from the end of cycle `cycles_done` of the cycling on (0: from
    // the end of the hold), appended to the frame's program.
    void program_plan(drv::StressProgram& program, int cycles_done) const;
    bool wait_for_end();
    // edit(FrameDriver&, StressProgram&) → bool, on the frame with its stream stopped.
    template <class F>
    bool edit_program(F&& edit);
    void start_pause();
    void resume();
    void stop_stream_and_drain();
    void safe_state();
    // Nobody wants a sample annealing at the test temperature after its run has ended.
    void furnace_to_standby(const std::string& event_kind);
    template <class F>
    bool with_retries(drv::Supervisor& device, F&& step, std::string& failure);
    void analyse(const AnalysisInput& input, RunOutcome& outcome);
    void add_recovery_fits(const AnalysisInput& input, RunOutcome& outcome);
    void add_work_done(const AnalysisInput& input, RunOutcome& outcome);

    const protocols::Job& job_;
    const std::string& job_text_;
    store::SampleStore& store_;
    const RunnerOptions& options_;
    const protocols::Plan plan_;
    const double tracking_tolerance_pa_;
    const protocols::Segment* cycling_ = nullptr;  // the plan's cycle segment, if any
    const protocols::Segment* scan_ = nullptr;     // the plan's dmta_scan segment, if any
    const protocols::Segment* reequilibrate_ = nullptr;

    std::unique_ptr<drv::FrameLink> frame_link_;
    std::unique_ptr<drv::FurnaceLink> furnace_link_;
    std::unique_ptr<drv::Supervisor> frame_;
    std::unique_ptr<drv::Supervisor> furnace_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::int64_t run_id_ = -1;
    std::vector<store::EventRow> early_events_;  // before the run exists (connecting)
    bool have_first_ = false;
    double t_first_ = 0;     // instrument time of the first sample: the run's t_s = 0
    double latest_t_s_ = 0;  // instrument time of the latest sample
    double last_run_t_s_ = 0;
    bool settling_ = false;  // an equilibration is in progress: samples go to settle_window_
    SettleWindow settle_window_;
    std::optional<double> settle_furnace_k_;        // the furnace PV samples are paired with
    drv::Clock::time_point settle_furnace_read_{};  // when it was read
    double settle_furnace_t_s_ = 0;                 // the sample time it was first paired at
    bool program_started_ = false;
    double program_start_s_ = 0;  // instrument time of plan time 0 (start of the hold)
    bool uploading_ = false;
    bool acquiring_ = true;  // false once the stream is being stopped: no more interlocks
    bool latched_ = false;
    std::string latched_reason_;
    const protocols::Segment* current_segment_ = nullptr;
    double segment_min_k_ = 0, segment_max_k_ = 0;  // temperatures seen in the current segment
    std::uint64_t samples_ = 0;
    std::uint64_t after_plan_ = 0;  // samples past the plan's end: judged, not stored
    std::int64_t first_seq_ = 0, last_seq_ = -1;
    // Per-cycle bookkeeping of the cycle in progress.
    std::int64_t cycle_index_ = -1;
    store::CycleRow cycle_;
    int cycles_done_ = 0;
    AnalysisInput data_;
    std::vector<std::string> interlocks_;
    bool aborted_ = false;  // the latch is the operator's abort, not an interlock
    // The chained scan's equilibration: plan time stands still from this instrument time until
    // the furnace and the sample are at the scan's start (counted in paused_s_ then).
    std::optional<double> reequilibrate_from_s_;
    bool reequilibrate_setpoint_written_ = false;
    bool reequilibrated_ = false;
    // The scan: started (furnace ramping, oscillating), the instrument time the next
    // measurement is due, which frequency it is at, and how many were stored.
    bool scan_started_ = false;
    double next_measure_s_ = 0;
    std::optional<double> reported_hold_s_;  // what options_.hold_at was last told
    std::size_t frequency_index_ = 0;
    std::int64_t dmta_seq_ = 0;
    std::optional<std::chrono::steady_clock::time_point> scan_failing_since_;

    // A pause at a cycle boundary (docs/runner.md): the frame's program is cut at the boundary,
    // ramps to σ_creep and holds; on resume it ramps back to where the wave left off and runs
    // the rest of the plan. Plan time stands still meanwhile.
    struct Pause {
        double boundary_plan_s = 0;   // where the plan stands while paused
        int cycles_done = 0;          // cycles of the plan before the boundary
        double from_s = 0;            // instrument time of the boundary
        double boundary_pa = 0;       // the wave's stress there (σ_min, or the pre-tension)
        double creep_pa = 0;          // σ_creep, held
        std::optional<double> cut_s;  // resumed: the frame left the hold at this instant,
        double cut_pa = 0;            // at this stress,
        double until_s = 0;           // and is back at boundary_pa, the wave going on, here
    };
    double pause_setpoint_pa(const Pause& pause, double t_s) const;
    std::optional<Pause> pause_;
    double paused_s_ = 0;  // instrument time of the pauses behind us: plan time excludes it

    bool accepting_pause_ = false;
    drv::Clock::time_point progress_due_{};
    std::string progress_segment_;
    store::SampleRow last_row_;
    double last_plan_t_s_ = 0;
    bool last_paused_ = false;
};

}  // namespace dmacycle::runner::detail
