#include "run.hpp"

#include <thread>

#include "dmacycle/runner/safe_state.hpp"

namespace dmacycle::runner::detail {

// Samples the instrument sent before the stop are still handed over and stored.
void Run::stop_stream_and_drain() {
    {
        std::lock_guard lock(mutex_);
        acquiring_ = false;
        sync_hold_locked();
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

// The one safe state (safe_state.hpp), on the run's own links.
void Run::safe_state() {
    std::string failure;
    FrameUnload unload;
    const bool unloaded = with_retries(
        *frame_, [&] { unload = unload_frame(frame_link_->driver(), job_, plan_); }, failure);
    event("safe_state", unloaded ? unload.note : "unload failed: " + failure);
    furnace_to_standby("safe_state");
}

void Run::furnace_to_standby(const std::string& event_kind) {
    std::string failure, note;
    if (with_retries(
            *furnace_,
            [&] {
                note = runner::furnace_to_standby(furnace_link_->driver(),
                                                  options_.standby_temperature_k, scan_ != nullptr);
            },
            failure)) {
        event(event_kind, note);
    } else {
        event(event_kind, "furnace standby failed: " + failure);
    }
}

}  // namespace dmacycle::runner::detail
