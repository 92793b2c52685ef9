#pragma once
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/protocols/job.hpp"
#include "job_reader.hpp"

// Private: the readers of a job file's sections (docs/job-files.md), each reporting its own
// problems to the Reader, and what they resolve to.
namespace dmacycle::protocols::detail {

// The cycling section resolved into one (σ_min, σ_max, rate) per run, with the source of σ_max
// for the force check.
struct CyclingPoint {
    double stress_min_pa = 0, stress_max_pa = 0, stress_rate_pa_s = 0;
    // σ_max − σ_min as asked (2 · amplitude): an amplitude too small to change σ in double
    // precision is not creep but a triangle too fast to run.
    double spread_pa = 0;
    Source peak_source;
    Source period_source;     // the swept (or deciding) parameter, for a too short period
    std::string label;        // appended to the sample id in a sweep, e.g. "50-150"
    std::string sweep_point;  // e.g. "amplitude 50 MPa"
};

struct CyclingSection {
    Mode mode = Mode::custom;
    double duration_s = 8 * 3600.0;
    Source duration_source;
    bool sweep = false;
    std::vector<CyclingPoint> points;
};

// The dmta section: the scan, and the recovery times of a chained job when given.
struct DmtaSection {
    DmtaScan scan;
    Source source;                        // the dmta key
    std::optional<Swept> after_recovery;  // one run per recovery time
    Source after_recovery_source;
};

// Where limits.max_force and limits.max_stress were set (the document start when not), for the
// line a force or stress message refers to.
struct LimitSources {
    Source force{YAML::Mark{}, "limits.max_force"};
    Source stress{YAML::Mark{}, "limits.max_stress"};
};

void read_sample(Reader& reader, const Entry& entry, Sample& sample);

// The equilibrate section into the job's equilibrate_* fields; where the tolerance was set, if
// it was.
std::optional<Source> read_equilibrate(Reader& reader, const Entry& entry, Job& job);

void read_limits(Reader& reader, const Entry& entry, double frame_force_limit_n, Limits& limits,
                 LimitSources& sources);

void read_analysis(Reader& reader, const Entry& entry, AnalysisOptions& options);

// nullopt after reporting why the section cannot be run.
std::optional<CyclingSection> read_cycling(Reader& reader, const Entry& entry);

// nullopt after reporting why the scan cannot be run; `profile` narrows the frequency and
// amplitude ranges and sets the lowest start temperature, when the job's profile was found.
std::optional<DmtaSection> read_dmta(Reader& reader, const Entry& entry,
                                     const std::optional<ProfileLimit>& profile);

}  // namespace dmacycle::protocols::detail
