#pragma once
// dmacycled (build/bin) as a child process for integration tests, on DaemonChild (the helper
// `dmacycle demo` uses): a fresh temporary folder with its config (the in-process simulator at
// a chosen speed, or a rig file naming an external dmacycle-sim), a tokens file (mode 600) with
// a token of each scope set and each token in a file of its own for the client, the store and
// the spool. Listens on 127.0.0.1 port 0. Restarts on the same folder; stops with any signal.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dmacycle/cli/daemon_child.hpp"

namespace daemon_test {

namespace fs = std::filesystem;

// One token per scope set; each at least 32 characters, as the tokens file demands.
inline const std::string admin_token = "admin-0123456789abcdef0123456789abcdef";
inline const std::string reader_token = "reader-0123456789abcdef0123456789abcdef";
inline const std::string submitter_token = "submitter-0123456789abcdef0123456789abcd";

inline std::string slurp(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// A shipped config/jobs/NAME with text replaced (each `from` must occur).
inline std::string shipped_job(const std::string& name,
                               const std::vector<std::pair<std::string, std::string>>& replace) {
    std::string text = slurp(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / name);
    for (const auto& [from, to] : replace) {
        const auto at = text.find(from);
        const std::string& missing = from;  // clang 14 cannot capture a structured binding
        REQUIRE_MESSAGE(at != std::string::npos, name << " has no '" << missing << "'");
        text.replace(at, from.size(), to);
    }
    return text;
}

struct DaemonOptions {
    std::string speed = "max";  // the in-process simulator's clock: "max" or a factor
    // Instead of the in-process simulator, a rig file's text (the format of
    // config/rigs/sim-loopback.yaml), e.g. naming the ports of a dmacycle-sim process.
    std::optional<std::string> rig;
    std::string extra_config;             // lines appended to the config, e.g. "sample_rate: 100\n"
    std::vector<std::string> extra_args;  // flags added to the command line
};

struct Run {
    int exit_code = -1;
    std::string out, err;
};

class DaemonProcess {
  public:
    explicit DaemonProcess(DaemonOptions options = {}) : options_(std::move(options)) {
        std::string pattern = (fs::temp_directory_path() / "dmacycled-test-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        fs::create_directories(dir_ / "spool");
        const auto instruments = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments";
        if (options_.rig) {
            write(dir_ / "rig.yaml", *options_.rig);
        }
        const std::string instrument =
            options_.rig ? "  rig: rig.yaml\n"
                         : "  simulate:\n    profile: " + quoted(instruments / "sim-la30.yaml") +
                               "\n    speed: " + options_.speed + "\n";
        write(dir_ / "dmacycled.yaml",
              "# written by tests/support/daemon_process.hpp; the format: config/dmacycled.yaml\n"
              "listen: 127.0.0.1:0\n"
              "database: runs.db\n"
              "spool: spool\n"
              "tokens: tokens.yaml\n"
              "profiles: " +
                  quoted(instruments) + "\ninstrument:\n" + instrument + options_.extra_config);
        std::string tokens = "tokens:\n";
        for (const auto& [name, token, scopes] :
             {std::tuple{"admin", admin_token, "read, submit, control"},
              std::tuple{"reader", reader_token, "read"},
              std::tuple{"submitter", submitter_token, "submit"}}) {
            tokens += "  - {name: " + std::string(name) + ", token: " + token + ", scopes: [" +
                      scopes + "]}\n";
            write(token_file(name), token + "\n");
        }
        write(dir_ / "tokens.yaml", tokens);
        fs::permissions(dir_ / "tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
        start();
    }

    ~DaemonProcess() {
        child_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    const std::string& url() const { return url_; }
    unsigned short port() const { return port_; }
    pid_t pid() const { return child_ ? child_->pid() : -1; }
    const fs::path& dir() const { return dir_; }
    fs::path config_file() const { return dir_ / "dmacycled.yaml"; }
    fs::path database() const { return dir_ / "runs.db"; }
    fs::path spool() const { return dir_ / "spool"; }
    // admin, reader or submitter: the file holding that token.
    fs::path token_file(const std::string& name) const { return dir_ / (name + ".token"); }
    // What the daemon wrote (stdout and stderr, every start) so far.
    std::string log() const {
        std::string text;
        for (int start = 1; start <= starts_; ++start) {
            text += slurp(log_file(start));
        }
        return text;
    }

    // Sends `signal` (SIGKILL after 30 s for SIGTERM) and reaps it; returns the exit code, or
    // 128 + the signal that ended it.
    int stop(int signal = SIGTERM) {
        const int status = child_->stop(std::chrono::seconds(30), signal);
        child_.reset();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    // Starts it again on the same folder (after stop()), e.g. to test restart recovery.
    void restart() { start(); }

    // build/bin/dmacycle ARGS against this daemon with the admin token unless `token_args` says
    // otherwise (e.g. "" for none); no server or token from the environment but `env`
    // ("NAME=VALUE ...").
    Run dmacycle(const std::string& args, std::optional<std::string> token_args = {},
                 const std::string& env = "") const {
        const std::string auth =
            token_args ? *token_args : "--token-file " + token_file("admin").string();
        const std::string command =
            "env -u DMACYCLE_TOKEN -u DMACYCLE_SERVER " + env + " " +
            std::string(DMACYCLE_BIN_DIR) + "/dmacycle " + args + " --server " + url() + " " +
            auth + " >" + (dir_ / "cli.out").string() + " 2>" + (dir_ / "cli.err").string();
        const int status = std::system(command.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "cli.out"),
                slurp(dir_ / "cli.err")};
    }

    // shipped_job(name, replace) written to a fresh file in the daemon's folder.
    fs::path job(const std::string& name,
                 const std::vector<std::pair<std::string, std::string>>& replace) const {
        const auto path = dir_ / ("job-" + std::to_string(jobs_written_++) + ".yaml");
        write(path, shipped_job(name, replace));
        return path;
    }

  private:
    static std::string quoted(const fs::path& path) { return nlohmann::json(path.string()).dump(); }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream file(path, std::ios::binary);
        file << text;
        REQUIRE(file.good());
    }

    void start() {
        std::vector<std::string> args = {"--config", config_file().string()};
        args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
        // A file per start: DaemonChild takes the first `listening` line in it as the address.
        child_.emplace(fs::path(DMACYCLE_BIN_DIR) / "dmacycled", args, log_file(++starts_),
                       std::chrono::seconds(60));
        url_ = child_->url();
        port_ = static_cast<unsigned short>(std::stoi(url_.substr(url_.rfind(':') + 1)));
    }

    fs::path log_file(int start) const {
        return dir_ / ("dmacycled-" + std::to_string(start) + ".log");
    }

    DaemonOptions options_;
    int starts_ = 0;
    fs::path dir_;
    std::optional<dmacycle::cli::DaemonChild> child_;
    std::string url_;
    unsigned short port_ = 0;
    mutable int jobs_written_ = 0;
};

}  // namespace daemon_test
