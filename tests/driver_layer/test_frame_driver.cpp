// The production frame driver (transport, line layer, SCPI codec, command table) against the
// simulated frame over real loopback sockets and a real pty.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"
#include "sim_fixture.hpp"
#include "time_scale.hpp"

using namespace dmacycle::drivers;
using std::chrono::milliseconds;
using test_support::elapsed_s;
using test_support::SimRig;

namespace {

ScpiFrame open_frame(const std::string& uri, milliseconds timeout = milliseconds(1000)) {
    ScpiFrameOptions options;
    options.scpi.exchange_timeout = timeout;
    ScpiFrame frame(parse_connection_uri(uri), *find_frame_commands("dmacycle-scpi"), options);
    frame.connect(deadline_in(milliseconds(1000)));
    return frame;
}

template <class F>
DriverError error_of(F&& fn) {
    try {
        fn();
    } catch (const DriverError& error) {
        return error;
    }
    FAIL("no DriverError");
    return DriverError(ErrorKind::config, "");
}

void exercise(ScpiFrame& frame) {
    CHECK(frame.identify() == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    frame.configure_geometry({1.0e-3, 25e-6, 12e-3});
    CHECK(frame.query("SAMP:WIDT?") == "0.001");
    frame.pretension(0.01);
    const auto held = frame.state();
    CHECK(held.mode == "HOLD");
    CHECK(held.stress_pa == doctest::Approx(0.01 / (1.0e-3 * 25e-6)));
    frame.ramp_force(2.0, 0.5);
    CHECK(frame.state().mode == "RAMP");
    frame.hold();
    CHECK(frame.state().mode == "HOLD");
    frame.program()->program_cycle(0, 100e6, 1e6, 2);
    frame.program()->program_dwell(10);
    CHECK(frame.state().target_pa == doctest::Approx(0.0));
    const auto m = frame.measure();
    CHECK(m.temperature_k == doctest::Approx(365.0).epsilon(0.01));
    frame.oscillation()->set_oscillation_frequency(2.0);
    const auto dmta = frame.oscillation()->measure_dynamic();
    CHECK(dmta.frequency_hz == doctest::Approx(2.0));
    CHECK(dmta.storage_pa > 1e9);

    auto* stream = frame.stream();
    REQUIRE(stream != nullptr);
    stream->set_stream_rate(100);
    stream->start_stream();
    std::vector<RawSample> samples;
    const auto deadline = deadline_in(milliseconds(3000));
    while (samples.size() < 20 && Clock::now() < deadline) {
        for (const auto& s : stream->read_samples(deadline_in(milliseconds(200)))) {
            samples.push_back(s);
        }
    }
    REQUIRE(samples.size() >= 20);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        CHECK(samples[i].link_seq == i);
    }
    // A query in the middle of the stream gets its reply, not a sample.
    CHECK(frame.identify() == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    stream->stop_stream();
    CHECK(stream->malformed_samples() == 0);
}

}  // namespace

TEST_CASE("frame driver over tcp: identify, geometry, ramps, program, DMTA, stream") {
    SimRig rig;
    auto frame = open_frame(rig.start_frame_tcp());
    exercise(frame);
}

TEST_CASE("frame driver over a pty: the same driver on a serial transport") {
    SimRig rig;
    auto frame = open_frame(rig.start_frame_pty());
    exercise(frame);
}

TEST_CASE("frame driver: refusals come from the error queue and name the command") {
    SimRig rig;
    auto frame = open_frame(rig.start_frame_tcp());
    const auto error = error_of([&] { frame.ramp_force(18.5, 0.1); });
    CHECK(error.kind() == ErrorKind::device);
    CHECK(std::string(error.what())
              .find("'SOURce:FORCe:RAMP 18.5,0.1' refused: -222,\"Data out "
                    "of range\"") != std::string::npos);
    CHECK_FALSE(error.needs_reconnect());
    // Two errors queued by one bad line are both drained: the next command starts clean.
    frame.command("SIM:FAULt:TRIP");
    const auto tripped = error_of([&] { frame.ramp_stress(1e6, 1e6); });
    CHECK(std::string(tripped.what()).find("-221") != std::string::npos);
    CHECK(frame.state().mode == "TRIP");
    frame.command("*RST");
    frame.ramp_stress(1e6, 1e6);
    CHECK(frame.state().mode == "RAMP");
}

TEST_CASE("frame driver: garbled and half replies give clear errors, not a crash") {
    SimRig rig;
    auto frame = open_frame(rig.start_frame_tcp(), milliseconds(300));
    // The fault hits the next reply, which is the error query that follows every command.
    const auto garbled = error_of([&] { frame.command("SIM:FAULt:GARBle"); });
    CHECK(garbled.kind() == ErrorKind::protocol);
    CHECK(std::string(garbled.what()).find("SYST:ERR?: expected code,\"text\", got 'jv") !=
          std::string::npos);
    CHECK(garbled.needs_reconnect());
    frame.disconnect();
    frame.connect(deadline_in(milliseconds(1000)));
    CHECK(frame.identify() == "dmacycle,SIM-DMA,SIM0001,0.1.0");

    const auto start = std::chrono::steady_clock::now();
    const auto half = error_of([&] { frame.command("SIM:FAULt:HALF"); });
    CHECK(elapsed_s(start) >= 0.29);
    CHECK(elapsed_s(start) < test_support::scaled_s(0.3 * 3 + 0.5));
    CHECK(half.kind() == ErrorKind::timeout);
    CHECK(std::string(half.what()).find("partial line pending: '0,\"No") != std::string::npos);
    CHECK(half.needs_reconnect());
    // Without a reconnect the half line would prefix the next reply: a fresh link is in step.
    frame.disconnect();
    frame.connect(deadline_in(milliseconds(1000)));
    CHECK(frame.identify() == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(frame.measure().temperature_k > 300);
}

TEST_CASE("frame driver: a muted or late peer times every exchange out at its deadline") {
    SimRig rig;
    auto frame = open_frame(rig.start_frame_tcp(), milliseconds(200));
    // MUTE applies at once, so already the error query after it goes unanswered.
    auto start = std::chrono::steady_clock::now();
    CHECK(error_of([&] { frame.command("SIM:FAULt:MUTE"); }).kind() == ErrorKind::timeout);
    CHECK(elapsed_s(start) >= 0.2);
    CHECK(elapsed_s(start) < test_support::scaled_s(0.2 * 3 + 0.5));  // room for a loaded machine
    for (int i = 0; i < 3; ++i) {
        start = std::chrono::steady_clock::now();
        const auto error = error_of([&] { frame.measure(); });
        const double took_s = elapsed_s(start);
        CHECK(error.kind() == ErrorKind::timeout);
        CHECK(std::string(error.what()).find("waiting for the reply to 'MEASure?'") !=
              std::string::npos);
        MESSAGE("exchange timed out after " << took_s << " s (deadline 0.2 s)");
        CHECK(took_s >= 0.2);
        CHECK(took_s < test_support::scaled_s(0.2 * 3 + 0.5));
    }
    // DELay: every reply 1 s late, the deadline 0.2 s.
    frame.disconnect();
    frame.connect(deadline_in(milliseconds(1000)));
    start = std::chrono::steady_clock::now();
    CHECK(error_of([&] { frame.command("SIM:FAULt:DELay 1"); }).kind() == ErrorKind::timeout);
    CHECK(elapsed_s(start) < test_support::scaled_s(0.9));  // cut before the 1 s late reply
}

TEST_CASE("frame driver: registry picks the driver and model, and names what is unknown") {
    SimRig rig;
    auto frame = make_frame({"", "", rig.start_frame_tcp(), milliseconds(500)});
    frame->connect(deadline_in(milliseconds(1000)));
    CHECK(frame->identify().starts_with("dmacycle,SIM-DMA"));
    // As std::string, so that a failing CHECK prints the text rather than a pointer.
    const auto message = [](auto fn) { return std::string(error_of(fn).what()); };
    CHECK(message([] {
              make_frame({"gpib-frame", "", "tcp://h:1"});
          }) == "unknown frame driver 'gpib-frame' (known: scpi-frame)");
    CHECK(message([] {
              make_frame({"scpi-frame", "q800", "tcp://h:1"});
          }) == "frame driver scpi-frame has no model 'q800' (known: dmacycle-scpi)");
    CHECK(message([] {
              make_frame({"", "", "modbus-tcp://h:1"});
          }).find("a line instrument needs tcp:// or serial://") != std::string::npos);
    auto missing = make_frame({"", "", "serial:///dev/dmacycle-no-such-tty?baud=19200"});
    const auto no_device = error_of([&] { missing->connect(deadline_in(milliseconds(500))); });
    CHECK(no_device.kind() == ErrorKind::link);
    CHECK(std::string(no_device.what()).find("cannot open /dev/dmacycle-no-such-tty") !=
          std::string::npos);
    // Connecting to a closed port fails as a link error, promptly.
    rig.stop_frame();
    auto gone = make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(rig.frame_port)});
    CHECK(error_of([&] { gone->connect(deadline_in(milliseconds(500))); }).kind() ==
          ErrorKind::link);
}

TEST_CASE("line layer on a pty: stale bytes are flushed on open, inter-command delay kept") {
    SimRig rig;
    const std::string uri = rig.start_frame_pty();
    {
        auto frame = open_frame(uri, milliseconds(100));
        // Every reply 0.3 s late: this command's error-query reply arrives after we left.
        CHECK(error_of([&] { frame.command("SIM:FAULt:DELay 0.3"); }).kind() == ErrorKind::timeout);
    }
    std::this_thread::sleep_for(milliseconds(500));  // the late reply now waits in the pty
    // A new link must not take that stale reply for the answer to its own questions.
    ScpiFrameOptions options;
    options.scpi.exchange_timeout = milliseconds(1000);
    options.line.inter_command_delay = milliseconds(40);
    ScpiFrame frame(parse_connection_uri(uri), *find_frame_commands("dmacycle-scpi"), options);
    frame.connect(deadline_in(milliseconds(1000)));
    frame.command("SIM:FAULt:CLEar");  // its own reply, 0.3 s late, still answers it
    const auto start = std::chrono::steady_clock::now();
    CHECK(frame.identify() == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(frame.query("SAMP:WIDT?") == "0.0012");
    CHECK(frame.query("SAMP:THIC?") == "3e-05");
    CHECK(elapsed_s(start) >= 0.08);  // three lines, at least 40 ms apart
}
