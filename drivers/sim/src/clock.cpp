#include "dmacycle/sim/clock.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dmacycle::sim {

std::chrono::steady_clock::duration wall_duration(double seconds) {
    constexpr double limit_s = 1e9;
    const double clamped =
        seconds > -limit_s ? std::min(seconds, limit_s) : -limit_s;  // NaN: -limit
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(clamped));
}

SimClock::SimClock(double speed, double start_s)
    : max_(false),
      speed_(speed),
      start_s_(start_s),
      wall_start_(WallClock::now()),
      manual_s_(start_s) {
    if (!(speed > 0) || !std::isfinite(speed)) {
        throw std::invalid_argument("clock speed must be a positive number");
    }
}

SimClock SimClock::max_speed(double start_s) {
    SimClock clock(1.0, start_s);
    clock.max_ = true;
    return clock;
}

std::optional<SimClock> SimClock::parse(std::string_view speed) {
    if (speed == "max") {
        return max_speed();
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(speed.data(), speed.data() + speed.size(), value);
    if (ec != std::errc{} || end != speed.data() + speed.size() || !(value > 0) ||
        !std::isfinite(value)) {
        return std::nullopt;
    }
    return SimClock(value);
}

double SimClock::now_s() const {
    if (max_) {
        return manual_s_;
    }
    const std::chrono::duration<double> elapsed = WallClock::now() - wall_start_;
    return start_s_ + speed_ * elapsed.count();
}

void SimClock::advance_to(double t_s) {
    if (max_ && t_s > manual_s_) {
        manual_s_ = t_s;
    }
}

SimClock::WallClock::time_point SimClock::wall_at(double t_s) const {
    if (max_) {
        return WallClock::now();
    }
    return wall_start_ + wall_duration((t_s - start_s_) / speed_);
}

}  // namespace dmacycle::sim
