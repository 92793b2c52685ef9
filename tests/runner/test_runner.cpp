// The run engine end to end: shipped jobs on the simulator at max speed over loopback TCP, the
// production drivers, a real SQLite file, the analysis in-process.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>

#include "dmacycle/protocols/job.hpp"
#include "dmacycle/runner/runner.hpp"
#include "long_run.hpp"
#include "runner_rig.hpp"

using namespace runner_test;
using dmacycle::runner::RunOutcome;
using dmacycle::store::RunStatus;
using Json = nlohmann::json;

namespace {

struct Finished {
    RunOutcome outcome;
    std::vector<std::int64_t> simulator_seqs;  // what the simulator sent, from the wire tap
};

// Runs `point` of the job text on a fresh rig into `db_path`; `prepare` may first put the
// simulated instrument in some state.
Finished run_job(const std::string& text, const std::filesystem::path& db_path,
                 std::size_t point = 0, dmacycle::runner::RunnerOptions options = {},
                 const std::function<void(Rig&)>& prepare = {}) {
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    REQUIRE(point < file.runs.size());
    Rig rig;
    if (prepare) {
        prepare(rig);
    }
    if (std::getenv("RUNNER_TEST_VERBOSE") != nullptr && !options.on_event) {
        options.on_event = [](double t_s, const std::string& kind, const std::string& message) {
            std::fprintf(stderr, "[%10.1f] %s: %s\n", t_s, kind.c_str(), message.c_str());
        };
    }
    options.frame_starved = rig.starved();
    dmacycle::store::SampleStore store(db_path.string());
    Finished done;
    done.outcome = dmacycle::runner::execute_run(file.runs[point], text, store, rig.frame_spec(),
                                                 rig.furnace_spec(), options);
    done.simulator_seqs = rig.tap->sample_seqs();
    return done;
}

void check_exactly_once(const Db& db, const Finished& done) {
    check_stored_up_to_plan_end(db, done.outcome.run_id, done.simulator_seqs, done.outcome.samples);
}

Json result(const Db& db, std::int64_t run_id, const std::string& kind) {
    const auto text = db.value("SELECT json FROM results WHERE run_id = " + std::to_string(run_id) +
                               " AND kind = '" + kind + "'");
    REQUIRE_MESSAGE(!text.empty(), "no result " << kind);
    return Json::parse(text);
}

std::string where_run(std::int64_t run_id, const std::string& more = "") {
    return " WHERE run_id = " + std::to_string(run_id) + more;
}

bool db_has_no_results(const std::filesystem::path& path, std::int64_t run_id) {
    return Db(path).number("SELECT count(*) FROM results" + where_run(run_id)) == 0;
}

// What every completed run shows: status, segments in order, recovery at the pre-tension,
// results stored and usable.
void check_completed_run(const Db& db, const Finished& done, double temperature_k) {
    const auto id = done.outcome.run_id;
    INFO(done.outcome.message);
    REQUIRE(done.outcome.status == RunStatus::completed);
    CHECK(db.value("SELECT status FROM runs WHERE id = " + std::to_string(id)) == "completed");
    CHECK(!db.value("SELECT ended_utc FROM runs WHERE id = " + std::to_string(id)).empty());
    CHECK(db.value("SELECT instrument_identity FROM runs WHERE id = " + std::to_string(id)) ==
          "frame: dmacycle,SIM-DMA,SIM0001,0.1.0; furnace: eurotherm-2400,unit 1");
    check_exactly_once(db, done);

    // Hold: at least 600 s of instrument time, every reading within ±1 K.
    const double hold_samples =
        db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'hold'"));
    CHECK(hold_samples >= 6000);  // 10 Hz
    CHECK(db.number("SELECT max(t_s) - min(t_s) + 0.1 FROM samples" +
                    where_run(id, " AND segment = 'hold'")) >= doctest::Approx(600.0));
    CHECK(db.number("SELECT max(abs(temperature_k - " + std::to_string(temperature_k) +
                    ")) FROM samples" + where_run(id, " AND segment = 'hold'")) <= 1.0);
    // Pre-tension 0.01 N: applied after the hold and held through the recovery.
    CHECK(db.number(
              "SELECT count(*) FROM events" +
              where_run(id, " AND kind = 'segment' AND message LIKE 'pre_tension 0.0100 N%'")) ==
          1);
    CHECK(db.number("SELECT avg(force_n) FROM samples" +
                    where_run(id, " AND segment = 'recovery'")) ==
          doctest::Approx(0.01).epsilon(0.02));
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'recovery'")) >=
          36000);

    CHECK(result(db, id, "spectrum")["spectrum"]["fit"]["usable"] == true);
    CHECK(result(db, id, "kww")["fit"]["usable"] == true);
    CHECK(result(db, id, "single_tau")["fit"]["usable"] == true);
    CHECK(result(db, id, "work_done")["fit"]["usable"] == true);
    CHECK(db.number("SELECT count(*) FROM results" + where_run(id)) == 5);
}

}  // namespace

TEST_CASE("runner: equilibration ends on a settled minute and not on one noisy reading") {
    // As after a restart's safe state: the furnace was at standby for 15 s, so the sample, 60 s
    // behind the furnace, is 0.8 K short of 365 K and still falling when the furnace is back.
    // With 0.1 K of ripple a single reading enters ± 0.5 K long before the sample does, and the
    // hold's ± 1 K band then trips on a low one (a CI run faulted so).
    TempDir dir;
    const auto done =
        run_job(shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 4 min"},
                                                 {"duration: 8 h", "duration: 8 min"},
                                                 {"recovery: 8 h", "recovery: 4 min"}}),
                dir.path / "runs.db", 0, {}, [](Rig& rig) {
                    rig.instrument.set_furnace_setpoint_k(298.15);
                    rig.instrument.measure_at(15.0);
                });
    Db db(dir.path / "runs.db");
    const auto id = done.outcome.run_id;
    INFO(done.outcome.message);
    CHECK(done.outcome.status == RunStatus::completed);
    const double end_s = db.number("SELECT t_s FROM events" +
                                   where_run(id, " AND message LIKE 'equilibrate ended%'"));
    CHECK(end_s >= 60);
    const auto mean_k = [&](double from_s, double to_s) {
        return db.number("SELECT avg(temperature_k) FROM samples" +
                         where_run(id, " AND t_s > " + std::to_string(from_s) +
                                           " AND t_s <= " + std::to_string(to_s)));
    };
    // What the runner judged (the last minute's mean), and what followed: the sample's next 10 s
    // on average within the tolerance too, not still on the way.
    const double before_k = mean_k(end_s - 60, end_s), after_k = mean_k(end_s, end_s + 10);
    MESSAGE("equilibrated after " << end_s << " s: the minute before " << before_k
                                  << " K, the 10 s after " << after_k << " K");
    CHECK(std::abs(before_k - 365) <= 0.5);
    CHECK(std::abs(after_k - 365) <= 0.5);
    CHECK(db.value("SELECT message FROM events" +
                   where_run(id, " AND message LIKE 'equilibrate ended%'"))
              .ends_with("K (means over 60 s)"));
    CHECK(db.number("SELECT count(*) FROM events" + where_run(id, " AND kind = 'interlock'")) == 0);
    CHECK(db.number("SELECT max(abs(temperature_k - 365)) FROM samples" +
                    where_run(id, " AND segment = 'hold'")) <= 1.0);
}

TEST_CASE("runner: mode1-0-200 in full: hold / pre-tension / 60 cycles / recovery / analysis" *
          long_run) {
    TempDir dir;
    const auto done = run_job(shipped_job("mode1-0-200.yaml"), dir.path / "runs.db");
    Db db(dir.path / "runs.db");
    check_completed_run(db, done, 365.0);
    const auto id = done.outcome.run_id;
    CHECK(done.outcome.cycles == 60);
    CHECK(db.number("SELECT count(*) FROM cycles" + where_run(id)) == 60);
    CHECK(db.number("SELECT min(cycle) FROM cycles" + where_run(id)) == 1);
    CHECK(db.number("SELECT max(cycle) FROM cycles" + where_run(id)) == 60);
    // Each cycle 8 min and reaching 200 MPa.
    CHECK(db.number("SELECT min(t_end_s - t_start_s) FROM cycles" + where_run(id)) ==
          doctest::Approx(480.0));
    CHECK(db.number("SELECT min(stress_max_pa) / 1e6 FROM cycles" + where_run(id)) > 195.0);
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'cycle'")) ==
          288000);
    // Exactly the plan's samples at --speed max (issue 19): 10 min + 8 h + 8 h at 10 Hz, each end
    // of the plan included, nothing after it, whatever the stream sent while it stopped.
    CHECK(db.number("SELECT count(*) FROM samples" +
                    where_run(id, " AND segment IN ('hold', 'cycle', 'recovery')")) ==
          (600 + 2 * 28800) * 10 + 2);
    CHECK(db.number("SELECT count(*) FROM samples" +
                    where_run(id, " AND segment = 'after_plan'")) == 0);
    // The work-done analysis finds every cycle the runner counted, the edge ones included.
    CHECK(result(db, id, "work_done")["cycles"] == 60);
    const double wd = result(db, id, "work_done")["work_done_kj_mol"].get<double>();
    CHECK(wd >= 2e-2);
    CHECK(wd <= 8e-2);
    CHECK(result(db, id, "spectrum")["peaks"].size() >= 2);
    // Segments recorded in order.
    std::vector<std::string> segments;
    for (const auto& row : db.rows("SELECT message FROM events" +
                                   where_run(id, " AND kind = 'segment' ORDER BY id"))) {
        segments.push_back(row[0]);
    }
    const std::vector<std::string> expected = {"hold started",  "hold ended",  "pre_tension",
                                               "cycle started", "cycle ended", "recovery started",
                                               "recovery ended"};
    std::size_t found = 0;
    for (const auto& message : segments) {
        if (found < expected.size() && message.starts_with(expected[found])) {
            ++found;
        }
    }
    CHECK(found == expected.size());
    CHECK(db.number("SELECT count(*) FROM events" + where_run(id, " AND kind = 'interlock'")) == 0);
    CHECK(db.value("SELECT message FROM events" + where_run(id, " AND message LIKE 'hold ended%'"))
              .starts_with("hold ended: temperature 36"));
}

TEST_CASE("runner: 100-100 creep, shortened to 1 h + 1 h") {
    TempDir dir;
    const auto done = run_job(
        shipped_job("mode1-100-100.yaml",
                    {{"duration: 8 h", "duration: 1 h"}, {"recovery: 8 h", "recovery: 1 h"}}),
        dir.path / "runs.db");
    Db db(dir.path / "runs.db");
    check_completed_run(db, done, 365.0);
    const auto id = done.outcome.run_id;
    CHECK(db.number("SELECT count(*) FROM cycles" + where_run(id)) == 0);
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'creep'")) ==
          36000);
    CHECK(db.number("SELECT avg(stress_pa) / 1e6 FROM samples" +
                    where_run(id, " AND segment = 'creep'")) ==
          doctest::Approx(100.0).epsilon(0.01));
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'load'")) > 0);
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'unload'")) > 0);
}

TEST_CASE("runner: mode 2 sweep point 200 MPa/min, shortened to 1 h + 1 h") {
    TempDir dir;
    const auto done = run_job(shipped_job("mode2-sweep.yaml", {{"duration: 8 h", "duration: 1 h"},
                                                               {"recovery: 8 h", "recovery: 1 h"}}),
                              dir.path / "runs.db", 4);
    Db db(dir.path / "runs.db");
    check_completed_run(db, done, 365.0);
    CHECK(done.outcome.cycles == 30);  // period 2 min
    CHECK(db.number("SELECT count(*) FROM cycles" + where_run(done.outcome.run_id)) == 30);
}

TEST_CASE("runner: mode 3 sweep point 0-400 MPa, shortened to 2 h + 1 h") {
    TempDir dir;
    const auto done = run_job(shipped_job("mode3-sweep.yaml", {{"duration: 8 h", "duration: 2 h"},
                                                               {"recovery: 8 h", "recovery: 1 h"}}),
                              dir.path / "runs.db", 3);
    Db db(dir.path / "runs.db");
    check_completed_run(db, done, 365.0);
    CHECK(done.outcome.cycles == 7);  // period 16 min
    CHECK(db.number("SELECT max(stress_max_pa) / 1e6 FROM cycles" +
                    where_run(done.outcome.run_id)) > 395.0);
}

TEST_CASE(
    "runner: a force-limit trip mid-cycle faults the run, records the unload, keeps samples") {
    TempDir dir;
    const std::string text = shipped_job("mode1-0-200.yaml", {{"recovery: 8 h", "recovery: 1 h"}});
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    Rig rig;
    // The trip comes from the simulator on a connection of its own, once the simulated frame is
    // cycling (at max speed the simulator runs ahead of the runner by what the sockets buffer).
    std::atomic<bool> tripped{false};
    std::thread trip([&] {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (rig.instrument.commanded_stress_pa() < 50e6 &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        send_frame_line(rig.frame_port, "SIMulate:FAULt:TRIP");
        tripped = true;
    });
    RunOutcome outcome;
    {
        dmacycle::store::SampleStore store((dir.path / "runs.db").string());
        outcome = dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                                rig.furnace_spec());
    }
    trip.join();
    Finished done{outcome, rig.tap->sample_seqs()};
    Db db(dir.path / "runs.db");
    const auto id = outcome.run_id;
    REQUIRE(tripped);
    CHECK(outcome.status == RunStatus::faulted);
    CHECK(db.value("SELECT status FROM runs WHERE id = " + std::to_string(id)) == "faulted");
    REQUIRE(outcome.interlocks.size() == 1);
    CHECK(db.number(
              "SELECT count(*) FROM events" +
              where_run(id, " AND kind = 'interlock' AND message LIKE 'load lost%tripped%'")) == 1);
    CHECK(db.number("SELECT count(*) FROM events" +
                    where_run(id, " AND kind = 'safe_state' AND message LIKE 'unload%'")) == 1);
    CHECK(db.number(
              "SELECT count(*) FROM events" +
              where_run(id, " AND kind = 'safe_state' AND message LIKE 'furnace to standby%'")) ==
          1);
    CHECK(rig.instrument.furnace().target_setpoint_k == doctest::Approx(298.15));
    check_exactly_once(db, done);
    // Stopped mid-cycling: fewer than 60 cycles, no recovery, no analysis.
    CHECK(outcome.cycles < 60);
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'recovery'")) ==
          0);
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'safe_state'")) >
          0);
    CHECK(db.number("SELECT count(*) FROM results" + where_run(id)) == 0);
}

TEST_CASE("runner: a frame link silent for longer than stale_link trips the stale-link interlock") {
    TempDir dir;
    const std::string text = shipped_job("mode1-0-200.yaml", {{"recovery: 8 h", "recovery: 1 h"}});
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    Rig rig;
    // Once the frame is cycling, no connection (the runner's, and the new ones it makes) passes
    // bytes for 4 s: the runner must latch when no sample has come for the job's stale_link
    // (2 s), and drive to the safe state once the frame answers again. (A shorter silence is
    // an outage the run survives: bench/soak.cpp.)
    std::thread silence([&] {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (rig.instrument.commanded_stress_pa() < 50e6 &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        rig.tap->stall_all();
        std::this_thread::sleep_for(std::chrono::seconds(4));
        rig.tap->resume_all();
    });
    RunOutcome outcome;
    {
        dmacycle::store::SampleStore store((dir.path / "runs.db").string());
        outcome = dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                                rig.furnace_spec());
    }
    silence.join();
    Db db(dir.path / "runs.db");
    const auto id = outcome.run_id;
    CHECK(outcome.status == RunStatus::faulted);
    CHECK(db.value("SELECT status FROM runs WHERE id = " + std::to_string(id)) == "faulted");
    INFO(outcome.message);
    CHECK(outcome.message.starts_with("stale link: frame"));
    CHECK(db.number("SELECT count(*) FROM events" + where_run(id, " AND kind = 'interlock'")) == 1);
    CHECK(db.number("SELECT count(*) FROM events" +
                    where_run(id, " AND kind = 'safe_state' AND message LIKE 'unload: ramp%'")) ==
          1);
    // The unload reached the frame over a new connection.
    CHECK(rig.instrument.ramp_target_pa() == doctest::Approx(0.01 / 3.6e-8));
    CHECK(rig.instrument.furnace().target_setpoint_k == doctest::Approx(298.15));
    // What arrived before the silence is stored, numbered without duplicates.
    const auto seqs = db.seqs(id);
    CHECK(!seqs.empty());
    CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());
    CHECK(db.number("SELECT count(*) FROM results" + where_run(id)) == 0);
}

TEST_CASE("runner: the job's strain limit trips at the first peak: unloaded to the pre-tension") {
    TempDir dir;
    // 200 MPa is 0.56 % of elastic strain on this ribbon.
    const auto done = run_job(
        shipped_job("mode1-0-200.yaml",
                    {{"max_strain: 5 %", "max_strain: 0.3 %"}, {"recovery: 8 h", "recovery: 1 h"}}),
        dir.path / "runs.db");
    Db db(dir.path / "runs.db");
    const auto id = done.outcome.run_id;
    CHECK(done.outcome.status == RunStatus::faulted);
    CHECK(done.outcome.message.starts_with("strain 0.00"));
    CHECK(done.outcome.cycles == 0);
    CHECK(db.number("SELECT count(*) FROM events" +
                    where_run(id, " AND kind = 'safe_state' AND message LIKE 'unload: ramp%'")) ==
          1);
    check_exactly_once(db, done);
    // The samples after the interlock are kept, tagged as such.
    CHECK(db.number("SELECT count(*) FROM samples" + where_run(id, " AND segment = 'safe_state'")) >
          0);
}

TEST_CASE("runner: a furnace sensor break during the hold trips an interlock") {
    TempDir dir;
    const std::string text = shipped_job("mode1-0-200.yaml", {{"recovery: 8 h", "recovery: 1 h"}});
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    Rig rig;
    dmacycle::runner::RunnerOptions options;
    std::atomic<bool> broken{false};
    options.on_event = [&](double, const std::string& kind, const std::string& message) {
        if (kind == "segment" && message == "hold started" && !broken.exchange(true)) {
            send_frame_line(rig.frame_port, "SIMulate:FURNace:SBReak 1");
        }
    };
    RunOutcome outcome;
    {
        dmacycle::store::SampleStore store((dir.path / "runs.db").string());
        outcome = dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                                rig.furnace_spec(), options);
    }
    REQUIRE(broken);
    CHECK(outcome.status == RunStatus::faulted);
    // The status bit, or the temperature leaving the band as the furnace cools.
    INFO(outcome.message);
    CHECK((outcome.message == "furnace: sensor break" ||
           outcome.message.starts_with("temperature ")));
    CHECK(outcome.cycles < 60);
    CHECK(db_has_no_results(dir.path / "runs.db", outcome.run_id));
}
