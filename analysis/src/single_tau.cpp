#include "dmacycle/analysis/single_tau.hpp"

namespace dmacycle::analysis {
SingleTauFit fit_recovery_single_tau(std::span<const double>, std::span<const double>, double) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented")};
}
SingleTauFit fit_creep_single_tau(std::span<const double>, std::span<const double>) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented")};
}
}  // namespace dmacycle::analysis
