#pragma once
#include <cstdint>
#include <string>

#include "dmacycle/drivers/error.hpp"

// The furnace temperature controller as the rest of dmacycle sees it. Calls throw DriverError;
// temperatures are kelvin whatever the controller displays.
namespace dmacycle::drivers {

struct FurnaceStatus {
    std::uint16_t bits = 0;  // raw status word
    bool sensor_break = false;
    bool loop_break = false;
    bool ramp_running = false;
    bool remote_setpoint_fail = false;
};

struct FurnaceReading {
    double temperature_k = 0;  // process value
    double target_setpoint_k = 0;
    double working_setpoint_k = 0;  // after the rate limit
    FurnaceStatus status;
};

class FurnaceDriver {
  public:
    virtual ~FurnaceDriver() = default;
    virtual void connect() = 0;
    virtual void disconnect() noexcept = 0;
    virtual std::string identify() = 0;
    virtual FurnaceReading read() = 0;
    // The comms (remote) setpoint: for setpoints that change often (no EEPROM wear).
    virtual void write_setpoint_k(double setpoint_k) = 0;
    // 0 turns the limit off.
    virtual void set_rate_limit_k_per_min(double rate_k_per_min) = 0;
};

}  // namespace dmacycle::drivers
