#pragma once
#include <string>

namespace dmacycle::analysis {

// Fitters never throw on bad data: they return a summary saying what happened and whether the
// numbers next to it may be used.
enum class FitStatus { ok, not_converged, insufficient_data, invalid_input };

const char* to_string(FitStatus status);

struct FitSummary {
    FitStatus status = FitStatus::invalid_input;
    std::string message;
    bool usable = false;

    static FitSummary success(std::string message = "converged") {
        return {FitStatus::ok, std::move(message), true};
    }
    static FitSummary failure(FitStatus status, std::string message) {
        return {status, std::move(message), false};
    }
};

}  // namespace dmacycle::analysis
