// kill -9 of dmacycled in mid-cycle, then a restart on the same folder (issue 6): the store is
// intact with every committed sample and no gap in seq, the run and job are `interrupted` with
// the gap recorded, the instrument (dmacycle-sim, a process of its own that outlives the
// daemon, as a real instrument does) is driven to the safe state, and the queue goes on. And the
// one safe state (daemon/runner/include/dmacycle/runner/safe_state.hpp) after a kill in each
// kind of segment, a DMTA scan's included: the frame unloads at a rate the job loads at.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

#include "daemon_process.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "run_store.hpp"
#include "sim_process.hpp"

using namespace daemon_test;
using dmacycle::cli::ApiClient;
using dmacycle::cli::parse_server_url;
using Json = nlohmann::json;

namespace {

// The simulator's clock: slow enough that job A cycles for minutes of wall time.
constexpr const char* sim_speed = "50";

// The shipped main job (period 8 min) with a shorter hold.
const std::vector<std::pair<std::string, std::string>> faster{
    {"name: mode1-0-200", "name: crash-a"}, {"hold: 10 min", "hold: 1 min"}};

// dmacycle-sim at `speed`, a process of its own that outlives the daemon as a real instrument
// does, and dmacycled driving it through the loopback rig file with the simulator's ports.
class SimRig {
  public:
    explicit SimRig(const std::string& speed)
        : sim_({"--speed", speed, "--frame-port", "0", "--furnace-port", "0", "--profile",
                DMACYCLE_SOURCE_DIR "/config/instruments/sim-la30.yaml"}) {
        const auto endpoints = sim_.read_lines(2);
        REQUIRE(endpoints.size() == 2);
        REQUIRE(endpoints[0].starts_with("frame tcp://127.0.0.1:"));
        REQUIRE(endpoints[1].starts_with("furnace modbus-tcp://127.0.0.1:"));
        const auto port_of = [](const std::string& line) {
            return line.substr(line.rfind(':') + 1);
        };
        std::string rig =
            slurp(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "rigs" / "sim-loopback.yaml");
        for (const auto& [from, endpoint] : {std::pair{"127.0.0.1:5025", endpoints[0]},
                                             std::pair{"127.0.0.1:5020", endpoints[1]}}) {
            const auto at = rig.find(from);
            REQUIRE(at != std::string::npos);
            rig.replace(at, std::strlen(from), "127.0.0.1:" + port_of(endpoint));
        }
        DaemonOptions options;
        options.rig = rig;
        daemon_.emplace(options);
    }
    DaemonProcess& daemon() { return *daemon_; }
    // The daemon's port changes with each start.
    ApiClient client() const { return ApiClient(parse_server_url(daemon_->url()), admin_token); }

  private:
    test_support::SimProcess sim_;
    std::optional<DaemonProcess> daemon_;
};

// The messages of a run's events whose kind is `kind`.
std::vector<std::string> messages_of(const Json& run, const std::string& kind) {
    std::vector<std::string> messages;
    for (const auto& event : run.at("events")) {
        if (event.at("kind") == kind) {
            messages.push_back(event.at("message").get<std::string>());
        }
    }
    return messages;
}

// Submits `job_text`, kills dmacycled with SIGKILL once the job's run is in `segment`, restarts it
// and returns the run's safe_state events once the restart has followed the unload to its end.
std::vector<std::string> safe_state_after_kill_in(const std::string& segment,
                                                  const std::string& job_text,
                                                  const std::string& speed) {
    SimRig rig(speed);
    INFO(rig.daemon().log());
    const auto api = rig.client();
    const auto id = api.post("/api/v1/jobs", job_text).at("job_id").get<std::int64_t>();
    const auto in_segment = poll_job(
        api, id,
        [&](const Json& job) {
            const auto& p = job.at("progress");
            return !p.is_null() && p.at("segment") == segment;
        },
        std::chrono::seconds(300));
    const auto run_id = in_segment.at("progress").at("run_id").get<std::int64_t>();
    CHECK(rig.daemon().stop(SIGKILL) == 128 + SIGKILL);
    rig.daemon().restart();
    const auto again = rig.client();
    CHECK(again.get("/api/v1/jobs/" + std::to_string(id)).at("status") == "interrupted");
    // The third event, the unload followed to its end, is written before the queue goes on.
    Json run;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (true) {
        run = again.get("/api/v1/runs/" + std::to_string(run_id));
        if (messages_of(run, "safe_state").size() >= 3 ||
            std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(rig.daemon().stop() == 0);
    return messages_of(run, "safe_state");
}

// The frame unloaded to the pre-tension (0.278 MPa on the ribbon) at `rate`, the furnace to
// standby, and the frame found holding at the pre-tension afterwards.
void check_unloaded(const std::vector<std::string>& safe_state, const std::string& rate) {
    INFO(Json(safe_state).dump(2));
    REQUIRE(safe_state.size() == 3);
    CHECK(safe_state[0] ==
          "after restart: unload: ramp to the pre-tension 0.0100 N (0.278 MPa) "
          "at " +
              rate + " MPa/min");
    CHECK(safe_state[1] == "after restart: furnace to standby: setpoint 298.15 K");
    const std::string held = "after restart: the frame is in HOLD at ";
    REQUIRE(safe_state[2].starts_with(held));
    CHECK(std::abs(std::stod(safe_state[2].substr(held.size())) - 0.278) < 0.5);
}

}  // namespace

TEST_CASE("kill -9 in mid-cycle: restart finds the run interrupted and the store whole") {
    SimRig rig(sim_speed);
    DaemonProcess& daemon = rig.daemon();
    INFO(daemon.log());
    const auto client = [&] { return rig.client(); };
    const auto api = client();

    // A: hours of cycling. B: two cycles, queued behind it.
    const auto a = api.post("/api/v1/jobs", shipped_job("mode1-0-200.yaml", faster));
    const auto b = api.post(
        "/api/v1/jobs", shipped_job("mode1-0-200.yaml", {{"name: mode1-0-200", "name: crash-b"},
                                                         {"hold: 10 min", "hold: 1 min"},
                                                         {"duration: 8 h", "duration: 16 min"},
                                                         {"recovery: 8 h", "recovery: 2 min"}}));
    const auto a_id = a.at("job_id").get<std::int64_t>();
    const auto b_id = b.at("job_id").get<std::int64_t>();
    CHECK(b.at("position") == 1);

    const auto cycling = poll_job(
        api, a_id,
        [](const Json& job) {
            const auto& p = job.at("progress");
            return !p.is_null() && p.at("segment") == "cycle" && p.at("cycle").get<int>() >= 2;
        },
        std::chrono::seconds(300));
    const auto run_id = cycling.at("progress").at("run_id").get<std::int64_t>();
    const auto run_path = "/api/v1/runs/" + std::to_string(run_id);
    const auto seen_seq = api.get(run_path).at("last_seq").get<std::int64_t>();
    const auto killed_at = SystemClock::now();
    CHECK(daemon.stop(SIGKILL) == 128 + SIGKILL);

    std::int64_t stored = 0;
    SystemClock::time_point last_wall;
    {
        Store store(daemon.database());
        CHECK(store.column("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
        stored = store.integer("SELECT count(*) FROM samples WHERE run_id = ?", run_id);
        const auto first = store.integer("SELECT min(seq) FROM samples WHERE run_id = ?", run_id);
        const auto last = store.integer("SELECT max(seq) FROM samples WHERE run_id = ?", run_id);
        CHECK(first == 0);
        CHECK(last >= seen_seq);            // everything the API showed was committed
        CHECK(stored == last - first + 1);  // and nothing skipped
        last_wall = parse_utc(store
                                  .column("SELECT t_wall_utc FROM samples WHERE run_id = ? "
                                          "ORDER BY seq DESC LIMIT 1",
                                          run_id)
                                  .at(0));
        CHECK(store.column("SELECT status FROM runs WHERE id = ?", run_id) ==
              std::vector<std::string>{"running"});  // as the dead process left it
    }
    const double lost_s = seconds_between(last_wall, killed_at);
    MESSAGE("kill -9 at cycle >= 2: " << stored << " samples stored (API had shown seq " << seen_seq
                                      << "), the last one " << lost_s << " s before the kill");
    CHECK(lost_s < 1.5);  // the store's commit window is 1 s; the rest is scheduling slack

    const auto restarted_at = SystemClock::now();
    daemon.restart();
    const auto again = client();
    const auto job_a = again.get("/api/v1/jobs/" + std::to_string(a_id));
    CHECK(job_a.at("status") == "interrupted");
    CHECK(job_a.at("runs").at(0).at("status") == "interrupted");

    const auto done_b = poll_job(
        again, b_id,
        [](const Json& job) {
            return job.at("status") != "queued" && job.at("status") != "running";
        },
        std::chrono::seconds(300));
    CHECK(done_b.at("status") == "completed");

    const auto run_a = again.get(run_path);
    CHECK(run_a.at("status") == "interrupted");
    CHECK(run_a.at("samples") == stored);  // the restart wrote nothing to A's samples
    std::vector<std::string> safe_state;
    std::string interrupted;
    SystemClock::time_point held_at;
    for (const auto& event : run_a.at("events")) {
        const auto message = event.at("message").get<std::string>();
        if (event.at("kind") == "interrupted") {
            interrupted = message;
        } else if (event.at("kind") == "safe_state") {
            safe_state.push_back(message);
            held_at = parse_utc(event.at("t_wall_utc").get<std::string>());
        }
    }
    CHECK(interrupted.starts_with("interrupted: the service stopped at "));
    REQUIRE(safe_state.size() == 3);
    CHECK(safe_state[0].starts_with("after restart: unload: ramp to the pre-tension 0.0100 N"));
    CHECK(safe_state[1] == "after restart: furnace to standby: setpoint 298.15 K");
    CHECK(safe_state[2].starts_with("after restart: the frame is in HOLD at "));
    MESSAGE("restart to frame held: " << seconds_between(restarted_at, held_at) << " s ("
                                      << safe_state[2] << ")");

    // B's first samples (equilibrate, then the unloaded hold) show the frame as the safe state
    // left it: at the pre-tension, not cycling (A's cycles span 0-200 MPa).
    const auto b_run = done_b.at("run_ids").at(0).get<std::int64_t>();
    const auto page = again.get("/api/v1/runs/" + std::to_string(b_run) + "/samples?limit=50");
    const auto& columns = page.at("columns");
    const auto column = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) -
                                        columns.begin());
    };
    REQUIRE(page.at("rows").size() == 50);
    for (const auto& row : page.at("rows")) {
        CHECK((row.at(column("segment")) == "equilibrate" || row.at(column("segment")) == "hold"));
        CHECK(std::abs(row.at(column("stress_pa")).get<double>() - 0.278e6) < 1e6);
    }
    CHECK(daemon.stop() == 0);
}

// The one safe state, after a kill in each kind of segment (the cycle: the test above): the
// frame unloads at the job's own rate, or at 50 MPa/min for an as-cast scan, which has none.
TEST_CASE("kill -9 during equilibrate: the restart unloads the frame at the job's rate") {
    check_unloaded(
        safe_state_after_kill_in("equilibrate", shipped_job("mode1-0-200.yaml", {}), "50"),
        "50.00");
}

TEST_CASE("kill -9 during the hold: the restart unloads the frame at the job's rate") {
    check_unloaded(safe_state_after_kill_in("hold", shipped_job("mode1-0-200.yaml", {}), "50"),
                   "50.00");
}

// mode1-100-100 loads to 100 MPa, creeps, unloads: at 10 MPa/min the ramps last 10 min.
const std::vector<std::pair<std::string, std::string>> slow_creep{
    {"hold: 10 min", "hold: 1 min"},
    {"stress_rate: 50 MPa/min", "stress_rate: 10 MPa/min"},
    {"duration: 8 h", "duration: 2 min"}};

TEST_CASE("kill -9 during the load: the restart unloads the frame at the job's rate") {
    check_unloaded(
        safe_state_after_kill_in("load", shipped_job("mode1-100-100.yaml", slow_creep), "50"),
        "10.00");
}

TEST_CASE("kill -9 during creep: the restart unloads the frame at the job's rate") {
    check_unloaded(safe_state_after_kill_in(
                       "creep",
                       shipped_job("mode1-100-100.yaml",
                                   {{"hold: 10 min", "hold: 1 min"},
                                    {"stress_rate: 50 MPa/min", "stress_rate: 10 MPa/min"}}),
                       "50"),
                   "10.00");
}

TEST_CASE("kill -9 during the unload: the restart unloads the frame at the job's rate") {
    check_unloaded(
        safe_state_after_kill_in("unload", shipped_job("mode1-100-100.yaml", slow_creep), "50"),
        "10.00");
}

TEST_CASE("kill -9 during the recovery: the restart unloads the frame at the job's rate") {
    check_unloaded(safe_state_after_kill_in(
                       "recovery",
                       shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 1 min"},
                                                        {"duration: 8 h", "duration: 16 min"}}),
                       "50"),
                   "50.00");
}

TEST_CASE("kill -9 during a DMTA scan: the restart unloads the frame at 50 MPa/min") {
    check_unloaded(
        safe_state_after_kill_in("dmta_scan",
                                 shipped_job("dmta.yaml", {{"hold: 10 min", "hold: 1 min"}}), "50"),
        "50.00");
}
