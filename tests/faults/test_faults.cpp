// The fault matrix (issue 7, docs/reliability.md "Fault matrix"): each fault the simulator can
// inject, once, during each segment of a short job run by dmacycled (a process) on dmacycle-sim
// (a process of its own, as a real instrument outlives the daemon). Every cell checks the
// documented outcome (continue with a recorded gap, hold, safe abort, interrupted), that the
// daemon neither crashed nor hung, and that every sample the store had committed at the fault
// is still there once, with any later hole explained by a `link` event.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <regex>
#include <thread>

#include "daemon_process.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "line_client.hpp"
#include "run_store.hpp"
#include "sim_process.hpp"

using namespace daemon_test;
using dmacycle::cli::ApiClient;
using dmacycle::cli::ClientError;
using dmacycle::cli::parse_server_url;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Instrument seconds per wall second: each segment below lasts 5-10 wall seconds, and the stream
// (1 Hz of instrument time) is 48 samples per wall second, light enough for the sanitizer
// builds. The load-lost interlock allows 20 MPa (10 % of the peak) between the plan and the
// measured stress, 24 s of the 50 MPa/min ramps: 0.5 s of wall time for the simulator, which
// stamps a sample late under CPU starvation, to fall behind before a run faults falsely.
constexpr const char* sim_speed = "48";
constexpr double pre_tension_pa = 0.01 / (1.2e-3 * 30e-6);  // 0.01 N on the job's ribbon
// The store may grow to this; the database-full cells fill it up to here.
constexpr std::int64_t max_database_bytes = 4 << 20;

// The paper's main job, shortened: hold 4 min, one 8-min cycle, 4 min of recovery.
std::string short_job(const std::string& name) {
    return shipped_job("mode1-0-200.yaml", {{"name: mode1-0-200", "name: " + name},
                                            {"hold: 10 min", "hold: 4 min"},
                                            {"duration: 8 h", "duration: 8 min"},
                                            {"recovery: 8 h", "recovery: 4 min"}});
}

// A SQLite connection of the test's own on the store, writing a table the daemon does not know,
// to fill the file to limits.max_database_bytes (a full disk) and free it again.
class DiskFiller {
  public:
    explicit DiskFiller(const fs::path& database) {
        REQUIRE(sqlite3_open(database.c_str(), &db_) == SQLITE_OK);
        sqlite3_busy_timeout(db_, 10000);
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA max_page_count=" + std::to_string(max_database_bytes / 4096));
        exec("CREATE TABLE filler (b BLOB)");
    }
    ~DiskFiller() { sqlite3_close(db_); }
    DiskFiller(const DiskFiller&) = delete;
    DiskFiller& operator=(const DiskFiller&) = delete;

    // Inserts ever smaller blobs until not even one page fits.
    void fill() {
        for (int bytes = 256 << 10; bytes >= 512; bytes /= 2) {
            while (exec("INSERT INTO filler VALUES (zeroblob(" + std::to_string(bytes) + "))",
                        SQLITE_FULL) == SQLITE_OK) {
            }
        }
    }
    // Its pages go to the free list, where the daemon's writer finds them.
    void free() { exec("DROP TABLE filler"); }

  private:
    int exec(const std::string& sql, int tolerated = SQLITE_OK) {
        char* error = nullptr;
        const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
        const std::string message = error ? error : "";
        sqlite3_free(error);
        REQUIRE_MESSAGE((code == SQLITE_OK || code == tolerated), sql << ": " << message);
        return code;
    }
    sqlite3* db_ = nullptr;
};

// dmacycle-sim and dmacycled on it, a connection of the test's own to the frame (to inject
// faults and read its state) and the job under test submitted.
class Cell {
  public:
    Cell()
        : sim_({"--speed", sim_speed, "--frame-port", "0", "--furnace-port", "0", "--profile",
                DMACYCLE_SOURCE_DIR "/config/instruments/sim-la30.yaml"}),
          frame_(connect_frame()),
          daemon_(options()) {}

    DaemonProcess& daemon() { return daemon_; }
    ApiClient api() const { return ApiClient(parse_server_url(daemon_.url()), admin_token); }
    // A command to the simulator on the test's own frame connection; its reply, if it has one.
    std::string frame(const std::string& line) {
        if (line.ends_with('?')) {
            return frame_.query(line);
        }
        frame_.send(line);
        // An error query orders the reply after the command and says whether it was taken.
        const auto error = frame_.query("SYSTem:ERRor?");
        CHECK_MESSAGE(error.starts_with("0,"), line << ": " << error);
        return "";
    }

    std::int64_t submit(const std::string& name) {
        return api().post("/api/v1/jobs", short_job(name)).at("job_id").get<std::int64_t>();
    }

    // Waits until job `id` is in `segment` with some samples of it streamed (at most 120 s: the
    // furnace equilibrates first); returns the job.
    Json await_segment(std::int64_t id, const std::string& segment) {
        const auto job = poll_job(
            api(), id,
            [&](const Json& j) {
                return (j.at("status") != "running" && j.at("status") != "queued") ||
                       (!j.at("progress").is_null() && j.at("progress").at("segment") == segment);
            },
            120s);
        REQUIRE(job.at("status") == "running");
        std::this_thread::sleep_for(1s);  // a minute of the segment, at the daemon's speed
        // And something committed before the fault, however long a loaded machine takes to get
        // there (the second alone was not one sample on one); no longer, as the paced simulator's
        // segment goes on meanwhile.
        const std::string run =
            "/api/v1/runs/" + std::to_string(job.at("progress").at("run_id").get<std::int64_t>());
        const auto give_up = std::chrono::steady_clock::now() + 120s;
        while (api().get(run).at("last_seq").is_null() &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(20ms);
        }
        return job;
    }

    Json await_end(std::int64_t id) {
        return poll_job(
            api(), id,
            [](const Json& j) { return j.at("status") != "queued" && j.at("status") != "running"; },
            120s);
    }

    // /healthz: its status code (503: degraded) and body.
    std::pair<int, Json> health() {
        try {
            return {200, ApiClient(parse_server_url(daemon_.url()), std::nullopt).get("/healthz")};
        } catch (const ClientError& error) {
            return {error.status(), Json{{"error", error.what()}}};
        }
    }

  private:
    test_support::LineClient connect_frame() {
        endpoints_ = sim_.read_lines(2);
        REQUIRE(endpoints_.size() == 2);
        REQUIRE(endpoints_[0].starts_with("frame tcp://127.0.0.1:"));
        REQUIRE(endpoints_[1].starts_with("furnace modbus-tcp://127.0.0.1:"));
        return test_support::LineClient::tcp(
            static_cast<std::uint16_t>(std::stoi(port_of(endpoints_[0]))));
    }

    static std::string port_of(const std::string& line) { return line.substr(line.rfind(':') + 1); }

    DaemonOptions options() const {
        std::string rig =
            slurp(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "rigs" / "sim-loopback.yaml");
        for (const auto& [from, endpoint] : {std::pair{"127.0.0.1:5025", endpoints_[0]},
                                             std::pair{"127.0.0.1:5020", endpoints_[1]}}) {
            const auto at = rig.find(from);
            REQUIRE(at != std::string::npos);
            rig.replace(at, std::strlen(from), "127.0.0.1:" + port_of(endpoint));
        }
        DaemonOptions options;
        options.rig = rig;
        options.extra_config =
            "sample_rate: 1\nlimits:\n  max_database_bytes: " + std::to_string(max_database_bytes) +
            "\n";
        return options;
    }

    test_support::SimProcess sim_;
    std::vector<std::string> endpoints_;
    test_support::LineClient frame_;
    DaemonProcess daemon_;
};

// What the store had committed of run `run_id` when the fault struck.
struct Committed {
    std::int64_t run_id = 0;
    std::int64_t last_seq = -1;
};

Committed committed(Cell& cell, const Json& job) {
    const auto run_id = job.at("progress").at("run_id").get<std::int64_t>();
    const auto run = cell.api().get("/api/v1/runs/" + std::to_string(run_id));
    REQUIRE(!run.at("last_seq").is_null());
    return {run_id, run.at("last_seq").get<std::int64_t>()};
}

// Every sample committed before the fault is stored once, the store is intact, and every hole
// in seq is a sample_gap the runner recorded; returns the samples missing.
std::int64_t check_no_loss(Cell& cell, const Committed& before) {
    const auto run = cell.api().get("/api/v1/runs/" + std::to_string(before.run_id));
    std::int64_t reported_missing = 0;
    const std::regex gap(R"((\d+) samples missing)");
    for (const auto& event : run.at("events")) {
        const auto message = event.at("message").get<std::string>();
        std::smatch match;
        if (event.at("kind") == "link" && std::regex_search(message, match, gap)) {
            reported_missing += std::stoll(match[1]);
        }
    }
    Store store(cell.daemon().database());
    CHECK(store.column("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
    const auto rows = store.integer("SELECT count(*) FROM samples WHERE run_id = ?", before.run_id);
    CHECK(store.integer("SELECT count(DISTINCT seq) FROM samples WHERE run_id = ?",
                        before.run_id) == rows);
    CHECK(store.integer("SELECT min(seq) FROM samples WHERE run_id = ?", before.run_id) == 0);
    CHECK(store.integer("SELECT count(*) FROM samples WHERE run_id = ? AND seq <= " +
                            std::to_string(before.last_seq),
                        before.run_id) == before.last_seq + 1);
    const auto last = store.integer("SELECT max(seq) FROM samples WHERE run_id = ?", before.run_id);
    const auto missing = last + 1 - rows;
    CHECK(missing == reported_missing);
    CHECK(run.at("samples") == rows);
    return missing;
}

std::vector<std::string> events_of(Cell& cell, std::int64_t run_id, const std::string& kind) {
    std::vector<std::string> messages;
    const auto run = cell.api().get("/api/v1/runs/" + std::to_string(run_id));
    for (const auto& event : run.at("events")) {
        if (event.at("kind") == kind) {
            messages.push_back(event.at("message").get<std::string>());
        }
    }
    return messages;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    return text;
}

// The frame's mode and stress from SOURce:STATe? ("HOLD,277777.8,277777.8") once it has
// stopped ramping (the safe state's unload may still be under way when the run ends).
std::pair<std::string, double> frame_state(Cell& cell) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (true) {
        const auto state = cell.frame("SOURce:STATe?");
        const auto comma = state.find(',');
        REQUIRE(comma != std::string::npos);
        const auto mode = state.substr(0, comma);
        if (mode != "RAMP" || std::chrono::steady_clock::now() > deadline) {
            return {mode, std::stod(state.substr(comma + 1))};
        }
        std::this_thread::sleep_for(100ms);
    }
}

// The daemon is alive and takes the next job: it starts and streams (then it is aborted).
void check_next_job_runs(Cell& cell) {
    const auto health = cell.health();  // a pair: clang 14 cannot capture a structured binding
    CHECK_MESSAGE(health.first == 200, health.second.dump());
    const auto next = cell.submit("next");
    const auto running = poll_job(
        cell.api(), next,
        [](const Json& j) {
            return j.at("status") != "queued" &&
                   (j.at("status") != "running" ||
                    (!j.at("runs").empty() && j.at("runs").at(0).at("samples") > 0));
        },
        60s);
    CHECK(running.at("status") == "running");
    cell.api().post("/api/v1/jobs/" + std::to_string(next) + "/abort", "");
    CHECK(cell.await_end(next).at("status") == "aborted");
}

void check_completed(Cell& cell, std::int64_t id, const Committed& before) {
    const auto done = cell.await_end(id);
    INFO(done.dump());
    CHECK(done.at("status") == "completed");
    const auto run = cell.api().get("/api/v1/runs/" + std::to_string(before.run_id));
    INFO(joined(events_of(cell, before.run_id, "link")));
    CHECK(run.at("status") == "completed");
    CHECK(events_of(cell, before.run_id, "interlock").empty());
    Store store(cell.daemon().database());
    CHECK(store.integer("SELECT count(*) FROM results WHERE run_id = ?", before.run_id) > 0);
    const auto missing = check_no_loss(cell, before);
    const auto links = events_of(cell, before.run_id, "link");
    MESSAGE("completed: " << missing << " samples missing, " << run.at("samples").get<int>()
                          << " stored, " << links.size() << " link events: " << joined(links));
}

// Safe abort: faulted with the interlock recorded, the frame unloaded (to the pre-tension, or
// left tripped at 0 N) and the furnace sent to standby, nothing committed lost, and the daemon
// goes on.
void check_safe_abort(Cell& cell, std::int64_t id, const Committed& before,
                      const std::string& interlock, bool tripped) {
    const auto done = cell.await_end(id);
    INFO(done.dump());
    CHECK(done.at("status") == "faulted");
    const auto interlocks = events_of(cell, before.run_id, "interlock");
    const auto safe_state = joined(events_of(cell, before.run_id, "safe_state"));
    INFO(joined(interlocks));
    INFO(safe_state);
    REQUIRE(interlocks.size() == 1);
    CHECK(std::regex_search(interlocks[0], std::regex(interlock)));
    CHECK(safe_state.find("furnace to standby") != std::string::npos);
    const auto [mode, stress] = frame_state(cell);
    if (tripped) {
        // The simulator's trip belongs to the connection that tripped (docs/frame-protocol.md),
        // which the run has closed: the frame holds where the trip left it, at 0 N.
        CHECK(safe_state.find("left tripped for the operator") != std::string::npos);
        CHECK(mode == "HOLD");
        CHECK(std::abs(stress) < 0.05 * pre_tension_pa);
    } else {
        CHECK(mode == "HOLD");
        CHECK(std::abs(stress - pre_tension_pa) < 0.05 * pre_tension_pa);
    }
    check_no_loss(cell, before);
    MESSAGE("faulted: " << interlocks[0]);
}

enum class Fault {
    frame_drop,
    furnace_drop,
    stalled,
    garbled,
    sensor_break,
    trip,
    kill,
    database_full,
    database_full_to_end
};

void run_cell(const std::string& segment, Fault fault) {
    Cell cell;
    INFO(cell.daemon().log());
    const auto id = cell.submit("fault-" + segment);
    const auto before = committed(cell, cell.await_segment(id, segment));
    switch (fault) {
        case Fault::frame_drop:
            cell.frame("SIMulate:PEER:DROP 0");
            check_completed(cell, id, before);
            break;
        case Fault::furnace_drop:
            cell.frame("SIMulate:FURNace:DROP 1");
            check_completed(cell, id, before);
            break;
        case Fault::stalled:
            cell.frame("SIMulate:PEER:MUTE");
            check_completed(cell, id, before);
            break;
        case Fault::garbled:
            cell.frame("SIMulate:PEER:GARBle");
            cell.frame("SIMulate:FURNace:GARBle");
            check_completed(cell, id, before);
            break;
        case Fault::sensor_break:
            cell.frame("SIMulate:FURNace:SBReak 1");
            check_safe_abort(cell, id, before, "sensor break", false);
            cell.frame("SIMulate:FURNace:SBReak 0");
            check_next_job_runs(cell);
            break;
        case Fault::trip:
            cell.frame("SIMulate:PEER:TRIP");
            // The frame's state poll sees TRIP, or first a sample the stress at 0 N.
            check_safe_abort(cell, id, before, "trip|load lost", true);
            check_next_job_runs(cell);
            break;
        case Fault::kill: {
            CHECK(cell.daemon().stop(SIGKILL) == 128 + SIGKILL);
            {
                Store store(cell.daemon().database());
                CHECK(store.integer("SELECT max(seq) FROM samples WHERE run_id = ?",
                                    before.run_id) >= before.last_seq);
            }
            cell.daemon().restart();
            const auto job = cell.api().get("/api/v1/jobs/" + std::to_string(id));
            CHECK(job.at("status") == "interrupted");
            // The restart's safe state waits for the unload to end before it says so.
            const auto held = "after restart: the frame is in HOLD at ";
            const auto deadline = std::chrono::steady_clock::now() + 30s;
            auto safe_state = events_of(cell, before.run_id, "safe_state");
            while ((safe_state.empty() || !safe_state.back().starts_with(held)) &&
                   std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(100ms);
                safe_state = events_of(cell, before.run_id, "safe_state");
            }
            INFO(joined(safe_state));
            REQUIRE(!safe_state.empty());
            CHECK(safe_state.back().starts_with(held));
            const auto [mode, stress] = frame_state(cell);
            CHECK(mode == "HOLD");
            CHECK(std::abs(stress - pre_tension_pa) < 0.05 * pre_tension_pa);
            check_no_loss(cell, before);
            MESSAGE("restarted: " << joined(safe_state));
            check_next_job_runs(cell);
            break;
        }
        case Fault::database_full: {
            DiskFiller filler(cell.daemon().database());
            filler.fill();
            // The daemon's writer fails, keeps the rows and says so, while the run goes on.
            const auto full_until = std::chrono::steady_clock::now() + 2s;
            int degraded = 0;
            while (std::chrono::steady_clock::now() < full_until) {
                degraded += cell.health().first == 503 ? 1 : 0;
                std::this_thread::sleep_for(100ms);
            }
            CHECK(degraded > 0);
            filler.free();
            const auto freed_at = std::chrono::steady_clock::now();
            while (cell.health().first != 200 &&
                   std::chrono::steady_clock::now() < freed_at + 30s) {
                std::this_thread::sleep_for(50ms);
            }
            MESSAGE("store full for 2 s: /healthz 503 in "
                    << degraded << " of 20 polls; healthy again "
                    << std::chrono::duration<double>(std::chrono::steady_clock::now() - freed_at)
                           .count()
                    << " s after the space was freed");
            check_completed(cell, id, before);
            const auto health = cell.health();
            CHECK_MESSAGE(health.first == 200, health.second.dump());
            break;
        }
        case Fault::database_full_to_end: {
            // No space comes back: the run cannot store its last rows or its results, so it
            // must end faulted (not completed with missing data) instead of waiting forever.
            DiskFiller filler(cell.daemon().database());
            filler.fill();
            const auto done = cell.await_end(id);
            INFO(done.dump());
            CHECK(done.at("status") == "faulted");
            MESSAGE("never freed: " << done.at("message").get<std::string>());
            // Space comes back later: the writer, still retrying, commits what it kept.
            filler.free();
            const auto freed_at = std::chrono::steady_clock::now();
            while ((cell.health().first != 200 ||
                    cell.health().second.at("store").at("pending_rows") != 0) &&
                   std::chrono::steady_clock::now() < freed_at + 30s) {
                std::this_thread::sleep_for(50ms);
            }
            const auto stored = check_no_loss(cell, before);
            Store store(cell.daemon().database());
            CHECK(store.column("SELECT status FROM runs WHERE id = ?", before.run_id) ==
                  std::vector<std::string>{"faulted"});
            MESSAGE("after the space came back: "
                    << stored << " samples missing, "
                    << store.integer("SELECT count(*) FROM results WHERE run_id = ?", before.run_id)
                    << " results stored");
            check_next_job_runs(cell);
            break;
        }
    }
    CHECK(cell.daemon().stop() == 0);
}

}  // namespace

// One test case per cell, so that ctest runs them in parallel.
#define FAULT_CELL(title, segment, fault) \
    TEST_CASE(title) {                    \
        run_cell(segment, Fault::fault);  \
    }

FAULT_CELL("frame link drop during hold", "hold", frame_drop)
FAULT_CELL("frame link drop during cycling", "cycle", frame_drop)
FAULT_CELL("frame link drop during recovery", "recovery", frame_drop)
FAULT_CELL("furnace link drop during hold", "hold", furnace_drop)
FAULT_CELL("furnace link drop during cycling", "cycle", furnace_drop)
FAULT_CELL("furnace link drop during recovery", "recovery", furnace_drop)
FAULT_CELL("stalled replies during hold", "hold", stalled)
FAULT_CELL("stalled replies during cycling", "cycle", stalled)
FAULT_CELL("stalled replies during recovery", "recovery", stalled)
FAULT_CELL("garbled data during hold", "hold", garbled)
FAULT_CELL("garbled data during cycling", "cycle", garbled)
FAULT_CELL("garbled data during recovery", "recovery", garbled)
FAULT_CELL("sensor break during hold", "hold", sensor_break)
FAULT_CELL("sensor break during cycling", "cycle", sensor_break)
FAULT_CELL("sensor break during recovery", "recovery", sensor_break)
FAULT_CELL("force-limit trip during hold", "hold", trip)
FAULT_CELL("force-limit trip during cycling", "cycle", trip)
FAULT_CELL("force-limit trip during recovery", "recovery", trip)
FAULT_CELL("daemon kill -9 during hold", "hold", kill)
FAULT_CELL("daemon kill -9 during cycling", "cycle", kill)
FAULT_CELL("daemon kill -9 during recovery", "recovery", kill)
FAULT_CELL("database full during hold", "hold", database_full)
FAULT_CELL("database full during cycling", "cycle", database_full)
FAULT_CELL("database full during recovery", "recovery", database_full)
FAULT_CELL("database full to the end during recovery", "recovery", database_full_to_end)
