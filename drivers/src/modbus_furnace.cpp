#include "dmacycle/drivers/modbus_furnace.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace dmacycle::drivers {
namespace {

constexpr double celsius_offset_k = 273.15;

// Eurotherm 2400 and 3200 series (domain.md §5): the wire address is the tag, one implied
// decimal, °C by factory default, floats at 0x8000 + 2·tag high word first.
constexpr FurnaceRegisterMap eurotherm_integer{.model = "eurotherm-2400",
                                               .process_value = 1,
                                               .target_setpoint = 2,
                                               .working_setpoint = 5,
                                               .comms_setpoint = 26,
                                               .rate_limit = 35,
                                               .status = 75,
                                               .implied_decimals = 1,
                                               .unit = TemperatureUnit::celsius,
                                               .use_float_region = false,
                                               .float_base = 0x8000,
                                               .word_order = WordOrder::high_first,
                                               .sensor_break_bit = 5,
                                               .loop_break_bit = 6,
                                               .ramp_running_bit = 13,
                                               .remote_fail_bit = 14};

constexpr FurnaceRegisterMap with_model(FurnaceRegisterMap map, std::string_view model) {
    map.model = model;
    return map;
}
constexpr FurnaceRegisterMap with_floats(FurnaceRegisterMap map, std::string_view model) {
    map.model = model;
    map.use_float_region = true;
    return map;
}
constexpr FurnaceRegisterMap with_kelvin(FurnaceRegisterMap map, std::string_view model) {
    map.model = model;
    map.unit = TemperatureUnit::kelvin;
    return map;
}

constexpr std::array<FurnaceRegisterMap, 5> furnace_maps{
    eurotherm_integer,
    with_model(eurotherm_integer, "eurotherm-3200"),
    with_floats(eurotherm_integer, "eurotherm-2400-float"),
    with_floats(eurotherm_integer, "eurotherm-3200-float"),
    with_kelvin(eurotherm_integer, "eurotherm-2400-kelvin"),
};

bool bit(std::uint16_t word, int index) {
    return index >= 0 && ((word >> index) & 1U) != 0;
}

}  // namespace

const FurnaceRegisterMap* find_furnace_map(std::string_view model) {
    for (const auto& map : furnace_maps) {
        if (map.model == model) {
            return &map;
        }
    }
    return nullptr;
}

std::vector<std::string_view> furnace_map_models() {
    std::vector<std::string_view> out;
    for (const auto& map : furnace_maps) {
        out.push_back(map.model);
    }
    return out;
}

ModbusFurnace::ModbusFurnace(const ConnectionUri& uri, const FurnaceRegisterMap& map,
                             std::chrono::milliseconds timeout)
    : map_(map), link_(uri, timeout) {}

void ModbusFurnace::connect() {
    link_.connect();
}

void ModbusFurnace::disconnect() noexcept {
    link_.close();
}

std::string ModbusFurnace::identify() {
    return std::string(map_.model) + ",unit " + std::to_string(link_.unit());
}

double ModbusFurnace::to_kelvin(double display) const {
    return map_.unit == TemperatureUnit::celsius ? display + celsius_offset_k : display;
}

double ModbusFurnace::from_kelvin(double kelvin) const {
    return map_.unit == TemperatureUnit::celsius ? kelvin - celsius_offset_k : kelvin;
}

double ModbusFurnace::read_value(std::uint16_t address, std::string_view what) {
    if (map_.use_float_region) {
        const auto at = static_cast<std::uint16_t>(map_.float_base + 2 * address);
        const auto words = link_.read(at, 2, what);
        const auto [hi, lo] = map_.word_order == WordOrder::high_first
                                  ? std::pair(words[0], words[1])
                                  : std::pair(words[1], words[0]);
        return static_cast<double>(std::bit_cast<float>((std::uint32_t{hi} << 16) | lo));
    }
    const auto raw = static_cast<std::int16_t>(link_.read(address, 1, what)[0]);
    return raw / std::pow(10.0, map_.implied_decimals);
}

void ModbusFurnace::write_value(std::uint16_t address, double value, std::string_view what) {
    if (map_.use_float_region) {
        const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(value));
        const auto hi = static_cast<std::uint16_t>(bits >> 16);
        const auto lo = static_cast<std::uint16_t>(bits & 0xFFFF);
        const std::array<std::uint16_t, 2> words =
            map_.word_order == WordOrder::high_first ? std::array{hi, lo} : std::array{lo, hi};
        link_.write(static_cast<std::uint16_t>(map_.float_base + 2 * address), words, what);
        return;
    }
    const double scaled = std::round(value * std::pow(10.0, map_.implied_decimals));
    if (!(scaled >= std::numeric_limits<std::int16_t>::min() &&
          scaled <= std::numeric_limits<std::int16_t>::max())) {
        throw DriverError(ErrorKind::config, link_.name() + ": " + std::string(what) + " " +
                                                 std::to_string(value) + " does not fit register " +
                                                 std::to_string(address) + " (signed 16-bit with " +
                                                 std::to_string(map_.implied_decimals) +
                                                 " implied decimals)");
    }
    const auto word = static_cast<std::uint16_t>(static_cast<std::int16_t>(scaled));
    link_.write(address, std::array{word}, what);
}

FurnaceReading ModbusFurnace::read() {
    FurnaceReading reading;
    reading.temperature_k = to_kelvin(read_value(map_.process_value, "process value"));
    reading.target_setpoint_k = to_kelvin(read_value(map_.target_setpoint, "target setpoint"));
    reading.working_setpoint_k = to_kelvin(read_value(map_.working_setpoint, "working setpoint"));
    const std::uint16_t word = link_.read(map_.status, 1, "status word")[0];
    reading.status = {word, bit(word, map_.sensor_break_bit), bit(word, map_.loop_break_bit),
                      bit(word, map_.ramp_running_bit), bit(word, map_.remote_fail_bit)};
    return reading;
}

void ModbusFurnace::write_setpoint_k(double setpoint_k) {
    if (!std::isfinite(setpoint_k) || setpoint_k <= 0) {
        throw DriverError(
            ErrorKind::config,
            link_.name() + ": setpoint " + std::to_string(setpoint_k) + " K is not a temperature");
    }
    write_value(map_.comms_setpoint, from_kelvin(setpoint_k), "comms setpoint");
}

void ModbusFurnace::set_rate_limit_k_per_min(double rate_k_per_min) {
    if (!std::isfinite(rate_k_per_min) || rate_k_per_min < 0) {
        throw DriverError(
            ErrorKind::config,
            link_.name() + ": rate limit " + std::to_string(rate_k_per_min) + " K/min must be ≥ 0");
    }
    write_value(map_.rate_limit, rate_k_per_min, "setpoint rate limit");  // a K step is a °C step
}

}  // namespace dmacycle::drivers
