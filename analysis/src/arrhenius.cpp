#include "dmacycle/analysis/arrhenius.hpp"

namespace dmacycle::analysis {
TanDeltaPeak locate_beta_peak(std::span<const double>, std::span<const double>, double f) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented"), f};
}
ArrheniusFit fit_arrhenius(std::span<const double>, std::span<const double>,
                           std::span<const double>) {
    ArrheniusFit out;
    out.summary = FitSummary::failure(FitStatus::invalid_input, "not implemented");
    return out;
}
}  // namespace dmacycle::analysis
