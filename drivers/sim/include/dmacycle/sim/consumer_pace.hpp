#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <optional>

// Max speed, held by its consumer (docs/simulator.md, "Time at max speed"). The stream runs as
// fast as the socket drains, so the simulated time at which a command lands depends on how much
// the kernel buffered and how busy the machine is. A consumer with a step due at a simulated
// time (a DMTA measurement) holds the stream there: it stops within lead_s of that time until
// released, and the step lands at the time the consumer meant, on a loaded machine as on an
// idle one.
namespace dmacycle::sim {

class ConsumerPace {
  public:
    // Past the hold: samples in flight, well inside a DMTA scan's measurement interval.
    static constexpr double lead_s = 1.0;

    // From the consumer: hold the stream at t_s (a new hold replaces the last), or release it
    // (nullopt).
    void hold_at(std::optional<double> t_s);
    // Whether the sample at t_s may go out now. false: wait for a waker.
    bool may_send(double t_s);

    // Called (from the consumer's thread) when a held stream may go on; returns an id.
    int add_waker(std::function<void()> wake);
    void remove_waker(int id);

  private:
    std::mutex mutex_;
    std::optional<double> hold_s_;
    bool waiting_ = false;  // a stream stopped at the hold
    std::map<int, std::function<void()>> wakers_;
    int next_id_ = 0;
};

}  // namespace dmacycle::sim
