#pragma once
#include <string_view>
#include <vector>

#include "dmacycle/protocols/job.hpp"

// The segment plan of one run: what the runner will command, in order, with exact timing.
namespace dmacycle::protocols {

// The shortest triangle period a job may ask for. Acquisition runs at 10 Hz: a 10 s period gives
// 100 samples per cycle, 50 per ramp, so each turning point is located within 1 % of the cycle
// and the per-cycle bookkeeping (strain min/max) sees the peak. Shorter periods also approach
// what a DMA frame's force loop can follow at full stress amplitude.
inline constexpr double min_cycle_period_s = 10.0;
// The most cycles one run may plan; 168 h (the longest duration) at the shortest period is
// 60,480, so a valid job never reaches it. make_plan refuses more rather than overflow.
inline constexpr long long max_cycles = 100'000;

enum class SegmentKind {
    equilibrate,  // bring the furnace to the test temperature; ends when within tolerance
    hold,         // isothermal hold without load, so the sample reaches thermal equilibrium
    pre_tension,  // apply the pre-tension force that keeps the ribbon straight
    load,         // ramp from the pre-tension stress to σ_min (or to σ for creep)
    cycle,        // triangle σ_min → σ_max → σ_min at the stress rate, whole cycles
    creep,        // constant σ (σ_min = σ_max)
    unload,       // ramp from σ_min back to the pre-tension stress
    recovery,     // hold the pre-tension force and record the strain recovery
    dmta_scan,    // heat at a constant rate under the pre-tension, measuring E′, E″, tan δ
};
std::string_view to_string(SegmentKind kind);

struct Segment {
    SegmentKind kind = SegmentKind::hold;
    // Times from the end of equilibration (whose length is not known in advance): the hold
    // starts at 0. Equilibrate itself has start 0 and duration 0; timeout_s bounds it. A chained
    // DMTA scan's own equilibration (after the recovery) is planned at 0 s the same way.
    double start_s = 0;
    double duration_s = 0;
    double temperature_k = 0;
    double stress_start_pa = 0;  // commanded stress at the segment's start and end
    double stress_end_pa = 0;
    double stress_min_pa = 0;  // cycle: the triangle's turning points
    double stress_max_pa = 0;
    double stress_rate_pa_s = 0;  // load, cycle, unload
    double force_n = 0;           // pre_tension, recovery: the force setpoint
    int cycles = 0;               // cycle
    double period_s = 0;          // cycle
    double tolerance_k = 0;       // equilibrate
    double timeout_s = 0;         // equilibrate
    // dmta_scan: from temperature_k to temperature_end_k at temperature_rate_k_s, one
    // measurement every interval_s, each at the next of frequencies_hz in turn.
    double temperature_end_k = 0;
    double temperature_rate_k_s = 0;
    std::vector<double> frequencies_hz{};
    double amplitude_m = 0;
    double interval_s = 0;

    double end_s() const { return start_s + duration_s; }
};

struct Plan {
    std::vector<Segment> segments;
    double cross_section_m2 = 0;
    double pre_tension_stress_pa = 0;  // the frame never commands less than this
    int cycles = 0;                    // 0 for creep
    double period_s = 0;               // 0 for creep
    double cycling_unused_s = 0;       // part of the requested duration too short for a whole cycle
    double duration_s = 0;      // from the start of the hold to the end of the recovery or scan
    double max_duration_s = 0;  // plus the equilibration timeouts
    double peak_stress_pa = 0;
    double peak_force_n = 0;
    double force_limit_n = 0;  // the job's limit (≤ the frame's)
    double frame_force_limit_n = 0;

    // The stress setpoint at time t_s (plan time), for load/cycle/creep/unload segments; the
    // pre-tension stress elsewhere. Never below the pre-tension stress: a ribbon in tension
    // cannot be driven to zero force without going slack, so σ_min = 0 means "the pre-tension".
    double stress_setpoint_pa(double t_s) const;
};

// The plan of a valid job (as returned by parse_job). Throws std::invalid_argument for a
// triangle whose period is below min_cycle_period_s or that would exceed max_cycles (a Job
// built by hand without parse_job's checks).
Plan make_plan(const Job& job, double frame_force_limit_n = default_frame_force_limit_n);

}  // namespace dmacycle::protocols
