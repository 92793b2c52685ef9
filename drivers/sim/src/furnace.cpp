#include "dmacycle/sim/furnace.hpp"

#include <algorithm>
#include <cmath>

namespace dmacycle::sim {

Furnace::Furnace(const FurnaceParams& params)
    : p_(params),
      temperature_k_(params.initial_k),
      target_k_(params.initial_k),
      working_k_(params.initial_k) {
    // Start settled: the integral term already holds the steady-state output.
    output_percent_ = (params.initial_k - params.ambient_k) / params.heating_k_per_percent;
    integral_percent_ = output_percent_;
}

void Furnace::set_manual(bool manual) {
    if (manual_ && !manual) {
        integral_percent_ = output_percent_;  // bumpless transfer back to auto
    }
    manual_ = manual;
}

void Furnace::set_manual_output_percent(double percent) {
    if (manual_) {
        output_percent_ = std::clamp(percent, 0.0, 100.0);
    }
}

void Furnace::set_sensor_break(bool broken) {
    if (sensor_break_ && !broken && !manual_) {
        integral_percent_ = output_percent_;  // resume from the break output without a kick
    }
    sensor_break_ = broken;
    if (broken) {
        output_percent_ = 0;  // Eurotherm's default sensor-break output, at once
    }
}

std::uint16_t Furnace::status_bits() const {
    std::uint16_t bits = 0;
    if (sensor_break_) {
        bits |= status_sensor_break;
    }
    if (working_k_ != target_k_) {
        bits |= status_ramp_running;
    }
    return bits;
}

bool Furnace::settled(double tolerance_k) const {
    const double steady_k = p_.ambient_k + p_.heating_k_per_percent * output_percent_;
    if (std::abs(temperature_k_ - steady_k) > tolerance_k) {
        return false;  // the plant still moves toward its steady state
    }
    if (manual_ || sensor_break_) {
        return true;  // the output is fixed
    }
    // In auto, with the plant and the working setpoint still, the error is constant, and the
    // output then only moves through the integral: not without one, not while saturated (no
    // wind-up), not at zero error.
    const bool saturated = output_percent_ <= 0 || output_percent_ >= 100;
    return working_k_ == target_k_ && (p_.integral_time_s <= 0 || saturated ||
                                       std::abs(working_k_ - temperature_k_) <= tolerance_k);
}

void Furnace::step(double h_s) {
    if (!(h_s > 0)) {
        return;
    }
    // Working setpoint: moves toward the target at the rate limit (0 = jump).
    if (rate_k_per_min_ > 0) {
        const double max_move = rate_k_per_min_ / 60.0 * h_s;
        working_k_ += std::clamp(target_k_ - working_k_, -max_move, max_move);
    } else {
        working_k_ = target_k_;
    }
    if (sensor_break_) {
        output_percent_ = 0;
    } else if (!manual_) {
        const double gain = 100.0 / p_.proportional_band_k;
        const double error = working_k_ - temperature_k_;
        const double derivative =
            p_.derivative_time_s > 0 ? p_.derivative_time_s * (error - previous_error_k_) / h_s : 0;
        previous_error_k_ = error;
        const double candidate_integral =
            p_.integral_time_s > 0 ? integral_percent_ + gain * error * h_s / p_.integral_time_s
                                   : 0.0;
        const double unclamped = gain * (error + derivative) + candidate_integral;
        output_percent_ = std::clamp(unclamped, 0.0, 100.0);
        // Conditional integration: no wind-up while the output is saturated.
        if (unclamped == output_percent_ || p_.integral_time_s <= 0) {
            integral_percent_ = candidate_integral;
        }
    }
    // Exact first-order response over the step with the output held.
    const double steady_k = p_.ambient_k + p_.heating_k_per_percent * output_percent_;
    temperature_k_ = steady_k + (temperature_k_ - steady_k) * std::exp(-h_s / p_.time_constant_s);
}

}  // namespace dmacycle::sim
