// `dmacycle run`: refusals write nothing; a run (and a sweep) end to end through the executable.
#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command_output.hpp"
#include "dmacycle/cli/commands.hpp"
#include "long_run.hpp"
#include "runner_rig.hpp"

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
