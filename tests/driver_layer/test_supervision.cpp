// Supervision against the simulator over real sockets: link drops mid-stream, the peer going
// away and coming back, a stalled peer, identity checks, settings re-applied.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"
#include "dmacycle/drivers/supervised_devices.hpp"
#include "sim_fixture.hpp"
#include "time_scale.hpp"

using namespace dmacycle::drivers;
using std::chrono::milliseconds;
using test_support::elapsed_s;
using test_support::SimRig;
namespace sim = dmacycle::sim;

namespace {

constexpr double rate_hz = 50.0;

class SampleLog {
  public:
    FrameLink::SampleSink sink() {
        return [this](const FrameSample& s) {
            std::lock_guard lock(mutex_);
            samples_.push_back(s);
        };
    }
    std::vector<FrameSample> all() const {
        std::lock_guard lock(mutex_);
        return samples_;
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return samples_.size();
    }
    // Bounded wait for at least n samples.
    bool wait_for(std::size_t n, milliseconds timeout) const {
        const auto deadline = std::chrono::steady_clock::now() + test_support::scaled(timeout);
        while (size() < n) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(milliseconds(10));  // the sink has no condition variable
        }
        return true;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<FrameSample> samples_;
};

SupervisorOptions fast_options() {
    SupervisorOptions options;
    options.heartbeat_interval = milliseconds(50);
    options.max_age = milliseconds(300);
    options.connect_timeout = milliseconds(500);
    options.backoff_initial = milliseconds(50);
    options.backoff_max = milliseconds(400);
    return options;
}

// Every hole in seq is covered by exactly one sample_gap event, and seq follows instrument
// time: seq ≈ (t − t0)·rate across reconnects too.
void check_continuity(const std::vector<FrameSample>& samples,
                      const std::deque<DeviceEvent>& events) {
    REQUIRE_FALSE(samples.empty());
    std::vector<const DeviceEvent*> gaps;
    for (const auto& e : events) {
        if (e.kind == EventKind::sample_gap) {
            gaps.push_back(&e);
        }
    }
    std::size_t gap_index = 0;
    for (std::size_t i = 1; i < samples.size(); ++i) {
        const auto prev = samples[i - 1].seq, seq = samples[i].seq;
        REQUIRE(seq > prev);  // never duplicated, never out of order
        const bool gap_here = gap_index < gaps.size() && gaps[gap_index]->first_seq == prev + 1;
        if (seq != prev + 1) {
            CAPTURE(prev);
            CAPTURE(seq);
            REQUIRE(gap_here);  // never silently lost
            CHECK(gaps[gap_index]->count == seq - prev - 1);
        }
        if (gap_here) {
            ++gap_index;
        }
    }
    CHECK(gap_index == gaps.size());
    const double t0 = samples.front().value.t_s;
    for (const auto& s : samples) {
        CHECK(std::abs((s.value.t_s - t0) * rate_hz - static_cast<double>(s.seq)) <= 1.0);
    }
}

}  // namespace

TEST_CASE("supervision: link dropped mid-stream, reconnect, gap reported, seq continuous") {
    SimRig rig{sim::SimClock(1.0)};
    const std::string uri = rig.start_frame_tcp();
    EventQueue events;
    SampleLog log;
    FrameLink link(make_frame({"", "", uri, milliseconds(500)}), log.sink());
    link.set_geometry({1.0e-3, 25e-6, 12e-3});
    link.set_streaming(true, rate_hz);
    Supervisor supervisor("frame", link, fast_options(), events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    CHECK(supervisor.state() == LinkState::connected);
    REQUIRE(supervisor.activate());
    REQUIRE(log.wait_for(10, milliseconds(2000)));

    // The simulator closes this connection 0.1 s from now, mid-stream.
    supervisor.with_device(
        [&] { dynamic_cast<ScpiFrame&>(link.driver()).command("SIM:FAULt:DROP 0.1"); });
    const auto lost = events.wait_for(EventKind::link_lost, milliseconds(2000));
    REQUIRE(lost);
    CHECK(lost->state == LinkState::fault);
    CHECK(lost->message.find("peer closed the link") != std::string::npos);
    const auto back = events.wait_for(EventKind::reconnected, milliseconds(2000));
    REQUIRE(back);
    MESSAGE("reconnected after " << back->duration_s << " s");
    CHECK(back->duration_s < test_support::scaled_s(1.0));  // the first retry is immediate
    CHECK(
        back->duration_s ==
        doctest::Approx(std::chrono::duration<double>(back->at - lost->at).count()).epsilon(0.05));
    // Connected, not active: nothing was commanded to move; the owner decides.
    CHECK(back->state == LinkState::connected);
    CHECK(supervisor.state() == LinkState::connected);
    CHECK_THROWS_AS(supervisor.with_active([] {}), DriverError);
    CHECK(rig.instrument.geometry().width_m == doctest::Approx(1.0e-3));  // settings re-applied

    const std::size_t before = log.size();
    REQUIRE(log.wait_for(before + 10, milliseconds(2000)));
    const auto gap = events.wait_for(EventKind::sample_gap, milliseconds(100));
    REQUIRE(gap);
    CHECK(gap->duration_s > 0.02);  // the time without samples, on the instrument's clock
    CHECK(gap->message.find("across a reconnect") != std::string::npos);
    supervisor.stop();
    auto all_events = events.snapshot();
    all_events.push_front(*gap);
    check_continuity(log.all(), all_events);
}

TEST_CASE("supervision: the peer goes away and returns, reconnect within 2 s of its return") {
    SimRig rig{sim::SimClock(1.0)};
    const std::string uri = rig.start_frame_tcp();
    const std::uint16_t port = rig.frame_port;
    EventQueue events;
    SampleLog log;
    FrameLink link(make_frame({"", "", uri, milliseconds(500)}), log.sink());
    link.set_streaming(true, rate_hz);
    // The production backoff (50 ms doubling to a 1 s cap, ±20 %), which sets the worst case.
    auto options = fast_options();
    options.backoff_initial = SupervisorOptions{}.backoff_initial;
    options.backoff_max = SupervisorOptions{}.backoff_max;
    Supervisor supervisor("frame", link, options, events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    REQUIRE(log.wait_for(10, milliseconds(2000)));

    rig.stop_frame();  // every connection closed, nothing listening
    REQUIRE(events.wait_for(EventKind::link_lost, milliseconds(2000)));
    REQUIRE(events.wait_for(EventKind::connect_failed, milliseconds(2000)));
    REQUIRE(events.wait_for(EventKind::stale, milliseconds(2000)));
    CHECK(supervisor.stale());
    std::this_thread::sleep_for(milliseconds(1000));  // the outage itself
    CHECK(supervisor.state() == LinkState::fault);

    const auto returned = std::chrono::steady_clock::now();
    rig.start_frame_tcp(port);  // the same instrument, back on the same port
    const auto back = events.wait_for(EventKind::reconnected, milliseconds(3000));
    REQUIRE(back);
    const double after_return_s = std::chrono::duration<double>(back->at - returned).count();
    MESSAGE("outage " << back->duration_s << " s, reconnected " << after_return_s
                      << " s after the peer returned");
    CHECK(after_return_s < test_support::scaled_s(2.0));
    CHECK(back->duration_s > 1.0);
    const std::size_t before = log.size();
    REQUIRE(log.wait_for(before + 10, milliseconds(2000)));
    REQUIRE(events.wait_for(EventKind::fresh, milliseconds(1000)));
    const auto gap = events.wait_for(EventKind::sample_gap, milliseconds(100));
    REQUIRE(gap);
    CHECK(gap->count >= static_cast<std::uint64_t>(1.0 * rate_hz));  // ≥ 1 s of samples missing
    CHECK(gap->duration_s > 1.0);
    supervisor.stop();
    auto all_events = events.snapshot();
    all_events.push_front(*gap);
    check_continuity(log.all(), all_events);
}

TEST_CASE("supervision: a stalled peer is stale after max_age, times out, and is replaced") {
    SimRig rig{sim::SimClock(1.0)};
    EventQueue events;
    SampleLog log;
    FrameLink link(make_frame({"", "", rig.start_frame_tcp(), milliseconds(1000)}), log.sink());
    link.set_streaming(true, rate_hz);
    Supervisor supervisor("frame", link, fast_options(), events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    REQUIRE(log.wait_for(5, milliseconds(2000)));

    // MUTE: the simulator reads and answers nothing, stream included. The owner's command
    // waits for its error query until the 1 s deadline; meanwhile the data goes stale.
    const auto muted = std::chrono::steady_clock::now();
    std::optional<DriverError> error;
    try {
        supervisor.with_device(
            [&] { dynamic_cast<ScpiFrame&>(link.driver()).command("SIM:FAULt:MUTE"); });
    } catch (const DriverError& e) {
        error = e;
    }
    const double took_s = elapsed_s(muted);
    REQUIRE(error);
    CHECK(error->kind() == ErrorKind::timeout);
    CHECK(took_s >= 1.0);
    CHECK(took_s < test_support::scaled_s(1.0 * 2 + 0.5));
    const auto stale = events.wait_for(EventKind::stale, milliseconds(100));
    REQUIRE(stale);
    const double stale_after_s = std::chrono::duration<double>(stale->at - muted).count();
    MESSAGE("stale " << stale_after_s << " s after the peer stalled, exchange timed out after "
                     << took_s << " s");
    // Stale while the owner's exchange was still stalled: the heartbeat does not wait for it.
    CHECK(stale_after_s < took_s);
    CHECK(stale->duration_s >= 0.3);
    // The timeout put the link in fault; a new connection is not muted.
    REQUIRE(events.wait_for(EventKind::link_lost, milliseconds(100)));
    REQUIRE(events.wait_for(EventKind::reconnected, milliseconds(2000)));
    REQUIRE(events.wait_for(EventKind::fresh, milliseconds(2000)));
    CHECK_FALSE(supervisor.stale());
    CHECK(supervisor.data_age().value() < milliseconds(1000));

    const auto stop_started = std::chrono::steady_clock::now();
    supervisor.stop();
    CHECK(elapsed_s(stop_started) < test_support::scaled_s(1.5));  // one exchange deadline
}

TEST_CASE("supervision: a different instrument after a reconnect is an identity mismatch") {
    SimRig rig{sim::SimClock(1.0)};
    EventQueue events;
    auto options = fast_options();
    options.expected_identity = "dmacycle,SIM-DMA,SIM9999,0.1.0";
    FrameLink link(make_frame({"", "", rig.start_frame_tcp(), milliseconds(500)}),
                   [](const FrameSample&) {});
    Supervisor supervisor("frame", link, options, events.sink());
    supervisor.start();
    const auto mismatch = events.wait_for(EventKind::identity_mismatch, milliseconds(2000));
    REQUIRE(mismatch);
    CHECK(mismatch->message ==
          "expected 'dmacycle,SIM-DMA,SIM9999,0.1.0', the device says "
          "'dmacycle,SIM-DMA,SIM0001,0.1.0'");
    CHECK(supervisor.state() == LinkState::fault);
    CHECK_FALSE(supervisor.activate());
    CHECK_THROWS_AS(supervisor.with_device([] {}), DriverError);
}

TEST_CASE("supervision: the furnace is polled, re-applies its rate limit, and reconnects") {
    SimRig rig;
    const std::string uri = rig.start_furnace_tcp();
    const std::uint16_t port = rig.furnace_port;
    EventQueue events;
    FurnaceLink link(make_furnace({"", "", uri, milliseconds(300)}));
    link.set_rate_limit_k_per_min(3.0);
    Supervisor supervisor("furnace", link, fast_options(), events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    CHECK(rig.instrument.furnace().rate_limit_k_per_min == doctest::Approx(3.0));
    REQUIRE(supervisor.activate());
    supervisor.with_active([&] { link.driver().write_setpoint_k(370.0); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!(link.latest() && link.latest()->first.status.ramp_running) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
    }
    REQUIRE(link.latest());
    CHECK(link.latest()->first.target_setpoint_k == doctest::Approx(370.0).epsilon(1e-3));

    rig.stop_furnace();
    REQUIRE(events.wait_for(EventKind::link_lost, milliseconds(2000)));
    REQUIRE(events.wait_for(EventKind::stale, milliseconds(2000)));
    rig.instrument.set_furnace_rate_limit_k_per_min(0);  // as if the controller lost it
    const auto returned = std::chrono::steady_clock::now();
    rig.start_furnace_tcp(port);
    const auto back = events.wait_for(EventKind::reconnected, milliseconds(3000));
    REQUIRE(back);
    CHECK(std::chrono::duration<double>(back->at - returned).count() < 2.0);
    CHECK(rig.instrument.furnace().rate_limit_k_per_min == doctest::Approx(3.0));
    REQUIRE(events.wait_for(EventKind::fresh, milliseconds(2000)));
    CHECK(supervisor.state() == LinkState::connected);  // not active until the owner says so
}

TEST_CASE("supervision: retries back off exponentially with jitter up to the cap") {
    std::uint16_t closed_port = 0;
    {
        SimRig rig;
        rig.start_frame_tcp();
        closed_port = rig.frame_port;
    }  // nothing listens there now
    EventQueue events;
    auto options = fast_options();
    options.backoff_initial = milliseconds(20);
    options.backoff_max = milliseconds(160);
    FrameLink link(make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(closed_port)}),
                   [](const FrameSample&) {});
    Supervisor supervisor("frame", link, options, events.sink());
    supervisor.start();
    std::vector<Clock::time_point> attempts;
    for (int i = 0; i < 7; ++i) {
        const auto failed = events.wait_for(EventKind::connect_failed, milliseconds(1000));
        REQUIRE(failed);
        CHECK(failed->state == LinkState::disconnected);  // never connected: not a fault
        CHECK(failed->message.find("cannot connect") != std::string::npos);
        attempts.push_back(failed->at);
    }
    supervisor.stop();
    const double expected_ms[] = {20, 40, 80, 160, 160, 160};
    for (std::size_t i = 1; i < attempts.size(); ++i) {
        const double gap_ms =
            std::chrono::duration<double, std::milli>(attempts[i] - attempts[i - 1]).count();
        CAPTURE(i);
        CHECK(gap_ms >= 0.8 * expected_ms[i - 1] - 1);
        // Lower bounds show the growth; the upper ones only that it is bounded, with room for
        // a loaded machine.
        CHECK(gap_ms <= 1.2 * expected_ms[i - 1] * 3 + 500);
    }
}

TEST_CASE("supervision: furnace exception replies are device errors, the link stays, data stales") {
    SimRig rig;
    EventQueue events;
    FurnaceLink link(make_furnace({"", "", rig.start_furnace_tcp(), milliseconds(300)}));
    Supervisor supervisor("furnace", link, fast_options(), events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    rig.instrument.set_furnace_forced_exception(4);  // what SIM:FURNace:EXCeption 4 switches on
    const auto refused = events.wait_for(EventKind::device_error, milliseconds(2000));
    REQUIRE(refused);
    CHECK(refused->message.find("(exception 4)") != std::string::npos);
    REQUIRE(events.wait_for(EventKind::stale, milliseconds(2000)));
    CHECK(supervisor.state() == LinkState::connected);  // a refusal is not a broken link
    // Ten heartbeats of refusals, and the link is still up.
    CHECK_FALSE(events.wait_for(EventKind::link_lost, milliseconds(500)));
    // Reported once per streak, not every 50 ms heartbeat (a second one if the switch landed
    // mid-read, naming another register).
    const auto repeats = events.snapshot();
    CHECK(std::count_if(repeats.begin(), repeats.end(), [](const DeviceEvent& e) {
              return e.kind == EventKind::device_error;
          }) <= 1);
    rig.instrument.set_furnace_forced_exception(0);
    REQUIRE(events.wait_for(EventKind::fresh, milliseconds(2000)));
    CHECK_FALSE(supervisor.stale());
}

namespace {

// A peer kept from running from stall() to resume(), as StarvationMeter would measure it.
class FakeStarvation {
  public:
    void stall() {
        std::lock_guard lock(mutex_);
        since_ = Clock::now();
    }
    void resume() {
        std::lock_guard lock(mutex_);
        total_ += Clock::now() - *since_;
        since_.reset();
    }
    PeerStarvation gauge() {
        return [this] {
            std::lock_guard lock(mutex_);
            return total_ + (since_ ? Clock::now() - *since_ : Clock::duration{});
        };
    }

  private:
    std::mutex mutex_;
    std::optional<Clock::time_point> since_;
    Clock::duration total_{};
};

}  // namespace

TEST_CASE("supervision: time an in-process peer could not run ages no data and times out nothing") {
    SimRig rig{sim::SimClock(1.0)};
    EventQueue events;
    SampleLog log;
    FakeStarvation peer;
    FrameLink link(make_frame({"", "", rig.start_frame_tcp(), milliseconds(1000)}, peer.gauge()),
                   log.sink());
    link.set_streaming(true, rate_hz);
    SupervisorOptions options = fast_options();
    options.peer_starved = peer.gauge();
    Supervisor supervisor("frame", link, options, events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    REQUIRE(log.wait_for(5, milliseconds(2000)));

    // The peer stops answering (MUTE) while it counts as starved: five max_ages and more than
    // the exchange's 1 s go by without a stale event or a timeout; once it counts as running
    // again, both come as for any silent peer.
    peer.stall();
    Clock::time_point resumed_at;
    std::thread resumer([&] {
        std::this_thread::sleep_for(milliseconds(1500));
        resumed_at = Clock::now();
        peer.resume();
    });
    std::optional<DriverError> error;
    try {
        supervisor.with_device(
            [&] { dynamic_cast<ScpiFrame&>(link.driver()).command("SIM:FAULt:MUTE"); });
    } catch (const DriverError& e) {
        error = e;
    }
    const auto failed_at = Clock::now();
    resumer.join();
    REQUIRE(error);
    CHECK(error->kind() == ErrorKind::timeout);
    const auto stale = events.wait_for(EventKind::stale, milliseconds(2000));
    REQUIRE(stale);
    // Nothing while the peer could not run (five max_ages): the exchange waited its 1 s
    // after the stall, the data went stale after it.
    CHECK(failed_at - resumed_at >= milliseconds(900));
    CHECK(stale->at > resumed_at);
    supervisor.stop();
}

TEST_CASE("supervision: a quiet stream is waited on, and an owner's call wakes the wait") {
    SimRig rig{sim::SimClock(1.0)};
    const std::string uri = rig.start_frame_tcp();
    EventQueue events;
    SampleLog log;
    FrameLink link(make_frame({"", "", uri, milliseconds(500)}), log.sink());
    link.set_streaming(true, 0.05);  // one sample in 20 s: the stream is quiet
    SupervisorOptions options = fast_options();
    options.heartbeat_interval = milliseconds(10);
    options.max_age = milliseconds(60000);
    options.quiet_wait = milliseconds(20000);  // a beat may wait this long for data
    Supervisor supervisor("frame", link, options, events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(2000)));
    REQUIRE(supervisor.activate());
    // Each call finds the heartbeat waiting on the quiet stream and wakes it: it is answered
    // at once, not after the 20 s wait.
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(milliseconds(50));  // the beat is back in its wait
        const auto start = std::chrono::steady_clock::now();
        const auto state = supervisor.with_device([&] { return link.driver().state(); });
        CHECK(state.mode == "HOLD");
        CHECK(elapsed_s(start) < test_support::scaled_s(2.0));
    }
    CHECK(supervisor.state() == LinkState::active);
    CHECK_FALSE(events.wait_for(EventKind::stale, milliseconds(0)));
    supervisor.stop();
}
