#include "dmacycle/protocols/job.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>

#include "job_ranges.hpp"
#include "job_reader.hpp"
#include "job_sections.hpp"
#include "job_sweeps.hpp"

// A job file as a whole: its YAML documents, the top-level keys, and the order in which the
// sections are read (job_sections.hpp) and expanded into runs (job_sweeps.hpp).
namespace dmacycle::protocols {
namespace detail {
namespace {

// The name and profile keys. A profile the resolver finds replaces `frame_force_limit_n` with
// its frame's limit and is returned for the DMTA checks; one it cannot find is an error.
std::optional<ProfileLimit> read_name_and_profile(Reader& reader, const std::vector<Entry>& entries,
                                                  const YAML::Node& root,
                                                  const ProfileResolver* resolve_profile, Job& job,
                                                  double& frame_force_limit_n) {
    std::optional<ProfileLimit> profile_limits;
    if (const Entry* name = Reader::find(entries, "name")) {
        job.name = reader.name(*name).value_or("");
    }
    if (const Entry* profile = Reader::find(entries, "profile")) {
        job.profile = reader.name(*profile).value_or("");
        if (resolve_profile != nullptr && !job.profile.empty()) {
            const auto found = (*resolve_profile)(job.profile);
            if (found.force_max_n) {
                frame_force_limit_n = *found.force_max_n;
                profile_limits = found;
            } else {
                reader.error(Reader::mark_of(*profile), profile->path, found.problem);
            }
        }
    } else {
        reader.missing(root.Mark(), "profile", "the instrument profile, e.g. sim-la30");
    }
    return profile_limits;
}

// The test conditions: temperature, equilibration, hold, pre-tension and recovery. Returns
// where the equilibration tolerance was set, if it was.
std::optional<Source> read_conditions(Reader& reader, const std::vector<Entry>& entries,
                                      const YAML::Node& root, Job& job) {
    // An as-cast scan has no test temperature and no recovery: it starts at dmta.from; a
    // chained scan's recovery times are dmta.after_recovery.
    for (const std::string_view key : {"temperature", "recovery"}) {
        const Entry* const unused = Reader::find(entries, key);
        if (unused != nullptr && (job.kind == JobKind::dmta ||
                                  (job.kind == JobKind::cycling_dmta && key == "recovery"))) {
            reader.error(unused->key.Mark(), unused->path,
                         job.kind == JobKind::dmta
                             ? "not used by an as-cast DMTA scan (no cycling section): it starts "
                               "at dmta.from; remove it"
                             : "a chained DMTA job recovers for each of dmta.after_recovery "
                               "before its scan; remove it");
        }
    }
    if (job.kind != JobKind::dmta) {
        if (const auto value =
                reader.required(entries, root.Mark(), "", "temperature", temperature_range,
                                "the test temperature, e.g. 365 K")) {
            job.temperature_k = *value;
        }
    }
    std::optional<Source> tolerance_source;
    if (const Entry* equilibrate = Reader::find(entries, "equilibrate")) {
        tolerance_source = read_equilibrate(reader, *equilibrate, job);
    }
    job.hold_s = reader.quantity_or(entries, "hold", hold_range, job.hold_s);
    job.pre_tension_n =
        reader.quantity_or(entries, "pre_tension", pre_tension_range, job.pre_tension_n);
    if (job.kind == JobKind::cycling) {
        job.recovery_s =
            reader.quantity_or(entries, "recovery", run_duration_range, job.recovery_s);
    }
    return tolerance_source;
}

// The limits section, and the equilibration tolerance within its temperature band.
LimitSources read_job_limits(Reader& reader, const std::vector<Entry>& entries,
                             double frame_force_limit_n,
                             const std::optional<Source>& tolerance_source, Job& job) {
    LimitSources limit_sources;
    Source band_source{YAML::Mark{}, "limits.temperature_band"};
    if (const Entry* limits = Reader::find(entries, "limits")) {
        read_limits(reader, *limits, frame_force_limit_n, job.limits, limit_sources);
        band_source = Source{limits->key.Mark(), "limits.temperature_band"};
    }
    // Equilibrated must mean inside the band (the default one too), or the interlock trips as
    // the hold starts.
    if (job.equilibrate_tolerance_k > job.limits.temperature_band_k) {
        const Source where = tolerance_source.value_or(band_source);
        reader.error(where.mark, where.path,
                     "the equilibration tolerance ± " + number_text(job.equilibrate_tolerance_k) +
                         " K is wider than limits.temperature_band ± " +
                         number_text(job.limits.temperature_band_k) +
                         " K (allowed range 0.05 K … the band)");
    }
    return limit_sources;
}

// What a scan cannot be combined with: recovery times without a cycling section to recover
// from, and a cycling sweep.
void check_scan_combination(Reader& reader, JobKind kind,
                            const std::optional<CyclingSection>& cycling,
                            const std::optional<DmtaSection>& dmta) {
    if (dmta && dmta->after_recovery && kind == JobKind::dmta) {
        reader.error(dmta->after_recovery_source.mark, dmta->after_recovery_source.path,
                     "recovery times need a cycling section to recover from (an as-cast scan "
                     "has none)");
    }
    if (dmta && cycling && cycling->sweep) {
        reader.error(dmta->source.mark, dmta->source.path,
                     "a chained DMTA job takes one cycling run, not a sweep (each recovery time "
                     "is already a run on its own sample)");
    }
}

// The sample rate, within the frame's fastest stream when the profile states it.
void read_sample_rate(Reader& reader, const std::vector<Entry>& entries,
                      const std::optional<ProfileLimit>& profile, Job& job) {
    const Entry* const entry = Reader::find(entries, "sample_rate");
    if (entry == nullptr) {
        return;
    }
    job.sample_rate_hz = reader.quantity(*entry, sample_rate_range);
    if (job.sample_rate_hz && profile && profile->stream_rate_max_hz &&
        *job.sample_rate_hz > *profile->stream_rate_max_hz) {
        reader.error(Reader::mark_of(*entry), entry->path,
                     number_text(*job.sample_rate_hz) +
                         " Hz is faster than the frame can stream (allowed range 0.001 Hz … " +
                         number_text(*profile->stream_rate_max_hz) + " Hz, " +
                         profile->stream_rate_limit_by + ")");
    }
}

// Reads every key and section, reporting all problems; expands the job into runs only when
// there were none.
JobFile read_job(Reader& reader, const YAML::Node& root, double frame_force_limit_n,
                 const ProfileResolver* resolve_profile) {
    JobFile file;
    const auto entries = reader.mapping(
        root, YAML::Mark{}, "",
        {"name", "profile", "sample", "temperature", "equilibrate", "hold", "pre_tension",
         "sample_rate", "cycling", "recovery", "dmta", "limits", "analysis"},
        "a job: a mapping");
    if (!root.IsMap()) {
        return file;
    }
    Job job;
    const Entry* const dmta_entry = Reader::find(entries, "dmta");
    const Entry* const cycling_entry = Reader::find(entries, "cycling");
    job.kind = dmta_entry == nullptr      ? JobKind::cycling
               : cycling_entry == nullptr ? JobKind::dmta
                                          : JobKind::cycling_dmta;
    const std::optional<ProfileLimit> profile_limits =
        read_name_and_profile(reader, entries, root, resolve_profile, job, frame_force_limit_n);
    if (const Entry* sample = Reader::find(entries, "sample")) {
        read_sample(reader, *sample, job.sample);
    } else {
        reader.missing(root.Mark(), "sample",
                       "id, composition, density, width, thickness, "
                       "gauge_length");
    }
    const std::optional<Source> tolerance_source = read_conditions(reader, entries, root, job);
    read_sample_rate(reader, entries, profile_limits, job);
    const LimitSources limit_sources =
        read_job_limits(reader, entries, frame_force_limit_n, tolerance_source, job);
    if (const Entry* analysis = Reader::find(entries, "analysis")) {
        read_analysis(reader, *analysis, job.analysis);
    }
    std::optional<CyclingSection> cycling;
    if (cycling_entry != nullptr) {
        cycling = read_cycling(reader, *cycling_entry);
    } else if (dmta_entry == nullptr) {
        reader.missing(root.Mark(), "cycling",
                       "mode and its parameters; or a dmta section for an as-cast DMTA scan");
    }
    std::optional<DmtaSection> dmta;
    if (dmta_entry != nullptr) {
        dmta = read_dmta(reader, *dmta_entry, profile_limits);
    }
    file.frame_force_limit_n = frame_force_limit_n;
    file.kind = job.kind;
    if (job.name.empty()) {
        job.name = job.sample.id;
    }
    check_scan_combination(reader, job.kind, cycling, dmta);
    if (!reader.errors.empty() || (dmta_entry != nullptr && !dmta) ||
        (cycling_entry != nullptr && !cycling)) {
        return file;
    }
    expand_runs(reader, std::move(job), cycling, dmta, frame_force_limit_n, limit_sources, file);
    return file;
}

// The start of each document, without building nodes.
class DocumentStarts final : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// yaml-cpp 0.7 (Debian 12) does not consume a ',' outside brackets: every further document
// starts on it, empty, and YAML::LoadAll never returns while its memory grows
// (jbeder/yaml-cpp#1040). Found by tests/fuzz/job_file. Throws a syntax error at such a
// character instead.
void refuse_stalled_parse(const std::string& text) {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts documents;
    while (parser.HandleNextDocument(documents)) {
        const auto& starts = documents.starts;
        if (starts.size() >= 2 && starts.back().pos == starts[starts.size() - 2].pos) {
            const auto at = static_cast<std::size_t>(starts.back().pos);
            throw YAML::ParserException(
                starts.back(), at < text.size() ? "unexpected '" + std::string(1, text[at]) + "'"
                                                : "unexpected end");
        }
    }
}

JobFile parse(std::string_view yaml_text, double frame_force_limit_n,
              const ProfileResolver* resolve_profile) {
    Reader reader;
    JobFile file;
    file.frame_force_limit_n = frame_force_limit_n;
    try {
        const std::string text(yaml_text);
        refuse_stalled_parse(text);
        // All documents, so that a second one ("---" and more) is refused, not silently ignored.
        const auto documents = YAML::LoadAll(text);
        const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
        if (documents.size() > 1) {
            reader.error(documents[1].Mark(), "",
                         "a second YAML document: a job file holds one job (remove the '---' "
                         "and what follows, or use a sweep)");
        } else if (!root || root.IsNull()) {
            reader.error(YAML::Mark{}, "", "empty job file: expected a job (a mapping)");
        } else {
            file = read_job(reader, root, frame_force_limit_n, resolve_profile);
        }
    } catch (const YAML::Exception& error) {
        reader.error(error.mark, "", "YAML syntax error: " + error.msg);
    }
    // A problem shared by every sweep point (e.g. a too short duration) is reported once.
    std::vector<Diagnostic> unique;
    for (auto& diagnostic : reader.errors) {
        const bool seen = std::any_of(unique.begin(), unique.end(), [&](const Diagnostic& other) {
            return other.line == diagnostic.line && other.column == diagnostic.column &&
                   other.message == diagnostic.message;
        });
        if (!seen) {
            unique.push_back(std::move(diagnostic));
        }
    }
    std::stable_sort(unique.begin(), unique.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    file.errors = std::move(unique);
    if (!file.ok()) {
        file.runs.clear();
    }
    return file;
}

}  // namespace
}  // namespace detail

JobFile parse_job(std::string_view yaml_text, double frame_force_limit_n) {
    return detail::parse(yaml_text, frame_force_limit_n, nullptr);
}

JobFile parse_job(std::string_view yaml_text, const ProfileResolver& resolve_profile) {
    return detail::parse(yaml_text, default_frame_force_limit_n, &resolve_profile);
}

const Job* run_of_sample(const JobFile& file, std::string_view sample_id) {
    for (const auto& run : file.runs) {
        if (run.sample.id == sample_id) {
            return &run;
        }
    }
    return file.runs.empty() ? nullptr : &file.runs.front();
}

std::string_view to_string(JobKind kind) {
    switch (kind) {
        case JobKind::cycling:
            return "cycling";
        case JobKind::dmta:
            return "dmta";
        case JobKind::cycling_dmta:
            return "cycling_dmta";
    }
    return "?";
}

std::string_view to_string(Mode mode) {
    switch (mode) {
        case Mode::amplitude:
            return "amplitude";
        case Mode::stress_rate:
            return "stress_rate";
        case Mode::mean_stress:
            return "mean_stress";
        case Mode::custom:
            return "custom";
    }
    return "?";
}

std::string Diagnostic::to_string(std::string_view file) const {
    std::string text(file);
    // Appended: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
    text.append(":").append(std::to_string(line)).append(":").append(std::to_string(column));
    text += ": ";
    if (!field.empty()) {
        text += field + ": ";
    }
    text += message;
    // One problem, one line: control characters quoted from the file (a multi-line scalar,
    // binary junk) would break that.
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c >= 0 && c < ' '; }, '?');
    return text;
}

}  // namespace dmacycle::protocols
