#pragma once
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

// The one table of the stored quantities' names and units (docs/names.md is its human copy,
// checked against it by tests/store): the store's CREATE, INSERT and SELECT lists, the API's
// `columns` and the CSV headers are built from it, so a column is named in one place. Values are
// SI inside; the unit is in the name (`t_s`, `stress_pa`), converted only where people read them.
namespace dmacycle::store::names {

enum class Type { integer, real, text };

struct Column {
    std::string_view name;
    Type type;
    std::string_view unit;  // SI symbol; "1" dimensionless; "" for text and sequence numbers
    std::string_view meaning;
};

// A table's columns after its `run_id`, in the order they are stored, served and exported.
inline constexpr std::array<Column, 9> samples{{
    {"seq", Type::integer, "", "per-run sequence number from the acquisition, from 0"},
    {"t_s", Type::real, "s", "instrument time since the run's first sample"},
    {"t_wall_utc", Type::text, "", "wall clock, ISO 8601 UTC with ms"},
    {"segment", Type::text, "", "plan segment of the sample's instrument time"},
    {"temperature_k", Type::real, "K", "sample thermocouple"},
    {"force_n", Type::real, "N", "force on the sample"},
    {"displacement_m", Type::real, "m", "displacement of the frame"},
    {"stress_pa", Type::real, "Pa", "engineering stress, force over the cross-section"},
    {"strain", Type::real, "1", "engineering strain"},
}};

inline constexpr std::array<Column, 7> cycles{{
    {"cycle", Type::integer, "", "cycle number, from 1"},
    {"t_start_s", Type::real, "s", "instrument time at the cycle's start"},
    {"t_end_s", Type::real, "s", "instrument time at the cycle's end"},
    {"stress_min_pa", Type::real, "Pa", "lowest stress sampled in the cycle"},
    {"stress_max_pa", Type::real, "Pa", "highest stress sampled in the cycle"},
    {"strain_min", Type::real, "1", "lowest strain sampled in the cycle"},
    {"strain_max", Type::real, "1", "highest strain sampled in the cycle"},
}};

inline constexpr std::array<Column, 8> dmta{{
    {"seq", Type::integer, "", "per-run measurement number, from 0, in the order measured"},
    {"t_s", Type::real, "s", "instrument time since the run's first sample"},
    {"t_wall_utc", Type::text, "", "wall clock, ISO 8601 UTC with ms"},
    {"frequency_hz", Type::real, "Hz", "frequency of the measurement"},
    {"temperature_k", Type::real, "K", "sample thermocouple at the measurement"},
    {"storage_pa", Type::real, "Pa", "storage modulus E′"},
    {"loss_pa", Type::real, "Pa", "loss modulus E″"},
    {"tan_delta", Type::real, "1", "loss factor E″/E′"},
}};

// The unit a name's suffix says, for keys that are in no table (the results' JSON keys): the
// first suffix that matches, so the longer ones come first.
struct UnitSuffix {
    std::string_view suffix, unit;
};
inline constexpr std::array<UnitSuffix, 11> unit_suffixes{{
    {"_kj_mol", "kJ/mol"},
    {"_g_mol", "g/mol"},
    {"_j_m3", "J/m3"},
    {"_ev", "eV"},
    {"_mpa", "MPa"},
    {"_pa", "Pa"},
    {"_hz", "Hz"},
    {"_s", "s"},
    {"_k", "K"},
    {"_n", "N"},
    {"_m", "m"},
}};

// The unit of a quantity from its name: `strain_rate…` 1/s, else its suffix's, else "1".
constexpr std::string_view unit_of(std::string_view name) {
    if (name.starts_with("strain_rate")) {
        return "1/s";
    }
    for (const auto& [suffix, unit] : unit_suffixes) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            return unit;
        }
    }
    return "1";  // strain, β, λ, tan δ, counts
}

// The position of `name` in `table` (as SQLite numbers result columns); a name that is not
// there does not compile.
template <std::size_t N>
consteval int index_of(const std::array<Column, N>& table, std::string_view name) {
    for (std::size_t i = 0; i < N; ++i) {
        if (table[i].name == name) {
            return static_cast<int>(i);
        }
    }
    throw "no such column";
}

// Every number's unit is the one its name says.
template <std::size_t N>
constexpr bool units_in_names(const std::array<Column, N>& table) {
    for (const auto& column : table) {
        if (column.type == Type::real && column.unit != unit_of(column.name)) {
            return false;
        }
    }
    return true;
}
static_assert(units_in_names(samples) && units_in_names(cycles) && units_in_names(dmta));

// "seq, t_s, …" with `separator` between the names.
std::string joined(std::span<const Column> table, std::string_view separator = ", ");

}  // namespace dmacycle::store::names
