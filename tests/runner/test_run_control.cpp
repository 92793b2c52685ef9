// Pause, resume and abort through RunControl on the simulator at max speed: requests are made
// from another thread once the run's progress shows the right moment (never after a sleep).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/runner/run_control.hpp"
#include "dmacycle/runner/runner.hpp"
#include "long_run.hpp"
#include "runner_rig.hpp"

using namespace runner_test;
using dmacycle::runner::RunControl;
using dmacycle::runner::RunOutcome;
using dmacycle::runner::RunProgress;
using dmacycle::store::RunStatus;

namespace {

// The operator's side: steps run one after the other on a thread of their own, each once the
// run's progress satisfies its condition.
struct Operator {
    using Ready = std::function<bool(const RunProgress&)>;
    using Act = std::function<void(RunControl&)>;

    void add(Ready ready, Act act) { steps.push_back({std::move(ready), std::move(act)}); }

    void start() {
        thread = std::thread([this] {
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
            for (auto& [ready, act] : steps) {
                while (!run_ended && !ready(control.progress())) {
                    if (std::chrono::steady_clock::now() > give_up) {
                        return;
                    }
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
                if (run_ended) {
                    return;
                }
                act(control);
                ++steps_done;
            }
        });
    }
    void join() {
        run_ended = true;
        thread.join();
    }

    RunControl control;
    std::vector<std::pair<Ready, Act>> steps;
    std::thread thread;
    std::atomic<bool> run_ended{false};
    std::atomic<int> steps_done{0};
};

struct Done {
    RunOutcome outcome;
    std::vector<std::int64_t> simulator_seqs;
};

Done run_with(Operator& op, const std::string& text, const std::filesystem::path& db_path,
              Rig& rig) {
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    dmacycle::runner::RunnerOptions options;
    options.control = &op.control;
    options.frame_starved = rig.starved();
    if (std::getenv("RUNNER_TEST_VERBOSE") != nullptr) {
        options.on_event = [](double t_s, const std::string& kind, const std::string& message) {
            std::fprintf(stderr, "[%10.1f] %s: %s\n", t_s, kind.c_str(), message.c_str());
        };
    }
    Done done;
    op.start();
    {
        dmacycle::store::SampleStore store(db_path.string());
        done.outcome = dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                                     rig.furnace_spec(), options);
    }
    op.join();
    done.simulator_seqs = rig.tap->sample_seqs();
    return done;
}

std::string where_run(std::int64_t run_id, const std::string& more = "") {
    return " WHERE run_id = " + std::to_string(run_id) + more;
}

void check_no_hole(const Db& db, const Done& done) {
    check_stored_up_to_plan_end(db, done.outcome.run_id, done.simulator_seqs, done.outcome.samples);
}

double count(const Db& db, std::int64_t id, const std::string& table, const std::string& where) {
    return db.number("SELECT count(*) FROM " + table + where_run(id, where));
}

void check_safe_state(const Db& db, const Done& done, Rig& rig, const std::string& reason) {
    const auto id = done.outcome.run_id;
    INFO(done.outcome.message);
    CHECK(done.outcome.status == RunStatus::aborted);
    CHECK(done.outcome.message == "aborted: " + reason);
    CHECK(done.outcome.interlocks.empty());
    CHECK(db.value("SELECT status FROM runs WHERE id = " + std::to_string(id)) == "aborted");
    CHECK(count(db, id, "events",
                " AND kind = 'operator' AND message = 'aborted: " + reason + "'") == 1);
    CHECK(count(db, id, "events", " AND kind = 'interlock'") == 0);
    CHECK(count(db, id, "events", " AND kind = 'safe_state' AND message LIKE 'unload: ramp%'") ==
          1);
    CHECK(count(db, id, "events",
                " AND kind = 'safe_state' AND message LIKE 'furnace to standby%'") == 1);
    // The simulator itself: unloading to the 0.01 N pre-tension, furnace at standby.
    CHECK(rig.instrument.ramp_target_pa() == doctest::Approx(0.01 / 3.6e-8));
    CHECK(rig.instrument.furnace().target_setpoint_k == doctest::Approx(298.15));
    CHECK(count(db, id, "samples", " AND segment = 'safe_state'") > 0);
    CHECK(count(db, id, "samples", " AND segment = 'recovery'") == 0);
    CHECK(count(db, id, "results", "") == 0);
    check_no_hole(db, done);
}

bool cycling(const RunProgress& p) {
    return p.segment == "cycle" && p.cycle >= 2;
}

// Paused, and the runner's samples have reached the hold at σ_creep (100 MPa).
bool holding(const RunProgress& p) {
    return p.paused && p.segment == "paused" && std::abs(p.stress_pa / 1e6 - 100) < 1;
}

std::string mode1_short() {
    return shipped_job("mode1-0-200.yaml", {{"recovery: 8 h", "recovery: 1 h"}});
}

// A pause after cycle k ≥ 2, held until the runner's samples show σ_creep, then resumed: the
// run completes with the plan's cycles, the pause's samples apart.
void check_pause_and_resume(const std::string& text, int cycles, double period_s, double peak_mpa) {
    TempDir dir;
    Rig rig;
    Operator op;
    RunProgress seen_paused;
    op.add(cycling, [](RunControl& c) {
        std::string why;
        CHECK(c.request_pause(why));
        CHECK(!c.request_pause(why));  // one at a time
    });
    op.add(holding, [&](RunControl& c) {
        seen_paused = c.progress();
        std::string why;
        CHECK(c.request_resume(why));
    });
    const auto done = run_with(op, text, dir.path / "runs.db", rig);
    REQUIRE(op.steps_done == 2);
    Db db(dir.path / "runs.db");
    const auto id = done.outcome.run_id;
    INFO(done.outcome.message);
    REQUIRE(done.outcome.status == RunStatus::completed);
    check_no_hole(db, done);

    // Plan time stood still while paused.
    CHECK(seen_paused.cycle >= 2);
    CHECK(seen_paused.cycles_total == cycles);
    const auto plan = dmacycle::protocols::make_plan(dmacycle::protocols::parse_job(text).runs[0]);
    const auto cycling = std::find_if(
        plan.segments.begin(), plan.segments.end(),
        [](const auto& g) { return g.kind == dmacycle::protocols::SegmentKind::cycle; });
    REQUIRE(cycling != plan.segments.end());
    CHECK(seen_paused.plan_duration_s == doctest::Approx(plan.duration_s));
    CHECK(seen_paused.plan_t_s ==
          doctest::Approx(cycling->start_s + period_s * seen_paused.cycle).epsilon(1e-6));

    // Every planned cycle, once, each a whole period; the analysis saw the same cycles.
    CHECK(done.outcome.cycles == cycles);
    CHECK(count(db, id, "cycles", "") == cycles);
    CHECK(db.number("SELECT count(DISTINCT cycle) FROM cycles" + where_run(id)) == cycles);
    CHECK(db.number("SELECT min(t_end_s - t_start_s) FROM cycles" + where_run(id)) ==
          doctest::Approx(period_s));
    CHECK(db.number("SELECT min(stress_max_pa) / 1e6 FROM cycles" + where_run(id)) > peak_mpa - 5);
    // Cycles do not overlap the pause: the one after it starts once the wave restarted.
    CHECK(db.number("SELECT count(*) FROM cycles a JOIN cycles b ON b.run_id = a.run_id AND "
                    "b.cycle = a.cycle + 1 WHERE a.run_id = " +
                    std::to_string(id) + " AND b.t_start_s < a.t_end_s - 1e-6") == 0);
    const double cycle_samples = count(db, id, "samples", " AND segment = 'cycle'");
    CHECK(std::abs(cycle_samples - 288000) <= 1);
    const auto work = nlohmann::json::parse(
        db.value("SELECT json FROM results" + where_run(id, " AND kind = 'work_done'")));
    CHECK(work["cycles"] == cycles);
    CHECK(work["fit"]["usable"] == true);
    CHECK(count(db, id, "samples", " AND segment = 'recovery'") >= 36000);

    // The paused samples: the ramp to σ_creep, the hold there, the ramp back.
    CHECK(count(db, id, "samples", " AND segment = 'paused'") > 2000);
    CHECK(count(db, id, "samples", " AND segment = 'paused' AND abs(stress_pa / 1e6 - 100) < 1") >
          0);
    CHECK(db.number("SELECT max(stress_pa) / 1e6 FROM samples" +
                    where_run(id, " AND segment = 'paused'")) < 102);
    CHECK(db.number("SELECT min(stress_pa) / 1e6 FROM samples" +
                    where_run(id, " AND segment = 'paused'")) <
          200 - peak_mpa + 2);  // back to σ_min (mean 100 MPa) or the pre-tension
    // Between the two: the pause starts at a boundary and ends when the wave restarts there.
    const double pause_start =
        db.number("SELECT min(t_s) FROM samples" + where_run(id, " AND segment = 'paused'"));
    const double pause_end =
        db.number("SELECT max(t_s) FROM samples" + where_run(id, " AND segment = 'paused'"));
    CHECK(db.number("SELECT count(*) FROM cycles" +
                    where_run(id, " AND t_start_s < " + std::to_string(pause_end) +
                                      " AND t_end_s > " + std::to_string(pause_start))) == 0);
    CHECK(count(db, id, "events", " AND kind = 'pause' AND message LIKE 'pause after cycle %'") ==
          1);
    CHECK(count(db, id, "events", " AND kind = 'resume' AND message LIKE 'resume at %'") == 1);
    CHECK(count(db, id, "events", " AND kind = 'interlock'") == 0);

    const auto last = op.control.progress();
    CHECK(!last.paused);
    CHECK(last.last_seq == done.outcome.last_seq);
    CHECK(last.plan_t_s == doctest::Approx(last.plan_duration_s));
    std::string why;
    CHECK(!op.control.request_pause(why));  // the run has ended
}

}  // namespace

TEST_CASE("run control: pause mid-cycling holds at the mean stress / resume completes the plan") {
    // 0-200 MPa: σ_min below the pre-tension, the frame's wave is clipped there.
    check_pause_and_resume(mode1_short(), 60, 480, 200);
}

TEST_CASE("run control: pause and resume with the whole triangle above the pre-tension" *
          long_run) {
    // 50-150 MPa, period 4 min: the frame runs PROG:CYCL for the cycles left.
    check_pause_and_resume(
        shipped_job("mode1-0-200.yaml", {{"amplitude: 100 MPa", "amplitude: 50 MPa"},
                                         {"recovery: 8 h", "recovery: 1 h"}}),
        120, 240, 150);
}

TEST_CASE("run control: abort mid-cycling ends the run aborted through the safe state") {
    TempDir dir;
    Rig rig;
    Operator op;
    op.add(cycling, [](RunControl& c) { c.request_abort("operator test"); });
    const auto done = run_with(op, mode1_short(), dir.path / "runs.db", rig);
    REQUIRE(op.steps_done == 1);
    Db db(dir.path / "runs.db");
    check_safe_state(db, done, rig, "operator test");
    CHECK(done.outcome.cycles < 60);
    CHECK(done.outcome.cycles >= 1);
}

TEST_CASE("run control: abort while paused ends the run aborted through the safe state") {
    TempDir dir;
    Rig rig;
    Operator op;
    op.add(cycling, [](RunControl& c) {
        std::string why;
        CHECK(c.request_pause(why));
    });
    op.add(holding, [](RunControl& c) { c.request_abort("while paused"); });
    const auto done = run_with(op, mode1_short(), dir.path / "runs.db", rig);
    REQUIRE(op.steps_done == 2);
    Db db(dir.path / "runs.db");
    check_safe_state(db, done, rig, "while paused");
    const auto id = done.outcome.run_id;
    CHECK(count(db, id, "samples", " AND segment = 'paused'") > 0);
    CHECK(count(db, id, "events", " AND kind = 'resume'") == 0);
    std::string why;
    CHECK(!op.control.request_resume(why));
}

TEST_CASE("run control: pause is refused outside cycling / an abort at the run's start") {
    TempDir dir;
    Rig rig;
    Operator op;
    const auto refused = [](RunControl& c) {
        std::string why;
        CHECK(!c.request_pause(why));
        CHECK(why.starts_with("a run can pause during cycling only (now: "));
        CHECK(!c.request_resume(why));
        CHECK(why == "the run is not paused");
    };
    // A creep run has no cycling: refused in every segment.
    op.add([](const RunProgress& p) { return p.plan_t_s > 0; }, refused);
    op.add([](const RunProgress& p) { return p.plan_t_s > 3600; }, refused);
    const auto done = run_with(
        op,
        shipped_job("mode1-100-100.yaml",
                    {{"duration: 8 h", "duration: 1 h"}, {"recovery: 8 h", "recovery: 1 h"}}),
        dir.path / "runs.db", rig);
    CHECK(op.steps_done == 2);
    CHECK(done.outcome.status == RunStatus::completed);
    Db db(dir.path / "runs.db");
    CHECK(count(db, done.outcome.run_id, "samples", " AND segment = 'paused'") == 0);
    check_no_hole(db, done);

    // Aborted as soon as the run reports progress (equilibrating, or holding at the latest).
    TempDir dir2;
    Rig rig2;
    Operator early;
    early.add([](const RunProgress& p) { return p.run_id >= 0; },
              [](RunControl& c) { c.request_abort("early"); });
    const auto aborted = run_with(early, mode1_short(), dir2.path / "runs.db", rig2);
    REQUIRE(early.steps_done == 1);
    Db db2(dir2.path / "runs.db");
    check_safe_state(db2, aborted, rig2, "early");
    CHECK(aborted.outcome.cycles == 0);
}

TEST_CASE("run control: an abort ends a run still connecting to a device that never answers") {
    TempDir dir;
    Rig rig;
    const auto file = dmacycle::protocols::parse_job(mode1_short());
    REQUIRE(file.ok());
    RunControl control;
    control.request_abort("stopped while connecting");
    dmacycle::runner::RunnerOptions options;
    options.control = &control;
    options.connect_timeout = std::chrono::seconds(30);  // never reached when the abort is seen
    dmacycle::drivers::DeviceSpec nowhere;
    nowhere.uri = "modbus-tcp://127.0.0.1:1";  // nothing listens on port 1
    dmacycle::store::SampleStore store((dir.path / "runs.db").string());
    const auto outcome = dmacycle::runner::execute_run(file.runs[0], mode1_short(), store,
                                                       rig.frame_spec(), nowhere, options);
    INFO(outcome.message);
    CHECK(outcome.status == RunStatus::aborted);
    CHECK(outcome.message.find("stopped while connecting") != std::string::npos);
}
