#include "dmacycle/cli/daemon_child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dmacycle::cli {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace

fs::path dmacycled_beside_self() {
    std::error_code error;
    const auto self = fs::read_symlink("/proc/self/exe", error);
    if (error) {
        throw std::runtime_error("cannot read /proc/self/exe: " + error.message());
    }
    return self.parent_path() / "dmacycled";
}

std::string random_token() {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    unsigned char bytes[24];
    if (!urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes)) {
        throw std::runtime_error("cannot read /dev/urandom");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string token;
    for (const unsigned char byte : bytes) {
        token += hex[byte >> 4];
        token += hex[byte & 15];
    }
    return token;
}

DaemonChild::DaemonChild(const fs::path& executable, const std::vector<std::string>& args,
                         const fs::path& output, std::chrono::milliseconds ready_within,
                         const std::function<bool()>& cancelled)
    : output_(output) {
    if (access(executable.c_str(), X_OK) != 0) {
        throw std::runtime_error(executable.string() + ": not found or not executable (build " +
                                 "the dmacycled target)");
    }
    // Everything the child needs is prepared before fork: only async-signal-safe calls after.
    const std::string program = executable.string();
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    const std::string output_path = output.string();
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
        throw std::runtime_error(std::string("cannot start dmacycled: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        // Fires when the forking thread exits, not only the process: see the header.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(127);
        }
        const int in = open("/dev/null", O_RDONLY);
        const int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
            _exit(127);
        }
        execv(argv[0], argv.data());
        _exit(127);
    }

    constexpr std::string_view ready = "listening http://";
    const auto deadline = std::chrono::steady_clock::now() + ready_within;
    while (true) {
        // The line may carry a log prefix; the URL runs to the end of its word.
        const std::string text = read_file(output_);
        if (const auto at = text.find(ready); at != std::string::npos) {
            const auto url_at = at + ready.size() - std::string_view("http://").size();
            const auto end = text.find_first_of(" \t\r\n", url_at);
            if (end != std::string::npos && text.find('\n', url_at) != std::string::npos) {
                url_ = text.substr(url_at, end - url_at);
                return;
            }
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("dmacycled exited before it was ready (" +
                                     (WIFEXITED(status)
                                          ? "exit " + std::to_string(WEXITSTATUS(status))
                                          : "signal " + std::to_string(WTERMSIG(status))) +
                                     "); its output:\n" + output_tail());
        }
        if (cancelled && cancelled()) {
            stop(std::chrono::seconds(5));
            throw std::runtime_error("interrupted while dmacycled was starting; stopped it");
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop(std::chrono::seconds(5));
            throw std::runtime_error("dmacycled printed no 'listening' line within " +
                                     std::to_string(ready_within.count() / 1000) +
                                     " s; its output:\n" + output_tail());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

DaemonChild::~DaemonChild() {
    stop(std::chrono::seconds(10));
}

int DaemonChild::stop(std::chrono::milliseconds grace, int signal) {
    if (pid_ <= 0) {
        return -1;
    }
    kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return status;
}

std::string DaemonChild::output_tail(std::size_t max_bytes) const {
    const std::string text = read_file(output_);
    return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

}  // namespace dmacycle::cli
