#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <utility>

#include "dmacycle/analysis/work_done.hpp"

namespace dmacycle::analysis {
namespace {

struct Element {
    std::string_view symbol;
    double g_mol;
};

// IUPAC standard atomic weights (conventional values); for elements without stable isotopes,
// the mass number of the longest-lived isotope.
constexpr std::array<Element, 92> atomic_masses{{
    {"H", 1.008},        {"He", 4.002602}, {"Li", 6.94},         {"Be", 9.0121831},
    {"B", 10.81},        {"C", 12.011},    {"N", 14.007},        {"O", 15.999},
    {"F", 18.998403163}, {"Ne", 20.1797},  {"Na", 22.98976928},  {"Mg", 24.305},
    {"Al", 26.9815385},  {"Si", 28.085},   {"P", 30.973761998},  {"S", 32.06},
    {"Cl", 35.45},       {"Ar", 39.948},   {"K", 39.0983},       {"Ca", 40.078},
    {"Sc", 44.955908},   {"Ti", 47.867},   {"V", 50.9415},       {"Cr", 51.9961},
    {"Mn", 54.938044},   {"Fe", 55.845},   {"Co", 58.933194},    {"Ni", 58.6934},
    {"Cu", 63.546},      {"Zn", 65.38},    {"Ga", 69.723},       {"Ge", 72.630},
    {"As", 74.921595},   {"Se", 78.971},   {"Br", 79.904},       {"Kr", 83.798},
    {"Rb", 85.4678},     {"Sr", 87.62},    {"Y", 88.90584},      {"Zr", 91.224},
    {"Nb", 92.90637},    {"Mo", 95.95},    {"Tc", 98.0},         {"Ru", 101.07},
    {"Rh", 102.90550},   {"Pd", 106.42},   {"Ag", 107.8682},     {"Cd", 112.414},
    {"In", 114.818},     {"Sn", 118.710},  {"Sb", 121.760},      {"Te", 127.60},
    {"I", 126.90447},    {"Xe", 131.293},  {"Cs", 132.90545196}, {"Ba", 137.327},
    {"La", 138.90547},   {"Ce", 140.116},  {"Pr", 140.90766},    {"Nd", 144.242},
    {"Pm", 145.0},       {"Sm", 150.36},   {"Eu", 151.964},      {"Gd", 157.25},
    {"Tb", 158.92535},   {"Dy", 162.500},  {"Ho", 164.93033},    {"Er", 167.259},
    {"Tm", 168.93422},   {"Yb", 173.045},  {"Lu", 174.9668},     {"Hf", 178.49},
    {"Ta", 180.94788},   {"W", 183.84},    {"Re", 186.207},      {"Os", 190.23},
    {"Ir", 192.217},     {"Pt", 195.084},  {"Au", 196.966569},   {"Hg", 200.592},
    {"Tl", 204.38},      {"Pb", 207.2},    {"Bi", 208.98040},    {"Po", 209.0},
    {"At", 210.0},       {"Rn", 222.0},    {"Fr", 223.0},        {"Ra", 226.0},
    {"Ac", 227.0},       {"Th", 232.0377}, {"Pa", 231.03588},    {"U", 238.02891},
}};

MolarMass refuse(std::string message) {
    return {false, 0.0, std::move(message)};
}

std::string at(std::size_t pos) {
    return " at position " + std::to_string(pos);
}

bool is_upper(char c) {
    return std::isupper(static_cast<unsigned char>(c)) != 0;
}
bool is_lower(char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

MolarMass molar_mass_from_composition(std::string_view formula) {
    double fraction_sum = 0.0;
    double mass_sum = 0.0;
    std::size_t elements = 0;
    std::size_t pos = 0;
    while (pos < formula.size()) {
        if (is_space(formula[pos])) {
            ++pos;
            continue;
        }
        if (!is_upper(formula[pos])) {
            return refuse("expected an element symbol (capital letter)" + at(pos) + ", got '" +
                          std::string(1, formula[pos]) + "'");
        }
        const std::size_t symbol_start = pos++;
        if (pos < formula.size() && is_lower(formula[pos])) {
            ++pos;
        }
        const std::string_view symbol = formula.substr(symbol_start, pos - symbol_start);
        const auto element = std::find_if(atomic_masses.begin(), atomic_masses.end(),
                                          [&](const Element& e) { return e.symbol == symbol; });
        if (element == atomic_masses.end()) {
            return refuse("unknown element '" + std::string(symbol) + "'" + at(symbol_start));
        }

        // Amount: digits with at most one decimal point; none means 1.
        const std::size_t number_start = pos;
        while (pos < formula.size() && (is_digit(formula[pos]) || formula[pos] == '.')) {
            ++pos;
        }
        double amount = 1.0;
        if (pos > number_start) {
            const std::string_view text = formula.substr(number_start, pos - number_start);
            const char* end = text.data() + text.size();
            const auto [parsed_end, ec] = std::from_chars(text.data(), end, amount);
            if (ec != std::errc() || parsed_end != end || text.back() == '.') {
                return refuse("malformed amount '" + std::string(text) + "' after " +
                              std::string(symbol) + at(number_start));
            }
        }
        fraction_sum += amount;
        mass_sum += amount * element->g_mol;
        ++elements;
    }
    if (elements == 0) {
        return refuse("empty formula");
    }
    if (!(fraction_sum > 0)) {
        return refuse("the amounts sum to zero");
    }
    return {true, mass_sum / fraction_sum, {}};
}

}  // namespace dmacycle::analysis
