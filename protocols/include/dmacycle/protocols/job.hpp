#pragma once
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
    std::optional<double> lambda;  // unset: chosen automatically
};

struct Job {
    std::string name;
    std::string profile;  // instrument profile, e.g. "sim-la30"
    Sample sample;
    double temperature_k = 0;
    double equilibrate_tolerance_k = 0.5;
    double equilibrate_timeout_s = 3600;
    double hold_s = 600;
    double pre_tension_n = 0.01;
    Cycling cycling;
    double recovery_s = 8 * 3600.0;
    Limits limits;
    AnalysisOptions analysis;
    std::string sweep_point;  // e.g. "amplitude 50 MPa" for a run expanded from a sweep
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

    bool ok() const { return errors.empty(); }
};

// Parses and validates a job file's text. Never throws on bad input: every problem found is in
// `errors`, in file order. `frame_force_limit_n` is the load frame's limit, which the job's
// own limits may lower but not raise.
JobFile parse_job(std::string_view yaml_text,
                  double frame_force_limit_n = default_frame_force_limit_n);

}  // namespace dmacycle::protocols
