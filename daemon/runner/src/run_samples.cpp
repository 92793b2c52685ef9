#include "run.hpp"

#include "dmacycle/store/sample_codec.hpp"

namespace dmacycle::runner::detail {

double Run::pause_setpoint_pa(const Pause& pause, double t_s) const {
    const double rate = cycling_->stress_rate_pa_s;
    if (pause.cut_s && t_s >= *pause.cut_s) {
        const double span_s = pause.until_s - *pause.cut_s;
        const double done = span_s > 0 ? std::min(1.0, (t_s - *pause.cut_s) / span_s) : 1.0;
        return pause.cut_pa + (pause.boundary_pa - pause.cut_pa) * done;
    }
    const double moved_pa = std::max(0.0, t_s - pause.from_s) * rate;
    return pause.creep_pa >= pause.boundary_pa
               ? std::min(pause.creep_pa, pause.boundary_pa + moved_pa)
               : std::max(pause.creep_pa, pause.boundary_pa - moved_pa);
}

const protocols::Segment* Run::segment_at(double plan_t_s) const {
    for (const auto& segment : plan_.segments) {
        if (segment.duration_s > 0 && plan_t_s >= segment.start_s && plan_t_s < segment.end_s()) {
            return &segment;
        }
    }
    return nullptr;
}

// One sample, in order: its row, where it stands in the plan, the interlocks, the analysis's
// share, the store, the progress.
void Run::on_sample(const drv::FrameSample& sample) {
    refresh_settle_furnace(sample.value.t_s);
    std::lock_guard lock(mutex_);
    const double t_s = sample.value.t_s;
    store::SampleRow row = make_row_locked(sample);
    bool paused = false;
    const double plan_t_s = plan_time_locked(t_s, paused);
    const protocols::Segment* segment = tag_segment_locked(row, plan_t_s, paused, t_s);
    if (paused && !latched_) {
        close_cycle_locked();  // the boundary completed it
    }
    if (segment != current_segment_ && program_started_ && plan_t_s >= 0 && !latched_ && !paused) {
        change_segment_locked(segment, row);
    }
    segment_min_k_ = std::min(segment_min_k_, row.temperature_k);
    segment_max_k_ = std::max(segment_max_k_, row.temperature_k);
    check_sample_locked(row, segment, plan_t_s, paused, t_s);
    if (scan_due_locked()) {
        changed_.notify_all();
    }
    sync_hold_locked();
    // Past the plan's end the run is over: what the stream still sends while it stops (at
    // --speed max, while the fits run) has been judged by the interlocks above, and is counted,
    // not stored (docs/runner.md).
    if (row.segment == "after_plan") {
        ++after_plan_;
        return;
    }
    if (segment != nullptr && !latched_) {
        keep_for_analysis_locked(*segment, plan_t_s, row);
    }
    try {
        store_.append(run_id_, row);
    } catch (const store::StoreError& error) {
        latch_locked(row.t_s, std::string("store: ") + error.what());
        return;
    }
    // As `analyze --db --run` will read it: the stored row, whatever the plan made of it.
    data_.recovery.add(row.t_s, row.segment, row.stress_pa, row.strain);
    ++samples_;
    last_seq_ = row.seq;
    if (options_.control != nullptr) {
        report_progress_locked(row, plan_t_s, paused, false);
    }
}

namespace {

// t_s - t_first, computed in whole µs when both are (the frame's 6 decimals): the difference is
// then itself whole µs, which the store keeps in 0-1 byte instead of an 8-byte REAL, and differs
// from the double subtraction by less than 1e-9 s.
double since_first(double t_s, double t_first) {
    const auto ticks = store::codec::whole_us(t_s), first = store::codec::whole_us(t_first);
    if (ticks && first) {
        return static_cast<double>(*ticks - *first) / 1e6;
    }
    return t_s - t_first;
}

}  // namespace

store::SampleRow Run::make_row_locked(const drv::FrameSample& sample) {
    const auto& m = sample.value;
    if (!have_first_) {
        have_first_ = true;
        t_first_ = m.t_s;
        first_seq_ = static_cast<std::int64_t>(sample.seq);
    }
    latest_t_s_ = m.t_s;
    if (settling_) {
        if (const auto furnace_k = settle_furnace_k_locked(m.t_s)) {
            settle_window_.add(m.t_s, *furnace_k, m.temperature_k);
        }
        changed_.notify_all();  // the equilibration judges each sample as it comes
    }
    store::SampleRow row;
    row.seq = static_cast<std::int64_t>(sample.seq);
    row.t_s = since_first(m.t_s, t_first_);
    row.t_wall = store::WallClock::now();
    row.temperature_k = m.temperature_k;
    row.force_n = m.force_n;
    row.displacement_m = m.displacement_m;
    row.stress_pa = m.force_n / plan_.cross_section_m2;
    row.strain = m.displacement_m / job_.sample.gauge_length_m;
    last_run_t_s_ = row.t_s;
    return row;
}

std::optional<double> Run::settle_furnace_k_locked(double t_s) {
    if (const auto reading = furnace_link_->latest();
        reading && reading->second > settle_furnace_read_) {
        settle_furnace_k_ = reading->first.temperature_k;
        settle_furnace_read_ = reading->second;
        settle_furnace_t_s_ = t_s;
    }
    return settle_furnace_k_;
}

void Run::refresh_settle_furnace(double t_s) {
    {
        std::lock_guard lock(mutex_);
        if (!settling_ || !settle_furnace_k_ ||
            t_s - settle_furnace_t_s_ <= settle_furnace_step_s()) {
            return;
        }
    }
    // Not under mutex_: the furnace's supervisor reports its events under its device's lock.
    drv::FurnaceReading reading;
    try {
        reading = furnace_->with_device([&] { return furnace_link_->driver().read(); });
    } catch (const drv::DriverError&) {
        return;  // its supervisor reconnects; a link that stays down ends the run as stale
    }
    std::lock_guard lock(mutex_);
    settle_furnace_k_ = reading.temperature_k;
    settle_furnace_read_ = drv::Clock::now();
    settle_furnace_t_s_ = t_s;
}

// At the instrument clock's resolution, so a sample due exactly at a segment's boundary belongs
// to the segment starting there, not to whichever side rounding puts it.
double Run::plan_time_locked(double t_s, bool& paused) {
    const auto to_plan_time = [&] {
        return std::round((t_s - program_start_s_ - paused_s_) * instrument_ticks_per_s) /
               instrument_ticks_per_s;
    };
    double plan_t_s = to_plan_time();
    if (pause_ && program_started_ && plan_t_s >= pause_->boundary_plan_s) {
        if (pause_->cut_s && std::round((t_s - pause_->until_s) * instrument_ticks_per_s) >= 0) {
            // The wave goes on from the boundary: plan time as if there had been no pause.
            paused_s_ += pause_->until_s - pause_->from_s;
            pause_.reset();
            plan_t_s = to_plan_time();
        } else {
            paused = true;
        }
    }
    return plan_t_s;
}

// Sets row.segment; returns the plan's segment the sample belongs to (null outside the plan, in
// a pause or the safe state).
const protocols::Segment* Run::tag_segment_locked(store::SampleRow& row, double plan_t_s,
                                                  bool paused, double t_s) {
    const protocols::Segment* segment = nullptr;
    if (latched_) {
        row.segment = "safe_state";
    } else if (paused) {
        row.segment = "paused";
    } else if (!program_started_ || plan_t_s < 0) {
        row.segment = "equilibrate";
    } else if (reequilibrate_ != nullptr && !reequilibrated_ &&
               plan_t_s >= reequilibrate_->start_s) {
        if (!reequilibrate_from_s_) {
            reequilibrate_from_s_ = t_s;
            start_settling_locked();
            changed_.notify_all();
        }
        segment = reequilibrate_;
        row.segment = "equilibrate";
    } else if (plan_t_s >= plan_.duration_s) {
        row.segment = "after_plan";
    } else {
        segment = segment_at(plan_t_s);
        row.segment = segment != nullptr ? std::string(to_string(segment->kind)) : "after_plan";
    }
    return segment;
}

void Run::change_segment_locked(const protocols::Segment* segment, const store::SampleRow& row) {
    if (current_segment_ != nullptr) {
        if (current_segment_->kind == SegmentKind::cycle) {
            close_cycle_locked();
        }
        // The record that the temperature stayed in the band (the interlock enforces it).
        event_locked(run_time_locked(current_segment_->end_s()), "segment",
                     std::string(to_string(current_segment_->kind)) + " ended: temperature " +
                         fixed(segment_min_k_, 2) + "-" + fixed(segment_max_k_, 2) + " K");
    }
    segment_min_k_ = segment_max_k_ = row.temperature_k;
    if (current_segment_ != nullptr && current_segment_->kind == SegmentKind::hold) {
        event_locked(run_time_locked(current_segment_->end_s()), "segment",
                     "pre_tension " + fixed(job_.pre_tension_n, 4) + " N (" +
                         fixed(plan_.pre_tension_stress_pa / 1e6, 3) + " MPa)");
    }
    if (segment != nullptr) {
        event_locked(run_time_locked(segment->start_s), "segment",
                     std::string(to_string(segment->kind)) + " started");
    } else if (current_segment_ != nullptr) {
        changed_.notify_all();  // the plan's end
    }
    current_segment_ = segment;
}

// What the interlocks judge the sample against: the commanded stress when the frame follows
// one, and the temperature band where the segment holds the temperature.
void Run::check_sample_locked(const store::SampleRow& row, const protocols::Segment* segment,
                              double plan_t_s, bool paused, double t_s) {
    std::optional<double> setpoint_pa;
    std::string band_segment;
    if (paused) {
        // The interlocks stay: the load must follow the pause's own program.
        setpoint_pa = pause_setpoint_pa(*pause_, t_s);
        band_segment = row.segment;
    } else if (segment != nullptr) {
        if (is_loading(segment->kind)) {
            setpoint_pa = plan_.stress_setpoint_pa(plan_t_s);
        }
        // The recovery, an equilibration and a scan move the temperature on purpose (the
        // furnace cools to the scan's start, then ramps): no band there.
        if (segment->kind != SegmentKind::recovery && segment->kind != SegmentKind::equilibrate &&
            segment->kind != SegmentKind::dmta_scan) {
            band_segment = to_string(segment->kind);
        }
    }
    check_interlocks_locked(row, setpoint_pa, band_segment);
}

void Run::keep_for_analysis_locked(const protocols::Segment& segment, double plan_t_s,
                                   const store::SampleRow& row) {
    switch (segment.kind) {
        case SegmentKind::cycle:
            track_cycle_locked(plan_t_s, row, segment);
            [[fallthrough]];
        case SegmentKind::creep:
            if (data_.cycling_seen++ % data_.cycling_step == 0) {
                data_.cycling_t_s.push_back(plan_t_s);
                data_.cycling_stress_pa.push_back(row.stress_pa);
                data_.cycling_strain.push_back(row.strain);
            }
            break;
        default:
            break;
    }
}

void Run::report_progress_locked(const store::SampleRow& row, double plan_t_s, bool paused,
                                 bool force) {
    // Pauses are taken at a cycle boundary still ahead: from the cycle segment only, and one
    // at a time.
    const bool accepting = !latched_ && !pause_ && row.segment == "cycle";
    paused = paused && pause_;
    if (accepting != accepting_pause_) {
        accepting_pause_ = accepting;
        options_.control->set_accepting_pause(accepting);
    }
    const auto now = drv::Clock::now();
    if (!force && now < progress_due_ && row.segment == progress_segment_) {
        last_row_ = row;
        last_plan_t_s_ = plan_t_s;
        last_paused_ = paused;
        return;
    }
    progress_due_ = now + progress_interval;
    progress_segment_ = row.segment;
    RunProgress progress;
    progress.run_id = run_id_;
    progress.segment = row.segment;
    if (cycling_ != nullptr) {
        progress.cycles_total = cycling_->cycles;
        if (paused) {
            progress.cycle = pause_->cycles_done;
        } else if (row.segment == "cycle") {
            progress.cycle = static_cast<int>(cycle_index_ + 1);
        }
    }
    progress.last_seq = last_seq_;
    progress.t_s = row.t_s;
    progress.plan_t_s = paused             ? pause_->boundary_plan_s
                        : program_started_ ? std::clamp(plan_t_s, 0.0, plan_.duration_s)
                                           : 0.0;
    progress.plan_duration_s = plan_.duration_s;
    progress.temperature_k = row.temperature_k;
    progress.stress_pa = row.stress_pa;
    progress.strain = row.strain;
    progress.paused = paused;
    options_.control->update(progress);
    last_row_ = row;
    last_plan_t_s_ = plan_t_s;
    last_paused_ = paused;
}

void Run::check_interlocks_locked(const store::SampleRow& row, std::optional<double> setpoint_pa,
                                  const std::string& band_segment) {
    const auto& limits = job_.limits;
    const auto trip = [&](const std::string& what) {
        latch_locked(row.t_s, what + " at t = " + fixed(row.t_s, 1) + " s");
    };
    if (row.force_n > plan_.force_limit_n) {
        trip("force " + fixed(row.force_n, 4) + " N above the limit " +
             fixed(plan_.force_limit_n, 3) + " N");
    } else if (limits.max_stress_pa && row.stress_pa > *limits.max_stress_pa) {
        trip("stress " + fixed(row.stress_pa / 1e6, 2) + " MPa above the limit " +
             fixed(*limits.max_stress_pa / 1e6, 2) + " MPa");
    } else if (std::abs(row.strain) > limits.max_strain) {
        trip("strain " + fixed(row.strain, 5) + " beyond the limit " + fixed(limits.max_strain, 5));
    } else if (setpoint_pa && std::abs(row.stress_pa - *setpoint_pa) > tracking_tolerance_pa_) {
        trip("load lost: stress " + fixed(row.stress_pa / 1e6, 2) + " MPa against the commanded " +
             fixed(*setpoint_pa / 1e6, 2) + " MPa (the frame tripped or the ribbon broke)");
    } else if (!band_segment.empty() &&
               std::abs(row.temperature_k - job_.temperature_k) > limits.temperature_band_k) {
        trip("temperature " + fixed(row.temperature_k, 2) + " K outside " +
             fixed(job_.temperature_k, 2) + " ± " + fixed(limits.temperature_band_k, 2) +
             " K during " + band_segment);
    }
}

void Run::track_cycle_locked(double plan_t_s, const store::SampleRow& row,
                             const protocols::Segment& segment) {
    const auto index = static_cast<std::int64_t>((plan_t_s - segment.start_s) / segment.period_s);
    if (index != cycle_index_) {
        close_cycle_locked();
        cycle_index_ = index;
        cycle_ = store::CycleRow{};
        cycle_.cycle = index + 1;
        cycle_.t_start_s =
            run_time_locked(segment.start_s + static_cast<double>(index) * segment.period_s);
        cycle_.t_end_s = cycle_.t_start_s + segment.period_s;
        cycle_.stress_min_pa = cycle_.stress_max_pa = row.stress_pa;
        cycle_.strain_min = cycle_.strain_max = row.strain;
        return;
    }
    cycle_.stress_min_pa = std::min(cycle_.stress_min_pa, row.stress_pa);
    cycle_.stress_max_pa = std::max(cycle_.stress_max_pa, row.stress_pa);
    cycle_.strain_min = std::min(cycle_.strain_min, row.strain);
    cycle_.strain_max = std::max(cycle_.strain_max, row.strain);
}

// The cycle in progress is complete once a sample past its end has arrived.
void Run::close_cycle_locked() {
    if (cycle_index_ < 0) {
        return;
    }
    store_.append_cycle(run_id_, cycle_);
    ++cycles_done_;
    cycle_index_ = -1;
}

}  // namespace dmacycle::runner::detail
