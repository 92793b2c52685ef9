#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/runner/run_control.hpp"
#include "dmacycle/store/sample_store.hpp"

// The run engine (docs/runner.md): executes one job's plan on a load frame and a furnace in
// instrument time, stores every streamed sample once, enforces the interlocks and analyses the
// recovery in-process. Data flows one way: driver → runner → store → analysis.
namespace dmacycle::runner {

struct RunnerOptions {
    double sample_rate_hz = 10.0;
    // Furnace setpoint of the safe state: room temperature, so the furnace stops heating.
    double standby_temperature_k = 298.15;
    std::chrono::milliseconds connect_timeout{5000};  // wall time for both links to come up
    // Supervisor heartbeat: the stream is read at most once per beat, whatever has arrived, so
    // this bounds acquisition latency and, at high rates, the wakeups (a quiet stream is waited
    // on until data comes). 10 ms: 10 samples a read at 1 kHz.
    std::chrono::milliseconds heartbeat_interval{10};
    // Progress lines (segment starts and ends, interlocks, analysis); called from the runner's
    // threads, so it must be quick and thread-safe.
    std::function<void(double t_s, const std::string& kind, const std::string& message)> on_event;
    // Pause/resume/abort requests and live progress (run_control.hpp); null: none.
    RunControl* control = nullptr;
    // Called from the runner's threads with the instrument time of a step due (a DMTA scan's
    // start or measurement), and with nullopt once it is taken: an in-process simulator at
    // --speed max holds its stream there (sim::ConsumerPace), so the step lands at its
    // simulated time under any load.
    std::function<void(std::optional<double> t_s)> hold_at;
    // How long an in-process simulator's frame server was kept from running (runner::Rig): the
    // frame's stale age and exchange deadlines leave it out, so a loaded machine cannot pass for
    // a dead link. Empty for a real frame.
    drivers::PeerStarvation frame_starved;
};

struct RunOutcome {
    std::int64_t run_id = 0;
    store::RunStatus status = store::RunStatus::faulted;
    std::string message;  // why the run ended as it did
    std::uint64_t samples = 0;
    std::int64_t first_seq = 0, last_seq = -1;
    int cycles = 0;  // completed cycles recorded in `cycles`
    std::vector<std::string> interlocks;
    std::map<std::string, std::string> results;  // kind → JSON, as stored
};

// Creates a run in `store` (status running), runs the job's plan on the two devices and returns
// once the run has ended and everything is committed. Never throws for instrument problems:
// they end the run `faulted` with the reason in `message` and in `events`.
RunOutcome execute_run(const protocols::Job& job, const std::string& job_text,
                       store::SampleStore& store, const drivers::DeviceSpec& frame,
                       const drivers::DeviceSpec& furnace, const RunnerOptions& options = {});

}  // namespace dmacycle::runner
