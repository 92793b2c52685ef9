// The API under load (issue 6): `dmacycled` with the simulated instrument at speed 1 acquiring at
// 100 Hz, while N clients (default 50) poll a job's status and the run's new samples for D
// seconds (default 60), each on its own keep-alive connection. Prints the latency percentiles
// per route and checks that no sample was lost: every client saw a gap-free sequence, and the
// store holds every sequence number from the first to the last. docs/benchmarks.md records it.
// Before the load the store is seeded with a finished job whose run holds BACKLOG samples
// (default 750,000: an overnight run at 10 Hz), and the clients poll that job's status too, so
// the cost of a status query on a large run shows.
//
//   bench_api_load [CLIENTS] [SECONDS] [BACKLOG]
// The daemon is the build's dmacycled, or the binary the environment's DMACYCLED names (to
// compare two builds).
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dmacycle/store/sample_codec.hpp"
#include "stored_samples.hpp"

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

const std::string token = "bench-token-0123456789abcdef0123456789abcdef";

struct Daemon {
    pid_t pid = -1;
    std::string host;
    std::string port;
};

// Starts dmacycled on a temp folder's config and reads the address from its `listening` line.
Daemon start_daemon(const fs::path& dir, double rate_hz) {
    const fs::path config_dir = DMACYCLE_SOURCE_DIR "/config";
    std::ofstream(dir / "tokens.yaml") << "tokens:\n  - {name: bench, token: \"" << token
                                       << "\", scopes: [read, submit, control]}\n";
    fs::permissions(dir / "tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(dir / "dmacycled.yaml")
        << "listen: 127.0.0.1:0\n"
        << "database: " << (dir / "bench.db").string() << "\n"
        << "tokens: tokens.yaml\n"
        << "profiles: " << (config_dir / "instruments").string() << "\n"
        << "sample_rate: " << rate_hz << "\n"
        << "instrument:\n  simulate:\n    profile: "
        << (config_dir / "instruments/sim-la30.yaml").string() << "\n    speed: 1\n";
    int out[2];
    if (::pipe(out) != 0) {
        throw std::runtime_error("pipe");
    }
    const char* const chosen = std::getenv("DMACYCLED");
    const std::string binary = chosen != nullptr ? chosen : DMACYCLE_BIN_DIR "/dmacycled";
    const std::string config = (dir / "dmacycled.yaml").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        std::freopen((dir / "daemon.log").c_str(), "w", stderr);
        ::execl(binary.c_str(), "dmacycled", "--config", config.c_str(),
                static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
        line += c;
    }
    const std::string prefix = "listening http://";
    if (line.rfind(prefix, 0) != 0) {
        ::kill(pid, SIGKILL);
        throw std::runtime_error("dmacycled did not start: '" + line + "' (see " +
                                 (dir / "daemon.log").string() + ")");
    }
    const std::string address = line.substr(prefix.size());
    const auto colon = address.rfind(':');
    return {pid, address.substr(0, colon), address.substr(colon + 1)};
}

void sql(sqlite3* db, const std::string& text) {
    char* message = nullptr;
    if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string what = message != nullptr ? message : "?";
        sqlite3_free(message);
        throw std::runtime_error("seeding the store: " + what);
    }
}

// A finished job of `rows` samples written straight into the daemon's store (schema and all
// made by the daemon at its start, nothing queued yet); returns the job's id.
std::int64_t seed_finished_job(const fs::path& db_path, const std::string& job_text,
                               std::int64_t rows) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        throw std::runtime_error("cannot open " + db_path.string());
    }
    sqlite3_busy_timeout(db, 5000);
    const std::string now = "'2026-11-28T00:00:00.000Z'";
    std::string quoted;
    for (const char c : job_text) {
        quoted += c;
        if (c == '\'') {
            quoted += c;
        }
    }
    sql(db, "BEGIN IMMEDIATE");
    sql(db,
        "INSERT INTO runs (job_text, sample_id, profile, software_version, instrument_identity, "
        "status, created_utc, started_utc, ended_utc) VALUES ('" +
            quoted + "', 'seeded', 'sim-la30', 'bench', 'bench', 'completed', " + now + ", " + now +
            ", " + now + ")");
    const auto run_id = sqlite3_last_insert_rowid(db);
    sql(db,
        "INSERT INTO jobs (name, source, job_text, runs_planned, status, message, submitted_utc, "
        "started_utc, ended_utc) VALUES ('seeded', 'bench', '" +
            quoted + "', 1, 'completed', 'completed', " + now + ", " + now + ", " + now + ")");
    const auto job_id = sqlite3_last_insert_rowid(db);
    sql(db, "INSERT INTO job_runs (job_id, run_id, point) VALUES (" + std::to_string(job_id) +
                ", " + std::to_string(run_id) + ", 0)");
    // `samples` is a view: the rows go into sample_rows as the store codes them, off the run's
    // 10 Hz line from 2026-11-28T00:00:00.000Z (so wall = now + t), segment 3 ("cycle").
    sql(db,
        "UPDATE runs SET first_seq = 0, first_t_us = 0, first_wall_ms = 1795824000000, "
        "sample_step_us = 100000 WHERE id = " +
            std::to_string(run_id));
    const auto code = [](double value) {
        return std::to_string(std::get<std::int64_t>(dmacycle::store::codec::value_cell(value)));
    };
    const std::string insert_sql =
        "INSERT INTO sample_rows (run_id, seq, t_code, wall_code, segment_id, temperature_code, "
        "force_code, displacement_code, stress_pa, strain) VALUES (?, ?, 0, 0, 3, " +
        code(523.15) + ", " + code(0.1) + ", " + code(1e-6) + ", 1e8, 0.001)";
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, insert_sql.c_str(), -1, &insert, nullptr);
    for (std::int64_t seq = 0; seq < rows; ++seq) {
        sqlite3_bind_int64(insert, 1, run_id);
        sqlite3_bind_int64(insert, 2, seq);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            throw std::runtime_error(std::string("seeding the store: ") + sqlite3_errmsg(db));
        }
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    sql(db, "COMMIT");
    sqlite3_close(db);
    return job_id;
}

// One keep-alive connection.
class Client {
  public:
    explicit Client(const Daemon& daemon) : stream_(io_) {
        tcp::resolver resolver(io_);
        stream_.connect(resolver.resolve(daemon.host, daemon.port));
        host_ = daemon.host + ":" + daemon.port;
    }
    Json request(http::verb verb, const std::string& target, const std::string& body = {}) {
        http::request<http::string_body> request{verb, target, 11};
        request.set(http::field::host, host_);
        request.set(http::field::authorization, "Bearer " + token);
        request.keep_alive(true);
        if (verb == http::verb::post) {
            request.set(http::field::content_type, "application/yaml");
            request.body() = body;
            request.prepare_payload();
        }
        http::write(stream_, request);
        http::response<http::string_body> response;
        http::read(stream_, buffer_, response);
        if (response.result_int() >= 300) {
            throw std::runtime_error(target + ": HTTP " + std::to_string(response.result_int()) +
                                     " " + response.body());
        }
        return Json::parse(response.body());
    }

  private:
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::string host_;
};

double percentile(std::vector<double>& values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size()));
    return values[std::min(values.size() - 1, index)];
}

}  // namespace

int main(int argc, char** argv) {
    const int clients = argc > 1 ? std::stoi(argv[1]) : 50;
    const double seconds = argc > 2 ? std::stod(argv[2]) : 60;
    const std::int64_t backlog = argc > 3 ? std::stoll(argv[3]) : 750000;
    const double rate_hz = 100;
    const fs::path dir =
        fs::temp_directory_path() / ("dmacycle-api-load-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const Daemon daemon = start_daemon(dir, rate_hz);

    std::ifstream job_file(DMACYCLE_SOURCE_DIR "/config/jobs/mode1-0-200.yaml");
    const std::string job_text((std::istreambuf_iterator<char>(job_file)), {});
    const auto seeded_job = seed_finished_job(dir / "bench.db", job_text, backlog);
    Client control(daemon);
    const auto job_id =
        control.request(http::verb::post, "/api/v1/jobs", job_text)["job_id"].get<std::int64_t>();
    std::int64_t run_id = -1;
    while (run_id < 0) {
        const auto job = control.request(http::verb::get, "/api/v1/jobs/" + std::to_string(job_id));
        if (!job["run_ids"].empty()) {
            run_id = job["run_ids"][0].get<std::int64_t>();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }

    std::mutex mutex;
    std::vector<double> status_ms, samples_ms, seeded_ms;
    std::atomic<std::int64_t> gaps{0}, errors{0}, rows_seen{0};
    std::atomic<bool> stop{false};
    const std::string job_path = "/api/v1/jobs/" + std::to_string(job_id);
    const std::string seeded_path = "/api/v1/jobs/" + std::to_string(seeded_job);
    const std::string samples_path = "/api/v1/runs/" + std::to_string(run_id) + "/samples?since=";
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([&] {
            std::vector<double> my_status, my_samples, my_seeded;
            std::int64_t since = -1;
            try {
                Client client(daemon);
                while (!stop) {
                    auto start = SteadyClock::now();
                    client.request(http::verb::get, job_path);
                    my_status.push_back(
                        std::chrono::duration<double, std::milli>(SteadyClock::now() - start)
                            .count());
                    start = SteadyClock::now();
                    const auto page =
                        client.request(http::verb::get, samples_path + std::to_string(since));
                    my_samples.push_back(
                        std::chrono::duration<double, std::milli>(SteadyClock::now() - start)
                            .count());
                    start = SteadyClock::now();
                    client.request(http::verb::get, seeded_path);
                    my_seeded.push_back(
                        std::chrono::duration<double, std::milli>(SteadyClock::now() - start)
                            .count());
                    for (const auto& row : page["rows"]) {
                        const auto seq = row[0].get<std::int64_t>();
                        if (since >= 0 && seq != since + 1) {
                            ++gaps;
                        }
                        since = seq;
                        ++rows_seen;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a poller
                }
            } catch (const std::exception& error) {
                std::fprintf(stderr, "client: %s\n", error.what());
                ++errors;
            }
            std::lock_guard lock(mutex);
            status_ms.insert(status_ms.end(), my_status.begin(), my_status.end());
            samples_ms.insert(samples_ms.end(), my_samples.begin(), my_samples.end());
            seeded_ms.insert(seeded_ms.end(), my_seeded.begin(), my_seeded.end());
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& thread : threads) {
        thread.join();
    }
    // A new connection: the daemon closes one idle for 30 s (http_server.hpp read_timeout).
    Client closing(daemon);
    closing.request(http::verb::post, job_path + "/abort");
    while (true) {
        const auto status = closing.request(http::verb::get, job_path)["status"].get<std::string>();
        if (status != "running" && status != "paused") {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(daemon.pid, SIGTERM);
    int wait_status = 0;
    ::waitpid(daemon.pid, &wait_status, 0);

    const auto [stored, first, last] = stored_samples(dir / "bench.db", run_id);

    const double requests =
        static_cast<double>(status_ms.size() + samples_ms.size() + seeded_ms.size());
    std::printf("clients %d for %.0f s, acquisition %.0f Hz (simulated instrument, speed 1)\n",
                clients, seconds, rate_hz);
    std::printf("requests %.0f (%.0f/s), client errors %lld\n", requests, requests / seconds,
                static_cast<long long>(errors.load()));
    std::printf("GET job status:  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                percentile(status_ms, 0.5), percentile(status_ms, 0.99),
                percentile(status_ms, 1.0));
    std::printf("GET new samples: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                percentile(samples_ms, 0.5), percentile(samples_ms, 0.99),
                percentile(samples_ms, 1.0));
    std::printf("GET finished job (%lld samples): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                static_cast<long long>(backlog), percentile(seeded_ms, 0.5),
                percentile(seeded_ms, 0.99), percentile(seeded_ms, 1.0));
    std::printf("rows seen by clients %lld, gaps seen %lld\n",
                static_cast<long long>(rows_seen.load()), static_cast<long long>(gaps.load()));
    std::printf("stored %lld samples, seq %lld-%lld, missing %lld\n",
                static_cast<long long>(stored), static_cast<long long>(first),
                static_cast<long long>(last), static_cast<long long>(last - first + 1 - stored));
    fs::remove_all(dir);
    const bool ok = errors == 0 && gaps == 0 && last - first + 1 == stored && stored > 0;
    std::printf("%s\n", ok ? "no sample lost" : "FAILED");
    return ok ? 0 : 1;
}
