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

using test_support::LineClient;

TEST_SUITE_BEGIN("drivers");

namespace {

// dmacycle-sim as a child process: stdout and stderr are read through pipes, the child is
// stopped by its pid.
class SimProcess {
  public:
    explicit SimProcess(std::vector<std::string> args) {
        int out[2], err[2];
        REQUIRE(pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(pipe2(err, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err[1], 2);
        std::string binary = DMACYCLE_BIN_DIR "/dmacycle-sim";
        std::vector<char*> argv{binary.data()};
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        close(out[1]);
        close(err[1]);
        out_fd_ = out[0];
        err_fd_ = err[0];
    }
    ~SimProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(out_fd_);
        close(err_fd_);
    }

    // Reads stdout lines until the child has printed n of them (or timeout / EOF).
    std::vector<std::string> read_lines(std::size_t n) { return read_from(out_fd_, n); }
    std::string read_stderr() {
        std::string all;
        for (const auto& line : read_from(err_fd_, 100)) {
            all += line + "\n";
        }
        return all;
    }

    // SIGTERM, then the exit status (-1 if it did not exit within the timeout).
    int terminate_and_wait() {
        kill(pid_, SIGTERM);
        return wait_exit();
    }
    int wait_exit() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no wait-with-timeout
        }
        return -1;
    }

  private:
    static std::vector<std::string> read_from(int fd, std::size_t n) {
        std::vector<std::string> lines;
        std::string buffer;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (lines.size() < n && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            char chunk[1024];
            const auto got = read(fd, chunk, sizeof chunk);
            if (got <= 0) {
                break;
            }
            buffer.append(chunk, static_cast<std::size_t>(got));
            for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
                lines.push_back(buffer.substr(0, nl));
                buffer.erase(0, nl + 1);
            }
        }
        return lines;
    }

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
};

}  // namespace

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
