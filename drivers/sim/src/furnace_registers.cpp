#include "dmacycle/sim/furnace_registers.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <utility>

namespace dmacycle::sim {

namespace {

constexpr double celsius_offset_k = 273.15;
constexpr double furnace_max_k = 1273.15;

enum class Quantity {
    temperature,             // absolute: K or °C, one implied decimal
    temperature_difference,  // same scale, no offset
    percent,                 // one implied decimal
    rate_per_min,            // display units per minute, one implied decimal
    raw,                     // status word, mode switch
};

bool scaled(Quantity q) {
    return q != Quantity::raw;
}

}  // namespace

// One parameter of the map. get returns SI (K, K/min, %, raw); check receives SI and says
// whether the controller would take it (illegal_value if not), apply then sets it; read-only
// tags have neither. Split so a multi-register write is validated whole before any of it lands.
struct FurnaceRegisters::Tag {
    std::uint16_t tag;
    Quantity quantity;
    double (*get)(const FurnaceView&);
    bool (*check)(const Instrument&, const FurnaceView&, double);
    void (*apply)(Instrument&, double);
};

namespace {

bool setpoint_ok(const Instrument& instrument, const FurnaceView&, double t_k) {
    return t_k >= instrument.profile().furnace.ambient_k && t_k <= furnace_max_k;
}

void set_setpoint(Instrument& instrument, double t_k) {
    instrument.set_furnace_setpoint_k(t_k);
}

// clang-format off
const std::array<FurnaceRegisters::Tag, 10> tags{{
    {1, Quantity::temperature, [](const FurnaceView& f) { return f.temperature_k; }, nullptr, nullptr},
    {2, Quantity::temperature, [](const FurnaceView& f) { return f.target_setpoint_k; }, setpoint_ok,
     set_setpoint},
    {3, Quantity::percent, [](const FurnaceView& f) { return f.output_percent; },
     [](const Instrument&, const FurnaceView& f, double percent) {
         return f.manual && percent >= 0 && percent <= 100;  // only writable in manual
     },
     [](Instrument& instrument, double percent) {
         instrument.set_furnace_manual_output_percent(percent);
     }},
    {4, Quantity::percent, [](const FurnaceView& f) { return f.output_percent; }, nullptr, nullptr},
    {5, Quantity::temperature, [](const FurnaceView& f) { return f.working_setpoint_k; }, nullptr,
     nullptr},
    {26, Quantity::temperature, [](const FurnaceView& f) { return f.target_setpoint_k; }, setpoint_ok,
     set_setpoint},
    {35, Quantity::rate_per_min, [](const FurnaceView& f) { return f.rate_limit_k_per_min; },
     [](const Instrument&, const FurnaceView&, double rate) { return rate >= 0 && rate <= 999.9; },
     [](Instrument& instrument, double rate) { instrument.set_furnace_rate_limit_k_per_min(rate); }},
    {39, Quantity::temperature_difference,
     [](const FurnaceView& f) { return f.working_setpoint_k - f.temperature_k; }, nullptr, nullptr},
    {75, Quantity::raw, [](const FurnaceView& f) { return static_cast<double>(f.status_bits); },
     nullptr, nullptr},
    {273, Quantity::raw, [](const FurnaceView& f) { return f.manual ? 1.0 : 0.0; },
     [](const Instrument&, const FurnaceView&, double mode) { return mode == 0 || mode == 1; },
     [](Instrument& instrument, double mode) { instrument.set_furnace_manual(mode == 1); }},
}};
// clang-format on

const FurnaceRegisters::Tag* find_tag(std::uint16_t number) {
    const auto it = std::find_if(tags.begin(), tags.end(),
                                 [&](const FurnaceRegisters::Tag& t) { return t.tag == number; });
    return it == tags.end() ? nullptr : &*it;
}

// Address → (tag, word): word -1 for the integer region, 0/1 for a float's high/low word.
std::pair<const FurnaceRegisters::Tag*, int> locate(std::uint16_t address) {
    if (address >= float_region_start) {
        const unsigned offset = address - float_region_start;
        return {find_tag(static_cast<std::uint16_t>(offset / 2)), static_cast<int>(offset % 2)};
    }
    return {find_tag(address), -1};
}

}  // namespace

FurnaceRegisters::FurnaceRegisters(Instrument& instrument)
    : instrument_(instrument), kelvin_(instrument.profile().furnace.kelvin_display) {}

std::uint16_t FurnaceRegisters::highest_address() {
    std::uint16_t top = 0;
    for (const auto& t : tags) {
        top = std::max<std::uint16_t>(top, t.tag);
    }
    return static_cast<std::uint16_t>(float_region_start + 2 * top + 1);
}

RegisterStatus FurnaceRegisters::read(std::uint16_t address, std::uint16_t count,
                                      std::vector<std::uint16_t>& out) {
    out.clear();
    if (count == 0) {
        return RegisterStatus::illegal_value;
    }
    const FurnaceView view = instrument_.furnace();  // one snapshot for the whole read
    for (unsigned a = address; a < unsigned{address} + count; ++a) {
        if (a > 0xFFFF) {
            return RegisterStatus::illegal_address;
        }
        const auto [tag, word] = locate(static_cast<std::uint16_t>(a));
        if (tag == nullptr) {
            return RegisterStatus::illegal_address;
        }
        double value = tag->get(view);
        if (tag->quantity == Quantity::temperature && !kelvin_) {
            value -= celsius_offset_k;
        }
        if (word >= 0) {
            const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(value));
            out.push_back(static_cast<std::uint16_t>(word == 0 ? bits >> 16 : bits & 0xFFFF));
        } else if (scaled(tag->quantity)) {
            const long tenths = std::clamp(std::lround(value * 10), -32768L, 32767L);
            out.push_back(static_cast<std::uint16_t>(static_cast<std::int16_t>(tenths)));
        } else {
            out.push_back(static_cast<std::uint16_t>(value));
        }
    }
    return RegisterStatus::ok;
}

double FurnaceRegisters::to_si(const Tag& tag, double display_value) const {
    return tag.quantity == Quantity::temperature && !kelvin_ ? display_value + celsius_offset_k
                                                             : display_value;
}

RegisterStatus FurnaceRegisters::write(std::uint16_t address,
                                       std::span<const std::uint16_t> values) {
    if (values.empty()) {
        return RegisterStatus::illegal_value;
    }
    // Validate the addresses of the whole request before changing anything.
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (address + i > 0xFFFF ||
            locate(static_cast<std::uint16_t>(address + i)).first == nullptr) {
            return RegisterStatus::illegal_address;
        }
    }
    // Then decode and check every value, and only then apply them: all or nothing.
    const FurnaceView view = instrument_.furnace();
    std::vector<std::pair<const Tag*, double>> writes;
    std::size_t i = 0;
    while (i < values.size()) {
        const auto [tag, word] = locate(static_cast<std::uint16_t>(address + i));
        double display = 0;
        if (word >= 0) {
            if (word != 0 || i + 1 >= values.size()) {
                return RegisterStatus::illegal_value;  // half a float
            }
            const std::uint32_t bits = (std::uint32_t{values[i]} << 16) | values[i + 1];
            display = std::bit_cast<float>(bits);
            i += 2;
        } else {
            display = scaled(tag->quantity) ? static_cast<std::int16_t>(values[i]) / 10.0
                                            : static_cast<double>(values[i]);
            i += 1;
        }
        const double si = to_si(*tag, display);
        if (tag->check == nullptr || !tag->check(instrument_, view, si)) {
            return RegisterStatus::illegal_value;  // read-only, or refused
        }
        writes.emplace_back(tag, si);
    }
    for (const auto& [tag, si] : writes) {
        tag->apply(instrument_, si);
    }
    return RegisterStatus::ok;
}

}  // namespace dmacycle::sim
