#include "dmacycle/protocols/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace dmacycle::protocols {
namespace {

constexpr double celsius_offset_k = 273.15;

constexpr std::array stress_units{Unit{"MPa", 1e6}, Unit{"kPa", 1e3}, Unit{"Pa", 1.0}};
constexpr std::array stress_rate_units{Unit{"MPa/min", 1e6 / 60}, Unit{"MPa/s", 1e6}};
constexpr std::array temperature_units{Unit{"K", 1.0}, Unit{"°C", 1.0, celsius_offset_k},
                                       Unit{"degC", 1.0, celsius_offset_k},
                                       Unit{"C", 1.0, celsius_offset_k}};
constexpr std::array temperature_difference_units{Unit{"K", 1.0}, Unit{"°C", 1.0},
                                                  Unit{"degC", 1.0}, Unit{"C", 1.0}};
constexpr std::array force_units{Unit{"N", 1.0}, Unit{"mN", 1e-3}};
// "µm" is MICRO SIGN (U+00B5), "μm" GREEK SMALL LETTER MU (U+03BC): keyboards produce either.
constexpr std::array length_units{Unit{"mm", 1e-3}, Unit{"µm", 1e-6}, Unit{"μm", 1e-6},
                                  Unit{"um", 1e-6}, Unit{"m", 1.0}};
constexpr std::array time_units{Unit{"s", 1.0}, Unit{"min", 60.0}, Unit{"h", 3600.0}};
constexpr std::array density_units{Unit{"g/cm3", 1e3}};
constexpr std::array strain_units{Unit{"%", 1e-2}};
constexpr std::array temperature_rate_units{Unit{"K/min", 1.0 / 60}, Unit{"K/s", 1.0},
                                            Unit{"°C/min", 1.0 / 60}, Unit{"degC/min", 1.0 / 60}};
constexpr std::array frequency_units{Unit{"Hz", 1.0}, Unit{"kHz", 1e3}};

const Unit* find_unit(std::string_view name, Dimension dimension) {
    for (const auto& unit : units_of(dimension)) {
        if (unit.name == name) {
            return &unit;
        }
    }
    return nullptr;
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// YAML's ".inf"/".nan" spellings and C's "inf"/"nan", with a sign: not a measured value.
bool is_infinity_or_nan(std::string_view text) {
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        text.remove_prefix(1);
    }
    if (!text.empty() && text[0] == '.') {
        text.remove_prefix(1);
    }
    std::string word;
    for (const char c : text) {
        if (!std::isalpha(static_cast<unsigned char>(c))) {
            break;
        }
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return word == "inf" || word == "infinity" || word == "nan";
}

}  // namespace

std::span<const Unit> units_of(Dimension dimension) {
    switch (dimension) {
        case Dimension::stress:
            return stress_units;
        case Dimension::stress_rate:
            return stress_rate_units;
        case Dimension::temperature:
            return temperature_units;
        case Dimension::temperature_difference:
            return temperature_difference_units;
        case Dimension::force:
            return force_units;
        case Dimension::length:
            return length_units;
        case Dimension::time:
            return time_units;
        case Dimension::density:
            return density_units;
        case Dimension::strain:
            return strain_units;
        case Dimension::temperature_rate:
            return temperature_rate_units;
        case Dimension::frequency:
            return frequency_units;
    }
    throw std::logic_error("unknown dimension");
}

std::string_view dimension_name(Dimension dimension) {
    switch (dimension) {
        case Dimension::stress:
            return "stress";
        case Dimension::stress_rate:
            return "stress rate";
        case Dimension::temperature:
            return "temperature";
        case Dimension::temperature_difference:
            return "temperature difference";
        case Dimension::force:
            return "force";
        case Dimension::length:
            return "length";
        case Dimension::time:
            return "time";
        case Dimension::density:
            return "density";
        case Dimension::strain:
            return "strain";
        case Dimension::temperature_rate:
            return "heating rate";
        case Dimension::frequency:
            return "frequency";
    }
    throw std::logic_error("unknown dimension");
}

std::string allowed_units(Dimension dimension) {
    std::string text;
    for (const auto& unit : units_of(dimension)) {
        text += (text.empty() ? "" : ", ") + std::string(unit.name);
    }
    return text;
}

std::optional<double> to_si(double value, std::string_view unit, Dimension dimension) {
    const Unit* const found = find_unit(unit, dimension);
    if (found == nullptr) {
        return std::nullopt;
    }
    return value * found->scale + found->offset;
}

double from_si(double si_value, std::string_view unit, Dimension dimension) {
    const Unit* const found = find_unit(unit, dimension);
    if (found == nullptr) {
        throw std::logic_error("no unit " + std::string(unit) + " for " +
                               std::string(dimension_name(dimension)));
    }
    return (si_value - found->offset) / found->scale;
}

QuantityParse parse_quantity(std::string_view text, Dimension dimension) {
    const auto trimmed = trim(text);
    const char* const end = trimmed.data() + trimmed.size();
    // from_chars takes no '+', which people write for a positive value ("+10 min").
    const bool plus = trimmed.size() > 1 && trimmed[0] == '+' &&
                      (std::isdigit(static_cast<unsigned char>(trimmed[1])) || trimmed[1] == '.');
    const char* const begin = trimmed.data() + (plus ? 1 : 0);
    double value = 0;
    const auto [stop, error] = std::from_chars(begin, end, value);
    // Messages are built by appending: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
    std::string quoted = "'";
    quoted.append(trimmed).append("'");
    std::string problem;
    const auto name = dimension_name(dimension);
    const auto example_unit = units_of(dimension).front().name;
    if (error == std::errc::result_out_of_range || is_infinity_or_nan(trimmed)) {
        return {std::nullopt,
                problem.append(quoted).append(
                    " is not a finite number within the range of a double (infinite, NaN, "
                    "or beyond 1e±308)")};
    }
    if (trimmed.empty() || error != std::errc() || stop == begin) {
        problem.append(quoted).append(" is not a ").append(name).append(" like '");
        problem.append(
            format_quantity(*to_si(1, example_unit, dimension), example_unit, dimension));
        problem.append("' (allowed units: ").append(allowed_units(dimension)).append(")");
        return {std::nullopt, problem};
    }
    // from_chars also reads "inf" from "infMPa", which the spelling check above does not see.
    if (!std::isfinite(value)) {
        return {std::nullopt, problem.append(quoted).append(" is not a finite number")};
    }
    const auto unit = trim(std::string_view(stop, static_cast<std::size_t>(end - stop)));
    if (unit.empty()) {
        problem.append("missing unit in ").append(quoted);
    } else if (const auto si = to_si(value, unit, dimension)) {
        return {si, {}};
    } else {
        problem.append("unknown unit '").append(unit).append("' for a ").append(name);
    }
    problem.append(" (allowed units: ").append(allowed_units(dimension)).append(")");
    return {std::nullopt, problem};
}

std::string format_quantity(double si_value, std::string_view unit, Dimension dimension) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.6g", from_si(si_value, unit, dimension));
    std::string text = buffer;
    return text + (unit == "%" ? "" : " ") + std::string(unit);
}

}  // namespace dmacycle::protocols
