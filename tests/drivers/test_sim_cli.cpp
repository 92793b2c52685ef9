#include <doctest/doctest.h>
#include <fcntl.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "line_client.hpp"
#include "sim_process.hpp"

using test_support::LineClient;
using test_support::SimProcess;

TEST_SUITE_BEGIN("drivers");

TEST_CASE("dmacycle-sim prints its endpoints when ready and serves all of them") {
    SimProcess sim({"--speed", "max", "--frame-pty", "--furnace-rtu-pty", "--profile",
                    DMACYCLE_SOURCE_DIR "/config/instruments/sim-la30.yaml"});
    const auto lines = sim.read_lines(4);
    REQUIRE(lines.size() == 4);
    std::map<std::string, std::string> endpoints;
    for (const auto& line : lines) {
        const auto space = line.find(' ');
        const auto url = line.substr(space + 1);
        endpoints[line.substr(0, space) + " " + url.substr(0, url.find("://"))] =
            url.substr(url.find("://") + 3);
    }
    REQUIRE(endpoints.size() == 4);
    const auto& frame_tcp = endpoints["frame tcp"];
    const auto frame_port = std::stoi(frame_tcp.substr(frame_tcp.rfind(':') + 1));
    auto tcp = LineClient::tcp(static_cast<std::uint16_t>(frame_port));
    CHECK(tcp.query("*IDN?") == "dmacycle,SIM-DMA,SIM0001,0.1.0");
    auto serial = LineClient::serial(endpoints["frame serial"]);
    CHECK(serial.query("*IDN?") == "dmacycle,SIM-DMA,SIM0001,0.1.0");

    const auto& furnace_tcp = endpoints["furnace modbus-tcp"];
    modbus_t* ctx =
        modbus_new_tcp("127.0.0.1", std::stoi(furnace_tcp.substr(furnace_tcp.rfind(':') + 1)));
    modbus_set_response_timeout(ctx, 2, 0);
    REQUIRE(modbus_connect(ctx) == 0);
    std::uint16_t pv = 0;
    CHECK(modbus_read_registers(ctx, 1, 1, &pv) == 1);
    CHECK(pv > 900);
    modbus_close(ctx);
    modbus_free(ctx);

    CHECK(sim.terminate_and_wait() == 0);
}

TEST_CASE("dmacycle-sim rejects a bad profile with file:line and field / exit code 2") {
    SimProcess sim({"--profile", DMACYCLE_SOURCE_DIR "/tests/drivers/data/bad-profile.yaml"});
    CHECK(sim.wait_exit() == 2);
    const auto err = sim.read_stderr();
    CHECK(err.find("bad-profile.yaml:4: frame.force_max_n: must be > 0") != std::string::npos);
}

TEST_CASE("dmacycle-sim rejects bad flags with exit code 2") {
    SimProcess sim({"--speed", "fast"});
    CHECK(sim.wait_exit() == 2);
    CHECK(sim.read_stderr().find("--speed") != std::string::npos);
}

TEST_SUITE_END();
