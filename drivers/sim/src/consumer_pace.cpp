#include "dmacycle/sim/consumer_pace.hpp"

namespace dmacycle::sim {

void ConsumerPace::hold_at(std::optional<double> t_s) {
    std::lock_guard lock(mutex_);
    hold_s_ = t_s;
    if (waiting_) {  // released or moved on: the stream looks again
        waiting_ = false;
        for (const auto& [id, wake] : wakers_) {
            wake();
        }
    }
}

bool ConsumerPace::may_send(double t_s) {
    std::lock_guard lock(mutex_);
    if (!hold_s_ || t_s <= *hold_s_ + lead_s) {
        return true;
    }
    waiting_ = true;
    return false;
}

int ConsumerPace::add_waker(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    wakers_.emplace(next_id_, std::move(wake));
    return next_id_++;
}

void ConsumerPace::remove_waker(int id) {
    std::lock_guard lock(mutex_);
    wakers_.erase(id);
}

}  // namespace dmacycle::sim
