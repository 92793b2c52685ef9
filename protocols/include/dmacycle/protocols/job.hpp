#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Job files: one run of the paper's experiment (or a sweep of runs), parsed from YAML and
// validated. The schema is documented in docs/job-files.md.
namespace dmacycle::protocols {

// The load frame's force limit when the instrument profile does not say otherwise (TA Q800).
inline constexpr double default_frame_force_limit_n = 18.0;

struct Sample {
    std::string id;
    std::string composition;  // atomic fractions, e.g. "La30Ce30Ni10Al20Co10"
    double density_kg_m3 = 0;
    double width_m = 0;
    double thickness_m = 0;
    double gauge_length_m = 0;

    double cross_section_m2() const { return width_m * thickness_m; }
};

// The three cycling modes of the paper (domain.md §1), named after what each sweeps, plus a
// free triangle for anything else.
enum class Mode { amplitude, stress_rate, mean_stress, custom };
std::string_view to_string(Mode mode);

struct Cycling {
    Mode mode = Mode::custom;
    double stress_min_pa = 0;
    double stress_max_pa = 0;  // == stress_min_pa: pure creep
    double stress_rate_pa_s = 0;
    double duration_s = 8 * 3600.0;

    bool creep() const { return stress_min_pa == stress_max_pa; }
};

// A DMTA temperature scan (docs/job-files.md "DMTA scans"): equilibrate at from_k, then heat to
// to_k at rate_k_s while measuring E′, E″ and tan δ at each frequency in turn, one measurement
// every interval_s, at the displacement amplitude amplitude_m, under the pre-tension force.
struct DmtaScan {
    double from_k = 300;
    double to_k = 450;
    double rate_k_s = 2.0 / 60;
    std::vector<double> frequencies_hz{1, 2, 4, 8};  // in the order measured
    double amplitude_m = 5e-6;
    double interval_s = 5;

    double duration_s() const { return (to_k - from_k) / rate_k_s; }
};

// What a run does: cycle and recover (the paper's runs); an as-cast DMTA scan alone; or cycle,
// recover for a chosen time and then scan (each recovery time a run on its own sample).
enum class JobKind { cycling, dmta, cycling_dmta };
std::string_view to_string(JobKind kind);

struct Limits {
    double max_force_n = default_frame_force_limit_n;
    std::optional<double> max_stress_pa;  // unset: only the force limit applies
    double max_strain = 0.05;
    double temperature_band_k = 1.0;  // ± around the test temperature during hold and cycling
    double stale_link_s = 2.0;        // oldest acceptable reading before the link counts as lost
};

struct AnalysisOptions {
    int spectrum_modes = 60;
    double tau_min_s = 1e-2;
    double tau_max_s = 1e8;
    std::optional<double> lambda;     // unset: chosen automatically
    bool lambda_by_evidence = false;  // `lambda: evidence`, else the discrepancy principle
};

struct Job {
    std::string name;
    std::string profile;  // instrument profile, e.g. "sim-la30"
    Sample sample;
    double temperature_k = 0;  // kind dmta: the scan's start temperature
    double equilibrate_tolerance_k = 0.5;
    double equilibrate_timeout_s = 3600;
    // Equilibrated when the mean furnace PV and sample readings over the last settle_s, and over
    // its last tenth, are all within ± tolerance (0: the latest readings alone).
    double equilibrate_settle_s = 60;
    double hold_s = 600;
    double pre_tension_n = 0.01;
    // `sample_rate`: samples streamed and stored per second; unset, the runner's or service's.
    std::optional<double> sample_rate_hz;
    JobKind kind = JobKind::cycling;
    Cycling cycling;                 // unused (default) when kind is dmta
    double recovery_s = 8 * 3600.0;  // cycling_dmta: the recovery before the scan (may be 0)
    std::optional<DmtaScan> dmta;    // set unless kind is cycling
    Limits limits;
    AnalysisOptions analysis;
    // e.g. "amplitude 50 MPa" for a run expanded from a sweep, "recovery 8 h" for a chained scan
    std::string sweep_point;
};

// One problem in a job file, at 1-based line and column (0 when unknown).
struct Diagnostic {
    int line = 0;
    int column = 0;
    std::string field;  // dotted path, e.g. "sample.thickness"; empty for YAML syntax errors
    std::string message;

    // "FILE:LINE:COLUMN: field: message"
    std::string to_string(std::string_view file) const;
};

struct JobFile {
    std::vector<Job> runs;  // one, or one per sweep point (each on a fresh sample)
    bool sweep = false;
    std::vector<Diagnostic> errors;  // empty when the file is valid; then runs is not empty
    // The limit the runs were checked against: the profile's frame when a resolver found it,
    // else the limit passed to parse_job. Hand it to make_plan.
    double frame_force_limit_n = default_frame_force_limit_n;
    JobKind kind = JobKind::cycling;

    bool ok() const { return errors.empty(); }
};

// Parses and validates a job file's text. Never throws on bad input: every problem found is in
// `errors`, in file order. `frame_force_limit_n` is the load frame's limit, which the job's
// own limits may lower but not raise.
JobFile parse_job(std::string_view yaml_text,
                  double frame_force_limit_n = default_frame_force_limit_n);

// The run of `file` whose sample id is `sample_id` (a sweep point's sample id carries its
// label, so it names the point a stored run was made from), else the first run; nullptr when
// the file has no runs (it did not parse).
const Job* run_of_sample(const JobFile& file, std::string_view sample_id);

// What a job's `profile:` says about the load frame.
struct ProfileLimit {
    std::optional<double> force_max_n;  // set when the profile was found and read
    std::string problem;                // otherwise why not, for a message at the profile line
    // What a DMTA scan is checked against, each when the profile states it.
    std::optional<double> frequency_min_hz{};  // frame.frequency_min_hz
    std::optional<double> frequency_max_hz{};  // frame.frequency_max_hz
    std::optional<double> amplitude_min_m{};   // frame.amplitude_min_m
    std::optional<double> amplitude_max_m{};   // frame.amplitude_max_m
    std::optional<double> ambient_k{};  // furnace.ambient_k: the furnace cannot cool below it
    // The fastest stream the frame sends (frame.stream_rate_max_hz, or its driver's if lower)
    // and where that limit comes from, for the message.
    std::optional<double> stream_rate_max_hz{};
    std::string stream_rate_limit_by{};
};
using ProfileResolver = std::function<ProfileLimit(const std::string& profile)>;

// As above, with the frame limit taken from the job's profile: a profile the resolver cannot
// find or read is an error at the `profile:` line.
JobFile parse_job(std::string_view yaml_text, const ProfileResolver& resolve_profile);

}  // namespace dmacycle::protocols
