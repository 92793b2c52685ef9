#include "dmacycle/analysis/spectrum.hpp"

namespace dmacycle::analysis {
std::string SpectrumOptions::validate() const { return {}; }
SpectrumFit fit_recovery_spectrum(std::span<const double>, std::span<const double>, double,
                                  const SpectrumOptions&) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented"), {}, {}, {}, {}};
}
SpectrumFit fit_creep_spectrum(std::span<const double>, std::span<const double>,
                               const SpectrumOptions&) {
    return {FitSummary::failure(FitStatus::invalid_input, "not implemented"), {}, {}, {}, {}};
}
}  // namespace dmacycle::analysis
