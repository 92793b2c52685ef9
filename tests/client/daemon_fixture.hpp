#pragma once
// dmacycled (build/bin) started as a child process for the client tests: a temporary folder with
// its config (the simulated instrument at a chosen speed, a fresh SQLite file, port 0) and a
// tokens file (0600) holding a full token and a read-only one; the client's token files beside.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "daemon_child.hpp"

namespace client_test {

namespace fs = std::filesystem;

struct Run {
    int exit_code = -1;
    std::string out, err;
};

inline std::string slurp(const fs::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

class DaemonFixture {
  public:
    // speed: the simulator's clock, "max" or a factor.
    explicit DaemonFixture(const std::string& speed) {
        std::string pattern = (fs::temp_directory_path() / "dmacycle-clientd-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        const auto full = dmacycle::daemon::random_token();
        const auto reader = dmacycle::daemon::random_token();
        write(dir_ / "tokens.yaml",
              "tokens:\n"
              "  - name: tester\n    token: \"" +
                  full +
                  "\"\n    scopes: [read, submit, control]\n"
                  "  - name: reader\n    token: \"" +
                  reader + "\"\n    scopes: [read]\n");
        fs::permissions(dir_ / "tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
        write(dir_ / "full.token", full + "\n");
        write(dir_ / "read.token", reader + "\n");
        write(dir_ / "dmacycled.yaml",
              "listen: 127.0.0.1:0\n"
              "database: store.db\n"
              "tokens: tokens.yaml\n"
              "profiles: " +
                  nlohmann::json((fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments").string())
                      .dump() +
                  "\n"
                  "instrument:\n"
              "  simulate:\n"
              "    profile: " +
                  nlohmann::json(
                      (fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml")
                          .string())
                      .dump() +
                  "\n    speed: " + speed + "\n");
        daemon_.emplace(fs::path(DMACYCLE_BIN_DIR) / "dmacycled",
                        std::vector<std::string>{"--config", (dir_ / "dmacycled.yaml").string()},
                        dir_ / "dmacycled.log", std::chrono::seconds(60));
    }
    ~DaemonFixture() {
        daemon_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    DaemonFixture(const DaemonFixture&) = delete;
    DaemonFixture& operator=(const DaemonFixture&) = delete;

    const std::string& url() const { return daemon_->url(); }
    const fs::path& dir() const { return dir_; }
    fs::path full_token() const { return dir_ / "full.token"; }
    fs::path read_token() const { return dir_ / "read.token"; }
    std::string log() const { return daemon_ ? daemon_->output_tail(4000) : ""; }
    // SIGTERM and wait; the daemon's port is closed afterwards.
    void stop() { daemon_.reset(); }

    // build/bin/dmacycle ARGS against this daemon with the full token unless `token_args` says
    // otherwise (e.g. "" for none).
    Run dmacycle(const std::string& args, std::optional<std::string> token_args = {}) const {
        const std::string auth = token_args ? *token_args : "--token-file " + full_token().string();
        const std::string command =
            "env -u DMACYCLE_TOKEN -u DMACYCLE_SERVER " + std::string(DMACYCLE_BIN_DIR) +
            "/dmacycle " + args + " --server " + url() + " " + auth + " >" +
            (dir_ / "cli.out").string() + " 2>" + (dir_ / "cli.err").string();
        const int status = std::system(command.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "cli.out"),
                slurp(dir_ / "cli.err")};
    }

    // A copy of the shipped config/jobs/NAME with text replaced, in the fixture's folder.
    fs::path job(const std::string& name,
                 const std::vector<std::pair<std::string, std::string>>& replace) const {
        std::string text = slurp(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / name);
        for (const auto& [from, to] : replace) {
            const auto at = text.find(from);
            REQUIRE(at != std::string::npos);
            text.replace(at, from.size(), to);
        }
        const auto path = dir_ / ("job-" + std::to_string(jobs_written_++) + ".yaml");
        write(path, text);
        return path;
    }

  private:
    static void write(const fs::path& path, const std::string& text) {
        std::ofstream file(path);
        file << text;
        REQUIRE(file.good());
    }

    fs::path dir_;
    std::optional<dmacycle::daemon::DaemonChild> daemon_;
    mutable int jobs_written_ = 0;
};

}  // namespace client_test
