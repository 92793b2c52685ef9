// Peers the simulator does not imitate: a stalled name server, bytes that trickle in, a peer
// that drops every link, garbage in the sample stream, an instrument whose clock restarts.
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <netdb.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dmacycle/drivers/modbus_link.hpp"
#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"
#include "dmacycle/drivers/supervised_devices.hpp"
#include "dmacycle/drivers/transport.hpp"
#include "hostile_peer.hpp"
#include "sim_fixture.hpp"
#include "time_scale.hpp"

using namespace dmacycle::drivers;
using std::chrono::milliseconds;
using test_support::elapsed_s;
using test_support::HostilePeer;

namespace {

std::atomic<int> lookups{0};
constexpr std::string_view slow_name = "slow.dmacycle.invalid";

}  // namespace

// The system resolver as this test binary sees it: counts lookups, and a name server that
// takes 2 s for slow_name. Defined here, it takes precedence over libc's for the drivers too.
extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** found) {
    using Real = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "getaddrinfo"));
    ++lookups;
    if (node != nullptr && std::string_view(node) == slow_name) {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        return EAI_AGAIN;
    }
    return real(node, service, hints, found);
}

namespace {

// A bound for "took about `deadline_s`" that a loaded 2-core machine does not break.
bool within_deadline(double took_s, double deadline_s) {
    return took_s < test_support::scaled_s(deadline_s * 3 + 0.5);
}

// Replies to a dmacycle frame's commands; streams "S,n,t,..." once started, from t0.
struct FramePeerScript {
    double t0 = 1000.0;
    int stream_lines = -1;  // then close the link; -1: never
};

void frame_peer(int fd, const std::atomic<bool>& stop, const FramePeerScript& script) {
    std::string buffer, line;
    bool streaming = false;
    int sent = 0;
    while (!stop) {
        if (streaming) {
            if (script.stream_lines >= 0 && sent >= script.stream_lines) {
                return;  // the link drops mid-stream
            }
            const std::string sample = "S," + std::to_string(sent) + "," +
                                       std::to_string(script.t0 + 0.02 * sent) + ",1,2,300\n";
            if (!test_support::send_all(fd, sample)) {
                return;
            }
            ++sent;
        }
        if (!test_support::read_line(fd, buffer, line, stop, milliseconds(streaming ? 20 : 5000))) {
            if (!streaming) {
                return;
            }
            continue;
        }
        std::string reply;
        if (line == "*IDN?") {
            reply = "dmacycle,HOSTILE,1,1";
        } else if (line == "SYST:ERR?") {
            reply = "0,\"No error\"";
        } else if (line == "SOURce:STATe?") {
            reply = "HOLD,0,0";
        } else if (line == "STReam:STARt") {
            streaming = true;
        }
        if (!reply.empty() && !test_support::send_all(fd, reply + "\n")) {
            return;
        }
    }
}

}  // namespace

TEST_CASE("name resolution: an IP literal is never looked up") {
    const int before = lookups;
    CHECK(resolve_host("127.0.0.1", deadline_in(milliseconds(100)), "x") ==
          std::vector<std::string>{"127.0.0.1"});
    CHECK(resolve_host("::1", deadline_in(milliseconds(100)), "x") ==
          std::vector<std::string>{"::1"});
    HostilePeer peer([](int, int, const std::atomic<bool>&) {});
    auto transport =
        make_transport(parse_connection_uri("tcp://127.0.0.1:" + std::to_string(peer.port())));
    transport->open(deadline_in(milliseconds(500)));
    CHECK(transport->is_open());
    CHECK(lookups == before);
}

TEST_CASE("name resolution: a stalled name server costs the deadline, not its own timeout") {
    const auto start = std::chrono::steady_clock::now();
    auto transport =
        make_transport(parse_connection_uri("tcp://" + std::string(slow_name) + ":5025"));
    try {
        transport->open(deadline_in(milliseconds(200)));
        FAIL("connected to a name that does not resolve");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::timeout);
        CHECK(std::string(error.what()).find("resolving") != std::string::npos);
    }
    MESSAGE("a 2 s name lookup ended the connect after " << elapsed_s(start)
                                                         << " s (deadline 0.2 s)");
    CHECK(within_deadline(elapsed_s(start), 0.2));
    CHECK(elapsed_s(start) < test_support::scaled_s(1.5));  // the lookup itself takes 2 s

    const auto modbus_start = std::chrono::steady_clock::now();
    ModbusLink link(parse_connection_uri("modbus-tcp://" + std::string(slow_name) + ":502"),
                    milliseconds(200));
    try {
        link.connect();
        FAIL("connected to a name that does not resolve");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::timeout);
    }
    CHECK(elapsed_s(modbus_start) < test_support::scaled_s(1.5));
}

TEST_CASE("trickling peer: a reply a byte at a time still ends at the exchange deadline") {
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        if (test_support::read_line(fd, buffer, line, stop)) {
            for (const char c : std::string_view("dmacycle,SIM-DMA,1,2\n")) {
                if (stop || !test_support::send_all(fd, std::string(1, c))) {
                    return;
                }
                test_support::pause(milliseconds(40), stop);
            }
        }
    });
    auto frame =
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(200)});
    frame->connect(deadline_in(milliseconds(500)));
    const auto start = std::chrono::steady_clock::now();
    try {
        frame->identify();
        FAIL("a trickled reply was taken");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::timeout);
        CHECK(std::string(error.what()).find("partial line pending: 'dm") != std::string::npos);
    }
    CHECK(within_deadline(elapsed_s(start), 0.2));
}

TEST_CASE("trickling Modbus peer: a reply stretched byte by byte is a timeout near the deadline") {
    // Every byte within libmodbus's default byte timeout of the one before, which restarts on
    // each byte: each exchange took as long as the peer liked.
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::array<unsigned char, 12> request{};
        std::size_t got = 0;
        while (!stop && got < request.size()) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) {
                const auto n = ::read(fd, request.data() + got, request.size() - got);
                if (n <= 0) {
                    return;
                }
                got += static_cast<std::size_t>(n);
            }
        }
        // Read holding registers, one register: MBAP (transaction id echoed) and PDU.
        const std::array<unsigned char, 11> reply{request[0], request[1], 0, 0,    0,   5,
                                                  request[6], 3,          2, 0x03, 0x97};
        for (const unsigned char byte : reply) {
            if (stop || !test_support::send_all(
                            fd, std::string_view(reinterpret_cast<const char*>(&byte), 1))) {
                return;
            }
            test_support::pause(milliseconds(30), stop);
        }
        test_support::pause(milliseconds(2000), stop);
    });
    ModbusLink link(parse_connection_uri("modbus-tcp://127.0.0.1:" + std::to_string(peer.port())),
                    milliseconds(200));
    link.connect();
    const auto start = std::chrono::steady_clock::now();
    try {
        link.read(1, 1, "PV");
        FAIL("a reply that took 330 ms was taken within a 200 ms deadline");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::timeout);
        CHECK(error.needs_reconnect());
    }
    MESSAGE("a Modbus reply trickled at 30 ms per byte failed after " << elapsed_s(start)
                                                                      << " s (deadline 0.2 s)");
    CHECK(within_deadline(elapsed_s(start), 0.2));
}

TEST_CASE("flapping peer: a furnace that accepts and drops is retried with a growing backoff") {
    HostilePeer peer([](int, int, const std::atomic<bool>&) {});  // close on connect
    FurnaceLink furnace(make_furnace(
        {"", "", "modbus-tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(200)}));
    EventQueue events;
    Supervisor supervisor("furnace", furnace, SupervisorOptions{}, events.sink());
    supervisor.start();
    std::this_thread::sleep_for(milliseconds(2000));
    supervisor.stop();
    // Backoff 50, 100, 200, 400, 800 ms (× 0.8–1.2): about six attempts in 2 s, never a storm.
    MESSAGE("furnace: " << peer.accepted() << " connections to a close-on-connect peer in 2 s");
    CHECK(peer.accepted() >= 2);
    CHECK(peer.accepted() <= 12);
    for (const auto& e : events.snapshot()) {
        CHECK(e.kind != EventKind::connected);  // a peer that never answered is not connected
    }
}

TEST_CASE("flapping peer: a frame that answers its identity and then drops is not a storm") {
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        while (test_support::read_line(fd, buffer, line, stop)) {
            if (line == "*IDN?") {
                test_support::send_all(fd, "dmacycle,HOSTILE,1,1\n");
            } else if (line == "SYST:ERR?") {
                test_support::send_all(fd, "0,\"No error\"\n");
            } else if (line != "STReam:STOP") {
                return;  // the first heartbeat finds the link gone
            }
        }
    });
    FrameLink frame(
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(200)}),
        [](const FrameSample&) {});
    EventQueue events;
    Supervisor supervisor("frame", frame, SupervisorOptions{}, events.sink());
    supervisor.start();
    std::this_thread::sleep_for(milliseconds(2000));
    supervisor.stop();
    // The identity answered, so each attempt "connects"; without data the link is not proven
    // and the backoff keeps growing: ~6 attempts in 2 s (10,000 before the fix).
    MESSAGE("frame: " << peer.accepted() << " connections to a peer that drops after *IDN? in 2 s");
    CHECK(peer.accepted() >= 2);
    CHECK(peer.accepted() <= 12);
}

TEST_CASE("sample stream: a garbled line is counted and the good lines around it are kept") {
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        // After STReam:STARt and its error query (connecting flushes what came before).
        while (test_support::read_line(fd, buffer, line, stop) && line != "SYST:ERR?") {
        }
        test_support::send_all(fd,
                               "0,\"No error\"\n"
                               "S,0,1.00,1,2,300\n"
                               "\xff\xfe garbage\n"
                               "S,1.5,1.02,1,2,300\n"  // not a whole number
                               "S,-1,1.04,1,2,300\n"
                               "S,1e300,1.06,1,2,300\n"
                               "S,2,1.08,1,2,300\n");
        test_support::pause(milliseconds(3000), stop);
    });
    auto frame =
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(500)});
    frame->connect(deadline_in(milliseconds(500)));
    frame->stream()->start_stream();
    std::vector<RawSample> samples;
    const auto until = deadline_in(milliseconds(2000));
    while (samples.size() < 2 && std::chrono::steady_clock::now() < until) {
        for (const auto& s : frame->stream()->read_samples(deadline_in(milliseconds(100)))) {
            samples.push_back(s);
        }
    }
    REQUIRE(samples.size() == 2);
    CHECK(samples[0].link_seq == 0);
    CHECK(samples[1].link_seq == 2);
    CHECK(frame->stream()->malformed_samples() == 4);
}

TEST_CASE("supervision: an instrument clock restarted across a reconnect is a new epoch") {
    // First link: samples at t = 1000 s, then it drops; second link: the instrument was power
    // cycled and its clock starts again at 0. Before the fix every new sample was a duplicate.
    HostilePeer peer([](int fd, int connection, const std::atomic<bool>& stop) {
        FramePeerScript script;
        script.t0 = connection == 0 ? 1000.0 : 0.0;
        script.stream_lines = connection == 0 ? 20 : -1;
        frame_peer(fd, stop, script);
    });
    std::mutex mutex;
    std::vector<FrameSample> samples;
    FrameLink frame(
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(500)}),
        [&](const FrameSample& s) {
            std::lock_guard lock(mutex);
            samples.push_back(s);
        });
    frame.set_streaming(true, 50.0);
    EventQueue events;
    SupervisorOptions options;
    options.heartbeat_interval = milliseconds(50);
    Supervisor supervisor("frame", frame, options, events.sink());
    supervisor.start();
    const auto reset = events.wait_for(EventKind::instrument_clock_reset, milliseconds(5000));
    const auto until = deadline_in(milliseconds(3000));
    while (std::chrono::steady_clock::now() < until) {
        {
            std::lock_guard lock(mutex);
            if (samples.size() >= 40) {
                break;
            }
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    supervisor.stop();
    CHECK(reset.has_value());
    std::lock_guard lock(mutex);
    REQUIRE(samples.size() >= 40);
    for (std::size_t i = 1; i < samples.size(); ++i) {
        CHECK(samples[i].seq == samples[i - 1].seq + 1);  // kept, numbered on, no repeats
    }
    CHECK(samples.back().value.t_s < 100);  // samples from the restarted clock arrived
}

TEST_CASE("supervision: a furnace that answers slowly cannot hold stop() beyond one reading") {
    // PV at once, the setpoints and the status one byte per 40 ms: 0.44 s a request, 1.3 s
    // for the three of a reading. The reading budget (500 ms) ends the heartbeat, so stop()
    // does not wait for all three.
    std::atomic<bool> heartbeat_started{false};
    HostilePeer peer([&](int fd, int, const std::atomic<bool>& stop) {
        while (!stop) {
            std::array<unsigned char, 12> request{};
            std::size_t got = 0;
            while (!stop && got < request.size()) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 20) > 0) {
                    const auto n = ::read(fd, request.data() + got, request.size() - got);
                    if (n <= 0) {
                        return;
                    }
                    got += static_cast<std::size_t>(n);
                }
            }
            const unsigned address = (request[8] << 8) | request[9];
            const unsigned count = (request[10] << 8) | request[11];
            // PV 91.9 °C in both regions (integer tag 1, float at 0x8002), zeros elsewhere.
            std::string data(2 * count, '\0');
            if (address == 1) {
                data = std::string("\x03\x97", 2);
            } else if (address == 0x8002) {
                data = std::string("\x42\xb7\xcc\xcd", 4);
            }
            const auto length = static_cast<unsigned char>(3 + data.size());
            std::string reply{static_cast<char>(request[0]),
                              static_cast<char>(request[1]),
                              0,
                              0,
                              0,
                              static_cast<char>(length),
                              static_cast<char>(request[6]),
                              3,
                              static_cast<char>(data.size())};
            reply += data;
            if (address == 1 || address == 0x8002) {
                test_support::send_all(fd, reply);
                continue;
            }
            heartbeat_started = true;
            for (const char byte : reply) {
                if (stop || !test_support::send_all(fd, std::string(1, byte))) {
                    return;
                }
                test_support::pause(milliseconds(40), stop);
            }
        }
    });
    FurnaceLink furnace(make_furnace(
        {"", "", "modbus-tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(2000)}));
    EventQueue events;
    Supervisor supervisor("furnace", furnace, SupervisorOptions{}, events.sink());
    supervisor.start();
    REQUIRE(events.wait_for(EventKind::connected, milliseconds(3000)));
    const auto until = deadline_in(milliseconds(3000));
    while (!heartbeat_started && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(milliseconds(1));
    }
    REQUIRE(heartbeat_started);
    const auto start = std::chrono::steady_clock::now();
    supervisor.stop();
    MESSAGE("stop() during a trickled reading took " << elapsed_s(start) << " s (budget 0.5 s)");
    CHECK(elapsed_s(start) < test_support::scaled_s(1.0));  // ~0.5 s; 1.3 s before
}

TEST_CASE("sample stream: samples set aside during a reply are handed over, not dropped") {
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        while (test_support::read_line(fd, buffer, line, stop)) {
            if (line == "SOURce:STATe?") {  // two samples overtake the reply
                test_support::send_all(fd, "S,7,1.14,1,2,300\nS,8,1.16,1,2,300\nHOLD,0,0\n");
            }
        }
    });
    auto frame =
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(500)});
    frame->connect(deadline_in(milliseconds(500)));
    CHECK(frame->state().mode == "HOLD");
    // The link fails now; whoever reconnects takes what the old link had delivered first.
    const auto pending = frame->stream()->take_pending_samples();
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].link_seq == 7);
    CHECK(pending[1].link_seq == 8);
    CHECK(frame->stream()->take_pending_samples().empty());
}

TEST_CASE("sample stream: one read takes every line already received, not one chunk of it") {
    constexpr int count = 1000;  // ~20 kB: five chunks of 4 kB, the reads before
    HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        while (test_support::read_line(fd, buffer, line, stop)) {
            if (line == "SOURce:STATe?") {  // the reply, then a burst of samples behind it
                std::string bytes = "HOLD,0,0\n";
                for (int i = 0; i < count; ++i) {
                    bytes += "S," + std::to_string(i) + "," + std::to_string(i) + ",1,2,300\n";
                }
                test_support::send_all(fd, bytes);
            }
        }
    });
    auto frame =
        make_frame({"", "", "tcp://127.0.0.1:" + std::to_string(peer.port()), milliseconds(500)});
    frame->connect(deadline_in(milliseconds(500)));
    CHECK(frame->state().mode == "HOLD");
    // Sent with the reply in one write on loopback: all received by now.
    const auto samples = frame->stream()->read_samples(deadline_in(milliseconds(1000)));
    REQUIRE(samples.size() == count);
    CHECK(samples.back().link_seq == count - 1);
}
