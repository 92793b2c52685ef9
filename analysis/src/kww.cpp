#include "dmacycle/analysis/kww.hpp"

namespace dmacycle::analysis {
KwwFit fit_recovery_kww(std::span<const double>, std::span<const double>, double) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented")};
}
KwwFit fit_creep_kww(std::span<const double>, std::span<const double>) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented")};
}
InstantKww instant_kww(std::span<const double>, std::span<const double>, double, const KwwFit&) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented"), {}, {}, {}};
}
}  // namespace dmacycle::analysis
