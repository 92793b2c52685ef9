// `dmacycle run`: refusals write nothing; a run (and a sweep) end to end through the executable.
#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command_output.hpp"
#include "dmacycle/cli/commands.hpp"
#include "long_run.hpp"
#include "runner_rig.hpp"
#include "sim_process.hpp"

using namespace runner_test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct Result {
    int code = 0;
    std::string out, err;
};

Result run_in_process(const std::vector<std::string>& args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    std::ostringstream out, err;
    const int code = dmacycle::cli::run_run(views, out, err);
    return {code, out.str(), err.str()};
}

// The executable, stdout captured; stderr goes to the test log.
Result run_executable(const std::string& args) {
    auto output =
        test_support::run_command(std::string(DMACYCLE_BIN_DIR) + "/dmacycle run " + args);
    return {output.code, std::move(output.out), {}};
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// A config tree for `run --rig`: jobs/short.yaml (the shipped main job cut to 1 h + 1 h, on
// profile sim-la30), instruments/sim-la30.yaml, rigs/. The job's stale-link limit is 30 s: these
// runs are about which devices are driven, and a loaded machine can stall a reader for 2 s.
struct RigDir {
    TempDir dir;
    fs::path job = dir.path / "jobs" / "short.yaml";
    fs::path db = dir.path / "runs.db";

    RigDir() {
        for (const char* folder : {"jobs", "instruments", "rigs"}) {
            fs::create_directories(dir.path / folder);
        }
        write_file(dir.path / "instruments" / "sim-la30.yaml", shipped_profile({}));
        write_file(job, shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 0 s"},
                                                         {"duration: 8 h", "duration: 1 h"},
                                                         {"recovery: 8 h", "recovery: 1 h"},
                                                         {"stale_link: 2 s", "stale_link: 30 s"}}));
    }
    fs::path rig(const std::string& name, const std::string& text) const {
        write_file(dir.path / "rigs" / name, text);
        return dir.path / "rigs" / name;
    }
};

// `run --rig` ran the short job to completion and stored every sample it reports; returns the
// instrument identity the run recorded.
std::string check_rig_run(const RigDir& rig_dir, const Result& result) {
    INFO(result.err);
    INFO(result.out);
    REQUIRE(result.code == dmacycle::cli::exit_ok);
    const auto doc = Json::parse(result.out);
    REQUIRE(doc["runs"].size() == 1);
    const auto& run = doc["runs"][0];
    CHECK(run["status"] == "completed");
    CHECK(run["missing_samples"] == 0);
    CHECK(run["samples"].get<std::int64_t>() > 1000);
    Db store(rig_dir.db);
    CHECK(store.seqs(run["run_id"].get<std::int64_t>()).size() ==
          run["samples"].get<std::size_t>());
    return store.value("SELECT instrument_identity FROM runs WHERE id = " + run["run_id"].dump());
}

}  // namespace

TEST_CASE("run: every invalid job of the corpus is refused with file:line, no database written") {
    TempDir dir;
    const fs::path corpus = fs::path(DMACYCLE_SOURCE_DIR) / "tests" / "protocols" / "invalid";
    int files = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        const auto db = dir.path / (entry.path().stem().string() + ".db");
        const auto result =
            run_in_process({entry.path().string(), "--db", db.string(), "--speed", "max"});
        CAPTURE(entry.path().filename().string());
        CHECK(result.code == dmacycle::cli::exit_bad_input);
        CHECK(result.err.find(entry.path().string() + ":") != std::string::npos);
        CHECK(!fs::exists(db));
        ++files;
    }
    CHECK(files >= 20);
}

TEST_CASE("run: a job beyond the profile's frame limit, a missing profile, bad flags: refused") {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    fs::create_directories(dir.path / "instruments");
    const auto db = dir.path / "runs.db";

    // The profile beside the job lowers the frame's limit to 5 N: 200 MPa (7.2 N) is beyond it.
    std::string profile =
        read_file(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments" / "sim-la30.yaml");
    profile.replace(profile.find("force_max_n: 18.0"), 17, "force_max_n: 5.0");
    write_file(dir.path / "instruments" / "weak-frame.yaml", profile);
    std::string job = shipped_job("mode1-0-200.yaml", {{"profile: sim-la30", "profile: weak-frame"},
                                                       {"max_force: 18 N", "max_force: 5 N"}});
    write_file(dir.path / "jobs" / "weak.yaml", job);
    auto result = run_in_process({(dir.path / "jobs" / "weak.yaml").string(), "--db", db.string()});
    CHECK(result.code == dmacycle::cli::exit_bad_input);
    CHECK(result.err.find("weak.yaml:") != std::string::npos);
    CHECK(!fs::exists(db));

    write_file(dir.path / "jobs" / "nowhere.yaml",
               shipped_job("mode1-0-200.yaml", {{"profile: sim-la30", "profile: no-such-rig"}}));
    result = run_in_process({(dir.path / "jobs" / "nowhere.yaml").string(), "--db", db.string()});
    CHECK(result.code == dmacycle::cli::exit_bad_input);
    CHECK(result.err.find("profile 'no-such-rig' not found") != std::string::npos);
    CHECK(!fs::exists(db));

    // A profile that is not a simulator's.
    write_file(dir.path / "instruments" / "real.yaml", "driver: scpi-frame\n");
    write_file(dir.path / "jobs" / "real.yaml",
               shipped_job("mode1-0-200.yaml", {{"profile: sim-la30", "profile: real"}}));
    result = run_in_process({(dir.path / "jobs" / "real.yaml").string(), "--db", db.string()});
    CHECK(result.code == dmacycle::cli::exit_bad_input);
    CHECK(result.err.find("real.yaml:1") != std::string::npos);
    CHECK(result.err.find("driver") != std::string::npos);
    CHECK(!fs::exists(db));

    const auto shipped = (fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / "mode1-0-200.yaml");
    result = run_in_process({shipped.string(), "--db", db.string(), "--speed", "fast"});
    CHECK(result.code == dmacycle::cli::exit_bad_input);
    CHECK(result.err.find("--speed") != std::string::npos);
    result = run_in_process({shipped.string()});
    CHECK(result.code == dmacycle::cli::exit_bad_input);
    CHECK(result.err.find("--db") != std::string::npos);
    CHECK(!fs::exists(db));
}

TEST_CASE("run: the executable runs a shortened sweep at max speed with a fresh sample per point" *
          long_run) {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    // Mode 1 sweep (100-100, 50-150, 0-200), 1 h + 1 h each; the profile is found in the
    // source tree's config directory.
    write_file(dir.path / "jobs" / "sweep.yaml",
               shipped_job("mode1-sweep.yaml", {{"duration: 8 h", "duration: 1 h"},
                                                {"recovery: 8 h", "recovery: 1 h"}}));
    const auto db = dir.path / "runs.db";
    const auto result = run_executable((dir.path / "jobs" / "sweep.yaml").string() + " --db " +
                                       db.string() + " --speed max --json");
    REQUIRE(result.code == 0);
    const auto doc = Json::parse(result.out);
    REQUIRE(doc["runs"].size() == 3);
    std::vector<std::string> samples;
    for (const auto& run : doc["runs"]) {
        CHECK(run["status"] == "completed");
        CHECK(run["missing_samples"] == 0);
        CHECK(run["results"]["kww"]["fit"]["usable"] == true);
        CHECK(run["results"]["spectrum"]["spectrum"]["fit"]["usable"] == true);
        CHECK(run["results"]["work_done"]["work_done_kj_mol"].is_number());
        samples.push_back(run["sample"]);
    }
    CHECK(samples ==
          std::vector<std::string>{"LCNAC-m1-100-100", "LCNAC-m1-50-150", "LCNAC-m1-0-200"});
    Db store(db);
    CHECK(store.number("SELECT count(*) FROM runs WHERE status = 'completed'") == 3);
    CHECK(store.number("SELECT count(DISTINCT sample_id) FROM runs") == 3);
    // Each run numbers its own samples from 0, without holes.
    for (const auto& run : doc["runs"]) {
        const auto seqs = store.seqs(run["run_id"].get<std::int64_t>());
        REQUIRE(!seqs.empty());
        CHECK(seqs.front() == 0);
        CHECK(seqs.back() == static_cast<std::int64_t>(seqs.size()) - 1);
    }
}

TEST_CASE(
    "run --sample-rate: at 1 kHz the fits get a bounded input, above the frame's rate refused") {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    // One 8-min cycle and a 5-min recovery: 780,000 samples at 1 kHz.
    const auto job = dir.path / "jobs" / "fast.yaml";
    write_file(job, shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 0 s"},
                                                     {"duration: 8 h", "duration: 8 min"},
                                                     {"recovery: 8 h", "recovery: 5 min"}}));
    const auto db = dir.path / "runs.db";

    auto refused = run_in_process(
        {job.string(), "--db", db.string(), "--speed", "max", "--sample-rate", "1500"});
    CHECK(refused.code == dmacycle::cli::exit_bad_input);
    CHECK(refused.err.find("1500 Hz is above the 1000 Hz the frame can stream") !=
          std::string::npos);
    refused = run_in_process({job.string(), "--db", db.string(), "--sample-rate", "fast"});
    CHECK(refused.code == dmacycle::cli::exit_bad_input);
    CHECK(refused.err.find("--sample-rate must be a positive number") != std::string::npos);
    CHECK(!fs::exists(db));

    const auto result = run_in_process(
        {job.string(), "--db", db.string(), "--speed", "max", "--sample-rate", "1000", "--json"});
    INFO(result.err);
    REQUIRE(result.code == dmacycle::cli::exit_ok);
    const auto run = Json::parse(result.out)["runs"][0];
    CHECK(run["missing_samples"] == 0);
    Db store(db);
    const auto id = run["run_id"].dump();
    CHECK(store.number("SELECT count(*) FROM samples WHERE run_id = " + id +
                       " AND segment = 'cycle'") == 480001);
    // The cycling (both ends stored) reaches the work-done fit thinned to every 12th sample, the
    // recovery's 300,000 samples as log-time bins: 50 a decade over 1 ms..300 s.
    const auto& work = run["results"]["work_done"];
    CHECK(work["sample_step"] == 12);
    CHECK(work["points"] == 40001);
    const auto& reading = run["results"]["spectrum"];
    CHECK(reading["samples"].get<double>() == doctest::Approx(300000).epsilon(0.001));
    CHECK(reading["bins"].get<int>() <= 50 * 6);
    CHECK(run["results"]["kww"]["fit"]["usable"] == true);
}

TEST_CASE("run: the job file's sample_rate is the run's rate unless --sample-rate says otherwise") {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    // One 8-min cycle and a 5-min recovery at the job's 100 Hz.
    const auto job = dir.path / "jobs" / "rate.yaml";
    write_file(job, shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 0 s"},
                                                     {"duration: 8 h", "duration: 8 min"},
                                                     {"recovery: 8 h", "recovery: 5 min"},
                                                     {"temperature: 365 K",
                                                      "temperature: 365 K\nsample_rate: 100 Hz"}}));
    const auto db = dir.path / "runs.db";
    const auto cycle_samples = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args = {job.string(), "--db", db.string(),
                                         "--speed",    "max",  "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto result = run_in_process(args);
        INFO(result.err);
        REQUIRE(result.code == dmacycle::cli::exit_ok);
        const auto id = Json::parse(result.out)["runs"][0]["run_id"].dump();
        return Db(db).number("SELECT count(*) FROM samples WHERE run_id = " + id +
                             " AND segment = 'cycle'");
    };
    CHECK(cycle_samples({}) == 48001);
    CHECK(cycle_samples({"--sample-rate", "10"}) == 4801);
}

TEST_CASE("run: a sweep stops at the first run that faults, and a completed run ends at standby") {
    TempDir dir;
    fs::create_directories(dir.path / "jobs");
    // 100 MPa is 0.28 % of elastic strain: the first point (100-100 creep) trips a 0.3 % limit
    // as its anelastic strain grows, and the two points after it must not start.
    write_file(dir.path / "jobs" / "sweep.yaml",
               shipped_job("mode1-sweep.yaml",
                           {{"duration: 8 h", "duration: 1 h"},
                            {"recovery: 8 h", "recovery: 1 h\nlimits:\n  max_strain: 0.3 %"}}));
    const auto db = dir.path / "runs.db";
    const auto result = run_executable((dir.path / "jobs" / "sweep.yaml").string() + " --db " +
                                       db.string() + " --speed max --json");
    CHECK(result.code == 3);
    const auto doc = Json::parse(result.out);
    REQUIRE(doc["runs"].size() == 1);
    CHECK(doc["runs"][0]["status"] == "faulted");
    Db store(db);
    CHECK(store.number("SELECT count(*) FROM runs") == 1);

    // The shipped single job, shortened, completes and leaves the furnace at standby.
    write_file(dir.path / "jobs" / "one.yaml",
               shipped_job("mode1-0-200.yaml", {{"duration: 8 h", "duration: 1 h"},
                                                {"recovery: 8 h", "recovery: 1 h"}}));
    const auto one = run_executable((dir.path / "jobs" / "one.yaml").string() + " --db " +
                                    (dir.path / "one.db").string() + " --speed max --json");
    REQUIRE(one.code == 0);
    Db single(dir.path / "one.db");
    CHECK(
        single.number("SELECT count(*) FROM events WHERE kind = 'end' AND message LIKE 'furnace to "
                      "standby%'") == 1);
}

TEST_CASE("run --rig: a rig of driver sim runs the job on the rig's simulator") {
    const RigDir dir;
    // The rig's simulator is not the job's profile: another serial and a Kelvin controller, as
    // the identity the run recorded shows (bring_up chose the Kelvin register map).
    write_file(dir.dir.path / "instruments" / "rig-sim.yaml",
               shipped_profile({{"serial: SIM0001", "serial: RIG0042"},
                                {"display_units: celsius", "display_units: kelvin"}}));
    const auto rig = dir.rig("sim.yaml",
                             "frame: {driver: sim, profile: ../instruments/rig-sim.yaml, speed: "
                             "max}\nfurnace: {driver: sim}\n");
    const auto result = run_in_process(
        {dir.job.string(), "--db", dir.db.string(), "--rig", rig.string(), "--json"});
    CHECK(check_rig_run(dir, result) ==
          "frame: dmacycle,SIM-DMA,RIG0042,0.1.0; furnace: eurotherm-2400-kelvin,unit 1");
}

TEST_CASE("run --rig: a rig of scpi-frame and modbus-furnace drives dmacycle-sim, a process") {
    const RigDir dir;
    write_file(dir.dir.path / "instruments" / "external.yaml",
               shipped_profile({{"serial: SIM0001", "serial: EXT0007"}}));
    test_support::SimProcess sim(
        {"--speed", "max", "--profile", (dir.dir.path / "instruments" / "external.yaml").string()});
    const auto endpoints = sim.read_lines(2);  // "frame URI", "furnace URI"
    REQUIRE(endpoints.size() == 2);
    REQUIRE(endpoints[0].starts_with("frame tcp://"));
    REQUIRE(endpoints[1].starts_with("furnace modbus-tcp://"));
    const auto rig =
        dir.rig("external.yaml", "frame:\n  driver: scpi-frame\n  uri: " + endpoints[0].substr(6) +
                                     "\nfurnace:\n  driver: modbus-furnace\n"
                                     "  model: eurotherm-2400\n  uri: " +
                                     endpoints[1].substr(8) + "\n");
    const auto result = run_in_process(
        {dir.job.string(), "--db", dir.db.string(), "--rig", rig.string(), "--json"});
    CHECK(check_rig_run(dir, result) ==
          "frame: dmacycle,SIM-DMA,EXT0007,0.1.0; furnace: eurotherm-2400,unit 1");

    // A real rig's clock is its own: --speed is refused, nothing written.
    const auto other_db = dir.dir.path / "other.db";
    const auto refused = run_in_process(
        {dir.job.string(), "--db", other_db.string(), "--rig", rig.string(), "--speed", "max"});
    CHECK(refused.code == dmacycle::cli::exit_bad_input);
    CHECK(refused.err.find("--speed sets a simulator's clock, and " + rig.string() +
                           " names real devices") != std::string::npos);
    CHECK(!fs::exists(other_db));
}

TEST_CASE(
    "run --rig: a rig that cannot be run is refused by file, line and field, nothing written") {
    const RigDir dir;
    const auto check_refused = [&](const fs::path& rig, const std::string& message) {
        const auto result =
            run_in_process({dir.job.string(), "--db", dir.db.string(), "--rig", rig.string()});
        CHECK(result.code == dmacycle::cli::exit_bad_input);
        CHECK(result.err == message + "\n");
        CHECK(!fs::exists(dir.db));
    };
    const auto fast = dir.rig("fast.yaml",
                              "frame: {driver: sim, profile: ../instruments/sim-la30.yaml, "
                              "speed: fast}\nfurnace: {driver: sim}\n");
    check_refused(fast,
                  fast.string() + ":1: frame.speed: 'fast': expected a positive number or max");
    const auto mixed = dir.rig("mixed.yaml",
                               "frame: {driver: sim, profile: ../instruments/sim-la30.yaml}\n"
                               "furnace: {uri: 'modbus-tcp://127.0.0.1:5020'}\n");
    check_refused(mixed, mixed.string() +
                             ":2: furnace: expected driver: sim, as the frame is: the simulator "
                             "is one instrument (its sample sits in its furnace)");
    check_refused(dir.dir.path / "rigs" / "absent.yaml",
                  (dir.dir.path / "rigs" / "absent.yaml").string() + ": cannot read");
    const auto usage = run_in_process({dir.job.string(), "--db", dir.db.string(), "--rig", ""});
    CHECK(usage.code == dmacycle::cli::exit_bad_input);
    CHECK(usage.err.find("--rig needs a rig file") != std::string::npos);
}
