#include "dmacycle/analysis/work_done.hpp"

namespace dmacycle::analysis {
MolarMass molar_mass_from_composition(std::string_view) { return {false, 0, "not implemented"}; }
}  // namespace dmacycle::analysis
