#include "job_sweeps.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "dmacycle/protocols/plan.hpp"

// Runs from a job's sections: sweep points and recovery times become runs of their own, each
// on a fresh sample whose id names the point.
namespace dmacycle::protocols::detail {
namespace {

// "8h", "30min", "90s": a recovery time in a run's sample id.
std::string duration_label(double s) {
    if (s == 0 || std::fmod(s, 3600) == 0) {
        return number_text(s / 3600) + "h";
    }
    return std::fmod(s, 60) == 0 ? number_text(s / 60) + "min" : number_text(s) + "s";
}

// Cross-field checks of one resolved run: force and stress limits, at least one whole cycle.
void check_run(Reader& reader, const Job& job, const CyclingPoint& point,
               const CyclingSection& section, double frame_force_limit_n,
               const LimitSources& limit_sources) {
    const double area_m2 = job.sample.cross_section_m2();
    const double peak_force_n = std::max(point.stress_max_pa * area_m2, job.pre_tension_n);
    const bool own_limit = job.limits.max_force_n < frame_force_limit_n;
    const double limit_n = std::min(job.limits.max_force_n, frame_force_limit_n);
    // The relative slack absorbs rounding: 500 MPa on 1.2 mm × 30 µm is exactly 18 N.
    if (peak_force_n > limit_n * (1 + 1e-9)) {
        reader.error(point.peak_source.mark, point.peak_source.path,
                     "peak force " + number_text(peak_force_n) + " N (" + mpa(point.stress_max_pa) +
                         " MPa on " + format_quantity(job.sample.width_m, "mm", Dimension::length) +
                         " × " + format_quantity(job.sample.thickness_m, "µm", Dimension::length) +
                         ") exceeds " +
                         (own_limit ? "limits.max_force (line " +
                                          std::to_string(limit_sources.force.mark.line + 1) + ") "
                                    : "the frame limit ") +
                         number_text(limit_n) + " N (allowed range 0 MPa … " +
                         mpa(limit_n / area_m2) + " MPa)");
    }
    if (job.limits.max_stress_pa && point.stress_max_pa > *job.limits.max_stress_pa) {
        reader.error(point.peak_source.mark, point.peak_source.path,
                     "peak stress " + mpa(point.stress_max_pa) +
                         " MPa exceeds limits.max_stress (line " +
                         std::to_string(limit_sources.stress.mark.line + 1) + ") " +
                         mpa(*job.limits.max_stress_pa) + " MPa");
    }
    if (point.spread_pa > 0) {
        const double period_s = 2 * point.spread_pa / point.stress_rate_pa_s;
        if (!(period_s >= min_cycle_period_s)) {
            reader.error(point.period_source.mark, point.period_source.path,
                         "a triangle of σ_max − σ_min = " + mpa(point.spread_pa) + " MPa at " +
                             number_text(point.stress_rate_pa_s * 60 / 1e6) +
                             " MPa/min has a period of " + number_text(period_s) +
                             " s, shorter than the " + number_text(min_cycle_period_s) +
                             " s a 10 Hz acquisition resolves (allowed range: σ_max − σ_min ≥ " +
                             mpa(point.stress_rate_pa_s * min_cycle_period_s / 2) +
                             " MPa at this rate, or 0 for creep)");
        } else if (section.duration_s < period_s) {
            reader.error(section.duration_source.mark, section.duration_source.path,
                         format_quantity(section.duration_s, "min", Dimension::time) +
                             " is shorter than one cycle of " +
                             format_quantity(period_s, "min", Dimension::time) + " (" +
                             point.label + " MPa)");
        }
    }
}

// A run's sample id and name carry its point's label and must still fit file names.
void check_name_length(Reader& reader, const Job& run, const Source& where) {
    if (run.sample.id.size() > max_name_length || run.name.size() > max_name_length) {
        reader.error(where.mark, where.path,
                     "the run's sample id " + run.sample.id + " or name " + run.name + " exceeds " +
                         std::to_string(max_name_length) +
                         " characters: shorten sample.id or name");
    }
}

// `job` cycling as `point` of its cycling section says.
Job cycling_run(const Job& job, const CyclingSection& cycling, const CyclingPoint& point) {
    Job run = job;
    run.cycling = {cycling.mode, point.stress_min_pa, point.stress_max_pa, point.stress_rate_pa_s,
                   cycling.duration_s};
    return run;
}

// A chained scan: one run per recovery time, each on a fresh sample. A scan to 450 K anneals
// the ribbon (and passes T_g), so it cannot be recovered further and scanned again.
void add_recovery_times(Reader& reader, const Job& job, const CyclingSection& cycling,
                        const DmtaSection& dmta, double frame_force_limit_n,
                        const LimitSources& limit_sources, JobFile& file) {
    const Swept after =
        dmta.after_recovery.value_or(Swept{{0.0, 8 * 3600.0}, {dmta.source, dmta.source}});
    const CyclingPoint& point = cycling.points.front();
    file.sweep = after.values_si.size() > 1;
    std::set<std::string> labels;
    for (std::size_t i = 0; i < after.values_si.size(); ++i) {
        Job run = cycling_run(job, cycling, point);
        run.recovery_s = after.values_si[i];
        run.dmta = dmta.scan;
        // Appended: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
        const std::string label = std::string("r").append(duration_label(run.recovery_s));
        run.name += "-" + label;
        run.sample.id += "-" + label;
        run.sweep_point = "recovery " + format_quantity(run.recovery_s, "h", Dimension::time);
        const Source& where = after.sources[i];
        if (!labels.insert(label).second) {
            reader.error(where.mark, where.path,
                         "repeats the recovery time " + label.substr(1) +
                             ": each scan needs its own sample id");
        }
        check_name_length(reader, run, where);
        check_run(reader, run, point, cycling, frame_force_limit_n, limit_sources);
        file.runs.push_back(std::move(run));
    }
}

// A cycling job: one run, or one per sweep point.
void add_sweep_points(Reader& reader, const Job& job, const CyclingSection& cycling,
                      double frame_force_limit_n, const LimitSources& limit_sources,
                      JobFile& file) {
    file.sweep = cycling.sweep;
    std::set<std::string> labels;
    for (const auto& point : cycling.points) {
        Job run = cycling_run(job, cycling, point);
        if (file.sweep) {
            run.name += "-" + point.label;
            run.sample.id += "-" + point.label;
            run.sweep_point = point.sweep_point;
            // Each point is a fresh sample stored under its id: two points printing the same
            // (e.g. 50 and 50.0000001 MPa) would mix two samples' data under one id.
            if (!labels.insert(point.label).second) {
                reader.error(point.period_source.mark, point.period_source.path,
                             "repeats the sweep point " + point.label +
                                 ": each point needs its own sample id");
            }
            check_name_length(reader, run, point.period_source);
        }
        check_run(reader, run, point, cycling, frame_force_limit_n, limit_sources);
        file.runs.push_back(std::move(run));
    }
}

}  // namespace

void expand_runs(Reader& reader, Job job, const std::optional<CyclingSection>& cycling,
                 const std::optional<DmtaSection>& dmta, double frame_force_limit_n,
                 const LimitSources& limit_sources, JobFile& file) {
    if (job.kind == JobKind::dmta) {
        job.temperature_k = dmta->scan.from_k;
        job.dmta = dmta->scan;
        file.runs.push_back(std::move(job));
    } else if (job.kind == JobKind::cycling_dmta) {
        add_recovery_times(reader, job, *cycling, *dmta, frame_force_limit_n, limit_sources, file);
    } else {
        add_sweep_points(reader, job, *cycling, frame_force_limit_n, limit_sources, file);
    }
}

}  // namespace dmacycle::protocols::detail
