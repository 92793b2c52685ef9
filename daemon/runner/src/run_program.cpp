#include "run.hpp"

#include <thread>

namespace dmacycle::runner::detail {

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
        changed_.wait_for(lock, idle_wait);
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
        {
            // Before the stream restarts: a hold must be in place before its samples come.
            std::lock_guard lock(mutex_);
            program_start_s_ = start_s;
            program_started_ = true;
            sync_hold_locked();
        }
        stream->start_stream();
        std::lock_guard lock(mutex_);
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
            if (reequilibrating_locked() && reequilibrate_setpoint_written_) {
                changed_.wait_for(lock, idle_wait);  // each sample: the settle window's verdict
            } else {
                changed_.wait_for(lock, idle_wait, [&] {
                    return latched_ || plan_ended_locked() || scan_due_locked() ||
                           reequilibrating_locked();
                });
            }
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

}  // namespace dmacycle::runner::detail
