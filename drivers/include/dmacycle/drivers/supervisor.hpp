#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "dmacycle/drivers/error.hpp"
#include "dmacycle/drivers/furnace_driver.hpp"
#include "dmacycle/drivers/load_frame.hpp"
#include "dmacycle/drivers/sample_sequencer.hpp"

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
    // One liveness exchange or stream read lasting until `until` at most; true if fresh data
    // came. Throws DriverError when the link fails.
    virtual bool heartbeat(Deadline until, const Report& report) = 0;
    virtual void disconnect() noexcept = 0;
};

struct SupervisorOptions {
    std::chrono::milliseconds heartbeat_interval{100};
    std::chrono::milliseconds max_age{1000};  // data older than this is stale
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds backoff_initial{50};
    std::chrono::milliseconds backoff_max{1000};
    double backoff_factor = 2.0;
    double jitter = 0.2;  // each wait × uniform(1 − jitter, 1 + jitter)
    // Identity the device must report; empty = whatever it reported on the first connect.
    std::string expected_identity;
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
        std::lock_guard device_lock(device_mutex_);
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
    Clock::duration next_backoff();

    std::string name_;
    SupervisedDevice& device_;
    SupervisorOptions options_;
    EventSink sink_;

    std::mutex device_mutex_;  // serialises every exchange with the device
    mutable std::mutex state_mutex_;
    std::condition_variable wake_;
    LinkState state_ = LinkState::disconnected;
    bool stopping_ = false;
    bool ever_connected_ = false;
    bool stale_ = false;
    std::string identity_;
    std::optional<Clock::time_point> last_fresh_;
    Clock::time_point lost_at_{};
    Clock::time_point next_attempt_{};
    Clock::duration backoff_{};
    std::mt19937 rng_{std::random_device{}()};
    std::thread thread_;
};

// The load frame under supervision: remembers the owner's settings (geometry, stream rate,
// streaming) to re-apply after a reconnect, and turns the stream into continuously numbered
// samples for the sink.
class FrameLink final : public SupervisedDevice {
  public:
    using SampleSink = std::function<void(const FrameSample&)>;
    FrameLink(std::unique_ptr<FrameDriver> driver, SampleSink sink,
              std::chrono::milliseconds quiet_probe_after = std::chrono::milliseconds(250));

    FrameDriver& driver() { return *driver_; }
    // Settings are remembered here and sent by reapply_settings (the supervisor's
    // with_device, or automatically after a reconnect).
    void set_geometry(const FrameGeometry& geometry) { geometry_ = geometry; }
    void set_streaming(bool on, double rate_hz);

    std::string connect_and_identify(Deadline deadline) override;
    void reapply_settings() override;
    bool heartbeat(Deadline until, const Report& report) override;
    void disconnect() noexcept override;

  private:
    std::unique_ptr<FrameDriver> driver_;
    SampleSink sink_;
    std::chrono::milliseconds quiet_probe_after_;
    std::optional<FrameGeometry> geometry_;
    bool streaming_ = false;
    double rate_hz_ = 10.0;
    SampleSequencer sequencer_;
    std::uint64_t reported_malformed_ = 0;
    std::uint64_t reported_duplicates_ = 0;
    Clock::time_point last_sample_at_{};
};

// The furnace under supervision: polls PV and status as the heartbeat, keeps the latest
// reading, re-applies the rate limit after a reconnect (the setpoint is a command, not a
// setting: the owner re-sends it if it wants to).
class FurnaceLink final : public SupervisedDevice {
  public:
    explicit FurnaceLink(std::unique_ptr<FurnaceDriver> driver);

    FurnaceDriver& driver() { return *driver_; }
    void set_rate_limit_k_per_min(double rate) { rate_limit_ = rate; }
    // The latest reading and when it was taken.
    std::optional<std::pair<FurnaceReading, Clock::time_point>> latest() const;

    std::string connect_and_identify(Deadline deadline) override;
    void reapply_settings() override;
    bool heartbeat(Deadline until, const Report& report) override;
    void disconnect() noexcept override;

  private:
    std::unique_ptr<FurnaceDriver> driver_;
    std::optional<double> rate_limit_;
    mutable std::mutex mutex_;
    std::optional<std::pair<FurnaceReading, Clock::time_point>> latest_;
};

}  // namespace dmacycle::drivers
