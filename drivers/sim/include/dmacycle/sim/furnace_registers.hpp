#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "dmacycle/sim/instrument.hpp"

// The Eurotherm 2400/3200-compatible register map of the simulated furnace controller
// (docs/furnace-registers.md). The Modbus address on the wire is the parameter tag
// (PDU address 1 = tag 1 = PV); full-resolution IEEE floats sit at 0x8000 + 2·tag, high word
// first. Transport-free; furnace_server.cpp puts it on Modbus TCP and RTU.
namespace dmacycle::sim {

inline constexpr std::uint16_t float_region_start = 0x8000;

enum class RegisterStatus {
    ok,
    illegal_address,  // Modbus exception 2
    illegal_value,    // Modbus exception 3
};

class FurnaceRegisters {
  public:
    explicit FurnaceRegisters(Instrument& instrument);

    // Reads count holding registers from address; every address must be in the map.
    RegisterStatus read(std::uint16_t address, std::uint16_t count,
                        std::vector<std::uint16_t>& out);
    // Writes consecutive registers from address: integer tags one each, floats as whole
    // high/low pairs. All or nothing: one bad address or value and nothing is written.
    RegisterStatus write(std::uint16_t address, std::span<const std::uint16_t> values);

    // The highest address in the map, to size a libmodbus mapping.
    static std::uint16_t highest_address();

    struct Tag;

  private:
    double to_si(const Tag& tag, double display_value) const;

    Instrument& instrument_;
    bool kelvin_;
};

}  // namespace dmacycle::sim
