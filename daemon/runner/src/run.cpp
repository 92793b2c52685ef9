#include "run.hpp"

#include <thread>

#include "dmacycle/drivers/sample_sequencer.hpp"

namespace dmacycle::runner {
namespace detail {

void Run::event_locked(double t_s, const std::string& kind, const std::string& message) {
    store::EventRow row{t_s, store::WallClock::now(), kind, message};
    if (run_id_ < 0) {
        early_events_.push_back(row);
    } else {
        try {
            store_.append_event(run_id_, row);
        } catch (const store::StoreError& error) {
            // Called from the supervisors' threads too: a failing store ends the run, never
            // the process.
            if (!latched_) {
                latched_ = true;
                latched_reason_ = std::string("store: ") + error.what();
                changed_.notify_all();
            }
        }
    }
    if (options_.on_event) {
        options_.on_event(t_s, kind, message);
    }
}

void Run::latch_locked(double t_s, const std::string& what) {
    if (latched_ || !acquiring_) {
        return;
    }
    latched_ = true;
    latched_reason_ = what;
    interlocks_.push_back(what);
    event_locked(t_s, "interlock", what);
    sync_hold_locked();  // the safe state needs simulated time to flow
    changed_.notify_all();
}

void Run::on_device_event(const drv::DeviceEvent& event) {
    std::lock_guard lock(mutex_);
    std::string message = event.device + ": " + drv::to_string(event.kind);
    if (!event.message.empty()) {
        message += ": " + event.message;
    }
    event_locked(last_run_t_s_, "link", message);
    // During the upload the stream is paused on purpose and every exchange proves the link
    // alive (a dead one fails the upload): no stale data there.
    if (event.kind == drv::EventKind::stale && run_id_ >= 0 && !uploading_) {
        latch_locked(last_run_t_s_, "stale link: " + message);
    }
}

void Run::check_abort_locked() {
    if (options_.control == nullptr || latched_) {
        return;
    }
    if (const auto reason = options_.control->abort_reason()) {
        latched_ = true;
        aborted_ = true;
        latched_reason_ = "aborted: " + *reason;
        event_locked(last_run_t_s_, "operator", latched_reason_);
        changed_.notify_all();
    }
}

bool Run::connect(drv::Supervisor& supervisor, const char* name) {
    supervisor.start();
    const auto deadline = drv::Clock::now() + options_.connect_timeout;
    while (drv::Clock::now() < deadline) {
        if (supervisor.state() == drv::LinkState::connected && supervisor.activate()) {
            return true;
        }
        {
            // An abort (or a stop of the service) does not wait out the connection timeout.
            std::lock_guard lock(mutex_);
            check_abort_locked();
            if (aborted_) {
                return false;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    latch(std::string(name) + ": no link within " +
          std::to_string(options_.connect_timeout.count()) + " ms");
    return false;
}

// Clears the RunControl's waker when execute ends, however it ends: the waker points here.
struct ControlWaker {
    RunControl* control;
    ~ControlWaker() {
        if (control != nullptr) {
            control->set_waker({});
        }
    }
};

// Connects, creates the run, acquires until the plan ends or a latch, leaves the devices safe,
// stores the fits, and says how the run ended.
RunOutcome Run::execute(const drv::DeviceSpec& frame_spec, const drv::DeviceSpec& furnace_spec) {
    RunOutcome outcome;
    const std::string setup_error = make_links(frame_spec, furnace_spec);
    // Both devices come up (and say who they are) before the run exists; the frame streams
    // only once it does, since every sample needs the run id.
    const bool devices_up =
        setup_error.empty() && connect(*furnace_, "furnace") && connect(*frame_, "frame");
    open_run(setup_error, outcome);

    if (options_.control != nullptr) {
        options_.control->set_waker([this] { changed_.notify_all(); });
    }
    const ControlWaker waker{options_.control};
    bool completed = false;
    AnalysisInput input;
    std::jthread analysis;  // declared after what it uses; joins even if a store call throws
    try {
        if (devices_up) {
            // At --speed max, streaming is what moves the instrument's time.
            frame_->with_device([&] {
                frame_link_->set_streaming(true, options_.sample_rate_hz);
                frame_link_->reapply_settings();
            });
        }
        if (devices_up && equilibrate()) {
            upload_program();
            if (wait_for_end()) {
                {
                    std::lock_guard lock(mutex_);
                    input = std::move(data_);
                }
                // The fits run beside the end of the acquisition, not after it.
                analysis = std::jthread([&] { analyse(input, outcome); });
                completed = true;
            }
        }
    } catch (const drv::DriverError& error) {
        latch(std::string("driver: ") + error.what());
    }
    leave_devices(completed);
    const std::string store_failure = store_results(analysis, outcome);
    if (!store_failure.empty()) {
        completed = false;
    }
    close_outcome(completed, store_failure, outcome);
    return outcome;
}

// The links and their supervisors; "" or why they could not be made (a bad connection string).
std::string Run::make_links(const drv::DeviceSpec& frame_spec,
                            const drv::DeviceSpec& furnace_spec) {
    drv::SupervisorOptions supervision;
    supervision.heartbeat_interval = options_.heartbeat_interval;
    supervision.max_age =
        std::chrono::milliseconds(static_cast<long long>(job_.limits.stale_link_s * 1000));
    supervision.connect_timeout = options_.connect_timeout;
    // The furnace changes slowly: a poll (four requests) every 200 ms is plenty, whatever the
    // frame needs.
    drv::SupervisorOptions furnace_supervision = supervision;
    furnace_supervision.heartbeat_interval =
        std::max(options_.heartbeat_interval, std::chrono::milliseconds(200));
    const auto device_sink = [this](const drv::DeviceEvent& e) { on_device_event(e); };
    try {
        frame_link_ =
            std::make_unique<drv::FrameLink>(drv::make_frame(frame_spec, options_.frame_starved),
                                             [this](const drv::FrameSample& s) { on_sample(s); });
        frame_link_->set_geometry(
            {job_.sample.width_m, job_.sample.thickness_m, job_.sample.gauge_length_m});
        furnace_link_ = std::make_unique<drv::FurnaceLink>(drv::make_furnace(furnace_spec));
    } catch (const drv::DriverError& error) {
        return error.what();
    }
    drv::SupervisorOptions frame_supervision = supervision;
    frame_supervision.peer_starved = options_.frame_starved;
    // A quiet stream is waited on, not polled: a beat ends as samples arrive, at an owner's
    // call, or after a quarter of the stale limit (so a stall is still reported on time).
    frame_supervision.quiet_wait =
        std::min(std::chrono::milliseconds(250), frame_supervision.max_age / 4);
    frame_ =
        std::make_unique<drv::Supervisor>("frame", *frame_link_, frame_supervision, device_sink);
    furnace_ = std::make_unique<drv::Supervisor>("furnace", *furnace_link_, furnace_supervision,
                                                 device_sink);
    return "";
}

// Creates the run (status running) with the events of the connection before it; a setup error
// latches at once.
void Run::open_run(const std::string& setup_error, RunOutcome& outcome) {
    store::RunInfo info{job_text_, job_.sample.id, job_.profile, DMACYCLE_VERSION, ""};
    // make_row_locked's divisors and the stream's period: the store codes the rows by them.
    info.cross_section_m2 = plan_.cross_section_m2;
    info.gauge_length_m = job_.sample.gauge_length_m;
    info.sample_period_s = 1 / options_.sample_rate_hz;
    if (setup_error.empty()) {
        info.instrument_identity =
            "frame: " + frame_->identity() + "; furnace: " + furnace_->identity();
    }
    {
        std::lock_guard lock(mutex_);
        run_id_ = store_.create_run(info);
        outcome.run_id = run_id_;
        for (const auto& row : early_events_) {
            store_.append_event(run_id_, row);
        }
        early_events_.clear();
        if (!setup_error.empty()) {
            latch_locked(0, setup_error);
        }
    }
    store_.set_status(run_id_, store::RunStatus::running);
}

// The safe state after a latch, the furnace to standby after a completed run; then the stream
// stops (its samples past the plan's end counted in an event) and the supervisors with it.
void Run::leave_devices(bool completed) {
    if (frame_ && frame_->state() != drv::LinkState::disconnected) {
        if (!completed) {
            safe_state();
        } else {
            furnace_to_standby("end");
        }
        try {
            stop_stream_and_drain();
        } catch (const drv::DriverError& error) {
            event("link", std::string("stopping the stream: ") + error.what());
        }
    }
    std::uint64_t after_plan = 0;
    {
        std::lock_guard lock(mutex_);
        after_plan = after_plan_;
    }
    if (after_plan > 0) {
        event("segment", std::to_string(after_plan) +
                             " samples past the plan's end, sent while the stream stopped: "
                             "checked by the interlocks, not stored");
    }
    if (frame_) {
        frame_->stop();
        furnace_->stop();
    }
}

// Joins the fits and stores their results, then flushes the store; "" or why the store failed.
// The samples the store accepted are committed or counted by the store itself; the run cannot
// be called completed when its results or last rows did not reach the file.
std::string Run::store_results(std::jthread& analysis, const RunOutcome& outcome) {
    try {
        if (analysis.joinable()) {
            analysis.join();
            for (const auto& [kind, json] : outcome.results) {
                store_.store_result(run_id_, kind, json);
            }
            event("analysis", "results stored");
        }
        store_.flush();
    } catch (const store::StoreError& error) {
        return std::string("store: ") + error.what();
    }
    return "";
}

void Run::close_outcome(bool completed, const std::string& store_failure, RunOutcome& outcome) {
    std::lock_guard lock(mutex_);
    if (options_.control != nullptr) {
        if (samples_ > 0) {
            report_progress_locked(last_row_, last_plan_t_s_, last_paused_, true);
        }
        options_.control->set_accepting_pause(false);
    }
    outcome.status = completed                           ? store::RunStatus::completed
                     : aborted_ && store_failure.empty() ? store::RunStatus::aborted
                                                         : store::RunStatus::faulted;
    outcome.message = completed               ? "completed"
                      : store_failure.empty() ? latched_reason_
                                              : store_failure;
    outcome.samples = samples_;
    outcome.first_seq = first_seq_;
    outcome.last_seq = last_seq_;
    outcome.cycles = cycles_done_;
    outcome.interlocks = interlocks_;
    try {
        store_.set_status(run_id_, outcome.status);
    } catch (const store::StoreError& error) {
        outcome.status = store::RunStatus::faulted;
        outcome.message += std::string("; status not recorded: ") + error.what();
    }
}

}  // namespace detail

RunOutcome execute_run(const protocols::Job& job, const std::string& job_text,
                       store::SampleStore& store, const drivers::DeviceSpec& frame,
                       const drivers::DeviceSpec& furnace, const RunnerOptions& options) {
    detail::Run run(job, job_text, store, options);
    return run.execute(frame, furnace);
}

}  // namespace dmacycle::runner
