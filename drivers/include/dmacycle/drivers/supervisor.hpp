#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "dmacycle/drivers/error.hpp"
#include "dmacycle/drivers/peer_starvation.hpp"

// Connection supervision, one Supervisor per device (docs/drivers.md):
//   disconnected → connected (read-only) → active (owner allowed load/heat) → fault
// A worker thread keeps the link alive (heartbeat), marks data stale past max_age, reconnects
// with exponential backoff and jitter, checks the identity and re-applies settings after a
// reconnect, and reports everything as timestamped events. After a reconnect the device is
// connected, not active: nothing is commanded to move; the owner decides (hold or abort).
namespace dmacycle::drivers {

enum class LinkState { disconnected, connected, active, fault };
const char* to_string(LinkState state);

enum class EventKind {
    connected,          // first link up, identity checked, settings applied
    reconnected,        // link up again; duration_s = the outage
    link_lost,          // message says why
    connect_failed,     // one failed attempt; the next follows after the backoff
    identity_mismatch,  // a different instrument answered: stays in fault
    stale,              // no fresh data for max_age
    fresh,              // data again after stale
    sample_gap,         // first_seq/count missing; duration_s between the samples around it
    samples_dropped,    // count duplicates or unparseable lines dropped
    device_error,       // the device refused something during supervision
    activated,
    deactivated,
    instrument_clock_reset,  // the instrument's clock or numbering restarted or jumped: a new
                             // epoch; samples kept, seq continues (no gap can be counted)
};
const char* to_string(EventKind kind);

struct DeviceEvent {
    Clock::time_point at;                        // monotonic, for durations
    std::chrono::system_clock::time_point wall;  // for the record
    std::string device;
    EventKind kind;
    LinkState state;  // after the event
    std::string message;
    double duration_s = 0;
    std::uint64_t first_seq = 0;
    std::uint64_t count = 0;
};
using EventSink = std::function<void(const DeviceEvent&)>;

// A thread-safe queue that can be used as an EventSink, with bounded waits.
class EventQueue {
  public:
    EventSink sink();
    void push(const DeviceEvent& event);
    // The first queued event of that kind (earlier ones of other kinds stay), waiting until
    // timeout at most.
    std::optional<DeviceEvent> wait_for(EventKind kind, std::chrono::milliseconds timeout);
    std::deque<DeviceEvent> snapshot() const;

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<DeviceEvent> events_;
};

// What a device offers its supervisor; calls are serialised by the supervisor.
class SupervisedDevice {
  public:
    using Report = std::function<void(EventKind, const std::string& message, double duration_s,
                                      std::uint64_t first_seq, std::uint64_t count)>;
    virtual ~SupervisedDevice() = default;
    virtual std::string connect_and_identify(Deadline deadline) = 0;
    virtual void reapply_settings() = 0;
    // One liveness exchange or stream read: a stream read waits until `until`, an exchange
    // may take its own bounded timeout (stop() waits for it). True if fresh data came.
    // Throws DriverError when the link fails.
    virtual bool heartbeat(Deadline until, const Report& report) = 0;
    // From any thread: a heartbeat waiting on a quiet stream (or the next one) returns at once.
    virtual void wake() noexcept {}
    virtual void disconnect() noexcept = 0;
};

struct SupervisorOptions {
    std::chrono::milliseconds heartbeat_interval{100};
    // How long a heartbeat may wait for a quiet stream's data (at least heartbeat_interval);
    // an owner's call wakes it, and data ends it as it arrives.
    std::chrono::milliseconds quiet_wait{0};
    std::chrono::milliseconds max_age{1000};  // data older than this is stale
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds backoff_initial{50};
    std::chrono::milliseconds backoff_max{1000};
    double backoff_factor = 2.0;
    double jitter = 0.2;  // each wait × uniform(1 − jitter, 1 + jitter)
    // Identity the device must report; empty = whatever it reported on the first connect.
    std::string expected_identity;
    PeerStarvation peer_starved;  // left out of the data's age
};

class Supervisor {
  public:
    Supervisor(std::string name, SupervisedDevice& device, SupervisorOptions options,
               EventSink sink);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    void start();
    void stop();  // bounded: waits for at most one exchange's deadline

    LinkState state() const;
    std::string identity() const;
    bool stale() const;
    std::optional<Clock::duration> data_age() const;
    // connected → active; false in any other state.
    bool activate();
    void deactivate();  // active → connected

    // Runs fn on the device while the link is up (connected or active), serialised with the
    // supervisor; a failure that needs a new link moves the state to fault, then rethrows.
    template <class F>
    auto with_device(F&& fn) {
        return run(false, std::forward<F>(fn));
    }
    // The same, only while active: for anything that loads the sample or heats.
    template <class F>
    auto with_active(F&& fn) {
        return run(true, std::forward<F>(fn));
    }

  private:
    template <class F>
    auto run(bool need_active, F&& fn) {
        std::unique_lock device_lock(device_mutex_, std::defer_lock);
        ++owners_waiting_;
        device_.wake();  // after the count: a beat that missed it has not begun its wait yet
        device_lock.lock();
        --owners_waiting_;
        check_usable(need_active);
        try {
            return fn();
        } catch (const DriverError& error) {
            if (error.needs_reconnect()) {
                lose_link(error.what());
            }
            throw;
        }
    }
    void check_usable(bool need_active) const;
    void loop();
    void try_connect();
    void beat(Deadline until);
    void lose_link(const std::string& why);  // caller holds device_mutex_
    void emit(EventKind kind, const std::string& message, double duration_s = 0,
              std::uint64_t first_seq = 0, std::uint64_t count = 0);
    void set_state(LinkState state);
    void schedule_retry();         // the next attempt after the backoff, which then grows
    void schedule_retry_locked();  // the same, caller holds state_mutex_
    Clock::time_point retry_at() const;
    // Time this thread was due to run and did not (a loaded machine, a paused VM) is not time
    // the device was silent: the stale clock leaves it out, so a busy host does not blame the
    // instrument. `due`: when the thread should have been running again.
    void discount_starvation_locked(Clock::time_point due);
    void discount_peer_starvation_locked();  // SupervisorOptions::peer_starved

    std::string name_;
    SupervisedDevice& device_;
    SupervisorOptions options_;
    EventSink sink_;

    std::mutex device_mutex_;  // serialises every exchange with the device
    // Owner calls waiting for device_mutex_: the heartbeat lets them in first (back to back,
    // the worker's stream reads would otherwise keep the mutex at --speed max).
    std::atomic<int> owners_waiting_{0};
    mutable std::mutex state_mutex_;  // guards everything below but the worker-only flags
    std::condition_variable wake_;
    LinkState state_ = LinkState::disconnected;
    bool stopping_ = false;
    bool wake_requested_ = false;  // the worker should look at the state before its next beat
    bool link_proven_ = false;     // fresh data since the last connect
    bool ever_connected_ = false;  // worker thread only
    std::string repeated_error_;   // worker thread only: the device error last reported
    bool stale_ = false;
    std::string identity_;
    std::optional<Clock::time_point> last_fresh_;
    Clock::duration peer_starved_seen_{};
    Clock::time_point lost_at_{};
    Clock::time_point next_attempt_{};
    Clock::duration backoff_{};
    std::mt19937 rng_{std::random_device{}()};
    std::thread thread_;
};

}  // namespace dmacycle::drivers
