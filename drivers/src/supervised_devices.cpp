#include "dmacycle/drivers/supervised_devices.hpp"

#include <algorithm>

namespace dmacycle::drivers {

FrameLink::FrameLink(std::unique_ptr<FrameDriver> driver, SampleSink sink,
                     std::chrono::milliseconds quiet_probe_after)
    : driver_(std::move(driver)), sink_(std::move(sink)), quiet_probe_after_(quiet_probe_after) {}

void FrameLink::set_streaming(bool on, double rate_hz) {
    if (on && driver_->stream() == nullptr) {
        throw DriverError(ErrorKind::config, "this frame model cannot stream samples");
    }
    streaming_ = on;
    rate_hz_ = rate_hz;
    sequencer_.set_rate_hz(rate_hz);
}

std::string FrameLink::connect_and_identify(Deadline deadline) {
    if (SampleStream* stream = driver_->stream()) {
        // Good samples the old link delivered before it failed: still the old link's.
        auto pending = stream->take_pending_samples();
        carried_.insert(carried_.end(), pending.begin(), pending.end());
    }
    driver_->connect(deadline);
    link_changed_ = true;  // the sequencer learns it after the carried samples
    return driver_->identify();
}

void FrameLink::reapply_settings() {
    if (geometry_) {
        driver_->configure_geometry(*geometry_);
    }
    if (SampleStream* stream = driver_->stream()) {
        if (streaming_) {
            stream->set_stream_rate(rate_hz_);
            stream->start_stream();
            last_sample_at_ = Clock::now();
        } else {
            stream->stop_stream();
        }
    }
}

bool FrameLink::deliver(const std::vector<RawSample>& samples, const Report& report) {
    bool fresh = false;
    for (const RawSample& raw : samples) {
        const auto result = sequencer_.accept(raw);
        if (result.new_epoch) {
            report(EventKind::instrument_clock_reset,
                   "instrument clock or sample numbers jumped to t = " +
                       std::to_string(raw.value.t_s) + " s, sample " +
                       std::to_string(raw.link_seq) + ": a new epoch from seq " +
                       std::to_string(result.sample->seq),
                   0, result.sample->seq, 0);
        }
        if (result.gap) {
            const auto& gap = *result.gap;
            report(EventKind::sample_gap,
                   std::to_string(gap.count) + " samples missing between t = " +
                       std::to_string(gap.from_t_s) + " s and " + std::to_string(gap.to_t_s) +
                       " s" + (gap.across_reconnect ? " (across a reconnect)" : ""),
                   gap.to_t_s - gap.from_t_s, gap.first_seq, gap.count);
        }
        if (result.sample) {
            fresh = true;
            sink_(*result.sample);
        }
    }
    return fresh;
}

bool FrameLink::heartbeat(Deadline until, const Report& report) {
    bool fresh = deliver(carried_, report);
    carried_.clear();
    if (link_changed_) {
        sequencer_.new_link();
        link_changed_ = false;
    }
    SampleStream* stream = driver_->stream();
    if (!streaming_ || stream == nullptr) {
        driver_->state();  // an answer is the proof of life
        return true;
    }
    fresh = deliver(stream->read_samples(until), report) || fresh;
    const auto dropped = stream->malformed_samples() + sequencer_.duplicates();
    if (dropped > reported_malformed_ + reported_duplicates_) {
        report(EventKind::samples_dropped,
               std::to_string(stream->malformed_samples() - reported_malformed_) +
                   " unparseable, " +
                   std::to_string(sequencer_.duplicates() - reported_duplicates_) + " duplicate",
               0, 0, dropped - reported_malformed_ - reported_duplicates_);
        reported_malformed_ = stream->malformed_samples();
        reported_duplicates_ = sequencer_.duplicates();
    }
    const auto now = Clock::now();
    if (fresh) {
        last_sample_at_ = now;
    } else if (now - last_sample_at_ > quiet_probe_after_) {
        // A quiet stream may be a stalled peer: ask, so a dead link times out and is replaced.
        driver_->state();
        last_sample_at_ = now;
    }
    return fresh;
}

void FrameLink::disconnect() noexcept {
    driver_->disconnect();
}

// ---------------------------------------------------------------------------------------------

FurnaceLink::FurnaceLink(std::unique_ptr<FurnaceDriver> driver)
    : FurnaceLink(std::move(driver), std::chrono::milliseconds(500)) {}

FurnaceLink::FurnaceLink(std::unique_ptr<FurnaceDriver> driver,
                         std::chrono::milliseconds reading_budget)
    : driver_(std::move(driver)), reading_budget_(reading_budget) {}

std::optional<std::pair<FurnaceReading, Clock::time_point>> FurnaceLink::latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
}

std::string FurnaceLink::connect_and_identify(Deadline deadline) {
    driver_->connect_by(deadline);  // reads the device: a peer that only accepts fails here
    return driver_->identify();
}

void FurnaceLink::reapply_settings() {
    if (rate_limit_) {
        driver_->set_rate_limit_k_per_min(*rate_limit_);
    }
}

bool FurnaceLink::heartbeat(Deadline until, const Report&) {
    // A whole reading (four requests) within the budget, however slow the peer, so stop() and
    // the owner's calls wait for one budget at most; until the next beat if that is later.
    const FurnaceReading reading = driver_->read_by(std::max(until, deadline_in(reading_budget_)));
    std::lock_guard lock(mutex_);
    latest_ = std::pair(reading, Clock::now());
    return true;
}

void FurnaceLink::disconnect() noexcept {
    driver_->disconnect();
}

}  // namespace dmacycle::drivers
