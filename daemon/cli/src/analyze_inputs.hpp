#pragma once
// Private: the inputs `analyze recovery` and `analyze creep` read (docs/cli.md): a stored run, a
// run's export, a time_s,strain CSV, or a RepTate file.
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/analysis/loading_history.hpp"
#include "dmacycle/analysis/log_bins.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/store/analysis_json.hpp"

namespace dmacycle::cli::detail {

// A recovery as the fits read it, and where it came from.
struct RecoveryInput {
    analysis::LoadingHistory history;  // empty for a time_s,strain file
    std::string source;                // for the output: the file, or "run ID in STORE"
    store::Json source_json;           // {"file": …} or {"db": …, "run_id": …}
    std::string how;                   // what gave t0
    analysis::BinnedCurve curve;
    double t0_s = 0;
};

// --db STORE --run ID, a run's export, a RepTate recovery (rec=1) with --after its creep, or a
// time_s,strain CSV with --t0; UsageError or InputError for anything else.
RecoveryInput read_recovery(const io::Arguments& arguments);

// A creep as the fits read it: times since loading (> 0), or since the hold after a recorded
// load ramp, strains, the stress.
struct CreepInput {
    std::string source;       // for the output: the file, or "run ID in STORE"
    store::Json source_json;  // {"file": …} or {"db": …, "run_id": …}
    std::string how;          // what gave the times and the stress
    std::vector<double> time_s, strain;
    double stress_pa = 0;
    std::optional<analysis::CreepRamp> ramp;
};

// --db STORE --run ID, a run's export, a RepTate creep (its stress parameter, or --stress-mpa),
// or a time_s,strain CSV with --stress-mpa.
CreepInput read_creep(const io::Arguments& arguments);

}  // namespace dmacycle::cli::detail
