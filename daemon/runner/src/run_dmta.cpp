#include "run.hpp"

namespace dmacycle::runner::detail {

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

std::optional<double> Run::scan_hold_locked() const {
    const bool scan_ahead = scan_ != nullptr && (!scan_started_ || current_segment_ == scan_);
    if (!scan_ahead || !program_started_ || !acquiring_ || latched_ || pause_) {
        return std::nullopt;
    }
    if (reequilibrate_ != nullptr && !reequilibrated_) {
        // The scan's setpoint is written at the plan's time, not wherever the instrument has
        // run ahead to meanwhile; then the settle window judges the samples as they come.
        if (reequilibrate_setpoint_written_) {
            return std::nullopt;
        }
        return program_start_s_ + paused_s_ + reequilibrate_->start_s;
    }
    return scan_started_ ? next_measure_s_ : program_start_s_ + paused_s_ + scan_->start_s;
}

void Run::sync_hold_locked() {
    const auto hold = scan_hold_locked();
    if (options_.hold_at && hold != reported_hold_s_) {
        reported_hold_s_ = hold;
        options_.hold_at(hold);
    }
}

bool Run::step_dmta() {
    std::unique_lock lock(mutex_);
    if (reequilibrating_locked()) {
        step_reequilibrate(lock);
        return false;
    }
    if (!scan_due_locked()) {
        return false;
    }
    if (!scan_started_) {
        start_scan(lock);
    } else {
        measure_scan(lock);
    }
    return true;
}

// The chained scan's own equilibration: the setpoint once, then the settle window's verdict.
void Run::step_reequilibrate(std::unique_lock<std::mutex>& lock) {
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
        sync_hold_locked();
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
}

// The furnace ramps at the scan's rate and the frame oscillates at the first frequency.
void Run::start_scan(std::unique_lock<std::mutex>& lock) {
    const auto& frequencies = scan_->frequencies_hz;
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
    sync_hold_locked();
    lock.unlock();
    event("dmta", "scan " + fixed(scan_->temperature_k, 2) + " → " +
                      fixed(scan_->temperature_end_k, 2) + " K at " +
                      fixed(scan_->temperature_rate_k_s * 60, 2) + " K/min, amplitude " +
                      fixed(scan_->amplitude_m * 1e6, 2) + " µm, one measurement every " +
                      fixed(scan_->interval_s, 2) + " s");
}

// One measurement at the current frequency, stored, and the frame on to the next frequency.
void Run::measure_scan(std::unique_lock<std::mutex>& lock) {
    const auto& frequencies = scan_->frequencies_hz;
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
    sync_hold_locked();
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
        return;
    }
    ++dmta_seq_;
    data_.dmta_temperature_k.push_back(row.temperature_k);
    data_.dmta_frequency_hz.push_back(row.frequency_hz);
    data_.dmta_tan_delta.push_back(row.tan_delta);
}

}  // namespace dmacycle::runner::detail
