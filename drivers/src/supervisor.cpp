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
        case EventKind::instrument_clock_reset:
            return "instrument_clock_reset";
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
        {
            std::lock_guard lock(state_mutex_);
            stopping_ = false;
        }
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

void Supervisor::schedule_retry() {
    std::lock_guard lock(state_mutex_);
    schedule_retry_locked();
}

void Supervisor::schedule_retry_locked() {
    std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
    next_attempt_ =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(backoff_ * spread(rng_));
    backoff_ = std::min<Clock::duration>(
        std::chrono::duration_cast<Clock::duration>(backoff_ * options_.backoff_factor),
        options_.backoff_max);
}

void Supervisor::lose_link(const std::string& why) {
    device_.disconnect();
    {
        std::lock_guard lock(state_mutex_);
        lost_at_ = Clock::now();
        if (link_proven_) {
            next_attempt_ = lost_at_;  // a link that worked is retried at once
        } else {
            // Lost before any data came (a peer that accepts, then drops): this is a failed
            // connect, and the backoff keeps growing, or a flapping peer gets a retry storm.
            schedule_retry_locked();
        }
        link_proven_ = false;
        state_ = LinkState::fault;
        wake_requested_ = true;  // an owner's call may have found it: do not wait a beat
    }
    wake_.notify_all();
    emit(EventKind::link_lost, why);
}

void Supervisor::discount_starvation_locked(Clock::time_point due) {
    // Late by more than a scheduler hiccup: this thread was runnable and did not run.
    constexpr auto starved = std::chrono::milliseconds(100);
    const auto late = Clock::now() - due;
    if (last_fresh_ && late > starved) {
        *last_fresh_ = std::min(*last_fresh_ + late, Clock::now());
    }
}

void Supervisor::discount_peer_starvation_locked() {
    if (!options_.peer_starved) {
        return;
    }
    const auto starved = options_.peer_starved();
    if (last_fresh_ && starved > peer_starved_seen_) {
        *last_fresh_ = std::min(*last_fresh_ + (starved - peer_starved_seen_), Clock::now());
    }
    peer_starved_seen_ = starved;
}

Clock::time_point Supervisor::retry_at() const {
    std::lock_guard lock(state_mutex_);
    return next_attempt_;
}

void Supervisor::loop() {
    while (true) {
        Clock::time_point wake_at;
        const LinkState now_state = state();
        if (now_state == LinkState::disconnected || now_state == LinkState::fault) {
            if (Clock::now() >= retry_at()) {
                try_connect();
            }
            wake_at = retry_at();
        } else {
            const auto beat_start = Clock::now();
            wake_at = beat_start + options_.heartbeat_interval;
            const auto until = std::max(wake_at, beat_start + options_.quiet_wait);
            beat(until);
            {
                std::lock_guard lock(state_mutex_);
                discount_starvation_locked(until);
            }
            if (state() == LinkState::fault) {
                wake_at = retry_at();  // lost during the beat: the first retry is due at once
            }
        }
        // Stale whatever the link does: a dead link has no fresh data either.
        {
            std::unique_lock lock(state_mutex_);
            discount_peer_starvation_locked();
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
            const auto waits_from = Clock::now();
            wake_.wait_until(lock, wake_at, [this] { return stopping_ || wake_requested_; });
            wake_requested_ = false;
            if (stopping_) {
                return;
            }
            discount_starvation_locked(std::max(wake_at, waits_from));
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
            schedule_retry();
            set_state(LinkState::fault);
            emit(EventKind::identity_mismatch,
                 "expected '" + expected + "', the device says '" + identity + "'");
            return;
        }
        device_.reapply_settings();
    } catch (const DriverError& error) {
        device_.disconnect();
        schedule_retry();
        emit(EventKind::connect_failed, error.what());
        return;
    }
    double outage_s = 0;
    {
        std::lock_guard lock(state_mutex_);
        identity_ = identity;
        state_ = LinkState::connected;
        if (!last_fresh_) {
            last_fresh_ = Clock::now();  // no data within max_age of the first connect is stale
        }
        outage_s = seconds(Clock::now() - lost_at_);
    }
    if (ever_connected_) {
        emit(EventKind::reconnected,
             "link restored after " + std::to_string(outage_s) +
                 " s; connected, not active: the owner decides whether to hold or abort",
             outage_s);
    } else {
        emit(EventKind::connected, identity);
    }
    ever_connected_ = true;
}

void Supervisor::beat(Deadline until) {
    // The owner's exchange in progress is proof of life (or fails by itself); waiting for it
    // would delay the stale check behind a stalled peer.
    std::unique_lock device_lock(device_mutex_, std::defer_lock);
    if (owners_waiting_ > 0 || !device_lock.try_lock()) {
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
        } else if (error.what() != repeated_error_) {
            repeated_error_ = error.what();  // once per streak, not once per heartbeat
            emit(EventKind::device_error, repeated_error_);
        }
        return;
    }
    repeated_error_.clear();
    if (!fresh) {
        return;
    }
    bool was_stale = false;
    {
        std::lock_guard lock(state_mutex_);
        // Data proves the link: only now does the backoff start again from its first step.
        link_proven_ = true;
        backoff_ = options_.backoff_initial;
        last_fresh_ = Clock::now();
        was_stale = stale_;
        stale_ = false;
    }
    if (was_stale) {
        emit(EventKind::fresh, "data again");
    }
}

}  // namespace dmacycle::drivers
