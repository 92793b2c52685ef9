#include "dmacycle/analysis/work_done.hpp"

namespace dmacycle::analysis {
WorkDone analyze_cycling(std::span<const double>, std::span<const double>, std::span<const double>,
                         const WorkDoneOptions&) {
    WorkDone out;
    out.summary = FitSummary::failure(FitStatus::invalid_input, "not implemented");
    return out;
}
}  // namespace dmacycle::analysis
