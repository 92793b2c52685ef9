// One reading of a recovery (docs/analysis.md): the fits the runner stores, `analyze --db --run`
// on the store and `analyze` on the run's CSV export are the same fits of the same bins, and
// their standard errors are what the noise moves them by (checked against twelve noise seeds);
// eq. (2)'s strains come through the recorded loading, whatever the unloading's rate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
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

// A job run on the shipped profile with its spectrum as the profile gives it: no stress
// activation, no rejuvenation (Kelvin modes under any stress); returns the store it ran into.
fs::path run_linear_store(const fs::path& dir, const std::string& job) {
    fs::create_directories(dir / "jobs");
    fs::create_directories(dir / "instruments");
    std::ofstream(dir / "instruments" / "sim-la30.yaml") << shipped_profile(
        {{"    stress_activation: true", "    stress_activation: false"},
         {"    rejuvenation_energy_j_m3: 1.0e7", "    rejuvenation_energy_j_m3: 0.0"}});
    std::ofstream(dir / "jobs" / "job.yaml") << job;
    const auto db = dir / "runs.db";
    const auto run = test_support::run_command(bin_dir + "/dmacycle run " +
                                               (dir / "jobs" / "job.yaml").string() + " --db " +
                                               db.string() + " --speed max --json");
    REQUIRE(run.code == 0);
    return db;
}

// The same, its stored results.
std::map<std::string, Json> run_linear(const fs::path& dir, const std::string& job) {
    return dmacycle::store::RunArchive(run_linear_store(dir, job)).results(1);
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
    // Twelve, so that the spread they show is itself good to about 20 %.
    for (int seed = 1; seed <= 12; ++seed) {
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
        // The cycling read back from the store: every cycle the runner closed. The runner's work
        // done takes every 8th sample at most (docs/runner.md), this one every sample.
        const auto cycling = test_support::run_command(bin_dir + "/dmacycle analyze cycling --db " +
                                                       db.string() + " --run 1 --json");
        REQUIRE(cycling.code == 0);
        const auto cycling_doc = Json::parse(cycling.out);
        const auto& work_done = stored.at("work_done");
        CHECK(cycling_doc["cycles"] == work_done["cycles"]);
        CHECK(cycling_doc["stress_creep_pa"].get<double>() ==
              doctest::Approx(work_done["stress_creep_pa"].get<double>()).epsilon(0.01));
        CHECK(cycling_doc["v_total_j_m3"].get<double>() ==
              doctest::Approx(work_done["v_total_j_m3"].get<double>()).epsilon(0.01));
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
        // Rising, to ten per cent, past the first two points: those hold a handful of samples, and
        // a run's noise moved the first 15 % above the next (TSan's timing, another realization).
        double longest = 0;
        for (std::size_t i = 2; i < instant_tau.size(); ++i) {
            CHECK(instant_tau[i] >= 0.9 * longest);
            longest = std::max(longest, instant_tau[i]);
        }
    }
    // Honest errors: neither far below nor far above the scatter over noise seeds.
    const auto check_error = [](const char* name, const std::vector<double>& values,
                                const std::vector<double>& stderrs) {
        const double seen = spread(values);
        const double reported = stderrs.front();
        MESSAGE(std::string(name), ": standard error ", reported, ", spread over 12 seeds ", seen);
        CHECK(reported <= 3 * seen);
        CHECK(reported >= seen / 3);
    };
    check_error("KWW beta", beta, beta_stderr);
    check_error("KWW tau_s", tau, tau_stderr);
    check_error("single tau_s", single_tau, single_stderr);
}

TEST_CASE(
    "recovery: eq. (2)'s strains come through the recorded loading, at 12.5 and 200 MPa/min "
    "alike" *
    long_run) {
    // The profile's first relaxation: weight 0.20 of 2.2e-11 1/Pa at 100 MPa, near 10^1.4 s.
    const double truth = 0.20 * 2.2e-11 * 100e6;
    const TempDir root;
    for (const std::string rate : {"12.5", "200"}) {
        const std::string rate_line = "stress_rate: " + rate + " MPa/min";
        const Edits shorter{{"hold: 10 min", "hold: 0 s"},
                            {"duration: 8 h", "duration: 2 h"},
                            {"stress_rate: 50 MPa/min", rate_line}};
        Edits creep = shorter;  // 100-100: loaded and unloaded at the rate
        creep.push_back({"recovery: 8 h", "recovery: 2 h"});
        creep.push_back({"temperature_band: 1 K", "temperature_band: 1 K\n  stale_link: 30 s"});
        Edits cycling = shorter;  // 0-200: the last descent of the triangle is the unloading
        cycling.push_back({"recovery: 8 h", "recovery: 2 h\n\nlimits:\n  stale_link: 30 s"});
        const std::pair<std::string, std::string> jobs[] = {
            {"100-100", shipped_job("mode1-100-100.yaml", creep)},
            {"0-200", shipped_job("mode2-rate-50.yaml", cycling)}};
        for (const auto& entry : jobs) {
            // Named copies: clang 14 cannot capture structured bindings (CAPTURE, MESSAGE).
            const std::string& name = entry.first;
            const std::string& job = entry.second;
            CAPTURE(rate);
            CAPTURE(name);
            const auto results = run_linear(root.path / (name + "-at-" + rate), job);
            const auto& spectrum = results.at("spectrum");
            CHECK(spectrum["spectrum"]["kernel"].get<std::string>().find(
                      "recorded stress history") != std::string::npos);
            const auto tau = spectrum["spectrum"]["tau_s"].get<std::vector<double>>();
            const auto strain = spectrum["spectrum"]["strain"].get<std::vector<double>>();
            const auto at_unload =
                spectrum["spectrum"]["strain_at_unload"].get<std::vector<double>>();
            const double t0_s = spectrum["t0_s"].get<double>();
            // Summed over the first relaxation's modes (to halfway to the second, 10^2.85 s).
            double recorded = 0, instant = 0;
            for (std::size_t i = 0; i < tau.size(); ++i) {
                if (tau[i] >= std::pow(10.0, 0.4) && tau[i] <= std::pow(10.0, 2.125)) {
                    recorded += strain[i];
                    instant += at_unload[i] / -std::expm1(-t0_s / tau[i]);
                }
            }
            MESSAGE(name, " at ", rate, " MPa/min: first relaxation ", recorded,
                    " through the recorded loading, ", instant,
                    " as if unloaded at once; the profile's ", truth);
            CHECK(recorded == doctest::Approx(truth).epsilon(0.2));
            CHECK(instant < 0.8 * truth);  // what eq. (2)'s instant unloading made of it
        }
    }
}

TEST_CASE(
    "creep: analyze creep --db --run reads the hold after the recorded load ramp, at 12.5 "
    "and 200 MPa/min alike" *
    long_run) {
    // The profile's first relaxation (weight 0.20 of 2.2e-11 1/Pa at 100 MPa, near 10^1.4 s)
    // and its modulus: a load ramp of 8 min fills the first, a step-load reading would put it
    // and the ramp's creep into the elastic strain.
    const double truth = 0.20 * 2.2e-11 * 100e6;
    const double modulus_pa = 36.0e9;
    const TempDir root;
    for (const std::string rate : {"12.5", "200"}) {
        CAPTURE(rate);
        const auto db = run_linear_store(
            root.path / ("creep-at-" + rate),
            shipped_job("mode1-100-100.yaml",
                        {{"hold: 10 min", "hold: 0 s"},
                         {"duration: 8 h", "duration: 2 h"},
                         {"recovery: 8 h", "recovery: 10 min"},
                         {"stress_rate: 50 MPa/min", "stress_rate: " + rate + " MPa/min"},
                         {"temperature_band: 1 K", "temperature_band: 1 K\n  stale_link: 30 s"}}));
        const auto from_store = test_support::run_command(
            bin_dir + "/dmacycle analyze creep --db " + db.string() + " --run 1 --json");
        REQUIRE(from_store.code == 0);
        const auto fit = Json::parse(from_store.out);
        CHECK(fit["spectrum"]["kernel"].get<std::string>().find("recorded load ramp") !=
              std::string::npos);
        CHECK(fit["stress_pa"].get<double>() == doctest::Approx(100e6).epsilon(0.01));
        CHECK(fit["modulus_pa"].get<double>() == doctest::Approx(modulus_pa).epsilon(0.05));
        const auto tau = fit["spectrum"]["tau_s"].get<std::vector<double>>();
        const auto strain = fit["spectrum"]["strain"].get<std::vector<double>>();
        double first = 0;  // summed to halfway to the second relaxation, 10^2.85 s
        for (std::size_t i = 0; i < tau.size(); ++i) {
            if (tau[i] >= std::pow(10.0, 0.4) && tau[i] <= std::pow(10.0, 2.125)) {
                first += strain[i];
            }
        }
        MESSAGE(rate, " MPa/min: first relaxation ", first, ", the profile's ", truth, "; modulus ",
                fit["modulus_pa"].get<double>());
        CHECK(first == doctest::Approx(truth).epsilon(0.2));

        // The run's export reads alike: same samples, same ramp, same fit.
        const auto csv = root.path / ("creep-at-" + rate + ".csv");
        REQUIRE(test_support::run_command(bin_dir + "/dmacycle export 1 --db " + db.string() +
                                          " --out " + csv.string())
                    .code == 0);
        const auto from_export = test_support::run_command(bin_dir + "/dmacycle analyze creep " +
                                                           csv.string() + " --json");
        REQUIRE(from_export.code == 0);
        const auto exported = Json::parse(from_export.out);
        CHECK(exported["spectrum"]["strain"] == fit["spectrum"]["strain"]);
        CHECK(exported["kww"]["beta"].get<double>() ==
              doctest::Approx(fit["kww"]["beta"].get<double>()).epsilon(1e-6));
    }
}
