#include "dmacycle/drivers/supervisor.hpp"

#include <algorithm>

namespace dmacycle::drivers {
namespace {

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

const char* to_string(LinkState state) {
    switch (state) {
        case LinkState::disconnected:
            return "disconnected";
        case LinkState::connected:
            return "connected";
        case LinkState::active:
            return "active";
        case LinkState::fault:
            return "fault";
    }
    return "?";
}

const char* to_string(EventKind kind) {
    switch (kind) {
        case EventKind::connected:
            return "connected";
        case EventKind::reconnected:
            return "reconnected";
        case EventKind::link_lost:
            return "link_lost";
        case EventKind::connect_failed:
            return "connect_failed";
        case EventKind::identity_mismatch:
            return "identity_mismatch";
        case EventKind::stale:
            return "stale";
        case EventKind::fresh:
            return "fresh";
        case EventKind::sample_gap:
            return "sample_gap";
        case EventKind::samples_dropped:
            return "samples_dropped";
        case EventKind::device_error:
            return "device_error";
        case EventKind::activated:
            return "activated";
        case EventKind::deactivated:
            return "deactivated";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------

EventSink EventQueue::sink() {
    return [this](const DeviceEvent& event) { push(event); };
}

void EventQueue::push(const DeviceEvent& event) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
    }
    changed_.notify_all();
}

std::optional<DeviceEvent> EventQueue::wait_for(EventKind kind, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<DeviceEvent> found;
    changed_.wait_for(lock, timeout, [&] {
        const auto it = std::find_if(events_.begin(), events_.end(),
                                     [&](const DeviceEvent& e) { return e.kind == kind; });
        if (it == events_.end()) {
            return false;
        }
        found = *it;
        events_.erase(it);
        return true;
    });
    return found;
}

std::deque<DeviceEvent> EventQueue::snapshot() const {
    std::lock_guard lock(mutex_);
    return events_;
}

// ---------------------------------------------------------------------------------------------

Supervisor::Supervisor(std::string name, SupervisedDevice& device, SupervisorOptions options,
                       EventSink sink)
    : name_(std::move(name)),
      device_(device),
      options_(std::move(options)),
      sink_(std::move(sink)),
      backoff_(options_.backoff_initial) {}

Supervisor::~Supervisor() {
    stop();
}

void Supervisor::start() {
    if (!thread_.joinable()) {
        stopping_ = false;
        thread_ = std::thread([this] { loop(); });
    }
}

void Supervisor::stop() {
    {
        std::lock_guard lock(state_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard device_lock(device_mutex_);
    device_.disconnect();
}

LinkState Supervisor::state() const {
    std::lock_guard lock(state_mutex_);
    return state_;
}

std::string Supervisor::identity() const {
    std::lock_guard lock(state_mutex_);
    return identity_;
}

bool Supervisor::stale() const {
    std::lock_guard lock(state_mutex_);
    return stale_;
}

std::optional<Clock::duration> Supervisor::data_age() const {
    std::lock_guard lock(state_mutex_);
    if (!last_fresh_) {
        return std::nullopt;
    }
    return Clock::now() - *last_fresh_;
}

bool Supervisor::activate() {
    {
        std::lock_guard lock(state_mutex_);
        if (state_ != LinkState::connected) {
            return state_ == LinkState::active;
        }
        state_ = LinkState::active;
    }
    emit(EventKind::activated, "owner allowed load and heat");
    return true;
}

void Supervisor::deactivate() {
    {
        std::lock_guard lock(state_mutex_);
        if (state_ != LinkState::active) {
            return;
        }
        state_ = LinkState::connected;
    }
    emit(EventKind::deactivated, "read-only");
}

void Supervisor::check_usable(bool need_active) const {
    const LinkState now = state();
    const bool ok = need_active ? now == LinkState::active
                                : now == LinkState::connected || now == LinkState::active;
    if (!ok) {
        throw DriverError(ErrorKind::link, name_ + ": " + (need_active ? "not active" : "no link") +
                                               " (state " + to_string(now) + ")");
    }
}

void Supervisor::set_state(LinkState state) {
    std::lock_guard lock(state_mutex_);
    state_ = state;
}

void Supervisor::emit(EventKind kind, const std::string& message, double duration_s,
                      std::uint64_t first_seq, std::uint64_t count) {
    if (!sink_) {
        return;
    }
    sink_(DeviceEvent{Clock::now(), std::chrono::system_clock::now(), name_, kind, state(), message,
                      duration_s, first_seq, count});
}

Clock::duration Supervisor::next_backoff() {
    std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
    const auto wait = std::chrono::duration_cast<Clock::duration>(backoff_ * spread(rng_));
    backoff_ = std::min<Clock::duration>(
        std::chrono::duration_cast<Clock::duration>(backoff_ * options_.backoff_factor),
        options_.backoff_max);
    return wait;
}

void Supervisor::lose_link(const std::string& why) {
    device_.disconnect();
    lost_at_ = Clock::now();
    next_attempt_ = lost_at_;  // the first retry at once, the backoff only after it fails
    backoff_ = options_.backoff_initial;
    set_state(LinkState::fault);
    emit(EventKind::link_lost, why);
}

void Supervisor::loop() {
    while (true) {
        Clock::time_point wake_at;
        const LinkState now_state = state();
        if (now_state == LinkState::disconnected || now_state == LinkState::fault) {
            if (Clock::now() >= next_attempt_) {
                try_connect();
            }
            wake_at = next_attempt_;
        } else {
            wake_at = Clock::now() + options_.heartbeat_interval;
            beat(wake_at);
        }
        // Stale whatever the link does: a dead link has no fresh data either.
        {
            std::unique_lock lock(state_mutex_);
            const auto now = Clock::now();
            const bool too_old = last_fresh_ && now - *last_fresh_ > options_.max_age;
            if (too_old && !stale_) {
                stale_ = true;
                const double age = seconds(now - *last_fresh_);
                lock.unlock();
                emit(EventKind::stale, "no fresh data for " + std::to_string(age) + " s", age);
                lock.lock();
            }
            // Wake for the next stale check too, so it is reported on time while reconnecting.
            if (last_fresh_ && !stale_) {
                wake_at = std::min(wake_at,
                                   *last_fresh_ + options_.max_age + std::chrono::milliseconds(1));
            }
            if (wake_.wait_until(lock, wake_at, [this] { return stopping_; })) {
                return;
            }
        }
    }
}

void Supervisor::try_connect() {
    std::lock_guard device_lock(device_mutex_);
    std::string identity;
    try {
        identity = device_.connect_and_identify(Clock::now() + options_.connect_timeout);
        const std::string expected =
            options_.expected_identity.empty() ? this->identity() : options_.expected_identity;
        if (!expected.empty() && identity != expected) {
            device_.disconnect();
            next_attempt_ = Clock::now() + next_backoff();
            set_state(LinkState::fault);
            emit(EventKind::identity_mismatch,
                 "expected '" + expected + "', the device says '" + identity + "'");
            return;
        }
        device_.reapply_settings();
    } catch (const DriverError& error) {
        device_.disconnect();
        next_attempt_ = Clock::now() + next_backoff();
        emit(EventKind::connect_failed, error.what());
        return;
    }
    const auto now = Clock::now();
    backoff_ = options_.backoff_initial;
    {
        std::lock_guard lock(state_mutex_);
        identity_ = identity;
        state_ = LinkState::connected;
    }
    if (ever_connected_) {
        emit(EventKind::reconnected,
             "link restored after " + std::to_string(seconds(now - lost_at_)) +
                 " s; connected, not active: the owner decides whether to hold or abort",
             seconds(now - lost_at_));
    } else {
        emit(EventKind::connected, identity);
    }
    ever_connected_ = true;
}

void Supervisor::beat(Deadline until) {
    // The owner's exchange in progress is proof of life (or fails by itself); waiting for it
    // would delay the stale check behind a stalled peer.
    std::unique_lock device_lock(device_mutex_, std::try_to_lock);
    if (!device_lock.owns_lock()) {
        return;
    }
    const LinkState now_state = state();
    if (now_state != LinkState::connected && now_state != LinkState::active) {
        return;  // the owner's call lost the link meanwhile
    }
    bool fresh = false;
    try {
        fresh = device_.heartbeat(
            until, [this](EventKind kind, const std::string& message, double duration_s,
                          std::uint64_t first_seq, std::uint64_t count) {
                emit(kind, message, duration_s, first_seq, count);
            });
    } catch (const DriverError& error) {
        if (error.needs_reconnect()) {
            lose_link(error.what());
        } else {
            emit(EventKind::device_error, error.what());
        }
        return;
    }
    if (!fresh) {
        return;
    }
    bool was_stale = false;
    {
        std::lock_guard lock(state_mutex_);
        last_fresh_ = Clock::now();
        was_stale = stale_;
        stale_ = false;
    }
    if (was_stale) {
        emit(EventKind::fresh, "data again");
    }
}

// ---------------------------------------------------------------------------------------------

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
    driver_->connect(deadline);
    sequencer_.new_link();
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

bool FrameLink::heartbeat(Deadline until, const Report& report) {
    SampleStream* stream = driver_->stream();
    if (!streaming_ || stream == nullptr) {
        driver_->state();  // an answer is the proof of life
        return true;
    }
    bool fresh = false;
    for (const RawSample& raw : stream->read_samples(until)) {
        const auto result = sequencer_.accept(raw);
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

FurnaceLink::FurnaceLink(std::unique_ptr<FurnaceDriver> driver) : driver_(std::move(driver)) {}

std::optional<std::pair<FurnaceReading, Clock::time_point>> FurnaceLink::latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
}

std::string FurnaceLink::connect_and_identify(Deadline) {
    driver_->connect();
    return driver_->identify();
}

void FurnaceLink::reapply_settings() {
    if (rate_limit_) {
        driver_->set_rate_limit_k_per_min(*rate_limit_);
    }
}

bool FurnaceLink::heartbeat(Deadline, const Report&) {
    const FurnaceReading reading = driver_->read();
    std::lock_guard lock(mutex_);
    latest_ = std::pair(reading, Clock::now());
    return true;
}

void FurnaceLink::disconnect() noexcept {
    driver_->disconnect();
}

}  // namespace dmacycle::drivers
