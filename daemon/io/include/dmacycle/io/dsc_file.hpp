#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/analysis/dsc.hpp"

// DSC heating scans from the files instruments write (docs/dsc.md): CSV
// (time_s,temperature_k,heat_flow_w_g), TA Instruments Universal Analysis text exports and
// Netzsch Proteus text/CSV exports, told apart by their content.
namespace dmacycle::io {

struct DscReadOptions {
    bool exo_down = false;          // the file's heat flow is exothermic negative
    std::optional<double> mass_mg;  // sample mass for a heat flow in mW (else the header's)
};

struct DscFile {
    std::string path;
    std::string format;                    // "csv", "ta" or "netzsch"
    analysis::DscScan scan;                // s, K, W/g exothermic positive
    std::vector<std::size_t> line_of_row;  // 1-based file line of each point
    std::string exo_convention;     // "exothermic positive (...)" / "exothermic negative (...)"
    std::optional<double> mass_mg;  // the mass a heat flow in mW was divided by
};

// Reads and converts FILE; checks that there are at least 10 points and that time and
// temperature increase. Throws InputError ("FILE:LINE: problem", LINE omitted when it does not
// apply) for a malformed file, a missing column, an unknown unit, a heat flow in mW without a
// mass, or --exo-down contradicting what the file's header states.
DscFile read_dsc_file(const std::string& path, const DscReadOptions& options);

}  // namespace dmacycle::io
