// DMTA scans run end to end (docs/runner.md "DMTA scans"): the scan's measurements are stored
// once each, the Arrhenius fit of their tan δ peaks gives back the simulator's β energy, and a
// version-2 store is upgraded without losing a row.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../report/xml_tree.hpp"
#include "command_output.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/runner/runner.hpp"
#include "dmacycle/store/run_archive.hpp"
#include "old_store_versions.hpp"
#include "runner_rig.hpp"
#include "time_scale.hpp"

using namespace runner_test;
using namespace report_test;
namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using dmacycle::store::RunArchive;
using dmacycle::store::RunStatus;

namespace {

std::set<double> frequencies_of(const std::vector<dmacycle::store::ArchivedDmta>& rows) {
    std::set<double> frequencies;
    for (const auto& row : rows) {
        frequencies.insert(row.frequency_hz);
    }
    return frequencies;
}

// A report figure: well-formed SVG whose every axis label ends in its unit in parentheses;
// returns its legend and marker texts.
std::vector<std::string> check_figure(const fs::path& file) {
    INFO(file.string());
    REQUIRE(fs::exists(file));
    const auto tree = parse_xml(read_file(file), file.string());
    std::vector<const pt::ptree*> texts;
    collect(tree.get_child("svg"), "text", texts);
    std::vector<std::string> labels, others;
    for (const auto* node : texts) {
        (node->get<std::string>("<xmlattr>.class", "") == "axis-label" ? labels : others)
            .push_back(node->data());
    }
    CHECK(labels.size() == 2);
    static const std::regex with_unit(R"(.+ \([^()]+\)$)");
    for (const auto& label : labels) {
        INFO(label);
        CHECK(std::regex_match(label, with_unit));
    }
    return others;
}

bool has_text(const std::vector<std::string>& texts, const std::string& part) {
    return std::any_of(texts.begin(), texts.end(), [&](const std::string& text) {
        return text.find(part) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("dmta run: the shipped as-cast scan at max speed recovers the simulator's E_beta") {
    TempDir dir;
    const auto db = dir.path / "dmta.db";
    const auto output = test_support::run_command(
        std::string(DMACYCLE_BIN_DIR) + "/dmacycle run " + DMACYCLE_SOURCE_DIR +
        "/config/jobs/dmta.yaml --db " + db.string() + " --speed max --json");
    REQUIRE(output.code == 0);
    const auto doc = Json::parse(output.out);
    REQUIRE(doc["runs"].size() == 1);
    const auto& run = doc["runs"][0];
    CHECK(run["status"] == "completed");
    // A fresh ribbon, never loaded: the as-cast energy (docs/frame-protocol.md "β energy").
    const double e_beta_ev = run["e_beta_ev"].get<double>();
    MESSAGE("as cast: E_beta set 0.92 eV, fitted " << e_beta_ev << " ± "
                                                   << run["e_beta_stderr_ev"].get<double>());
    CHECK(std::abs(e_beta_ev - 0.92) < 0.03);
    const auto& results = run["results"];
    CHECK(results["arrhenius"]["fit"]["usable"] == true);
    CHECK(results["arrhenius"]["peaks"].size() == 4);
    // Nothing was cycled or recovered: no such fits.
    CHECK(!results.contains("spectrum"));
    CHECK(!results.contains("work_done"));

    const RunArchive archive(db);
    const std::int64_t run_id = run["run_id"].get<std::int64_t>();
    const auto rows = archive.dmta(run_id);
    // 75 min, one measurement every 5 s after the start: the simulator waits for each (the
    // runner holds its stream), so every one is taken however slow the build or busy the machine.
    CHECK(rows.size() >= 898);
    CHECK(rows.size() <= 900);
    CHECK(static_cast<std::size_t>(results["arrhenius"]["points"].get<int>()) == rows.size());
    CHECK(frequencies_of(rows) == std::set<double>{1, 2, 4, 8});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].seq == static_cast<std::int64_t>(i));
        CHECK(rows[i].tan_delta == doctest::Approx(rows[i].loss_pa / rows[i].storage_pa));
        if (i > 0) {
            CHECK(rows[i].t_s > rows[i - 1].t_s);
        }
    }
    CHECK(rows.front().temperature_k < 305);
    CHECK(rows.back().temperature_k > 440);
    // The ramp is the scan's, not an interlock's business; the samples go on being stored.
    for (const auto& event : archive.events(run_id)) {
        CHECK(event.kind != "interlock");
    }
    std::int64_t scan_samples = 0;
    archive.for_each_sample(run_id, [&](const dmacycle::store::ArchivedSample& sample) {
        scan_samples += sample.segment == "dmta_scan" ? 1 : 0;
    });
    CHECK(scan_samples > 0);

    // Its report: tan δ per frequency with the peaks marked, and the Arrhenius plot.
    const auto report = test_support::run_command(
        std::string(DMACYCLE_BIN_DIR) + "/dmacycle report " + std::to_string(run_id) + " --db " +
        db.string() + " --out " + (dir.path / "report").string());
    REQUIRE(report.code == 0);
    const auto tan_delta = check_figure(dir.path / "report" / "figures" / "tan_delta.svg");
    for (const char* frequency : {"1 Hz", "2 Hz", "4 Hz", "8 Hz"}) {
        CHECK(has_text(tan_delta, frequency));
    }
    const auto arrhenius = check_figure(dir.path / "report" / "figures" / "arrhenius.svg");
    CHECK(has_text(arrhenius, "E_β = "));
    const auto page = read_file(dir.path / "report" / "index.html");
    const std::string key = "data-key=\"arrhenius.e_beta_ev\" data-value=\"";
    const auto at = page.find(key);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(page.substr(at + key.size())) == e_beta_ev);
}

TEST_CASE("dmta run: a scan after cycling shows the beta energy set after the cycling") {
    TempDir dir;
    // Two cycles of 0-200 MPa, then the scan right after unloading (0 h).
    const std::string text =
        shipped_job("mode1-0-200-dmta.yaml", {{"hold: 10 min", "hold: 1 min"},
                                              {"duration: 8 h", "duration: 16 min"},
                                              {"[0 h, 8 h]", "[0 h]"}});
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    REQUIRE(file.runs.size() == 1);
    Rig rig;
    dmacycle::store::SampleStore store((dir.path / "chained.db").string());
    dmacycle::runner::RunnerOptions options;
    options.hold_at = rig.hold();
    options.frame_starved = rig.starved();
    // The energy after cycling is the simulator's rule (0.73 eV, recovering with time); held
    // from the end of the cycling on, the scan sees one energy throughout.
    const double after_cycling_ev = 0.75;
    int energy_sets = 0;
    options.on_event = [&](double, const std::string& kind, const std::string& message) {
        // The scan's own equilibration begins: the cycling is over, the ribbon at the
        // pre-tension (the first equilibration's event names its setpoint).
        if (kind == "segment" && message == "equilibrate started") {
            ++energy_sets;
            rig.instrument.set_beta_energy_ev(after_cycling_ev);
        }
    };
    const auto outcome = dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                                       rig.furnace_spec(), options);
    INFO(outcome.message);
    REQUIRE(outcome.status == RunStatus::completed);
    CHECK(energy_sets == 1);
    CHECK(outcome.cycles == 2);
    const auto arrhenius = Json::parse(outcome.results.at("arrhenius"));
    const double e_beta_ev = arrhenius["e_beta_ev"].get<double>();
    MESSAGE("after cycling: E_beta set " << after_cycling_ev << " eV, fitted " << e_beta_ev << " ± "
                                         << arrhenius["e_beta_stderr_ev"].get<double>());
    CHECK(std::abs(e_beta_ev - after_cycling_ev) < 0.03);
    CHECK(e_beta_ev < 0.92 - 0.1);  // clearly not the as-cast ribbon's (previous test case)
    // No recovery at 0 h: the cycling's fit, none of the recovery's.
    CHECK(outcome.results.contains("work_done"));
    CHECK(!outcome.results.contains("spectrum"));
    CHECK(!outcome.results.contains("kww"));
    store.flush();

    const RunArchive archive(dir.path / "chained.db");
    CHECK(archive.results(outcome.run_id).at("arrhenius")["e_beta_ev"] == e_beta_ev);
    CHECK(frequencies_of(archive.dmta(outcome.run_id)) == std::set<double>{1, 2, 4, 8});
    // The scan's own equilibration at its start temperature, then the scan.
    std::vector<std::string> segments;
    archive.for_each_sample(outcome.run_id, [&](const dmacycle::store::ArchivedSample& sample) {
        if (segments.empty() || segments.back() != sample.segment) {
            segments.push_back(sample.segment);
        }
    });
    const auto scan = std::find(segments.begin(), segments.end(), "dmta_scan");
    REQUIRE(scan - segments.begin() >= 2);
    CHECK(*(scan - 1) == "equilibrate");
    CHECK(*(scan - 2) == "cycle");  // σ_min 0 is below the pre-tension: no unload ramp
}

TEST_CASE("dmta store: a version-2 file is upgraded with every row kept and DMTA rows once") {
    TempDir dir;
    const auto path = dir.path / "old.db";
    std::int64_t run_id = 0;
    {
        dmacycle::store::SampleStore store(path.string());
        run_id = store.create_run({"job", "S1", "sim-la30", "0", "frame"});
        for (int i = 0; i < 5; ++i) {
            dmacycle::store::SampleRow row;
            row.seq = i;
            row.t_s = i * 0.1;
            row.segment = "hold";
            store.append(run_id, row);
        }
        store.append_event(run_id, {0, {}, "segment", "hold started"});
        store.append_cycle(run_id, {1, 0, 10, 0.2, 200, 0, 0.005});
        store.store_result(run_id, "kww", "{}");
    }
    {
        // What a version-2 program wrote: the same tables without `dmta`, stress in MPa.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(
            sqlite3_exec(db,
                         (store_test::to_version_5_sql +
                          "DROP TABLE dmta; ALTER TABLE samples RENAME stress_pa TO stress_mpa; "
                          "ALTER TABLE cycles RENAME stress_min_pa TO stress_min_mpa; "
                          "ALTER TABLE cycles RENAME stress_max_pa TO stress_max_mpa; "
                          "PRAGMA user_version = 2")
                             .c_str(),
                         nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    // Read-only, a version-2 file is read as it is: no DMTA rows, nothing changed.
    CHECK(RunArchive(path).dmta(run_id).empty());
    CHECK(Db(path).value("PRAGMA user_version") == "2");
    {
        dmacycle::store::SampleStore store(path.string());
        dmacycle::store::DmtaRow row{0, 1.5, {}, 1.0, 350.0, 2e10, 1e8, 0.005};
        store.append_dmta(run_id, row);
        store.append_dmta(run_id, row);  // re-sent: stored once
        row.seq = 1;
        row.frequency_hz = 2;
        store.append_dmta(run_id, row);
        CHECK_THROWS_AS(store.append_dmta(run_id, {2, std::nan(""), {}, 1, 350, 1, 1, 1}),
                        dmacycle::store::StoreError);
    }
    const Db db(path);
    CHECK(db.value("PRAGMA user_version") == std::to_string(dmacycle::store::store_schema_version));
    CHECK(db.value("SELECT count(*) FROM samples") == "5");
    CHECK(db.value("SELECT count(*) FROM events") == "1");
    CHECK(db.value("SELECT count(*) FROM cycles") == "1");
    CHECK(db.value("SELECT stress_max_pa FROM cycles") == "200000000.0");  // 200 MPa
    CHECK(db.value("SELECT count(*) FROM results") == "1");
    const auto rows = RunArchive(path).dmta(run_id);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].frequency_hz == 1.0);
    CHECK(rows[1].frequency_hz == 2.0);
    CHECK(rows[0].tan_delta == 0.005);
}

TEST_CASE("dmta run: a scan beyond the profile's frequency range is refused before any write") {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    fs::create_directories(dir.path / "instruments");
    std::string profile =
        read_file(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml");
    profile.replace(profile.find("frequency_max_hz: 200.0"), 23, "frequency_max_hz: 5.0");
    std::ofstream(dir.path / "instruments" / "slow-frame.yaml") << profile;
    std::ofstream(dir.path / "jobs" / "dmta.yaml")
        << shipped_job("dmta.yaml", {{"profile: sim-la30", "profile: slow-frame"}});
    const auto db = dir.path / "runs.db";
    const auto output = test_support::run_command(std::string(DMACYCLE_BIN_DIR) + "/dmacycle run " +
                                                  (dir.path / "jobs" / "dmta.yaml").string() +
                                                  " --db " + db.string() + " --speed max 2>&1");
    CHECK(output.code == dmacycle::cli::exit_bad_input);
    CHECK(output.out.find("dmta.yaml:") != std::string::npos);
    CHECK(output.out.find("8 Hz") != std::string::npos);
    CHECK(!fs::exists(db));
}

TEST_CASE("dmta plan: the as-cast job's plan says it is a scan - not a creep run") {
    const auto output =
        test_support::run_command(std::string(DMACYCLE_BIN_DIR) + "/dmacycle plan " +
                                  DMACYCLE_SOURCE_DIR + "/config/jobs/dmta.yaml");
    REQUIRE(output.code == 0);
    CHECK(output.out.find("DMTA scan as cast") != std::string::npos);
    CHECK(output.out.find("mode custom") == std::string::npos);
    CHECK(output.out.find("pure creep") == std::string::npos);
    CHECK(output.out.find("DMTA scan: 300-450 K at 2 K/min, 4 frequencies, one measurement every "
                          "5 s (900 measurements)") != std::string::npos);
}

TEST_CASE("dmta run: a frame link gone silent mid-scan is an outage and the scan goes on") {
    TempDir dir;
    const std::string text =
        shipped_job("dmta.yaml", {{"hold: 10 min", "hold: 0 s"},
                                  {"rate: 2 K/min", "rate: 5 K/min"},
                                  {"[1 Hz, 2 Hz, 4 Hz, 8 Hz]", "[1 Hz, 8 Hz]"}}) +
        // Room for a slow build to reconnect: what is tested is the scan after it.
        "limits:\n  stale_link: 20 s\n";
    const auto file = dmacycle::protocols::parse_job(text);
    REQUIRE(file.ok());
    Rig rig;
    dmacycle::store::SampleStore store((dir.path / "outage.db").string());
    dmacycle::runner::RunControl control;
    dmacycle::runner::RunnerOptions options;
    options.control = &control;
    options.hold_at = rig.hold();
    options.frame_starved = rig.starved();
    std::atomic<double> scan_from_s{-1};
    options.on_event = [&](double, const std::string& kind, const std::string&) {
        if (kind == "dmta") {
            scan_from_s = rig.instrument.now_s();
        }
    };
    // A third of the way into the scan the connection goes silent (cable still in): the
    // exchanges time out, the supervisor connects anew, and the runner must take the frame back
    // (it used to retry the inactive link forever, at full speed).
    std::thread silence([&] {
        const auto give_up = std::chrono::steady_clock::now() + test_support::scaled(60s);
        // 10 of the scan's 30 simulated minutes: the simulator waits at each measurement, so
        // this is in the scan whatever the machine's load.
        while ((scan_from_s < 0 || rig.instrument.now_s() < scan_from_s + 600) &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(1ms);
        }
        rig.tap->stall_open_connections();
    });
    auto running = std::async(std::launch::async, [&] {
        return dmacycle::runner::execute_run(file.runs[0], text, store, rig.frame_spec(),
                                             rig.furnace_spec(), options);
    });
    // Bounded: a run that never ends is aborted, and fails here, rather than hanging the suite.
    const bool ended = running.wait_for(test_support::scaled(60s)) == std::future_status::ready;
    if (!ended) {
        control.request_abort("the test's deadline");
    }
    const auto outcome = running.get();
    silence.join();
    REQUIRE(ended);
    INFO(outcome.message);
    CHECK(outcome.status == RunStatus::completed);
    store.flush();

    const RunArchive archive(dir.path / "outage.db");
    const auto events = archive.events(outcome.run_id);
    const auto has_event = [&](const std::string& text_in) {
        return std::any_of(events.begin(), events.end(), [&](const auto& e) {
            return e.message.find(text_in) != std::string::npos;
        });
    };
    CHECK(has_event("frame: link_lost"));
    CHECK(has_event("frame: reconnected"));
    // Measured before and after the outage, across the whole scan.
    const auto rows = archive.dmta(outcome.run_id);
    // 360 planned. The simulator waits at each measurement and its time stands still while the
    // link is dead, so the outage costs the few measurements due while reconnecting at most.
    REQUIRE(rows.size() >= 350);
    CHECK(rows.front().temperature_k < 310);
    CHECK(rows.back().temperature_k > 440);
    const auto lost = std::find_if(events.begin(), events.end(), [](const auto& e) {
        return e.message.find("frame: link_lost") != std::string::npos;
    });
    REQUIRE(lost != events.end());
    CHECK(std::count_if(rows.begin(), rows.end(),
                        [&](const auto& row) { return row.t_s > lost->t_s; }) > 10);
    CHECK(archive.results(outcome.run_id).contains("arrhenius"));
}
