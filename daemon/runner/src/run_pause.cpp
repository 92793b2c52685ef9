#include "run.hpp"

namespace dmacycle::runner::detail {

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
                    sync_hold_locked();
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
                    sync_hold_locked();
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

}  // namespace dmacycle::runner::detail
