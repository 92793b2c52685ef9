#include "dmacycle/runner/runner.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/single_tau.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/analysis/work_done.hpp"
#include "dmacycle/drivers/sample_sequencer.hpp"
#include "dmacycle/drivers/supervised_devices.hpp"
#include "dmacycle/drivers/supervisor.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/runner/settle_window.hpp"
#include "dmacycle/store/analysis_json.hpp"

namespace dmacycle::runner {

// Results are stored and printed as JSON (docs/names.md).
using store::Json;
using store::to_json;
namespace {

namespace drv = dmacycle::drivers;
using protocols::SegmentKind;

// The pre-tension is a step in the plan; the frame gets it as a ramp this short at the end of
// the hold, so every later segment starts exactly where the plan says.
constexpr double pre_tension_step_s = 1e-3;
// The frame reports instrument time in µs (docs/frame-protocol.md); whole ticks divided by this
// give exact boundaries (600 s is 6e8 / 1e6 exactly, not 6e8 · 1e-6).
constexpr double instrument_ticks_per_s = 1e6;
// How long the safe state keeps trying to reach a device whose link is down.
constexpr std::chrono::seconds safe_state_retry{10};
// Progress goes to RunControl at most this often (and at every change of segment): at --speed
// max samples arrive by the hundred thousand per second.
constexpr std::chrono::milliseconds progress_interval{20};

// The safe state's unload rate when the job has no cycling to take it from (an as-cast DMTA
// scan, where the unload is from the pre-tension to itself): the paper's 50 MPa/min.
constexpr double fallback_unload_rate_pa_s = 50e6 / 60;

// Segments in which the frame follows a stress command the sample must carry.
bool is_loading(SegmentKind kind) {
    return kind == SegmentKind::load || kind == SegmentKind::cycle || kind == SegmentKind::creep ||
           kind == SegmentKind::unload;
}

std::int64_t step_for(double ratio) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(ratio)));
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// What the analysis needs, kept during the acquisition and handed over when the recovery has
// ended. Its size is bounded whatever the run's length (so is the fits' memory): the recovery's
// first `analysis_full_rate_s` at the full sample rate, then every `recovery_step`-th sample so
// that at most `analysis_max_points` remain; the cycling every `cycling_step`-th sample, as
// long as a cycle keeps `min_points_per_cycle`. Every sample is in the store regardless.
constexpr double analysis_full_rate_s = 600;
constexpr double analysis_max_points = 40000;
constexpr double min_points_per_cycle = 200;

struct AnalysisInput {
    std::vector<double> cycling_t_s, cycling_stress_mpa, cycling_strain;
    // Every DMTA measurement of the scan (one per interval: hundreds, not thousands).
    std::vector<double> dmta_temperature_k, dmta_frequency_hz, dmta_tan_delta;
    std::vector<double> recovery_t_s, recovery_strain;  // time since the start of loading
    double t0_s = 0;                                    // loading time: recovery starts here
    std::int64_t cycling_step = 1, recovery_step = 1;
    std::int64_t cycling_seen = 0, recovery_seen = 0;
};

// " (means over 60 s)" for an equilibration's end event; nothing for the one-reading rule.
std::string settled_over(double settle_s) {
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
            if (segment.kind == SegmentKind::load || segment.kind == SegmentKind::cycle ||
                segment.kind == SegmentKind::creep) {
                load_start_s_ = std::min(load_start_s_, segment.start_s);
            }
            if (segment.kind == SegmentKind::recovery) {
                recovery_start_s_ = segment.start_s;
                const double full_points = analysis_full_rate_s * options.sample_rate_hz;
                data_.recovery_step =
                    step_for((segment.duration_s * options.sample_rate_hz - full_points) /
                             (analysis_max_points - full_points));
            }
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
    // The chained scan's equilibration and the scan's measurements, from wait_for_end; true when
    // it spoke to the frame (a scan's start or a measurement).
    bool step_dmta();
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
    double load_start_s_ = 1e300;
    double recovery_start_s_ = 0;
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
    bool program_started_ = false;
    double program_start_s_ = 0;  // instrument time of plan time 0 (start of the hold)
    bool uploading_ = false;
    bool acquiring_ = true;  // false once the stream is being stopped: no more interlocks
    bool latched_ = false;
    std::string latched_reason_;
    const protocols::Segment* current_segment_ = nullptr;
    double segment_min_k_ = 0, segment_max_k_ = 0;  // temperatures seen in the current segment
    std::uint64_t samples_ = 0;
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

double Run::pause_setpoint_pa(const Pause& pause, double t_s) const {
    const double rate = cycling_->stress_rate_pa_s;
    if (pause.cut_s && t_s >= *pause.cut_s) {
        const double span_s = pause.until_s - *pause.cut_s;
        const double done = span_s > 0 ? std::min(1.0, (t_s - *pause.cut_s) / span_s) : 1.0;
        return pause.cut_pa + (pause.boundary_pa - pause.cut_pa) * done;
    }
    const double moved_pa = std::max(0.0, t_s - pause.from_s) * rate;
    return pause.creep_pa >= pause.boundary_pa
               ? std::min(pause.creep_pa, pause.boundary_pa + moved_pa)
               : std::max(pause.creep_pa, pause.boundary_pa - moved_pa);
}

const protocols::Segment* Run::segment_at(double plan_t_s) const {
    for (const auto& segment : plan_.segments) {
        if (segment.duration_s > 0 && plan_t_s >= segment.start_s && plan_t_s < segment.end_s()) {
            return &segment;
        }
    }
    return nullptr;
}

void Run::event_locked(double t_s, const std::string& kind, const std::string& message) {
    store::EventRow row{t_s, store::WallClock::now(), kind, message};
    if (run_id_ < 0) {
        early_events_.push_back(row);
    } else {
        try {
            store_.append_event(run_id_, row);
        } catch (const store::StoreError& error) {
            // Called from the supervisors' threads too: a failing store ends the run, never
            // the process.
            if (!latched_) {
                latched_ = true;
                latched_reason_ = std::string("store: ") + error.what();
                changed_.notify_all();
            }
        }
    }
    if (options_.on_event) {
        options_.on_event(t_s, kind, message);
    }
}

void Run::latch_locked(double t_s, const std::string& what) {
    if (latched_ || !acquiring_) {
        return;
    }
    latched_ = true;
    latched_reason_ = what;
    interlocks_.push_back(what);
    event_locked(t_s, "interlock", what);
    changed_.notify_all();
}

void Run::on_device_event(const drv::DeviceEvent& event) {
    std::lock_guard lock(mutex_);
    std::string message = event.device + ": " + drv::to_string(event.kind);
    if (!event.message.empty()) {
        message += ": " + event.message;
    }
    event_locked(last_run_t_s_, "link", message);
    // During the upload the stream is paused on purpose and every exchange proves the link
    // alive (a dead one fails the upload): no stale data there.
    if (event.kind == drv::EventKind::stale && run_id_ >= 0 && !uploading_) {
        latch_locked(last_run_t_s_, "stale link: " + message);
    }
}

void Run::on_sample(const drv::FrameSample& sample) {
    std::lock_guard lock(mutex_);
    const auto& m = sample.value;
    if (!have_first_) {
        have_first_ = true;
        t_first_ = m.t_s;
        first_seq_ = static_cast<std::int64_t>(sample.seq);
    }
    latest_t_s_ = m.t_s;
    if (settling_) {
        if (const auto reading = furnace_link_->latest()) {
            settle_window_.add(m.t_s, reading->first.temperature_k, m.temperature_k);
        }
    }
    store::SampleRow row;
    row.seq = static_cast<std::int64_t>(sample.seq);
    row.t_s = m.t_s - t_first_;
    row.t_wall = store::WallClock::now();
    row.temperature_k = m.temperature_k;
    row.force_n = m.force_n;
    row.displacement_m = m.displacement_m;
    row.stress_mpa = m.force_n / plan_.cross_section_m2 / 1e6;
    row.strain = m.displacement_m / job_.sample.gauge_length_m;
    last_run_t_s_ = row.t_s;

    // At the instrument clock's resolution, so a sample due exactly at a segment's boundary
    // belongs to the segment starting there, not to whichever side rounding puts it.
    const auto to_plan_time = [&] {
        return std::round((m.t_s - program_start_s_ - paused_s_) * instrument_ticks_per_s) /
               instrument_ticks_per_s;
    };
    double plan_t_s = to_plan_time();
    bool paused = false;
    if (pause_ && program_started_ && plan_t_s >= pause_->boundary_plan_s) {
        if (pause_->cut_s && std::round((m.t_s - pause_->until_s) * instrument_ticks_per_s) >= 0) {
            // The wave goes on from the boundary: plan time as if there had been no pause.
            paused_s_ += pause_->until_s - pause_->from_s;
            pause_.reset();
            plan_t_s = to_plan_time();
        } else {
            paused = true;
        }
    }
    const protocols::Segment* segment = nullptr;
    if (latched_) {
        row.segment = "safe_state";
    } else if (paused) {
        row.segment = "paused";
    } else if (!program_started_ || plan_t_s < 0) {
        row.segment = "equilibrate";
    } else if (reequilibrate_ != nullptr && !reequilibrated_ &&
               plan_t_s >= reequilibrate_->start_s) {
        if (!reequilibrate_from_s_) {
            reequilibrate_from_s_ = m.t_s;
            start_settling_locked();
            changed_.notify_all();
        }
        segment = reequilibrate_;
        row.segment = "equilibrate";
    } else if (plan_t_s >= plan_.duration_s) {
        row.segment = "after_plan";
    } else {
        segment = segment_at(plan_t_s);
        row.segment = segment != nullptr ? std::string(to_string(segment->kind)) : "after_plan";
    }

    if (paused && !latched_) {
        close_cycle_locked();  // the boundary completed it
    }
    if (segment != current_segment_ && program_started_ && plan_t_s >= 0 && !latched_ && !paused) {
        if (current_segment_ != nullptr) {
            if (current_segment_->kind == SegmentKind::cycle) {
                close_cycle_locked();
            }
            // The record that the temperature stayed in the band (the interlock enforces it).
            event_locked(run_time_locked(current_segment_->end_s()), "segment",
                         std::string(to_string(current_segment_->kind)) + " ended: temperature " +
                             fixed(segment_min_k_, 2) + "-" + fixed(segment_max_k_, 2) + " K");
        }
        segment_min_k_ = segment_max_k_ = row.temperature_k;
        if (current_segment_ != nullptr && current_segment_->kind == SegmentKind::hold) {
            event_locked(run_time_locked(current_segment_->end_s()), "segment",
                         "pre_tension " + fixed(job_.pre_tension_n, 4) + " N (" +
                             fixed(plan_.pre_tension_stress_pa / 1e6, 3) + " MPa)");
        }
        if (segment != nullptr) {
            event_locked(run_time_locked(segment->start_s), "segment",
                         std::string(to_string(segment->kind)) + " started");
        } else if (current_segment_ != nullptr) {
            changed_.notify_all();  // the plan's end
        }
        current_segment_ = segment;
    }

    segment_min_k_ = std::min(segment_min_k_, row.temperature_k);
    segment_max_k_ = std::max(segment_max_k_, row.temperature_k);
    std::optional<double> setpoint_pa;
    std::string band_segment;
    if (paused) {
        // The interlocks stay: the load must follow the pause's own program.
        setpoint_pa = pause_setpoint_pa(*pause_, m.t_s);
        band_segment = row.segment;
    } else if (segment != nullptr) {
        if (is_loading(segment->kind)) {
            setpoint_pa = plan_.stress_setpoint_pa(plan_t_s);
        }
        // The recovery, an equilibration and a scan move the temperature on purpose (the
        // furnace cools to the scan's start, then ramps): no band there.
        if (segment->kind != SegmentKind::recovery && segment->kind != SegmentKind::equilibrate &&
            segment->kind != SegmentKind::dmta_scan) {
            band_segment = to_string(segment->kind);
        }
    }
    check_interlocks_locked(row, setpoint_pa, band_segment);
    if (scan_due_locked()) {
        changed_.notify_all();
    }
    if (segment != nullptr && !latched_) {
        switch (segment->kind) {
            case SegmentKind::cycle:
                track_cycle_locked(plan_t_s, row, *segment);
                [[fallthrough]];
            case SegmentKind::creep:
                if (data_.cycling_seen++ % data_.cycling_step == 0) {
                    data_.cycling_t_s.push_back(plan_t_s);
                    data_.cycling_stress_mpa.push_back(row.stress_mpa);
                    data_.cycling_strain.push_back(row.strain);
                }
                break;
            case SegmentKind::recovery:
                // The fits need t > t0.
                if (plan_t_s > recovery_start_s_ &&
                    (plan_t_s - recovery_start_s_ < analysis_full_rate_s ||
                     data_.recovery_seen++ % data_.recovery_step == 0)) {
                    data_.recovery_t_s.push_back(plan_t_s - load_start_s_);
                    data_.recovery_strain.push_back(row.strain);
                }
                break;
            default:
                break;
        }
    }
    try {
        store_.append(run_id_, row);
    } catch (const store::StoreError& error) {
        latch_locked(row.t_s, std::string("store: ") + error.what());
        return;
    }
    ++samples_;
    last_seq_ = row.seq;
    if (options_.control != nullptr) {
        report_progress_locked(row, plan_t_s, paused, false);
    }
}

void Run::report_progress_locked(const store::SampleRow& row, double plan_t_s, bool paused,
                                 bool force) {
    // Pauses are taken at a cycle boundary still ahead: from the cycle segment only, and one
    // at a time.
    const bool accepting = !latched_ && !pause_ && row.segment == "cycle";
    paused = paused && pause_;
    if (accepting != accepting_pause_) {
        accepting_pause_ = accepting;
        options_.control->set_accepting_pause(accepting);
    }
    const auto now = drv::Clock::now();
    if (!force && now < progress_due_ && row.segment == progress_segment_) {
        last_row_ = row;
        last_plan_t_s_ = plan_t_s;
        last_paused_ = paused;
        return;
    }
    progress_due_ = now + progress_interval;
    progress_segment_ = row.segment;
    RunProgress progress;
    progress.run_id = run_id_;
    progress.segment = row.segment;
    if (cycling_ != nullptr) {
        progress.cycles_total = cycling_->cycles;
        if (paused) {
            progress.cycle = pause_->cycles_done;
        } else if (row.segment == "cycle") {
            progress.cycle = static_cast<int>(cycle_index_ + 1);
        }
    }
    progress.last_seq = last_seq_;
    progress.t_s = row.t_s;
    progress.plan_t_s = paused             ? pause_->boundary_plan_s
                        : program_started_ ? std::clamp(plan_t_s, 0.0, plan_.duration_s)
                                           : 0.0;
    progress.plan_duration_s = plan_.duration_s;
    progress.temperature_k = row.temperature_k;
    progress.stress_mpa = row.stress_mpa;
    progress.strain = row.strain;
    progress.paused = paused;
    options_.control->update(progress);
    last_row_ = row;
    last_plan_t_s_ = plan_t_s;
    last_paused_ = paused;
}

void Run::check_abort_locked() {
    if (options_.control == nullptr || latched_) {
        return;
    }
    if (const auto reason = options_.control->abort_reason()) {
        latched_ = true;
        aborted_ = true;
        latched_reason_ = "aborted: " + *reason;
        event_locked(last_run_t_s_, "operator", latched_reason_);
        changed_.notify_all();
    }
}

void Run::check_interlocks_locked(const store::SampleRow& row, std::optional<double> setpoint_pa,
                                  const std::string& band_segment) {
    const auto& limits = job_.limits;
    const auto trip = [&](const std::string& what) {
        latch_locked(row.t_s, what + " at t = " + fixed(row.t_s, 1) + " s");
    };
    if (row.force_n > plan_.force_limit_n) {
        trip("force " + fixed(row.force_n, 4) + " N above the limit " +
             fixed(plan_.force_limit_n, 3) + " N");
    } else if (limits.max_stress_pa && row.stress_mpa * 1e6 > *limits.max_stress_pa) {
        trip("stress " + fixed(row.stress_mpa, 2) + " MPa above the limit " +
             fixed(*limits.max_stress_pa / 1e6, 2) + " MPa");
    } else if (std::abs(row.strain) > limits.max_strain) {
        trip("strain " + fixed(row.strain, 5) + " beyond the limit " + fixed(limits.max_strain, 5));
    } else if (setpoint_pa &&
               std::abs(row.stress_mpa * 1e6 - *setpoint_pa) > tracking_tolerance_pa_) {
        trip("load lost: stress " + fixed(row.stress_mpa, 2) + " MPa against the commanded " +
             fixed(*setpoint_pa / 1e6, 2) + " MPa (the frame tripped or the ribbon broke)");
    } else if (!band_segment.empty() &&
               std::abs(row.temperature_k - job_.temperature_k) > limits.temperature_band_k) {
        trip("temperature " + fixed(row.temperature_k, 2) + " K outside " +
             fixed(job_.temperature_k, 2) + " ± " + fixed(limits.temperature_band_k, 2) +
             " K during " + band_segment);
    }
}

void Run::track_cycle_locked(double plan_t_s, const store::SampleRow& row,
                             const protocols::Segment& segment) {
    const auto index = static_cast<std::int64_t>((plan_t_s - segment.start_s) / segment.period_s);
    if (index != cycle_index_) {
        close_cycle_locked();
        cycle_index_ = index;
        cycle_ = store::CycleRow{};
        cycle_.cycle = index + 1;
        cycle_.t_start_s =
            run_time_locked(segment.start_s + static_cast<double>(index) * segment.period_s);
        cycle_.t_end_s = cycle_.t_start_s + segment.period_s;
        cycle_.stress_min_mpa = cycle_.stress_max_mpa = row.stress_mpa;
        cycle_.strain_min = cycle_.strain_max = row.strain;
        return;
    }
    cycle_.stress_min_mpa = std::min(cycle_.stress_min_mpa, row.stress_mpa);
    cycle_.stress_max_mpa = std::max(cycle_.stress_max_mpa, row.stress_mpa);
    cycle_.strain_min = std::min(cycle_.strain_min, row.strain);
    cycle_.strain_max = std::max(cycle_.strain_max, row.strain);
}

// The cycle in progress is complete once a sample past its end has arrived.
void Run::close_cycle_locked() {
    if (cycle_index_ < 0) {
        return;
    }
    store_.append_cycle(run_id_, cycle_);
    ++cycles_done_;
    cycle_index_ = -1;
}

bool Run::connect(drv::Supervisor& supervisor, const char* name) {
    supervisor.start();
    const auto deadline = drv::Clock::now() + options_.connect_timeout;
    while (drv::Clock::now() < deadline) {
        if (supervisor.state() == drv::LinkState::connected && supervisor.activate()) {
            return true;
        }
        {
            // An abort (or a stop of the service) does not wait out the connection timeout.
            std::lock_guard lock(mutex_);
            check_abort_locked();
            if (aborted_) {
                return false;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    latch(std::string(name) + ": no link within " +
          std::to_string(options_.connect_timeout.count()) + " ms");
    return false;
}

bool Run::equilibrated_locked(double target_k) const {
    return settle_window_.settled(target_k, job_.equilibrate_tolerance_k);
}

void Run::start_settling_locked() {
    settle_window_.restart(job_.equilibrate_settle_s);
    settling_ = true;
}

bool Run::equilibrate() {
    furnace_->with_active([&] {
        auto& furnace = furnace_link_->driver();
        if (scan_ != nullptr) {
            furnace.set_rate_limit_k_per_min(0);  // a previous scan's ramp rate must not linger
        }
        furnace.write_setpoint_k(job_.temperature_k);
    });
    event("segment",
          "equilibrate started: furnace setpoint " + fixed(job_.temperature_k, 2) + " K");
    std::optional<double> started_s;
    std::unique_lock lock(mutex_);
    start_settling_locked();
    while (true) {
        check_abort_locked();
        if (latched_) {
            break;
        }
        if (have_first_) {
            if (!started_s) {
                started_s = latest_t_s_;
            }
            const double tolerance_k = job_.equilibrate_tolerance_k;
            if (equilibrated_locked(job_.temperature_k)) {
                settling_ = false;
                event_locked(last_run_t_s_, "segment",
                             "equilibrate ended: furnace " +
                                 fixed(settle_window_.furnace_mean_k(), 2) + " K, sample " +
                                 fixed(settle_window_.sample_mean_k(), 2) + " K" +
                                 settled_over(job_.equilibrate_settle_s));
                return true;
            }
            if (latest_t_s_ - *started_s > job_.equilibrate_timeout_s) {
                latch_locked(last_run_t_s_, "equilibration: not within ± " + fixed(tolerance_k, 2) +
                                                " K of " + fixed(job_.temperature_k, 2) +
                                                " K after " + fixed(job_.equilibrate_timeout_s, 0) +
                                                " s");
                break;
            }
        }
        changed_.wait_for(lock, std::chrono::milliseconds(5));
    }
    settling_ = false;
    return false;
}

// The whole stress program goes to the frame at once, so the frame times every segment itself
// (exact in instrument time at any speed). The stream is paused meanwhile: at --speed max the
// clock only moves while samples are read, so nothing happens between the readings below.
void Run::upload_program() {
    const double floor_pa = plan_.pre_tension_stress_pa;
    {
        std::lock_guard lock(mutex_);
        uploading_ = true;
    }
    frame_->with_active([&] {
        auto& frame = frame_link_->driver();
        auto* stream = frame.stream();
        auto* program = frame.program();
        if (program == nullptr) {
            throw drv::DriverError(drv::ErrorKind::config,
                                   "frame: this model cannot run a stress program");
        }
        stream->stop_stream();
        const double step_s = std::min(pre_tension_step_s, job_.hold_s);
        frame.pretension(step_s > 0 ? 0.0 : job_.pre_tension_n);  // unloaded (or at once)
        // Plan time 0 is when the frame takes the hold's dwell (the program is empty, so it
        // starts then): bracketed by two readings of the instrument clock, equal at max speed,
        // one exchange apart at a paced speed.
        const double before_s = frame.measure().t_s;
        program->program_dwell(job_.hold_s - step_s);
        const double start_s = (before_s + frame.measure().t_s) / 2;
        if (step_s > 0) {
            program->program_ramp(floor_pa, floor_pa / step_s);
        }
        program_plan(*program, 0);
        stream->start_stream();
        std::lock_guard lock(mutex_);
        program_start_s_ = start_s;
        program_started_ = true;
        uploading_ = false;
    });
}

void Run::program_plan(drv::StressProgram& program, int cycles_done) const {
    const double floor_pa = plan_.pre_tension_stress_pa;
    bool from_here = cycles_done == 0;
    for (const auto& segment : plan_.segments) {
        if (!from_here && &segment != cycling_) {
            continue;
        }
        from_here = true;
        switch (segment.kind) {
            case SegmentKind::load:
            case SegmentKind::unload:
                program.program_ramp(segment.stress_end_pa, segment.stress_rate_pa_s);
                break;
            case SegmentKind::creep:
                program.program_dwell(segment.duration_s);
                break;
            case SegmentKind::cycle: {
                const int cycles = segment.cycles - (&segment == cycling_ ? cycles_done : 0);
                if (cycles <= 0) {
                    break;
                }
                if (segment.stress_min_pa >= floor_pa) {
                    program.program_cycle(segment.stress_min_pa, segment.stress_max_pa,
                                          segment.stress_rate_pa_s, cycles);
                } else {
                    // σ_min below the pre-tension: the plan's triangle is clipped there, a
                    // dwell at the pre-tension where the nominal wave is below it.
                    const double dwell_s =
                        (floor_pa - segment.stress_min_pa) / segment.stress_rate_pa_s;
                    program.program_dwell(dwell_s);
                    for (int k = 0; k < cycles; ++k) {
                        program.program_ramp(segment.stress_max_pa, segment.stress_rate_pa_s);
                        program.program_ramp(floor_pa, segment.stress_rate_pa_s);
                        // The end of this cycle's clipped bottom and the start of the next.
                        program.program_dwell(k + 1 < cycles ? 2 * dwell_s : dwell_s);
                    }
                }
                break;
            }
            case SegmentKind::recovery:
            case SegmentKind::dmta_scan:
                // The scan holds the pre-tension; the furnace ramps and the runner measures.
                program.program_dwell(segment.duration_s);
                break;
            default:
                break;
        }
    }
}

// Also the pause's hold: the plan cannot end while paused.
bool Run::wait_for_end() {
    while (true) {
        {
            std::unique_lock lock(mutex_);
            changed_.wait_for(lock, std::chrono::milliseconds(20),
                              [&] { return latched_ || plan_ended_locked() || scan_due_locked(); });
            check_abort_locked();
            if (latched_) {
                return false;
            }
            if (plan_ended_locked()) {
                return true;
            }
        }
        // The scan's exchanges first: the state poll follows on the next round. An exchange
        // that fails on the link is an outage like a failed poll (below).
        try {
            const bool spoke = step_dmta();
            scan_failing_since_.reset();
            if (spoke) {
                continue;
            }
        } catch (const drv::DriverError& error) {
            if (error.needs_reconnect()) {
                retry_scan_exchange(error);
                continue;
            }
            throw;
        }
        if (options_.control != nullptr) {
            switch (options_.control->take_pending()) {
                case RunControl::Pending::pause:
                    start_pause();
                    break;
                case RunControl::Pending::resume:
                    resume();
                    break;
                case RunControl::Pending::none:
                    break;
            }
        }
        // The frame trips by itself on a force over its limit: poll its state. A poll that
        // fails on the link (closed, timed out, garbled) is an outage: the supervisor
        // reconnects and the frame keeps running its program; if the data stays away for
        // limits.stale_link, the stale-link interlock ends the run.
        drv::FrameState state;
        try {
            state = frame_->with_device([&] { return frame_link_->driver().state(); });
        } catch (const drv::DriverError& error) {
            if (error.needs_reconnect()) {
                continue;
            }
            latch(std::string("frame: ") + error.what());
            return false;
        }
        if (state.mode == "TRIP") {
            latch("frame tripped: force limit (" + fixed(plan_.frame_force_limit_n, 1) +
                  " N) exceeded, the frame unloaded itself");
        }
        if (const auto reading = furnace_link_->latest();
            reading && reading->first.status.sensor_break) {
            latch("furnace: sensor break");
        }
    }
}

void Run::retry_scan_exchange(const drv::DriverError& error) {
    const auto now = std::chrono::steady_clock::now();
    if (!scan_failing_since_) {
        scan_failing_since_ = now;
    }
    const double failing_s = std::chrono::duration<double>(now - *scan_failing_since_).count();
    if (failing_s > job_.limits.stale_link_s) {
        std::lock_guard lock(mutex_);
        latch_locked(last_run_t_s_, "dmta: no measurement exchange for " + fixed(failing_s, 1) +
                                        " s: " + error.what());
        return;
    }
    frame_->activate();  // false, and nothing done, until the link is back
    // Not at once: a link still down fails the next exchange in microseconds.
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(20), [&] { return latched_; });
}

bool Run::step_dmta() {
    std::unique_lock lock(mutex_);
    if (reequilibrating_locked()) {
        const double target_k = reequilibrate_->temperature_k;
        if (!reequilibrate_setpoint_written_) {
            lock.unlock();
            furnace_->with_active([&] {
                furnace_link_->driver().set_rate_limit_k_per_min(0);
                furnace_link_->driver().write_setpoint_k(target_k);
            });
            event("segment",
                  "furnace setpoint " + fixed(target_k, 2) + " K for the scan, at the pre-tension");
            lock.lock();
            reequilibrate_setpoint_written_ = true;  // after the exchange: a failed one is redone
        }
        if (equilibrated_locked(target_k)) {
            // Plan time resumes here: the scan starts with the next sample.
            paused_s_ += latest_t_s_ - *reequilibrate_from_s_;
            reequilibrated_ = true;
            settling_ = false;
            event_locked(last_run_t_s_, "segment",
                         "equilibrate ended: sample " + fixed(settle_window_.sample_mean_k(), 2) +
                             " K" + settled_over(job_.equilibrate_settle_s));
        } else if (latest_t_s_ - *reequilibrate_from_s_ > reequilibrate_->timeout_s) {
            latch_locked(last_run_t_s_, "equilibration: not within ± " +
                                            fixed(job_.equilibrate_tolerance_k, 2) + " K of " +
                                            fixed(target_k, 2) + " K after " +
                                            fixed(reequilibrate_->timeout_s, 0) + " s");
        }
        return false;
    }
    if (!scan_due_locked()) {
        return false;
    }
    const auto& frequencies = scan_->frequencies_hz;
    if (!scan_started_) {
        const double start_s = program_start_s_ + paused_s_ + scan_->start_s;
        lock.unlock();
        furnace_->with_active([&] {
            auto& furnace = furnace_link_->driver();
            furnace.set_rate_limit_k_per_min(scan_->temperature_rate_k_s * 60);
            furnace.write_setpoint_k(scan_->temperature_end_k);
        });
        frame_->with_active([&] {
            auto* oscillation = frame_link_->driver().oscillation();
            if (oscillation == nullptr) {
                throw drv::DriverError(drv::ErrorKind::config,
                                       "frame: this model cannot oscillate (no DMTA)");
            }
            oscillation->set_oscillation_amplitude(scan_->amplitude_m);
            oscillation->set_oscillation_frequency(frequencies.front());
        });
        lock.lock();
        scan_started_ = true;  // after the exchanges: a failed one is redone
        next_measure_s_ = start_s + scan_->interval_s;
        lock.unlock();
        event("dmta", "scan " + fixed(scan_->temperature_k, 2) + " → " +
                          fixed(scan_->temperature_end_k, 2) + " K at " +
                          fixed(scan_->temperature_rate_k_s * 60, 2) + " K/min, amplitude " +
                          fixed(scan_->amplitude_m * 1e6, 2) + " µm, one measurement every " +
                          fixed(scan_->interval_s, 2) + " s");
        return true;
    }
    // Measured at the end of each interval (one period to settle, the rest to measure), then
    // on to the next frequency.
    const std::size_t next = (frequency_index_ + 1) % frequencies.size();
    lock.unlock();
    const auto measured = frame_->with_active([&] {
        auto* oscillation = frame_link_->driver().oscillation();
        const auto m = oscillation->measure_dynamic();
        oscillation->set_oscillation_frequency(frequencies[next]);
        return m;
    });
    lock.lock();
    frequency_index_ = next;
    // Due by the samples read, whose time the measurement's trails by what the sockets buffer
    // (at --speed max): the cadence stays one interval. Behind by more than one, the next is an
    // interval from now, not a burst to catch up.
    next_measure_s_ = std::max(next_measure_s_ + scan_->interval_s, latest_t_s_);
    store::DmtaRow row{dmta_seq_,
                       measured.t_s - t_first_,
                       store::WallClock::now(),
                       measured.frequency_hz,
                       measured.temperature_k,
                       measured.storage_pa,
                       measured.loss_pa,
                       measured.tan_delta};
    try {
        store_.append_dmta(run_id_, row);
    } catch (const store::StoreError& error) {
        latch_locked(last_run_t_s_, std::string("store: ") + error.what());
        return true;
    }
    ++dmta_seq_;
    data_.dmta_temperature_k.push_back(row.temperature_k);
    data_.dmta_frequency_hz.push_back(row.frequency_hz);
    data_.dmta_tan_delta.push_back(row.tan_delta);
    return true;
}

// Changes to the running program go with the stream stopped, as the upload does: at --speed max
// the frame's clock then stands still, so a cut and the segments appended after it meet
// exactly; at a paced speed the margins of the callers cover the exchanges.
template <class F>
bool Run::edit_program(F&& edit) {
    {
        std::lock_guard lock(mutex_);
        uploading_ = true;
    }
    try {
        const bool done = frame_->with_active([&] {
            auto& frame = frame_link_->driver();
            frame.stream()->stop_stream();
            const bool edited = edit(frame, *frame.program());
            frame.stream()->start_stream();
            return edited;
        });
        std::lock_guard lock(mutex_);
        uploading_ = false;
        return done;
    } catch (...) {
        std::lock_guard lock(mutex_);
        uploading_ = false;
        throw;
    }
}

// The frame's clock runs ahead of the samples read (at --speed max by what the sockets buffer),
// so the boundary is chosen after the frame's own time, with a margin of a few exchanges; a
// refused cut (the clock passed the boundary meanwhile) moves on to the next boundary.
void Run::start_pause() {
    if (cycling_ == nullptr) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (pause_) {
            return;  // one at a time: RunControl refuses a second one already
        }
    }
    const double rate = cycling_->stress_rate_pa_s;
    const double floor_pa = plan_.pre_tension_stress_pa;
    Pause pause;
    pause.boundary_pa = std::max(cycling_->stress_min_pa, floor_pa);
    pause.creep_pa = std::max((cycling_->stress_min_pa + cycling_->stress_max_pa) / 2, floor_pa);
    const bool taken = edit_program([&](drv::FrameDriver& frame, drv::StressProgram& program) {
        double plan_zero_s = 0;  // instrument time of plan time 0, pauses included
        {
            std::lock_guard lock(mutex_);
            plan_zero_s = program_start_s_ + paused_s_;
        }
        const double first_s = frame.measure().t_s;
        double now_s = frame.measure().t_s;
        double margin_s = 4 * (now_s - first_s);
        for (int k = 1; k <= cycling_->cycles;) {
            const double boundary_plan_s = cycling_->start_s + k * cycling_->period_s;
            const double boundary_s = plan_zero_s + boundary_plan_s;
            if (boundary_s <= now_s + margin_s) {
                ++k;
                continue;
            }
            if (program.program_cut(boundary_s)) {
                pause.boundary_plan_s = boundary_plan_s;
                pause.cycles_done = k;
                pause.from_s = boundary_s;
                {
                    std::lock_guard lock(mutex_);
                    pause_ = pause;
                }
                // The frame holds σ_creep once the ramp ends, as long as it takes.
                program.program_ramp(pause.creep_pa, rate);
                return true;
            }
            margin_s = std::max(2 * margin_s, 1e-3);
            now_s = frame.measure().t_s;
        }
        return false;
    });
    std::lock_guard lock(mutex_);
    if (taken) {
        event_locked(pause.from_s - t_first_, "pause",
                     "pause after cycle " + std::to_string(pause.cycles_done) + " of " +
                         std::to_string(cycling_->cycles) + " at instrument time " +
                         fixed(pause.from_s, 3) + " s: ramp to σ_creep " +
                         fixed(pause.creep_pa / 1e6, 2) + " MPa and hold");
    } else {
        event_locked(last_run_t_s_, "pause",
                     "pause not taken: the frame has passed the last cycle boundary");
        if (options_.control != nullptr) {
            options_.control->pause_not_taken();
        }
    }
}

// Leaves the hold at an instant just ahead of the frame's clock (never before the boundary,
// should the frame not have reached it yet), ramps back to the wave's stress at the boundary
// and appends the rest of the plan from there, as upload_program would have.
void Run::resume() {
    std::optional<Pause> pause;
    {
        std::lock_guard lock(mutex_);
        pause = pause_;
    }
    if (!pause || pause->cut_s) {
        return;  // not paused, or resuming already
    }
    const double rate = cycling_->stress_rate_pa_s;
    edit_program([&](drv::FrameDriver& frame, drv::StressProgram& program) {
        const double first_s = frame.measure().t_s;
        double now_s = frame.measure().t_s;
        double margin_s = 4 * (now_s - first_s);
        while (true) {
            const double cut_s = std::max(now_s + margin_s, pause->from_s);
            if (program.program_cut(cut_s)) {
                pause->cut_pa = pause_setpoint_pa(*pause, cut_s);
                pause->cut_s = cut_s;
                pause->until_s = cut_s + std::abs(pause->cut_pa - pause->boundary_pa) / rate;
                {
                    std::lock_guard lock(mutex_);
                    pause_ = pause;
                }
                program.program_ramp(pause->boundary_pa, rate);
                program_plan(program, pause->cycles_done);
                return true;
            }
            margin_s = std::max(2 * margin_s, 1e-3);
            now_s = frame.measure().t_s;
        }
    });
    std::lock_guard lock(mutex_);
    event_locked(*pause->cut_s - t_first_, "resume",
                 "resume at instrument time " + fixed(*pause->cut_s, 3) + " s: ramp from " +
                     fixed(pause->cut_pa / 1e6, 2) + " MPa back to " +
                     fixed(pause->boundary_pa / 1e6, 2) + " MPa, cycle " +
                     std::to_string(pause->cycles_done + 1) + " from instrument time " +
                     fixed(pause->until_s, 3) + " s (paused " +
                     fixed(pause->until_s - pause->from_s, 1) + " s)");
}

// Samples the instrument sent before the stop are still handed over and stored.
void Run::stop_stream_and_drain() {
    {
        std::lock_guard lock(mutex_);
        acquiring_ = false;
    }
    frame_->with_device([&] { frame_link_->driver().stream()->stop_stream(); });
    const drv::SupervisedDevice::Report report =
        [&](drv::EventKind kind, const std::string& message, double, std::uint64_t, std::uint64_t) {
            event("link", std::string("frame: ") + drv::to_string(kind) + ": " + message);
        };
    frame_->with_device([&] {
        frame_link_->heartbeat(drv::Clock::now(), report);
        frame_link_->set_streaming(false, options_.sample_rate_hz);
    });
}

// Retries each step while the link comes back (a stale or lost link is often why we are here),
// for at most `safe_state_retry` of wall time.
template <class F>
bool Run::with_retries(drv::Supervisor& device, F&& step, std::string& failure) {
    const auto give_up = drv::Clock::now() + safe_state_retry;
    while (true) {
        try {
            device.with_device(step);
            return true;
        } catch (const drv::DriverError& error) {
            failure = error.what();
        }
        if (drv::Clock::now() >= give_up) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void Run::safe_state() {
    const double floor_pa = plan_.pre_tension_stress_pa;
    const double unload_rate_pa_s = job_.cycling.stress_rate_pa_s > 0
                                        ? job_.cycling.stress_rate_pa_s
                                        : fallback_unload_rate_pa_s;
    std::string failure;
    bool tripped = false;
    const bool unloaded = with_retries(
        *frame_,
        [&] {
            auto& frame = frame_link_->driver();
            tripped = frame.state().mode == "TRIP";
            if (!tripped) {
                frame.ramp_stress(floor_pa, unload_rate_pa_s);
            }
        },
        failure);
    if (!unloaded) {
        event("safe_state", "unload failed: " + failure);
    } else if (tripped) {
        event("safe_state",
              "unload: the frame tripped and unloaded itself to 0 N; left tripped for the "
              "operator");
    } else {
        event("safe_state", "unload: ramp to the pre-tension " + fixed(job_.pre_tension_n, 4) +
                                " N at " + fixed(unload_rate_pa_s * 60 / 1e6, 2) + " MPa/min");
    }
    furnace_to_standby("safe_state");
}

void Run::furnace_to_standby(const std::string& event_kind) {
    std::string failure;
    if (with_retries(
            *furnace_,
            [&] {
                auto& furnace = furnace_link_->driver();
                if (scan_ != nullptr) {
                    furnace.set_rate_limit_k_per_min(0);  // to standby at once, not at the ramp
                }
                furnace.write_setpoint_k(options_.standby_temperature_k);
            },
            failure)) {
        event(event_kind,
              "furnace to standby: setpoint " + fixed(options_.standby_temperature_k, 2) + " K");
    } else {
        event(event_kind, "furnace standby failed: " + failure);
    }
}

void Run::analyse(const AnalysisInput& input, RunOutcome& outcome) {
    if (scan_ != nullptr) {
        const auto fit = analysis::fit_arrhenius(input.dmta_temperature_k, input.dmta_frequency_hz,
                                                 input.dmta_tan_delta);
        Json peaks = Json::array();
        for (const auto& peak : fit.peaks) {
            peaks.push_back(to_json(peak));
        }
        outcome.results["arrhenius"] = Json{
            {"fit", to_json(fit.summary)},
            {"points", input.dmta_tan_delta.size()},
            {"e_beta_ev", fit.e_beta_ev},
            {"e_beta_stderr_ev", fit.e_beta_stderr_ev},
            {"ln_f0", fit.ln_f0},
            {"ln_f0_stderr", fit.ln_f0_stderr},
            {"peaks", peaks}}.dump();
    }
    if (job_.kind == protocols::JobKind::dmta) {
        return;  // as cast: nothing was cycled or recovered
    }
    if (!input.recovery_t_s.empty()) {
        add_recovery_fits(input, outcome);
    }
    add_work_done(input, outcome);
}

// The recovery's fits (a chained scan right after unloading has no recovery to fit).
void Run::add_recovery_fits(const AnalysisInput& input, RunOutcome& outcome) {
    analysis::SpectrumOptions spectrum_options;
    spectrum_options.modes = job_.analysis.spectrum_modes;
    spectrum_options.tau_min_s = job_.analysis.tau_min_s;
    spectrum_options.tau_max_s = job_.analysis.tau_max_s;
    spectrum_options.lambda = job_.analysis.lambda;
    const auto& t = input.recovery_t_s;
    const auto& strain = input.recovery_strain;
    const auto spectrum = analysis::fit_recovery_spectrum(t, strain, input.t0_s, spectrum_options);
    Json doc = {{"t0_s", input.t0_s},
                {"points", t.size()},
                {"full_rate_s", analysis_full_rate_s},
                {"sample_step_after", input.recovery_step},
                {"strain_vp", spectrum.strain_vp},
                {"strain_rate_vp", spectrum.strain_rate_vp}};
    store::add_spectrum_fields(doc, spectrum);
    doc.erase("fitted");  // one value per sample: the samples are in the store already
    outcome.results["spectrum"] = doc.dump();

    const auto kww = analysis::fit_recovery_kww(t, strain, input.t0_s);
    outcome.results["kww"] = to_json(kww).dump();
    analysis::InstantKww instant;
    if (kww.summary.usable) {
        instant = analysis::instant_kww(t, strain, input.t0_s, kww);
    } else {
        instant.summary = kww.summary;
    }
    outcome.results["instant_kww"] = to_json(instant).dump();
    outcome.results["single_tau"] =
        to_json(analysis::fit_recovery_single_tau(t, strain, input.t0_s)).dump();
}

void Run::add_work_done(const AnalysisInput& input, RunOutcome& outcome) {
    analysis::WorkDoneOptions work_options;
    work_options.edges_are_valleys = true;  // by the plan, cycling starts and ends at σ_min
    const auto molar_mass = analysis::molar_mass_from_composition(job_.sample.composition);
    if (molar_mass.ok) {
        work_options.molar_mass_g_mol = molar_mass.g_mol;
        work_options.density_g_cm3 = job_.sample.density_kg_m3 / 1000.0;
    }
    const auto work = analysis::analyze_cycling(input.cycling_t_s, input.cycling_stress_mpa,
                                                input.cycling_strain, work_options);
    const auto optional_json = [](const std::optional<double>& value) {
        return value ? Json(*value) : Json();
    };
    Json per_cycle = Json::array();
    for (const auto& cycle : work.cycles) {
        per_cycle.push_back(to_json(cycle));
    }
    outcome.results["work_done"] = Json{{"fit", to_json(work.summary)},
                                        {"points", input.cycling_t_s.size()},
                                        {"sample_step", input.cycling_step},
                                        {"cycles", work.cycles.size()},
                                        {"per_cycle", per_cycle},
                                        {"stress_creep_mpa", work.stress_creep_mpa},
                                        {"strain_creep", work.strain_creep},
                                        {"v_creep_j_m3", work.v_creep_j_m3},
                                        {"v_cycling_j_m3", work.v_cycling_j_m3},
                                        {"v_total_j_m3", work.v_total_j_m3},
                                        {"molar_mass_g_mol", optional_json(work.molar_mass_g_mol)},
                                        {"work_done_kj_mol", optional_json(work.work_done_kj_mol)}}
                                       .dump();
}

RunOutcome Run::execute(const drv::DeviceSpec& frame_spec, const drv::DeviceSpec& furnace_spec) {
    RunOutcome outcome;
    drv::SupervisorOptions supervision;
    supervision.heartbeat_interval = options_.heartbeat_interval;
    supervision.max_age =
        std::chrono::milliseconds(static_cast<long long>(job_.limits.stale_link_s * 1000));
    supervision.connect_timeout = options_.connect_timeout;
    // The furnace changes slowly: a poll every 100 ms is plenty, whatever the frame needs.
    drv::SupervisorOptions furnace_supervision = supervision;
    furnace_supervision.heartbeat_interval =
        std::max(options_.heartbeat_interval, std::chrono::milliseconds(100));
    const auto device_sink = [this](const drv::DeviceEvent& e) { on_device_event(e); };
    std::string setup_error;
    try {
        frame_link_ = std::make_unique<drv::FrameLink>(
            drv::make_frame(frame_spec), [this](const drv::FrameSample& s) { on_sample(s); });
        frame_link_->set_geometry(
            {job_.sample.width_m, job_.sample.thickness_m, job_.sample.gauge_length_m});
        furnace_link_ = std::make_unique<drv::FurnaceLink>(drv::make_furnace(furnace_spec));
    } catch (const drv::DriverError& error) {
        setup_error = error.what();
    }
    if (setup_error.empty()) {
        frame_ = std::make_unique<drv::Supervisor>("frame", *frame_link_, supervision, device_sink);
        furnace_ = std::make_unique<drv::Supervisor>("furnace", *furnace_link_, furnace_supervision,
                                                     device_sink);
    }
    // Both devices come up (and say who they are) before the run exists; the frame streams
    // only once it does, since every sample needs the run id.
    const bool devices_up =
        setup_error.empty() && connect(*furnace_, "furnace") && connect(*frame_, "frame");

    store::RunInfo info{job_text_, job_.sample.id, job_.profile, DMACYCLE_VERSION, ""};
    if (setup_error.empty()) {
        info.instrument_identity =
            "frame: " + frame_->identity() + "; furnace: " + furnace_->identity();
    }
    {
        std::lock_guard lock(mutex_);
        run_id_ = store_.create_run(info);
        outcome.run_id = run_id_;
        for (const auto& row : early_events_) {
            store_.append_event(run_id_, row);
        }
        early_events_.clear();
        if (!setup_error.empty()) {
            latch_locked(0, setup_error);
        }
    }
    store_.set_status(run_id_, store::RunStatus::running);

    bool completed = false;
    AnalysisInput input;
    std::jthread analysis;  // declared after what it uses; joins even if a store call throws
    try {
        if (devices_up) {
            // At --speed max, streaming is what moves the instrument's time.
            frame_->with_device([&] {
                frame_link_->set_streaming(true, options_.sample_rate_hz);
                frame_link_->reapply_settings();
            });
        }
        if (devices_up && equilibrate()) {
            upload_program();
            if (wait_for_end()) {
                {
                    std::lock_guard lock(mutex_);
                    input = std::move(data_);
                    input.t0_s = recovery_start_s_ - load_start_s_;
                }
                // The fits run beside the end of the acquisition, not after it.
                analysis = std::jthread([&] { analyse(input, outcome); });
                completed = true;
            }
        }
    } catch (const drv::DriverError& error) {
        latch(std::string("driver: ") + error.what());
    }
    if (frame_ && frame_->state() != drv::LinkState::disconnected) {
        if (!completed) {
            safe_state();
        } else {
            furnace_to_standby("end");
        }
        try {
            stop_stream_and_drain();
        } catch (const drv::DriverError& error) {
            event("link", std::string("stopping the stream: ") + error.what());
        }
    }
    if (frame_) {
        frame_->stop();
        furnace_->stop();
    }
    std::string store_failure;
    try {
        if (analysis.joinable()) {
            analysis.join();
            for (const auto& [kind, json] : outcome.results) {
                store_.store_result(run_id_, kind, json);
            }
            event("analysis", "results stored");
        }
        store_.flush();
    } catch (const store::StoreError& error) {
        // The samples the store accepted are committed or counted by the store itself; the run
        // cannot be called completed when its results or last rows did not reach the file.
        store_failure = std::string("store: ") + error.what();
        completed = false;
    }
    std::lock_guard lock(mutex_);
    if (options_.control != nullptr) {
        if (samples_ > 0) {
            report_progress_locked(last_row_, last_plan_t_s_, last_paused_, true);
        }
        options_.control->set_accepting_pause(false);
    }
    outcome.status = completed                           ? store::RunStatus::completed
                     : aborted_ && store_failure.empty() ? store::RunStatus::aborted
                                                         : store::RunStatus::faulted;
    outcome.message = completed               ? "completed"
                      : store_failure.empty() ? latched_reason_
                                              : store_failure;
    outcome.samples = samples_;
    outcome.first_seq = first_seq_;
    outcome.last_seq = last_seq_;
    outcome.cycles = cycles_done_;
    outcome.interlocks = interlocks_;
    try {
        store_.set_status(run_id_, outcome.status);
    } catch (const store::StoreError& error) {
        outcome.status = store::RunStatus::faulted;
        outcome.message += std::string("; status not recorded: ") + error.what();
    }
    return outcome;
}

}  // namespace

RunOutcome execute_run(const protocols::Job& job, const std::string& job_text,
                       store::SampleStore& store, const drivers::DeviceSpec& frame,
                       const drivers::DeviceSpec& furnace, const RunnerOptions& options) {
    Run run(job, job_text, store, options);
    return run.execute(frame, furnace);
}

}  // namespace dmacycle::runner
