#pragma once
// For the driver fuzz targets: one driver call on fuzzed bytes.
#include "dmacycle/drivers/error.hpp"

namespace fuzz {

// Runs `step`; a DriverError is the driver's only way to refuse what it read, so anything
// else escaping is a finding.
template <typename F>
void attempt(F&& step) {
    try {
        step();
    } catch (const dmacycle::drivers::DriverError&) {
    }
}

}  // namespace fuzz
