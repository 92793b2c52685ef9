#pragma once
// dmacycled as a child process for integration tests: a fresh temporary folder with a config for
// the in-process simulator, a tokens file (mode 600) with tokens of each scope, the store and the
// spool inside it; listens on 127.0.0.1 port 0 and waits for its `listening http://…` line.
// Stopped by its pid (SIGTERM) when the object goes; the folder is removed with it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace http_test {

namespace fs = std::filesystem;

// One token per scope set; each at least 32 characters, as the tokens file demands.
inline const std::string admin_token = "admin-0123456789abcdef0123456789abcdef";
inline const std::string reader_token = "reader-0123456789abcdef0123456789abcdef";
inline const std::string submitter_token = "submitter-0123456789abcdef0123456789abcd";

struct DaemonOptions {
    std::string speed = "max";  // simulated instrument clock: "max" or a factor
    // Lines added at the end of the config file (e.g. "limits: {max_job_bytes: 1000}\n").
    std::string extra_config;
    // Flags added to the command line.
    std::vector<std::string> extra_args;
};

class DaemonProcess {
  public:
    explicit DaemonProcess(DaemonOptions options = {}) {
        std::random_device random;
        dir_ = fs::temp_directory_path() / ("dmacycled-test-" + std::to_string(random()));
        fs::create_directories(dir_ / "spool");
        // Job files name their profile (sim-la30); it is looked up beside the config file.
        fs::copy(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments", dir_ / "instruments");
        write(dir_ / "dmacycled.yaml",
              "# written by tests/http/daemon_process.hpp; the format: config/dmacycled.yaml\n"
              "listen: 127.0.0.1:0\n"
              "database: runs.db\n"
              "spool: spool\n"
              "tokens: tokens.yaml\n"
              "instrument:\n"
              "  simulate:\n"
              "    profile: instruments/sim-la30.yaml\n"
              "    speed: " +
                  options.speed + "\n" + options.extra_config);
        write(dir_ / "tokens.yaml",
              "tokens:\n"
              "  - {name: admin, token: " +
                  admin_token +
                  ", scopes: [read, submit, control]}\n"
                  "  - {name: reader, token: " +
                  reader_token +
                  ", scopes: [read]}\n"
                  "  - {name: submitter, token: " +
                  submitter_token + ", scopes: [submit]}\n");
        fs::permissions(dir_ / "tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
        start(options.extra_args);
    }

    ~DaemonProcess() {
        if (pid_ > 0) {
            stop();
        }
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    const std::string& base_url() const { return base_url_; }
    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    const fs::path& dir() const { return dir_; }
    fs::path config_file() const { return dir_ / "dmacycled.yaml"; }
    fs::path database() const { return dir_ / "runs.db"; }
    fs::path spool() const { return dir_ / "spool"; }
    // What the daemon wrote to stderr (its log) so far.
    std::string log() const {
        std::ifstream in(dir_ / "dmacycled.log");
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    // Sends `signal` and waits for the exit; returns the exit code (128 + signal when killed).
    int stop(int signal = SIGTERM) {
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    // Starts it again on the same folder (after stop()), e.g. to test restart recovery.
    void restart(const std::vector<std::string>& extra_args = {}) { start(extra_args); }

  private:
    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }

    void start(const std::vector<std::string>& extra_args) {
        std::vector<std::string> args = {std::string(DMACYCLE_BIN_DIR) + "/dmacycled", "--config",
                                         config_file().string(), "--listen", "127.0.0.1:0"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        int out[2];
        if (::pipe(out) != 0) {
            throw std::runtime_error("pipe failed");
        }
        const int log_fd =
            ::open((dir_ / "dmacycled.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
            ::close(out[0]);
            ::close(out[1]);
            ::close(log_fd);
            std::vector<char*> argv;
            for (auto& arg : args) {
                argv.push_back(arg.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(log_fd);
        read_listening_line(out[0]);
        ::close(out[0]);
    }

    // Waits (at most 60 s) for "listening http://ADDR:PORT" on the child's stdout.
    void read_listening_line(int fd) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        std::string text;
        while (text.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                break;
            }
            char chunk[256];
            const auto n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            text.append(chunk, static_cast<std::size_t>(n));
        }
        const std::string prefix = "listening http://";
        const auto line = text.substr(0, text.find('\n'));
        const auto colon = line.rfind(':');
        if (!line.starts_with(prefix) || colon == std::string::npos) {
            const int code = pid_ > 0 ? stop(SIGKILL) : -1;
            throw std::runtime_error("dmacycled did not start (exit " + std::to_string(code) +
                                     ", stdout '" + text + "'); its log:\n" + log());
        }
        base_url_ = line.substr(std::string("listening ").size());
        port_ = static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
    }

    fs::path dir_;
    pid_t pid_ = -1;
    std::string base_url_;
    unsigned short port_ = 0;
};

}  // namespace http_test
