#include "dmacycle/protocols/plan.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dmacycle::protocols {

std::string_view to_string(SegmentKind kind) {
    switch (kind) {
        case SegmentKind::equilibrate:
            return "equilibrate";
        case SegmentKind::hold:
            return "hold";
        case SegmentKind::pre_tension:
            return "pre_tension";
        case SegmentKind::load:
            return "load";
        case SegmentKind::cycle:
            return "cycle";
        case SegmentKind::creep:
            return "creep";
        case SegmentKind::unload:
            return "unload";
        case SegmentKind::recovery:
            return "recovery";
        case SegmentKind::dmta_scan:
            return "dmta_scan";
    }
    return "?";
}

namespace {

// Lays segments end to end from plan time 0, each at the job's temperature unless it says
// otherwise.
class Timeline {
  public:
    Timeline(const Job& job, Plan& plan) : job_(job), plan_(plan) {}

    double now_s() const { return t_s_; }

    void append(Segment segment) {
        segment.start_s = t_s_;
        segment.temperature_k = job_.temperature_k;
        t_s_ += segment.duration_s;
        plan_.segments.push_back(segment);
    }

    // A ramp that starts at or below its end in the wrong direction is skipped: σ_min at or
    // below the pre-tension stress needs no load or unload.
    void ramp(SegmentKind kind, double from_pa, double to_pa) {
        if ((kind == SegmentKind::load && to_pa <= from_pa) ||
            (kind == SegmentKind::unload && from_pa <= to_pa)) {
            return;
        }
        Segment segment{.kind = kind};
        segment.duration_s = std::abs(to_pa - from_pa) / job_.cycling.stress_rate_pa_s;
        segment.stress_start_pa = from_pa;
        segment.stress_end_pa = to_pa;
        segment.stress_rate_pa_s = job_.cycling.stress_rate_pa_s;
        append(segment);
    }

    // Heat from the start temperature (the furnace was brought there) under the pre-tension.
    void scan(const DmtaScan& dmta) {
        const double floor_pa = plan_.pre_tension_stress_pa;
        append({.kind = SegmentKind::dmta_scan,
                .duration_s = dmta.duration_s(),
                .stress_start_pa = floor_pa,
                .stress_end_pa = floor_pa,
                .force_n = job_.pre_tension_n,
                .temperature_end_k = dmta.to_k,
                .temperature_rate_k_s = dmta.rate_k_s,
                .frequencies_hz = dmta.frequencies_hz,
                .amplitude_m = dmta.amplitude_m,
                .interval_s = dmta.interval_s});
        plan_.segments.back().temperature_k = dmta.from_k;
    }

  private:
    const Job& job_;
    Plan& plan_;
    double t_s_ = 0;
};

// Reach the test temperature, let the sample settle without load, then straighten the ribbon.
void add_preparation(Timeline& timeline, const Job& job, double floor_pa) {
    Segment equilibrate{.kind = SegmentKind::equilibrate};
    equilibrate.stress_start_pa = equilibrate.stress_end_pa = 0;
    equilibrate.tolerance_k = job.equilibrate_tolerance_k;
    equilibrate.timeout_s = job.equilibrate_timeout_s;
    timeline.append(equilibrate);
    timeline.append({.kind = SegmentKind::hold, .duration_s = job.hold_s});
    timeline.append({.kind = SegmentKind::pre_tension,
                     .stress_start_pa = floor_pa,
                     .stress_end_pa = floor_pa,
                     .force_n = job.pre_tension_n});
}

// The triangles of a cycling run, starting and ending at low_pa.
void add_cycles(Timeline& timeline, Plan& plan, const Cycling& cycling, double low_pa) {
    plan.period_s = 2 * (cycling.stress_max_pa - cycling.stress_min_pa) / cycling.stress_rate_pa_s;
    // Whole cycles only, so the cycling ends at σ_min as eqs. (4)/(5) assume; the relative
    // slack keeps 8 h / 8 min at exactly 60 despite rounding. Checked in double before the
    // cast: a tiny period would overflow int (or be infinite).
    const double whole = std::floor(cycling.duration_s / plan.period_s + 1e-9);
    if (!(plan.period_s >= min_cycle_period_s) || !(whole <= static_cast<double>(max_cycles))) {
        throw std::invalid_argument(
            "cycling period " + std::to_string(plan.period_s) + " s or " + std::to_string(whole) +
            " cycles outside the plannable range (period >= " + std::to_string(min_cycle_period_s) +
            " s, at most " + std::to_string(max_cycles) + " cycles)");
    }
    plan.cycles = static_cast<int>(whole);
    plan.cycling_unused_s = std::max(0.0, cycling.duration_s - plan.cycles * plan.period_s);
    timeline.append({.kind = SegmentKind::cycle,
                     .duration_s = plan.cycles * plan.period_s,
                     .stress_start_pa = low_pa,
                     .stress_end_pa = low_pa,
                     .stress_min_pa = cycling.stress_min_pa,
                     .stress_max_pa = cycling.stress_max_pa,
                     .stress_rate_pa_s = cycling.stress_rate_pa_s,
                     .cycles = plan.cycles,
                     .period_s = plan.period_s});
}

// Load to σ_min, cycle (or creep), unload to the pre-tension.
void add_loading(Timeline& timeline, Plan& plan, const Cycling& cycling, double floor_pa) {
    const double low_pa = std::max(cycling.stress_min_pa, floor_pa);
    timeline.ramp(SegmentKind::load, floor_pa, low_pa);
    if (cycling.creep()) {
        timeline.append({.kind = SegmentKind::creep,
                         .duration_s = cycling.duration_s,
                         .stress_start_pa = low_pa,
                         .stress_end_pa = low_pa});
    } else {
        add_cycles(timeline, plan, cycling, low_pa);
    }
    timeline.ramp(SegmentKind::unload, low_pa, floor_pa);
}

// The recovery, then a chained job's scan.
void add_after_unloading(Timeline& timeline, Plan& plan, const Job& job, double floor_pa) {
    // A chained scan right after unloading (0 h) has no recovery segment.
    if (job.recovery_s > 0 || job.kind == JobKind::cycling) {
        timeline.append({.kind = SegmentKind::recovery,
                         .duration_s = job.recovery_s,
                         .stress_start_pa = floor_pa,
                         .stress_end_pa = floor_pa,
                         .force_n = job.pre_tension_n});
    }
    if (job.kind == JobKind::cycling_dmta) {
        // Cool (or heat) to the scan's start under the pre-tension; this time adds to the
        // recovery, as it does on the instrument.
        const DmtaScan& dmta = job.dmta.value();
        timeline.append({.kind = SegmentKind::equilibrate,
                         .stress_start_pa = floor_pa,
                         .stress_end_pa = floor_pa,
                         .force_n = job.pre_tension_n,
                         .tolerance_k = job.equilibrate_tolerance_k,
                         .timeout_s = job.equilibrate_timeout_s});
        plan.segments.back().temperature_k = dmta.from_k;
        plan.max_duration_s += job.equilibrate_timeout_s;
        timeline.scan(dmta);
    }
}

}  // namespace

Plan make_plan(const Job& job, double frame_force_limit_n) {
    Plan plan;
    plan.cross_section_m2 = job.sample.cross_section_m2();
    plan.pre_tension_stress_pa = job.pre_tension_n / plan.cross_section_m2;
    plan.frame_force_limit_n = frame_force_limit_n;
    plan.force_limit_n = std::min(job.limits.max_force_n, frame_force_limit_n);
    const double floor_pa = plan.pre_tension_stress_pa;
    Timeline timeline(job, plan);
    add_preparation(timeline, job, floor_pa);
    plan.max_duration_s = job.equilibrate_timeout_s;
    if (job.kind == JobKind::dmta) {
        timeline.scan(job.dmta.value());
        plan.duration_s = timeline.now_s();
        plan.max_duration_s += timeline.now_s();
        plan.peak_stress_pa = floor_pa;
        plan.peak_force_n = job.pre_tension_n;
        return plan;
    }
    add_loading(timeline, plan, job.cycling, floor_pa);
    add_after_unloading(timeline, plan, job, floor_pa);
    plan.duration_s = timeline.now_s();
    plan.max_duration_s += timeline.now_s();
    plan.peak_stress_pa = std::max(job.cycling.stress_max_pa, floor_pa);
    plan.peak_force_n = plan.peak_stress_pa * plan.cross_section_m2;
    return plan;
}

double Plan::stress_setpoint_pa(double t_s) const {
    for (const auto& segment : segments) {
        if (t_s < segment.start_s || t_s >= segment.end_s()) {
            continue;
        }
        const double into_s = t_s - segment.start_s;
        switch (segment.kind) {
            case SegmentKind::load:
            case SegmentKind::unload: {
                const double step_pa = segment.stress_rate_pa_s * into_s;
                return segment.kind == SegmentKind::load ? segment.stress_start_pa + step_pa
                                                         : segment.stress_start_pa - step_pa;
            }
            case SegmentKind::cycle: {
                const double phase_s = std::fmod(into_s, segment.period_s);
                const double half_s = segment.period_s / 2;
                const double nominal_pa =
                    phase_s < half_s
                        ? segment.stress_min_pa + segment.stress_rate_pa_s * phase_s
                        : segment.stress_max_pa - segment.stress_rate_pa_s * (phase_s - half_s);
                return std::max(nominal_pa, pre_tension_stress_pa);
            }
            case SegmentKind::creep:
                return segment.stress_start_pa;
            default:
                return pre_tension_stress_pa;
        }
    }
    return pre_tension_stress_pa;
}

}  // namespace dmacycle::protocols
