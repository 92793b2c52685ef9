#include "dmacycle/runner/run_control.hpp"

namespace dmacycle::runner {

bool RunControl::request_pause(std::string& why_not) {
    std::lock_guard lock(mutex_);
    if (abort_reason_) {
        why_not = "the run is being aborted";
    } else if (progress_.paused || progress_.pause_pending) {
        why_not = "the run is paused already";
    } else if (!accepting_pause_) {
        why_not = "a run can pause during cycling only (now: " +
                  (progress_.segment.empty() ? std::string("starting") : progress_.segment) + ")";
    } else {
        pending_ = Pending::pause;
        progress_.pause_pending = true;
        wake_locked();
        return true;
    }
    return false;
}

bool RunControl::request_resume(std::string& why_not) {
    std::lock_guard lock(mutex_);
    if (abort_reason_) {
        why_not = "the run is being aborted";
        return false;
    }
    if (!progress_.paused && !progress_.pause_pending) {
        why_not = "the run is not paused";
        return false;
    }
    if (pending_ == Pending::pause) {
        // Not acted on yet: the two requests cancel out.
        pending_ = Pending::none;
        progress_.pause_pending = false;
        return true;
    }
    pending_ = Pending::resume;
    wake_locked();
    return true;
}

void RunControl::request_abort(const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (!abort_reason_) {
        abort_reason_ = reason;
        progress_.abort_pending = true;
        wake_locked();
    }
}

RunProgress RunControl::progress() const {
    std::lock_guard lock(mutex_);
    return progress_;
}

std::optional<std::string> RunControl::abort_reason() const {
    std::lock_guard lock(mutex_);
    return abort_reason_;
}

RunControl::Pending RunControl::take_pending() {
    std::lock_guard lock(mutex_);
    const Pending pending = pending_;
    pending_ = Pending::none;
    return pending;
}

void RunControl::set_accepting_pause(bool cycling) {
    std::lock_guard lock(mutex_);
    accepting_pause_ = cycling;
}

void RunControl::pause_not_taken() {
    std::lock_guard lock(mutex_);
    progress_.pause_pending = false;
}

void RunControl::update(const RunProgress& progress) {
    std::lock_guard lock(mutex_);
    // The request flags belong to this side; the runner reports everything else.
    const bool pause_pending = progress_.pause_pending && !progress.paused;
    const bool abort_pending = progress_.abort_pending;
    progress_ = progress;
    progress_.pause_pending = pause_pending || progress.pause_pending;
    progress_.abort_pending = abort_pending;
}

void RunControl::set_waker(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    waker_ = std::move(wake);
}

void RunControl::wake_locked() const {
    if (waker_) {
        waker_();
    }
}

}  // namespace dmacycle::runner
