#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "time_scale.hpp"

namespace test_support {

// build/bin/dmacycle-sim as a child process: stdout and stderr are read through pipes, the child is
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
        const auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
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
        const auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
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

}  // namespace test_support
