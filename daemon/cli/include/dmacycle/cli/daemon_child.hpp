#pragma once
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

// dmacycled run as a child process, by `dmacycle demo` and by the tests
// (tests/support/daemon_process.hpp).
namespace dmacycle::cli {

// The dmacycled executable beside the running one (/proc/self/exe): build/bin/dmacycled.
std::filesystem::path dmacycled_beside_self();

// 48 hex characters from /dev/urandom: a bearer token for a throwaway tokens file.
std::string random_token();

class DaemonChild {
  public:
    // Starts `executable args...` with stdin from /dev/null and stdout and stderr appended to
    // `output` (read for the `listening http://...` line), and waits up to `ready_within` for
    // that line, asking `cancelled` (when given) every 20 ms meanwhile. Throws
    // std::runtime_error with the end of `output` when the daemon exits or stays silent, or
    // when `cancelled` says so (the daemon is stopped then).
    // The child gets SIGTERM when the *thread* that constructed this exits (PR_SET_PDEATHSIG
    // follows the forking thread, not the process): construct it on a thread that lives as long
    // as the child should, such as the main thread.
    DaemonChild(const std::filesystem::path& executable, const std::vector<std::string>& args,
                const std::filesystem::path& output, std::chrono::milliseconds ready_within,
                const std::function<bool()>& cancelled = {});
    // Stops the daemon if stop() was not called: no orphan on any path out.
    ~DaemonChild();
    DaemonChild(const DaemonChild&) = delete;
    DaemonChild& operator=(const DaemonChild&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& url() const { return url_; }  // "http://ADDR:PORT"
    // `signal` (SIGTERM), then SIGKILL if it has not exited within `grace`. Returns the wait
    // status, or -1 when it had already been reaped.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(30), int signal = SIGTERM);
    // The last `max_bytes` of the daemon's output, for error messages.
    std::string output_tail(std::size_t max_bytes = 2000) const;

  private:
    pid_t pid_ = -1;
    std::filesystem::path output_;
    std::string url_;
};

}  // namespace dmacycle::cli
