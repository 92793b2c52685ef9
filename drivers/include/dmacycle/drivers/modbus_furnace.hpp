#pragma once
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dmacycle/drivers/connection_uri.hpp"
#include "dmacycle/drivers/furnace_driver.hpp"
#include "dmacycle/drivers/modbus_link.hpp"

// Furnace controllers on Modbus, one register map per model (docs/furnace-registers.md).
// The map is data: addresses, implied decimals, display unit, the IEEE float region and its
// word order, status bits. Adding a model adds a row to the table in modbus_furnace.cpp.
namespace dmacycle::drivers {

enum class TemperatureUnit { celsius, kelvin };
enum class WordOrder { high_first, low_first };

struct FurnaceRegisterMap {
    std::string_view model;
    // Wire (PDU) addresses of the integer region; Eurotherm: the parameter tag.
    std::uint16_t process_value;
    std::uint16_t target_setpoint;
    std::uint16_t working_setpoint;
    std::uint16_t comms_setpoint;
    std::uint16_t rate_limit;  // degrees per minute
    std::uint16_t status;
    int implied_decimals;
    TemperatureUnit unit;
    // Full resolution: the float at float_base + 2·address instead of the scaled integer.
    bool use_float_region;
    std::uint16_t float_base;
    WordOrder word_order;
    int sensor_break_bit;
    int loop_break_bit;
    int ramp_running_bit;
    int remote_fail_bit;
};

const FurnaceRegisterMap* find_furnace_map(std::string_view model);
std::vector<std::string_view> furnace_map_models();

class ModbusFurnace final : public FurnaceDriver {
  public:
    ModbusFurnace(const ConnectionUri& uri, const FurnaceRegisterMap& map,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

    void connect() override;
    void disconnect() noexcept override;
    std::string identify() override;  // model and unit: these maps have no ident register
    FurnaceReading read() override;
    void write_setpoint_k(double setpoint_k) override;
    void set_rate_limit_k_per_min(double rate_k_per_min) override;

  private:
    double read_value(std::uint16_t address, std::string_view what);
    void write_value(std::uint16_t address, double value, std::string_view what);
    double to_kelvin(double display) const;
    double from_kelvin(double kelvin) const;

    const FurnaceRegisterMap& map_;
    ModbusLink link_;
};

}  // namespace dmacycle::drivers
