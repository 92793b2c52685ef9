#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

// Quantities with units, as written in job files ("50 MPa/min", "30 µm", "92 °C"), converted to
// SI for use inside the program.
namespace dmacycle::protocols {

enum class Dimension {
    stress,                  // Pa
    stress_rate,             // Pa/s
    temperature,             // K (absolute: °C is offset by 273.15)
    temperature_difference,  // K (a tolerance or band: 1 °C = 1 K, no offset)
    force,                   // N
    length,                  // m
    time,                    // s
    density,                 // kg/m³
    strain,                  // dimensionless (written in %)
    temperature_rate,        // K/s (a heating rate: 1 °C/min = 1 K/min)
    frequency,               // Hz
};

struct Unit {
    std::string_view name;
    double scale;       // SI value = number · scale + offset
    double offset = 0;  // only °C has one
};

// The units a job file may use for each dimension, the preferred one first.
std::span<const Unit> units_of(Dimension dimension);
std::string_view dimension_name(Dimension dimension);
// "MPa, kPa, Pa": for messages.
std::string allowed_units(Dimension dimension);

// The value in SI, or nullopt when `unit` is not one of units_of(dimension).
std::optional<double> to_si(double value, std::string_view unit, Dimension dimension);
// An SI value expressed in `unit` (which must be one of units_of(dimension)).
double from_si(double si_value, std::string_view unit, Dimension dimension);

struct QuantityParse {
    std::optional<double> si;  // set on success
    std::string problem;       // otherwise why not, e.g. "missing unit '200' (allowed: MPa, …)"
};

// Parses "NUMBER UNIT" (space optional, e.g. "1.2 mm", "1e8 s", "30µm").
QuantityParse parse_quantity(std::string_view text, Dimension dimension);

// "%g UNIT" of an SI value, for messages and plans.
std::string format_quantity(double si_value, std::string_view unit, Dimension dimension);

}  // namespace dmacycle::protocols
