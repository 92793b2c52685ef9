#include "dmacycle/protocols/plan.hpp"

#include <algorithm>
#include <cmath>

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
    }
    return "?";
}

Plan make_plan(const Job& job, double frame_force_limit_n) {
    Plan plan;
    plan.cross_section_m2 = job.sample.cross_section_m2();
    plan.pre_tension_stress_pa = job.pre_tension_n / plan.cross_section_m2;
    plan.frame_force_limit_n = frame_force_limit_n;
    plan.force_limit_n = std::min(job.limits.max_force_n, frame_force_limit_n);
    const auto& cycling = job.cycling;
    const double floor_pa = plan.pre_tension_stress_pa;
    double t_s = 0;
    const auto append = [&](Segment segment) {
        segment.start_s = t_s;
        segment.temperature_k = job.temperature_k;
        t_s += segment.duration_s;
        plan.segments.push_back(segment);
    };
    const auto ramp = [&](SegmentKind kind, double from_pa, double to_pa) {
        // A ramp that starts at or below its end in the wrong direction is skipped: σ_min at or
        // below the pre-tension stress needs no load or unload.
        if ((kind == SegmentKind::load && to_pa <= from_pa) ||
            (kind == SegmentKind::unload && from_pa <= to_pa)) {
            return;
        }
        Segment segment{.kind = kind};
        segment.duration_s = std::abs(to_pa - from_pa) / cycling.stress_rate_pa_s;
        segment.stress_start_pa = from_pa;
        segment.stress_end_pa = to_pa;
        segment.stress_rate_pa_s = cycling.stress_rate_pa_s;
        append(segment);
    };

    Segment equilibrate{.kind = SegmentKind::equilibrate};
    equilibrate.stress_start_pa = equilibrate.stress_end_pa = 0;
    equilibrate.tolerance_k = job.equilibrate_tolerance_k;
    equilibrate.timeout_s = job.equilibrate_timeout_s;
    append(equilibrate);
    append({.kind = SegmentKind::hold, .duration_s = job.hold_s});
    append({.kind = SegmentKind::pre_tension,
            .stress_start_pa = floor_pa,
            .stress_end_pa = floor_pa,
            .force_n = job.pre_tension_n});

    const double low_pa = std::max(cycling.stress_min_pa, floor_pa);
    ramp(SegmentKind::load, floor_pa, low_pa);
    if (cycling.creep()) {
        append({.kind = SegmentKind::creep,
                .duration_s = cycling.duration_s,
                .stress_start_pa = low_pa,
                .stress_end_pa = low_pa});
    } else {
        plan.period_s =
            2 * (cycling.stress_max_pa - cycling.stress_min_pa) / cycling.stress_rate_pa_s;
        // Whole cycles only, so the cycling ends at σ_min as eqs. (4)/(5) assume; the relative
        // slack keeps 8 h / 8 min at exactly 60 despite rounding.
        plan.cycles = static_cast<int>(std::floor(cycling.duration_s / plan.period_s + 1e-9));
        plan.cycling_unused_s = std::max(0.0, cycling.duration_s - plan.cycles * plan.period_s);
        append({.kind = SegmentKind::cycle,
                .duration_s = plan.cycles * plan.period_s,
                .stress_start_pa = low_pa,
                .stress_end_pa = low_pa,
                .stress_min_pa = cycling.stress_min_pa,
                .stress_max_pa = cycling.stress_max_pa,
                .stress_rate_pa_s = cycling.stress_rate_pa_s,
                .cycles = plan.cycles,
                .period_s = plan.period_s});
    }
    ramp(SegmentKind::unload, low_pa, floor_pa);
    append({.kind = SegmentKind::recovery,
            .duration_s = job.recovery_s,
            .stress_start_pa = floor_pa,
            .stress_end_pa = floor_pa,
            .force_n = job.pre_tension_n});

    plan.duration_s = t_s;
    plan.max_duration_s = t_s + job.equilibrate_timeout_s;
    plan.peak_stress_pa = std::max(cycling.stress_max_pa, floor_pa);
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
