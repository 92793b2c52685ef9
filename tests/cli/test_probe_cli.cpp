// `dmacycle probe` as users run it: the real executable against the simulator (in-process,
// loopback port 0 and a pty) and against an independent Modbus implementation (pymodbus).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "../driver_layer/hostile_peer.hpp"
#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "dmacycle_run.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace sim = dmacycle::sim;
using nlohmann::json;

namespace {

test_support::DmacycleRun run_dmacycle(const std::string& args) {
    const test_support::TempDir dir("dmacycle-probe");
    return test_support::run_dmacycle(dir.path, args);
}

// The pymodbus peer as a child: its readiness line gives the port; closing its stdin ends
// it, and it is killed by pid if it does not exit within a second.
class ModbusPeer {
  public:
    ModbusPeer() {
        int in[2], out[2];
        REQUIRE(pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(pipe2(out, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        std::string python = DMACYCLE_SYSTEM_PYTHON;
        std::string script = DMACYCLE_SOURCE_DIR "/tests/cli/peers/pymodbus_furnace.py";
        char* argv[] = {python.data(), script.data(), nullptr};
        REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        close(in[0]);
        close(out[1]);
        stdin_fd_ = in[1];
        stdout_fd_ = out[0];
    }
    ~ModbusPeer() {
        close(stdin_fd_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (waitpid(pid_, nullptr, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, nullptr, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no waitpid timeout
        }
        close(stdout_fd_);
    }
    ModbusPeer(const ModbusPeer&) = delete;
    ModbusPeer& operator=(const ModbusPeer&) = delete;

    // "furnace modbus-tcp://127.0.0.1:PORT" → the URI; "" if it did not come within 10 s.
    std::string wait_ready() {
        std::string buffer;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (buffer.find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            char chunk[256];
            const auto n = read(stdout_fd_, chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        const std::string prefix = "furnace ";
        const auto nl = buffer.find('\n');
        if (nl == std::string::npos || !buffer.starts_with(prefix)) {
            return "";
        }
        return buffer.substr(prefix.size(), nl - prefix.size());
    }

  private:
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    int stdout_fd_ = -1;
};

}  // namespace

TEST_CASE("probe --json: frame over tcp and furnace over modbus-tcp, from the simulator") {
    sim::Instrument instrument(sim::default_profile(), sim::SimClock(1.0));
    sim::FrameServer frame(instrument);
    const auto frame_port = frame.listen_tcp("127.0.0.1", 0);
    frame.start();
    sim::FurnaceServer furnace(instrument);
    const auto furnace_port = furnace.listen_tcp("127.0.0.1", 0);
    const auto run =
        run_dmacycle("probe --json --frame tcp://127.0.0.1:" + std::to_string(frame_port) +
                     " --furnace modbus-tcp://127.0.0.1:" + std::to_string(furnace_port));
    CHECK(run.err == "");
    REQUIRE(run.exit_code == 0);
    const auto result = json::parse(run.out);
    CHECK(result["frame"]["idn"] == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(result["frame"]["link"] == "connected");
    CHECK(std::abs(result["frame"]["force_n"].get<double>()) < 1e-3);  // unloaded
    CHECK(result["furnace"]["temperature_k"].get<double>() ==
          doctest::Approx(365.0).epsilon(0.002));
    CHECK(result["furnace"]["setpoint_k"].get<double>() == 365.05);
    CHECK(result["furnace"]["status"]["sensor_break"] == false);
    CHECK(result["furnace"]["link"] == "connected");
}

TEST_CASE("probe: frame and furnace on ptys, as text") {
    sim::Instrument instrument(sim::default_profile(), sim::SimClock(1.0));
    sim::FrameServer frame(instrument);
    const auto frame_path = frame.open_pty();
    frame.start();
    sim::FurnaceServer furnace(instrument);
    const auto furnace_path = furnace.open_rtu_pty();
    const auto run =
        run_dmacycle("probe --frame serial://" + frame_path + "?baud=115200" +
                     " --furnace 'modbus-rtu://" + furnace_path + "?baud=19200&unit=1'");
    CHECK(run.err == "");
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("frame  serial://" + frame_path + "?baud=115200  connected\n") !=
          std::string::npos);
    CHECK(run.out.find("  idn  dmacycle,SIM-DMA,SIM0001,0.1.0\n") != std::string::npos);
    CHECK(run.out.find("  setpoint_k  365.05\n") != std::string::npos);
    CHECK(run.out.find("  status  0x0000 (ok)\n") != std::string::npos);
}

TEST_CASE("probe --rig: devices from a rig profile, the command line overriding it") {
    sim::Instrument instrument(sim::default_profile(), sim::SimClock(1.0));
    sim::FrameServer frame(instrument);
    const auto frame_port = frame.listen_tcp("127.0.0.1", 0);
    frame.start();
    sim::FurnaceServer furnace(instrument);
    const auto furnace_port = furnace.listen_tcp("127.0.0.1", 0);
    std::string pattern = (fs::temp_directory_path() / "dmacycle-rig-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    const fs::path rig = fs::path(pattern) / "rig.yaml";
    std::ofstream(rig) << "frame:\n  uri: tcp://127.0.0.1:" << frame_port
                       << "\nfurnace:\n  model: eurotherm-2400-float\n  uri: modbus-tcp://"
                          "127.0.0.1:1\n";
    const auto run =
        run_dmacycle("probe --json --rig " + rig.string() +
                     " --furnace modbus-tcp://127.0.0.1:" + std::to_string(furnace_port));
    fs::remove_all(pattern);
    CHECK(run.err == "");
    REQUIRE(run.exit_code == 0);
    const auto result = json::parse(run.out);
    CHECK(result["frame"]["idn"] == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(result["furnace"]["identity"] == "eurotherm-2400-float,unit 1");
    // The float region: the setpoint at full resolution, 365.0 K rather than 91.9 °C.
    CHECK(result["furnace"]["setpoint_k"].get<double>() == doctest::Approx(365.0).epsilon(1e-6));
}

TEST_CASE("probe --rig: a rig of driver sim is brought up in-process and probed as any rig") {
    const auto run =
        run_dmacycle("probe --json --rig " DMACYCLE_SOURCE_DIR "/config/rigs/sim.yaml");
    CHECK(run.err == "");
    REQUIRE(run.exit_code == 0);
    const auto result = json::parse(run.out);
    CHECK(result["frame"]["idn"] == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    CHECK(result["frame"]["uri"].get<std::string>().starts_with("tcp://127.0.0.1:"));
    CHECK(result["furnace"]["identity"] == "eurotherm-2400,unit 1");
    CHECK(result["furnace"]["temperature_k"].get<double>() ==
          doctest::Approx(365.0).epsilon(0.005));
}

TEST_CASE("probe reads a Modbus controller that is not our simulator (pymodbus)") {
    ModbusPeer peer;
    const std::string uri = peer.wait_ready();
    REQUIRE_MESSAGE(uri.starts_with("modbus-tcp://127.0.0.1:"),
                    "pymodbus peer did not start: is python3-pymodbus installed (scripts/setup)?");
    const auto run = run_dmacycle("probe --json --furnace " + uri);
    CHECK(run.err == "");
    REQUIRE(run.exit_code == 0);
    const auto furnace = json::parse(run.out)["furnace"];
    CHECK(furnace["temperature_k"].get<double>() == 523.45);  // 250.3 °C
    CHECK(furnace["setpoint_k"].get<double>() == 533.15);     // 260.0 °C
    CHECK(furnace["working_setpoint_k"].get<double>() == 528.65);
    CHECK(furnace["status"]["bits"] == 8192);
    CHECK(furnace["status"]["ramp_running"] == true);
    // A unit the peer does not serve: no reply, a clear error, exit status 3.
    const auto wrong = run_dmacycle("probe --timeout-ms 300 --furnace '" + uri + "?unit=9'");
    CHECK(wrong.exit_code == 3);
    CHECK(wrong.out.find("reading process value at register 1 (unit 9)") != std::string::npos);
    CHECK(wrong.out.find("wrong unit id?") != std::string::npos);
}

TEST_CASE("probe: bad arguments and unreachable devices") {
    auto run = run_dmacycle("probe");
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("give --rig FILE, --frame URI, --furnace URI or both") != std::string::npos);
    run = run_dmacycle("probe --frame tcp://nohost");
    CHECK(run.exit_code == 2);
    CHECK(run.err == "dmacycle probe: connection string 'tcp://nohost': expected host:port\n");
    run = run_dmacycle("probe --furnace modbus-tcp://127.0.0.1:1 --furnace-model eurotherm-9");
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("has no model 'eurotherm-9'") != std::string::npos);
    std::uint16_t closed_port = 0;
    {
        sim::Instrument instrument(sim::default_profile(), sim::SimClock(1.0));
        sim::FrameServer gone(instrument);
        closed_port = gone.listen_tcp("127.0.0.1", 0);
    }  // closed: nothing listens there now
    run = run_dmacycle("probe --json --frame tcp://127.0.0.1:" + std::to_string(closed_port));
    CHECK(run.exit_code == 3);
    const auto result = json::parse(run.out);
    CHECK(result["frame"]["link"] == "fault");
    CHECK(result["frame"]["error_kind"] == "link");
}

TEST_CASE("probe --json: binary bytes from a peer are one clean error, never an abort") {
    // Invalid UTF-8 and no newline: the partial line ends up in the timeout message.
    test_support::HostilePeer peer([](int fd, int, const std::atomic<bool>& stop) {
        std::string buffer, line;
        if (test_support::read_line(fd, buffer, line, stop)) {
            test_support::send_all(fd, "\xff\xfe\x80\x41\xc3");
            test_support::pause(std::chrono::milliseconds(2000), stop);
        }
    });
    const auto run = run_dmacycle("probe --json --timeout-ms 300 --frame tcp://127.0.0.1:" +
                                  std::to_string(peer.port()));
    CHECK(run.exit_code == 3);
    CHECK(run.err == "");
    const auto result = json::parse(run.out);  // valid JSON, valid UTF-8
    CHECK(result["frame"]["link"] == "fault");
    CHECK(result["frame"]["error_kind"] == "timeout");
    CHECK(result["frame"]["error"].get<std::string>().find("'\\xff\\xfe\\x80A\\xc3'") !=
          std::string::npos);
    CHECK_FALSE(result["frame"].contains("idn"));
}

TEST_CASE("probe --json: a furnace that accepts and drops shows no identity") {
    test_support::HostilePeer peer([](int, int, const std::atomic<bool>&) {});
    const auto run =
        run_dmacycle("probe --json --timeout-ms 300 --furnace modbus-tcp://127.0.0.1:" +
                     std::to_string(peer.port()));
    CHECK(run.exit_code == 3);
    const auto result = json::parse(run.out);
    CHECK(result["furnace"]["link"] == "fault");
    CHECK_FALSE(result["furnace"].contains("identity"));
}
