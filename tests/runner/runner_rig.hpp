#pragma once
// The simulated instrument in-process on loopback port 0, with a wire tap between the frame
// driver and the simulator that records the sequence number of every sample the simulator sent,
// and a real SQLite file in a fresh temporary directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/sim/frame_server.hpp"
#include "dmacycle/sim/furnace_server.hpp"
#include "dmacycle/sim/instrument.hpp"

namespace runner_test {

namespace sim = dmacycle::sim;

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

using Edits = std::vector<std::pair<std::string, std::string>>;

// A shipped file of config/FOLDER with some of its text replaced.
inline std::string shipped_file(const std::string& folder, const std::string& name,
                                const Edits& edits) {
    std::string text =
        read_file(std::filesystem::path(DMACYCLE_SOURCE_DIR) / "config" / folder / name);
    for (const auto& [from, to] : edits) {
        const auto at = text.find(from);
        if (at == std::string::npos) {
            throw std::runtime_error(name + ": no '" + from + "' to replace");
        }
        text.replace(at, from.size(), to);
    }
    return text;
}

// A shipped job file with some of its text replaced (shorter durations keep the suite fast).
inline std::string shipped_job(const std::string& name, const Edits& edits = {}) {
    return shipped_file("jobs", name, edits);
}

// The shipped simulator profile, sim-la30, with some of its text replaced.
inline std::string shipped_profile(const Edits& edits) {
    return shipped_file("instruments", "sim-la30.yaml", edits);
}

// Small replies must not wait for Nagle's algorithm: every command is an exchange.
inline void no_delay(int fd) {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

inline int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    no_delay(fd);
    return fd;
}

// One line to the frame on a connection of its own (faults on demand), then closed.
inline void send_frame_line(std::uint16_t port, const std::string& line) {
    const int fd = connect_loopback(port);
    const std::string text = line + "\n";
    const bool sent =
        ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!sent) {
        throw std::runtime_error("cannot send '" + line + "'");
    }
}

// Forwards one client connection to the simulator's frame port and back, recording the seq of
// every "S,seq,..." line the simulator sent.
class WireTap {
  public:
    explicit WireTap(std::uint16_t target_port) : target_port_(target_port) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof addr;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listen_fd_, 4) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
            throw std::runtime_error("wire tap: cannot listen");
        }
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~WireTap() {
        stopping_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        {
            std::lock_guard lock(mutex_);
            for (const int fd : open_fds_) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
        for (auto& thread : pumps_) {
            thread.join();
        }
        for (const int fd : open_fds_) {
            ::close(fd);
        }
    }
    WireTap(const WireTap&) = delete;
    WireTap& operator=(const WireTap&) = delete;

    std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    // The connections open now stop forwarding either way (a peer that went silent, cable
    // still in); new connections work.
    void stall_open_connections() { stall_below_ = connections_.load(); }
    // Every connection, open now or made later, stops forwarding until resume_all() (a peer
    // that went silent for a while); then the connections forward again.
    void stall_all() { stall_below_ = std::numeric_limits<int>::max(); }
    void resume_all() { stall_below_ = 0; }
    std::vector<std::int64_t> sample_seqs() const {
        std::lock_guard lock(mutex_);
        return seqs_;
    }

  private:
    void accept_loop() {
        while (!stopping_) {
            const int client = ::accept(listen_fd_, nullptr, nullptr);
            if (client < 0) {
                return;
            }
            no_delay(client);
            const int upstream = connect_loopback(target_port_);
            const int id = connections_++;
            std::lock_guard lock(mutex_);
            open_fds_.push_back(client);
            open_fds_.push_back(upstream);
            pumps_.emplace_back([=, this] { pump(id, client, upstream, false); });
            pumps_.emplace_back([=, this] { pump(id, upstream, client, true); });
        }
    }
    void pump(int id, int from, int to, bool from_simulator) {
        char chunk[1 << 16];
        std::string line;
        while (true) {
            while (id < stall_below_ && !stopping_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            const auto n = ::read(from, chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            if (from_simulator) {
                for (ssize_t i = 0; i < n; ++i) {
                    if (chunk[i] != '\n') {
                        line += chunk[i];
                        continue;
                    }
                    if (line.starts_with("S,")) {
                        std::lock_guard lock(mutex_);
                        seqs_.push_back(std::stoll(line.substr(2)));
                    }
                    line.clear();
                }
            }
            // MSG_NOSIGNAL: a peer that has gone is a closed pump, not a SIGPIPE.
            if (::send(to, chunk, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) {
                break;
            }
        }
        ::shutdown(to, SHUT_WR);
    }

    std::uint16_t target_port_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0}, stall_below_{0};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<int> open_fds_;
    std::vector<std::thread> pumps_;
    std::vector<std::int64_t> seqs_;
};

struct Rig {
    explicit Rig(sim::SimClock clock = sim::SimClock::max_speed())
        : instrument(sim::default_profile(), clock) {
        frame.emplace(instrument);
        frame_port = frame->listen_tcp("127.0.0.1", 0);
        frame->start();
        furnace.emplace(instrument);
        furnace_port = furnace->listen_tcp("127.0.0.1", 0);
        tap = std::make_unique<WireTap>(frame_port);
    }
    ~Rig() {
        tap.reset();
        frame->stop();
        furnace->stop();
    }
    dmacycle::drivers::DeviceSpec frame_spec() const {
        dmacycle::drivers::DeviceSpec spec;
        spec.uri = tap->uri();
        return spec;
    }
    dmacycle::drivers::DeviceSpec furnace_spec() const {
        dmacycle::drivers::DeviceSpec spec;
        spec.uri = "modbus-tcp://127.0.0.1:" + std::to_string(furnace_port);
        return spec;
    }

    // For RunnerOptions::hold_at: the runner holds the simulator's stream where a step is due.
    std::function<void(std::optional<double>)> hold() {
        return [this](std::optional<double> t_s) { instrument.pace().hold_at(t_s); };
    }
    // For RunnerOptions::frame_starved: what the frame server could not run for.
    dmacycle::drivers::PeerStarvation starved() const {
        return [this] { return frame->starved(); };
    }

    sim::Instrument instrument;
    std::optional<sim::FrameServer> frame;
    std::optional<sim::FurnaceServer> furnace;
    std::uint16_t frame_port = 0, furnace_port = 0;
    std::unique_ptr<WireTap> tap;
};

using TempDir = test_support::TempDir;

// Read-only queries on the store's file, as any SQLite client would.
class Db {
  public:
    explicit Db(const std::filesystem::path& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            throw std::runtime_error("cannot open " + path.string());
        }
    }
    ~Db() { sqlite3_close(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // Every row of the query, each column as text ("" for NULL).
    std::vector<std::vector<std::string>> rows(const std::string& sql) const {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        }
        std::vector<std::vector<std::string>> out;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            std::vector<std::string> row;
            for (int i = 0; i < sqlite3_column_count(statement); ++i) {
                const auto* text = sqlite3_column_text(statement, i);
                row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
            }
            out.push_back(std::move(row));
        }
        sqlite3_finalize(statement);
        return out;
    }
    std::string value(const std::string& sql) const {
        const auto result = rows(sql);
        return result.empty() || result.front().empty() ? "" : result.front().front();
    }
    double number(const std::string& sql) const { return std::stod(value(sql)); }
    std::vector<std::int64_t> seqs(std::int64_t run_id) const {
        std::vector<std::int64_t> out;
        for (const auto& row : rows("SELECT seq FROM samples WHERE run_id = " +
                                    std::to_string(run_id) + " ORDER BY seq")) {
            out.push_back(std::stoll(row[0]));
        }
        return out;
    }

  private:
    sqlite3* db_ = nullptr;
};

// What the simulator sent (seqs in any order) against the store: every sample up to the plan's
// end stored once, none twice, no hole, and those past it (sent while the stream stopped) the
// number the run's event names, none stored (docs/runner.md).
inline void check_stored_up_to_plan_end(const Db& db, std::int64_t run_id,
                                        std::vector<std::int64_t> sent, std::uint64_t samples) {
    const auto stored = db.seqs(run_id);
    std::sort(sent.begin(), sent.end());
    REQUIRE(!stored.empty());
    CHECK(std::adjacent_find(sent.begin(), sent.end()) == sent.end());  // no seq sent twice
    CHECK(stored.size() == samples);
    REQUIRE(stored.size() <= sent.size());
    CHECK(std::equal(stored.begin(), stored.end(), sent.begin()));
    CHECK(stored.front() == 0);
    CHECK(stored.back() == static_cast<std::int64_t>(stored.size()) - 1);
    const auto past =
        db.value("SELECT message FROM events WHERE run_id = " + std::to_string(run_id) +
                 " AND message LIKE '% samples past the plan''s end%'");
    const std::size_t not_stored = past.empty() ? 0 : std::stoull(past);
    CHECK(sent.size() - stored.size() == not_stored);
}

}  // namespace runner_test
