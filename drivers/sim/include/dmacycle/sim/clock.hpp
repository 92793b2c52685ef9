#pragma once
#include <chrono>
#include <optional>
#include <string_view>

// Simulated time. Paced: t = t_start + speed · (wall time since start), from the monotonic
// clock so NTP steps never reach instrument timestamps. Max: time only moves when the
// simulator is asked to move it, i.e. as fast as the consumer keeps up.
namespace dmacycle::sim {

// Seconds as a wall-clock duration, clamped to ±1e9 s (31 years) so that any double, however
// absurd, converts without overflowing the integer tick count.
std::chrono::steady_clock::duration wall_duration(double seconds);

class SimClock {
  public:
    using WallClock = std::chrono::steady_clock;

    explicit SimClock(double speed = 1.0, double start_s = 0.0);
    static SimClock max_speed(double start_s = 0.0);
    // "max" or a positive number; nullopt when the text is neither.
    static std::optional<SimClock> parse(std::string_view speed);

    bool is_max() const { return max_; }
    double speed() const { return speed_; }
    double now_s() const;
    // Max: moves time forward to t_s (never back). Paced: no effect, time flows by itself.
    void advance_to(double t_s);
    // When the paced clock reaches t_s (now, for max: nothing to wait for).
    WallClock::time_point wall_at(double t_s) const;

  private:
    bool max_;
    double speed_;
    double start_s_;
    WallClock::time_point wall_start_;
    double manual_s_;
};

}  // namespace dmacycle::sim
