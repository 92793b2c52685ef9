#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dmacycle/drivers/furnace_driver.hpp"
#include "dmacycle/drivers/load_frame.hpp"
#include "dmacycle/drivers/sample_sequencer.hpp"
#include "dmacycle/drivers/supervisor.hpp"

// The frame and the furnace as a Supervisor sees them: what a heartbeat is, which settings
// come back after a reconnect, and where the data goes.
namespace dmacycle::drivers {

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
    // with_device, or automatically after a reconnect). Call the setters before start() or
    // inside with_device(), which serialises them with the supervisor's thread.
    void set_geometry(const FrameGeometry& geometry) { geometry_ = geometry; }
    void set_streaming(bool on, double rate_hz);

    std::string connect_and_identify(Deadline deadline) override;
    void reapply_settings() override;
    bool heartbeat(Deadline until, const Report& report) override;
    void wake() noexcept override {
        if (SampleStream* stream = driver_->stream()) {
            stream->wake();
        }
    }
    void disconnect() noexcept override;

  private:
    bool deliver(const std::vector<RawSample>& samples, const Report& report);

    std::unique_ptr<FrameDriver> driver_;
    SampleSink sink_;
    std::chrono::milliseconds quiet_probe_after_;
    std::optional<FrameGeometry> geometry_;
    bool streaming_ = false;
    double rate_hz_ = 10.0;
    SampleSequencer sequencer_;
    std::vector<RawSample> carried_;  // from the link before the last connect
    bool link_changed_ = false;
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
    // reading_budget: how long one heartbeat's reading may take (500 ms by default).
    FurnaceLink(std::unique_ptr<FurnaceDriver> driver, std::chrono::milliseconds reading_budget);

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
    std::chrono::milliseconds reading_budget_;
    std::optional<double> rate_limit_;
    mutable std::mutex mutex_;
    std::optional<std::pair<FurnaceReading, Clock::time_point>> latest_;
};

}  // namespace dmacycle::drivers
