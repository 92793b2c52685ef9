#pragma once
#include <cstdint>

#include "dmacycle/sim/profile.hpp"

// The furnace: a first-order thermal plant under a Eurotherm-style PID with a setpoint rate
// limit. Kelvin inside; the register map converts to the controller's display units.
namespace dmacycle::sim {

// Eurotherm status word (tag 75) bits used here; loop break (bit 6) is not simulated.
inline constexpr std::uint16_t status_sensor_break = 1U << 5;
inline constexpr std::uint16_t status_ramp_running = 1U << 13;

class Furnace {
  public:
    explicit Furnace(const FurnaceParams& params);

    void step(double h_s);

    double temperature_k() const { return temperature_k_; }  // plant (thermocouple) truth
    double target_setpoint_k() const { return target_k_; }
    double working_setpoint_k() const { return working_k_; }
    double output_percent() const { return output_percent_; }
    double rate_limit_k_per_min() const { return rate_k_per_min_; }  // 0: off
    bool manual() const { return manual_; }
    bool sensor_break() const { return sensor_break_; }
    std::uint16_t status_bits() const;
    // At its fixed point within tolerance_k: stepping would change nothing that matters.
    bool settled(double tolerance_k) const;

    void set_target_setpoint_k(double t_k) { target_k_ = t_k; }
    void set_rate_limit_k_per_min(double rate) { rate_k_per_min_ = rate; }
    void set_manual(bool manual);
    // The output in manual mode; ignored in auto.
    void set_manual_output_percent(double percent);
    void set_sensor_break(bool broken);

  private:
    FurnaceParams p_;
    double temperature_k_;
    double target_k_;
    double working_k_;
    double output_percent_;
    double integral_percent_;  // the PID's integral term, kept for bumpless auto/manual
    double previous_error_k_ = 0;
    double rate_k_per_min_ = 0;
    bool manual_ = false;
    bool sensor_break_ = false;
};

}  // namespace dmacycle::sim
