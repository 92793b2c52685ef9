#include "dmacycle/analysis/fit_summary.hpp"

namespace dmacycle::analysis {

const char* to_string(FitStatus status) {
    switch (status) {
        case FitStatus::ok:
            return "ok";
        case FitStatus::not_converged:
            return "not_converged";
        case FitStatus::insufficient_data:
            return "insufficient_data";
        case FitStatus::invalid_input:
            return "invalid_input";
    }
    return "unknown";
}

}  // namespace dmacycle::analysis
