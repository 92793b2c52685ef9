#pragma once
#include <chrono>
#include <mutex>
#include <optional>

// How long a thread was due to run and did not: the simulator's I/O thread beats once a period,
// and a beat that comes late by more than the slack counts the rest as starved. A consumer in
// the same process (runner::Rig) leaves that time out of its stale ages and exchange deadlines,
// so a machine too loaded to run the simulator does not make it look like a dead instrument.
namespace dmacycle::sim {

class StarvationMeter {
  public:
    using Clock = std::chrono::steady_clock;

    StarvationMeter(Clock::duration period, Clock::duration slack);

    // The watched thread, about once a period; the first beat starts the count.
    void beat();
    // Starved time since the first beat, the beat overdue now included: non-decreasing and
    // continuous, so a clock that subtracts it never runs backwards.
    Clock::duration starved() const;

  private:
    Clock::duration overdue_locked(Clock::time_point now) const;

    const Clock::duration period_, slack_;
    mutable std::mutex mutex_;
    std::optional<Clock::time_point> due_;
    Clock::duration total_{};
};

}  // namespace dmacycle::sim
