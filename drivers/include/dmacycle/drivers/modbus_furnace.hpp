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

    void connect() override;  // within the timeout
    // Connects and checks the map (check_map): a peer that only accepts is not connected.
    void connect_by(Deadline deadline) override;
    void disconnect() noexcept override;
    // Model and unit, once check_map passed on this link: these maps have no ident register
    // (Eurotherm's instrument ident, tag 122, is not served by every controller or the sim).
    std::string identify() override;
    FurnaceReading read() override;  // each register within the timeout
    FurnaceReading read_by(Deadline deadline) override;
    void write_setpoint_k(double setpoint_k) override;
    void set_rate_limit_k_per_min(double rate_k_per_min) override;

  private:
    // PV from the integer region and from the float region must agree: proves the device
    // answers, and that its implied decimals and word order are this map's.
    void check_map(Deadline deadline);
    double read_value(std::uint16_t address, std::string_view what,
                      Deadline deadline = Deadline::max());
    double read_integer(std::uint16_t address, std::string_view what, Deadline deadline);
    double read_float(std::uint16_t address, std::string_view what, Deadline deadline);
    void write_value(std::uint16_t address, double value, std::string_view what);
    double to_kelvin(double display) const;
    double from_kelvin(double kelvin) const;

    const FurnaceRegisterMap& map_;
    std::chrono::milliseconds timeout_;
    ModbusLink link_;
    bool map_checked_ = false;
};

}  // namespace dmacycle::drivers
