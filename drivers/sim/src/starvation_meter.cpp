#include "dmacycle/sim/starvation_meter.hpp"

namespace dmacycle::sim {

StarvationMeter::StarvationMeter(Clock::duration period, Clock::duration slack)
    : period_(period), slack_(slack) {}

StarvationMeter::Clock::duration StarvationMeter::overdue_locked(Clock::time_point now) const {
    if (!due_ || now <= *due_ + slack_) {
        return {};
    }
    return now - *due_ - slack_;
}

void StarvationMeter::beat() {
    std::lock_guard lock(mutex_);
    // Read under the lock, as starved() does: an earlier reading could undercount.
    const auto now = Clock::now();
    total_ += overdue_locked(now);
    due_ = now + period_;
}

StarvationMeter::Clock::duration StarvationMeter::starved() const {
    std::lock_guard lock(mutex_);
    return total_ + overdue_locked(Clock::now());
}

}  // namespace dmacycle::sim
