// One reading of a recovery (docs/analysis.md): the fits the runner stores, `analyze --db --run`
// on the store and `analyze` on the run's CSV export are the same fits of the same bins, and
// their standard errors are what the noise moves them by (checked against five noise seeds).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "command_output.hpp"
#include "dmacycle/store/run_archive.hpp"
#include "long_run.hpp"
#include "runner_rig.hpp"

using namespace runner_test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::string bin_dir = DMACYCLE_BIN_DIR;

// The shipped main job cut to 2 h of cycling and 2 h of recovery, on a profile whose noise has
// the given seed; returns the store it ran into.
fs::path run_seed(const fs::path& root, int seed) {
    const fs::path dir = root / ("seed" + std::to_string(seed));
    fs::create_directories(dir / "jobs");
    fs::create_directories(dir / "instruments");
    std::ofstream(dir / "instruments" / "sim-la30.yaml")
        << shipped_profile({{"  seed: 1", "  seed: " + std::to_string(seed)}});
    std::ofstream(dir / "jobs" / "short.yaml")
        << shipped_job("mode1-0-200.yaml", {{"hold: 10 min", "hold: 0 s"},
                                            {"duration: 8 h", "duration: 2 h"},
                                            {"recovery: 8 h", "recovery: 2 h"},
                                            {"stale_link: 2 s", "stale_link: 30 s"}});
    const auto db = dir / "runs.db";
    const auto run = test_support::run_command(bin_dir + "/dmacycle run " +
                                               (dir / "jobs" / "short.yaml").string() + " --db " +
                                               db.string() + " --speed max --json");
    REQUIRE(run.code == 0);
    return db;
}

Json analyze(const std::string& args) {
    const auto run =
        test_support::run_command(bin_dir + "/dmacycle analyze recovery " + args + " --json");
    INFO(args);
    REQUIRE(run.code == 0);  // every fit usable
    return Json::parse(run.out);
}

double spread(const std::vector<double>& values) {
    double mean = 0;
    for (const double v : values) {
        mean += v / static_cast<double>(values.size());
    }
    double ss = 0;
    for (const double v : values) {
        ss += (v - mean) * (v - mean);
    }
    return std::sqrt(ss / static_cast<double>(values.size() - 1));
}

}  // namespace

TEST_CASE(
    "recovery: the runner, analyze --db --run and analyze of the export fit the same bins, "
    "with errors the noise explains" *
    long_run) {
    const TempDir root;
    std::vector<double> beta, tau, single_tau, beta_stderr, tau_stderr, single_stderr;
    for (int seed = 1; seed <= 5; ++seed) {
        const auto db = run_seed(root.path, seed);
        const auto stored = dmacycle::store::RunArchive(db).results(1);
        REQUIRE(stored.count("kww") == 1);
        const auto& kww = stored.at("kww");
        beta.push_back(kww["beta"].get<double>());
        tau.push_back(kww["tau_s"].get<double>());
        beta_stderr.push_back(kww["beta_stderr"].get<double>());
        tau_stderr.push_back(kww["tau_s_stderr"].get<double>());
        single_tau.push_back(stored.at("single_tau")["tau_s"].get<double>());
        single_stderr.push_back(stored.at("single_tau")["tau_s_stderr"].get<double>());
        if (seed != 1) {
            continue;
        }
        // The same run read back from the store and from its export.
        const auto from_store = analyze("--db " + db.string() + " --run 1");
        const auto csv = root.path / "run1.csv";
        REQUIRE(test_support::run_command(bin_dir + "/dmacycle export 1 --db " + db.string() +
                                          " --out " + csv.string())
                    .code == 0);
        const auto from_export = analyze(csv.string());
        const auto& spectrum = stored.at("spectrum");
        for (const Json* doc : {&from_store, &from_export}) {
            CHECK((*doc)["t0_s"] == spectrum["t0_s"]);
            CHECK((*doc)["samples"] == spectrum["samples"]);
            CHECK((*doc)["bins"] == spectrum["bins"]);
            CHECK((*doc)["kww"] == kww);
            CHECK((*doc)["single_tau"] == stored.at("single_tau"));
            CHECK((*doc)["instant_kww"] == stored.at("instant_kww"));
            CHECK((*doc)["peaks"] == spectrum["peaks"]);
            CHECK((*doc)["lambda"] == spectrum["lambda"]);
        }
        // 2 h of cycling, 2 h of recovery at 10 Hz: every sample is read.
        CHECK(spectrum["samples"].get<int>() == 2 * 3600 * 10);
        CHECK(spectrum["t0_s"].get<double>() == doctest::Approx(2 * 3600).epsilon(1e-9));
        // The paper's instant β falls and τ rises with the recovery time (its Fig. 2c-d): the
        // fast relaxations are spent first.
        const auto& instant = stored.at("instant_kww");
        const auto instant_beta = instant["beta"].get<std::vector<double>>();
        const auto instant_tau = instant["tau_s"].get<std::vector<double>>();
        REQUIRE(instant_beta.size() >= 10);
        MESSAGE("instant beta ", instant_beta.front(), " at ", instant["time_s"].front(), " s to ",
                instant_beta.back(), " at ", instant["time_s"].back(), " s; tau ",
                instant_tau.front(), " to ", instant_tau.back(), " s");
        CHECK(instant_beta.front() > 0.8);
        CHECK(instant_beta.front() - *std::min_element(instant_beta.begin(), instant_beta.end()) >
              0.25);
        CHECK(instant_tau.back() > 2.5 * instant_tau.front());
        double longest = 0;
        for (const double local_tau : instant_tau) {
            CHECK(local_tau >= 0.9 * longest);  // rising, to the last percent or so
            longest = std::max(longest, local_tau);
        }
    }
    // Honest errors: neither far below nor far above the scatter over noise seeds.
    const auto check_error = [](const char* name, const std::vector<double>& values,
                                const std::vector<double>& stderrs) {
        const double seen = spread(values);
        const double reported = stderrs.front();
        MESSAGE(std::string(name), ": standard error ", reported, ", spread over 5 seeds ", seen);
        CHECK(reported <= 3 * seen);
        CHECK(reported >= seen / 3);
    };
    check_error("KWW beta", beta, beta_stderr);
    check_error("KWW tau_s", tau, tau_stderr);
    check_error("single tau_s", single_tau, single_stderr);
}
