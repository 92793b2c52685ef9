#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

// Operator requests to a run in progress (pause, resume, abort), made from any thread (the
// service's API), acted on by the runner; and the run's live progress, read from any thread.
// One RunControl per run: RunnerOptions::control points at it (docs/runner.md).
namespace dmacycle::runner {

struct RunProgress {
    std::int64_t run_id = -1;    // -1 until the run row exists
    std::string segment;         // tag of the latest sample ("equilibrate", "cycle", "paused", …)
    int cycle = 0;               // 1-based cycle in progress (0 outside cycling)
    int cycles_total = 0;        // cycles of the plan
    std::int64_t last_seq = -1;  // latest stored sample
    double t_s = 0;              // its instrument time since the run's first sample
    double plan_t_s = 0;         // where the run is in its plan (pauses excluded)
    double plan_duration_s = 0;
    double temperature_k = 0, stress_pa = 0, strain = 0;  // latest sample
    bool paused = false;                                  // holding at σ_creep, waiting for resume
    bool pause_pending = false;  // asked; takes effect at the next cycle boundary
    bool abort_pending = false;
};

class RunControl {
  public:
    // Pause at the next cycle boundary: the frame leaves the wave there, ramps to σ_creep (the
    // mean stress) and holds until resume. Only during cycling (and not while pausing already);
    // otherwise false with the reason in `why_not`.
    bool request_pause(std::string& why_not);
    // Continue a paused run where it left the wave. false (with why) when not paused.
    bool request_resume(std::string& why_not);
    // End the run `aborted` through the safe state (unload to the pre-tension, furnace to
    // standby). Always accepted; a run that has ended already ignores it.
    void request_abort(const std::string& reason);

    RunProgress progress() const;

    // --- the runner's side -------------------------------------------------------------------
    enum class Pending { none, pause, resume };
    std::optional<std::string> abort_reason() const;
    Pending take_pending();  // the pause/resume request not yet acted on (cleared by the call)
    void set_accepting_pause(bool cycling);  // whether request_pause can be accepted now
    void pause_not_taken();  // an accepted pause found no boundary left: no longer pending
    void update(const RunProgress& progress);
    // Called (under this object's lock) when a request arrives, so the runner need not poll;
    // the runner sets it for the length of a run and clears it ({}) before it ends.
    void set_waker(std::function<void()> wake);

  private:
    void wake_locked() const;

    mutable std::mutex mutex_;
    RunProgress progress_;
    std::optional<std::string> abort_reason_;
    Pending pending_ = Pending::none;
    bool accepting_pause_ = false;
    std::function<void()> waker_;
};

}  // namespace dmacycle::runner
