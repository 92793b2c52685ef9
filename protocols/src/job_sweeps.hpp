#pragma once
#include <optional>

#include "dmacycle/protocols/job.hpp"
#include "job_reader.hpp"
#include "job_sections.hpp"

// Private: a job's read sections expanded into its runs, each checked as a whole.
namespace dmacycle::protocols::detail {

// Adds the runs of `job` (all but its cycling and scan already read) to `file`: one as-cast
// scan, one run per recovery time of a chained scan, or one per sweep point, each on a fresh
// sample. Reports what only a whole run shows: a repeated or too long sample id, and a peak
// force, peak stress or triangle period out of bounds. `cycling` is set unless the job is an
// as-cast scan, `dmta` unless it has no scan.
void expand_runs(Reader& reader, Job job, const std::optional<CyclingSection>& cycling,
                 const std::optional<DmtaSection>& dmta, double frame_force_limit_n,
                 const LimitSources& limit_sources, JobFile& file);

}  // namespace dmacycle::protocols::detail
