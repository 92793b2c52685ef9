// Soak (issue 7): dmacycled on a dmacycle-sim process runs a 24 h job of instrument time (the
// shipped mode1-0-200 job, cycling 8 h, recovery to fill the day) at --speed X, and every
// simulated hour the next fault of a rotation is injected on its links or its store. At the
// end the job must be `completed` with results, the store must hold exactly the samples the
// simulator delivered intact (SIMulate:SAMPle:COUNt?), every link fault must have left its
// `link` events, and dmacycled's RSS (VmRSS, sampled every wall second) must stay flat.
// docs/benchmarks.md ("Soak") records it.
//
//   bench_soak [--speed X] [--hours H] [--rss-csv FILE]
//   (defaults 300 and 24: about 5 min of wall time; FILE gets every RSS sample)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/daemon_child.hpp"
#include "stored_samples.hpp"

namespace fs = std::filesystem;
using dmacycle::cli::ApiClient;
using dmacycle::cli::DaemonChild;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) {
        throw std::runtime_error("'" + from + "' not found in the job or rig template");
    }
    text.replace(at, from.size(), to);
}

// dmacycle-sim as a child: its endpoint lines are read from a pipe, stderr goes to a file.
class Simulator {
  public:
    Simulator(const std::vector<std::string>& args, const fs::path& log) {
        int out[2];
        if (::pipe(out) != 0) {
            throw std::runtime_error("pipe");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::string binary = (fs::read_symlink("/proc/self/exe").parent_path() / "dmacycle-sim");
        std::vector<std::string> all{binary};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& arg : all) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("cannot start " + binary);
        }
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        out_ = ::fdopen(out[0], "r");
    }
    ~Simulator() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        std::fclose(out_);
    }
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    std::string line() {
        char buffer[512];
        if (std::fgets(buffer, sizeof buffer, out_) == nullptr) {
            throw std::runtime_error("dmacycle-sim exited before naming its endpoints");
        }
        std::string text = buffer;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
        }
        return text;
    }

  private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
};

// The bench's own frame connection to the simulator: SIMulate: commands and SYST:TIME?.
class FrameControl {
  public:
    explicit FrameControl(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            throw std::runtime_error("cannot connect to the simulator's frame port");
        }
    }
    ~FrameControl() { ::close(fd_); }
    FrameControl(const FrameControl&) = delete;
    FrameControl& operator=(const FrameControl&) = delete;

    std::string query(const std::string& command) {
        send_line(command);
        std::string reply;
        while (true) {
            const auto end = buffer_.find('\n');
            if (end != std::string::npos) {
                reply = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                return reply;
            }
            char chunk[4096];
            const auto n = ::read(fd_, chunk, sizeof chunk);
            if (n <= 0) {
                throw std::runtime_error("the simulator closed the control connection");
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }
    // A set command, then the error queue: the simulator must have taken it.
    void command(const std::string& text) {
        send_line(text);
        const auto error = query("SYST:ERR?");
        if (!error.starts_with("0,")) {
            throw std::runtime_error("simulator refused '" + text + "': " + error);
        }
    }
    double time_s() { return std::stod(query("SYST:TIME?")); }

  private:
    void send_line(const std::string& text) {
        const std::string line = text + "\n";
        if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            throw std::runtime_error("writing to the simulator failed");
        }
    }
    int fd_ = -1;
    std::string buffer_;
};

double vm_rss_mb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) {
            return std::stod(line.substr(6)) / 1024.0;  // kB
        }
    }
    return 0;
}

SystemClock::time_point parse_utc(const std::string& text) {
    std::tm tm{};
    int millis = 0;
    std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return SystemClock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

struct Fault {
    std::string name;
    // What must show in the run's `link` events after it ("" for the disk-full episode, which
    // is seen on /healthz instead).
    std::string link_prefix;
};

// The rotation: every fault a run must survive (docs/reliability.md, "Soak").
const std::vector<Fault> rotation{
    {"frame link drop", "frame:"},
    {"frame stall", "frame:"},
    {"garbled sample", "frame:"},
    {"furnace link drop", "furnace:"},
    {"furnace stall", "furnace:"},
    {"furnace garble", "furnace:"},
    {"disk full", ""},
};

struct Injected {
    const Fault* fault;
    double sim_hour;
    SystemClock::time_point at;
    std::string seen;  // disk full: what /healthz said meanwhile
    std::vector<std::string> events;
    std::int64_t missing = 0;  // samples in the sample_gap events after it
};

struct RssSample {
    double sim_hour;  // since the run started
    double mb;
};

}  // namespace

int main(int argc, char** argv) {
    double speed = 300;
    double hours = 24;
    std::string rss_csv;  // every RSS sample: simulated hour, MB
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--speed") {
            speed = std::stod(argv[i + 1]);
        } else if (flag == "--hours") {
            hours = std::stod(argv[i + 1]);
        } else if (flag == "--rss-csv") {
            rss_csv = argv[i + 1];
        } else {
            std::fprintf(stderr, "usage: bench_soak [--speed X] [--hours H] [--rss-csv FILE]\n");
            return 2;
        }
    }
    if (hours < 1) {
        std::fprintf(stderr, "bench_soak: --hours must be at least 1\n");
        return 2;
    }
    const auto wall_start = SteadyClock::now();
    std::string pattern = (fs::temp_directory_path() / "dmacycle-soak-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp");
    }
    const fs::path dir = pattern;
    const fs::path config_dir = DMACYCLE_SOURCE_DIR "/config";

    std::ostringstream speed_text;
    speed_text << speed;
    Simulator sim({"--speed", speed_text.str(), "--frame-port", "0", "--furnace-port", "0",
                   "--profile", (config_dir / "instruments/sim-la30.yaml").string()},
                  dir / "sim.log");
    const std::string frame_line = sim.line();
    const std::string furnace_line = sim.line();
    const auto port_of = [](const std::string& line) { return line.substr(line.rfind(':') + 1); };
    FrameControl control(std::stoi(port_of(frame_line)));

    std::string rig = slurp(config_dir / "rigs/sim-loopback.yaml");
    replace_once(rig, "127.0.0.1:5025", "127.0.0.1:" + port_of(frame_line));
    replace_once(rig, "127.0.0.1:5020", "127.0.0.1:" + port_of(furnace_line));
    std::ofstream(dir / "rig.yaml") << rig;
    const std::string token = dmacycle::cli::random_token();
    std::ofstream(dir / "tokens.yaml") << "tokens:\n  - {name: soak, token: \"" << token
                                       << "\", scopes: [read, submit, control]}\n";
    fs::permissions(dir / "tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
    // 24 h at 10 Hz is ~0.9 M rows (~110 MB with its index): a 256 MiB quota leaves room, and
    // each disk-full episode fills the rest with a filler table.
    constexpr std::uint64_t quota_bytes = 256ULL << 20;
    std::ofstream(dir / "dmacycled.yaml")
        << "listen: 127.0.0.1:0\ndatabase: runs.db\ntokens: tokens.yaml\n"
        << "profiles: " << (config_dir / "instruments").string() << "\n"
        << "instrument:\n  rig: rig.yaml\n"
        << "limits:\n  max_database_bytes: " << quota_bytes << "\n";
    DaemonChild daemon(dmacycle::cli::dmacycled_beside_self(),
                       {"--config", (dir / "dmacycled.yaml").string()}, dir / "daemon.log",
                       std::chrono::seconds(20));
    const ApiClient api(dmacycle::cli::parse_server_url(daemon.url()), token);

    // The plan: equilibrate, hold 10 min, cycling up to 8 h, recovery for the rest of the day.
    // The stale-link interlock gets 5 s (wall) instead of 2 s: the stalls below last 2 s of
    // wall time plus the reconnect, and must be survived; a longer stall faulting the run is
    // the fault matrix's subject, not this one's.
    const int total_min = static_cast<int>(std::lround(hours * 60));
    const int cycling_min = std::min(480, total_min / 3);
    const int recovery_min = total_min - 10 - cycling_min;
    std::string job = slurp(config_dir / "jobs/mode1-0-200.yaml");
    replace_once(job, "name: mode1-0-200", "name: soak");
    replace_once(job, "duration: 8 h", "duration: " + std::to_string(cycling_min) + " min");
    replace_once(job, "recovery: 8 h", "recovery: " + std::to_string(recovery_min) + " min");
    replace_once(job, "stale_link: 2 s", "stale_link: 5 s");

    const auto baseline_count = std::stoll(control.query("SIMulate:SAMPle:COUNt?"));
    const auto job_id = api.post("/api/v1/jobs", job).at("job_id").get<std::int64_t>();
    const std::string job_path = "/api/v1/jobs/" + std::to_string(job_id);

    std::vector<RssSample> rss;
    double run_start_s = -1;  // simulator time at the run's start
    double sim_now = control.time_s();
    auto next_rss = SteadyClock::now();
    // Called often: samples RSS once a wall second, against the simulator's clock.
    const auto tick = [&] {
        if (SteadyClock::now() < next_rss) {
            return;
        }
        next_rss += std::chrono::seconds(1);
        sim_now = control.time_s();
        rss.push_back(
            {run_start_s < 0 ? 0 : (sim_now - run_start_s) / 3600, vm_rss_mb(daemon.pid())});
    };
    const auto wait_wall = [&](double seconds) {
        const auto until = SteadyClock::now() + std::chrono::duration<double>(seconds);
        while (SteadyClock::now() < until) {
            tick();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    };

    std::int64_t run_id = -1;
    std::vector<Injected> injected;
    Json status;
    int next_fault = 1;
    auto next_poll = SteadyClock::now();
    while (true) {
        tick();
        if (SteadyClock::now() >= next_poll) {
            next_poll += std::chrono::seconds(1);
            status = api.get(job_path);
            if (dmacycle::cli::is_final_job_status(status.at("status").get<std::string>())) {
                break;
            }
            if (run_id < 0 && !status.at("run_ids").empty()) {
                run_id = status.at("run_ids").at(0).get<std::int64_t>();
                run_start_s = control.time_s();
            }
        }
        if (run_id >= 0 && next_fault < hours &&
            control.time_s() >= run_start_s + 3600.0 * next_fault) {
            const Fault& fault =
                rotation[static_cast<std::size_t>(next_fault - 1) % rotation.size()];
            Injected record{&fault, static_cast<double>(next_fault), SystemClock::now(), {}, {}};
            if (fault.name == "frame link drop") {
                control.command("SIMulate:PEER:DROP 0");
            } else if (fault.name == "frame stall") {
                control.command("SIMulate:PEER:MUTE");  // lasts until dmacycled reconnects
            } else if (fault.name == "garbled sample") {
                control.command("SIMulate:PEER:GARBle");
            } else if (fault.name == "furnace link drop") {
                control.command("SIMulate:FURNace:DROP 1");
            } else if (fault.name == "furnace stall") {
                control.command("SIMulate:FURNace:DELay 0.7");
                wait_wall(2);
                control.command("SIMulate:FURNace:DELay 0");
            } else if (fault.name == "furnace garble") {
                control.command("SIMulate:FURNace:GARBle");
            } else {
                // Disk full: another connection fills the store's quota with a filler table,
                // holds it for 3 wall seconds, then deletes it (the pages become free again).
                sqlite3* db = nullptr;
                sqlite3_open((dir / "runs.db").c_str(), &db);
                sqlite3_busy_timeout(db, 10000);
                sqlite3_exec(db,
                             ("PRAGMA max_page_count = " + std::to_string(quota_bytes / 4096) +
                              "; CREATE TABLE IF NOT EXISTS soak_filler (b BLOB)")
                                 .c_str(),
                             nullptr, nullptr, nullptr);
                // 4 MiB a transaction keeps the daemon's writer waiting briefly; then smaller
                // blobs take the last pages.
                for (int size = 4 << 20; size >= 4096; size /= 4) {
                    while (sqlite3_exec(db,
                                        ("INSERT INTO soak_filler VALUES (zeroblob(" +
                                         std::to_string(size) + "))")
                                            .c_str(),
                                        nullptr, nullptr, nullptr) == SQLITE_OK) {
                        tick();
                    }
                }
                const auto full_until = SteadyClock::now() + std::chrono::seconds(3);
                while (SteadyClock::now() < full_until) {
                    tick();
                    try {
                        const auto health = api.get("/healthz");
                        record.seen = "healthz " + health.at("status").get<std::string>();
                    } catch (const dmacycle::cli::ClientError& error) {
                        // 503 while the store fails: what the episode should look like.
                        record.seen =
                            "healthz " + std::to_string(error.status()) + ": " + error.what();
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                }
                sqlite3_exec(db, "DROP TABLE soak_filler", nullptr, nullptr, nullptr);
                sqlite3_close(db);
            }
            injected.push_back(record);
            ++next_fault;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const double wall_s = std::chrono::duration<double>(SteadyClock::now() - wall_start).count();
    const double end_hour = (control.time_s() - run_start_s) / 3600;
    const auto sim_count = std::stoll(control.query("SIMulate:SAMPle:COUNt?"));

    const std::string run_path = "/api/v1/runs/" + std::to_string(run_id);
    const Json run = api.get(run_path);
    const Json results = api.get(run_path + "/results").at("results");
    // Each link event belongs to the last fault injected before it.
    std::vector<std::string> early_events;
    for (const auto& event : run.at("events")) {
        if (event.at("kind") != "link") {
            continue;
        }
        const auto at = parse_utc(event.at("t_wall_utc").get<std::string>());
        const auto message = event.at("message").get<std::string>();
        auto owner = std::find_if(injected.rbegin(), injected.rend(),
                                  [&](const Injected& fault) { return fault.at <= at; });
        if (owner == injected.rend()) {
            early_events.push_back(message);
            continue;
        }
        owner->events.push_back(message);
        const auto gap = message.find("sample_gap: ");
        if (gap != std::string::npos) {
            owner->missing += std::stoll(message.substr(gap + 12));
        }
    }
    daemon.stop();

    const auto [stored, first_seq, last_seq] = stored_samples(dir / "runs.db", run_id);
    const auto db_bytes = fs::file_size(dir / "runs.db");

    bool ok = true;
    std::printf("soak: %.0f h of instrument time at speed %s, wall %.0f s (%.1f min)\n", hours,
                speed_text.str().c_str(), wall_s, wall_s / 60);
    const auto job_status = status.at("status").get<std::string>();
    std::printf("job %s (%s), run ended at %.2f h, results: %zu kinds\n", job_status.c_str(),
                status.at("message").get<std::string>().c_str(), end_hour, results.size());
    if (job_status != "completed" || results.empty()) {
        ok = false;
    }
    const auto delivered = sim_count - baseline_count;
    std::printf(
        "samples: stored %lld (seq %lld-%lld, holes %lld), simulator delivered %lld "
        "(count %lld, %lld before the job)%s\n",
        static_cast<long long>(stored), static_cast<long long>(first_seq),
        static_cast<long long>(last_seq), static_cast<long long>(last_seq - first_seq + 1 - stored),
        static_cast<long long>(delivered), static_cast<long long>(sim_count),
        static_cast<long long>(baseline_count), stored == delivered ? "" : "  DIFFER");
    if (stored != delivered) {
        ok = false;
    }
    std::printf("store file %.1f MB (quota %llu MiB)\n", static_cast<double>(db_bytes) / 1e6,
                static_cast<unsigned long long>(quota_bytes >> 20));
    if (!early_events.empty()) {
        std::printf("link events before the first fault: %zu (%s ...)\n", early_events.size(),
                    early_events.front().c_str());
    }
    std::printf("faults injected: %zu\n", injected.size());
    for (const auto& fault : injected) {
        const bool seen =
            fault.fault->link_prefix.empty()
                ? fault.seen.find("503") != std::string::npos
                : std::any_of(fault.events.begin(), fault.events.end(),
                              [&](const std::string& message) {
                                  return message.starts_with(fault.fault->link_prefix);
                              });
        if (!seen) {
            ok = false;
        }
        std::printf("  h%-3.0f %-18s gap %4lld samples, %zu link events%s%s\n", fault.sim_hour,
                    fault.fault->name.c_str(), static_cast<long long>(fault.missing),
                    fault.events.size(), fault.seen.empty() ? "" : ("; " + fault.seen).c_str(),
                    seen ? "" : "  NOT SEEN");
    }

    // RSS per simulated 4 h block; the first block is warm-up (the store's caches, the first
    // cycles' buffers), samples after the plan's end (the analysis) are shown apart.
    std::printf("dmacycled RSS (MB), sampled every wall second:\n");
    std::vector<double> block_medians;
    for (double from = 0; from < hours; from += 4) {
        std::vector<double> block;
        for (const auto& sample : rss) {
            if (sample.sim_hour >= from && sample.sim_hour < std::min(from + 4, hours)) {
                block.push_back(sample.mb);
            }
        }
        if (block.empty()) {
            continue;
        }
        block_medians.push_back(median(block));
        std::printf("  %4.0f-%-4.0f h  min %6.1f  median %6.1f  max %6.1f  (%zu samples)\n", from,
                    std::min(from + 4, hours), *std::min_element(block.begin(), block.end()),
                    median(block), *std::max_element(block.begin(), block.end()), block.size());
    }
    std::vector<double> after;
    for (const auto& sample : rss) {
        if (sample.sim_hour >= hours) {
            after.push_back(sample.mb);
        }
    }
    if (!after.empty()) {
        std::printf("  after plan   max %6.1f (end of run, analysis)\n",
                    *std::max_element(after.begin(), after.end()));
    }
    // Least-squares slope over the second half of the plan.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& sample : rss) {
        if (sample.sim_hour >= hours / 2 && sample.sim_hour < hours) {
            n += 1;
            sx += sample.sim_hour;
            sy += sample.mb;
            sxx += sample.sim_hour * sample.sim_hour;
            sxy += sample.sim_hour * sample.mb;
        }
    }
    const double slope = n > 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
    std::printf("  slope over the second half: %+.3f MB per simulated hour\n", slope);
    // Flat: the last block's median at most 10 % above the first block after warm-up, plus what
    // the process may grow into by design: SQLite's page cache (cache_size 2 MiB, the default,
    // on each of the store's 3 connections), filled as the store grows and is rewritten around
    // the disk-full episodes. A leak of ~100 B a sample (10 Hz) would add 3.6 MB a simulated
    // hour, 58 MB over the last 16 h: far past this bound.
    if (block_medians.size() >= 3) {
        const double growth = block_medians.back() - block_medians[1];
        const double bound = 0.10 * block_medians[1] + 3 * 2.0 * 1.048576;
        std::printf(
            "  growth from the 2nd block to the last: %+.1f MB (%+.1f %%), bound %.1f MB "
            "(10 %% + 3 page caches of 2 MiB)\n",
            growth, 100 * growth / block_medians[1], bound);
        if (growth > bound) {
            ok = false;
        }
    }
    if (!rss_csv.empty()) {
        std::ofstream csv(rss_csv);
        csv << "sim_hour,rss_mb\n";
        for (const auto& sample : rss) {
            csv << sample.sim_hour << ',' << sample.mb << '\n';
        }
    }
    std::printf("%s\n", ok ? "soak passed" : "soak FAILED");
    if (ok) {
        fs::remove_all(dir);
    } else {
        std::printf("kept %s (daemon.log, sim.log, runs.db)\n", dir.c_str());
    }
    return ok ? 0 : 1;
}
