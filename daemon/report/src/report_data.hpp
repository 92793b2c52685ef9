#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dmacycle/store/run_archive.hpp"
#include "thinned_samples.hpp"

// One stored run as the report needs it (docs/report.md), read through RunArchive only, and the
// queries the figures and tables share.
namespace dmacycle::report {

using Json = nlohmann::json;

struct SegmentSpan {
    std::string name;
    double t_start_s = 0, t_end_s = 0;  // first and last sample with this tag
    std::int64_t samples = 0;
};

// The recovery's first and last sample.
struct RecoverySpan {
    double t_start_s = 0, t_end_s = 0;
    double strain_first = 0, strain_last = 0;
};

// Read in one pass, thinned as it streams: its size does not grow with the run's length or rate.
struct RunData {
    store::ArchivedRun run;
    std::int64_t samples = 0;
    std::vector<TracePoint> trace;   // the samples thinned to their envelope (Envelope)
    std::vector<SegmentSpan> spans;  // in order of first appearance
    std::vector<store::ArchivedEvent> events;
    std::vector<store::ArchivedCycle> cycles;
    std::vector<store::ArchivedDmta> dmta;  // a DMTA scan's measurements
    std::map<std::string, Json> results;
    // Time zero of the time axes: the first sample of load, cycle or creep (else the run's
    // first sample).
    double zero_s = 0;
    double plan_end_s = 0;  // the last sample not tagged after_plan: the figures end there
    bool loaded = false;
    std::optional<RecoverySpan> recovery;
    // The recovery's (t − t0 in s, strain) at log-spaced times (LogSteps).
    std::vector<std::pair<double, double>> recovery_curve;
    std::string condition;  // e.g. "0–200 MPa"
};

RunData load_run(const store::RunArchive& archive, std::int64_t run_id);

// A stored result's number by its data key "KIND.FIELD[.INDEX|.FIELD...]" (docs/report.md).
const Json* result_at(const RunData& data, const std::string& key);
std::optional<double> result_number(const RunData& data, const std::string& key);
// An array of numbers; an element that is not a number is NaN.
std::vector<double> result_numbers(const RunData& data, const std::string& key);

// Whether the stored fit of KIND ("spectrum", "kww", ...) is flagged usable.
bool fit_usable(const RunData& data, const std::string& kind);

// Eq. (2) in the recovery from the stored spectrum: Σ ε_i(t0)·exp(−(t − t0)/τ_i), the
// anelastic part; the model adds ε_vp.
std::optional<double> spectrum_anelastic(const RunData& data, double since_unload_s);

// Strain at the start and the end of the recovery and their difference (Fig. 1e).
struct RecoveryStrains {
    double initial = 0, final_ = 0, anelastic = 0;
};
std::optional<RecoveryStrains> recovery_strains(const RunData& data);

}  // namespace dmacycle::report
