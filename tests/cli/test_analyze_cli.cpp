// Runs the real `dmacycle` executable, as users and scripts do, on files written here.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle_run.hpp"

namespace fs = std::filesystem;
namespace synthetic = dmacycle::analysis::synthetic;

namespace {

using test_support::slurp;
using Run = test_support::DmacycleRun;

class Workspace {
  public:
    Workspace() {
        std::string pattern = (fs::temp_directory_path() / "dmacycle-cli-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
    }
    ~Workspace() { fs::remove_all(dir_); }
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

    std::string write(const std::string& name, const std::string& content) const {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << content;
        return path.string();
    }

    Run dmacycle(const std::string& args) const {
        auto run = test_support::run_dmacycle(dir_, args);
        REQUIRE(run.exit_code >= 0);
        return run;
    }

  private:
    fs::path dir_;
};

std::string recovery_csv(const std::vector<double>& time_s, const std::vector<double>& strain) {
    std::ostringstream csv;
    csv.precision(12);
    csv << "time_s,strain\n";
    for (std::size_t i = 0; i < time_s.size(); ++i) {
        csv << time_s[i] << "," << strain[i] << "\n";
    }
    return csv.str();
}

// The domain.md model's 0-200 recovery, 8 h every 2 s after t0, with noise 1e-6.
std::pair<std::vector<double>, std::vector<double>> demo_recovery() {
    const auto truth = synthetic::demo_truth();
    std::vector<double> time_s;
    for (int second = 1; second <= 8 * 3600; second += 2) {
        time_s.push_back(truth.t0_s + second);
    }
    auto strain = synthetic::recovery_curve(truth.lines, truth.strain_rate_vp, truth.t0_s, time_s);
    synthetic::add_noise(strain, 1e-6, 42);
    return {time_s, strain};
}

// A refusal is exit 2, nothing on stdout and exactly one line on stderr containing `expected`.
void check_refused(const Run& run, const std::string& expected) {
    CAPTURE(run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.out.empty());
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK(run.err.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("analyze refuses every class of malformed CSV with file, line and problem") {
    const Workspace ws;
    const std::string good_rows =
        "1,0.001\n2,0.0011\n3,0.0012\n4,0.0013\n5,0.0014\n6,0.0015\n"
        "7,0.0016\n8,0.0017\n9,0.0018\n10,0.0019\n11,0.002\n12,0.0021\n";
    struct Case {
        std::string name, content, expected;
    };
    const std::vector<Case> cases = {
        {"empty.csv", "", "empty.csv: empty file"},
        {"blank.csv", "\n\n# only a comment\n", "blank.csv: empty file"},
        {"header.csv", "time,strain\n" + good_rows, "header.csv:1: wrong header 'time,strain'"},
        {"text.csv", "time_s,strain\n1,0.001\n2,abc\n",
         "text.csv:3: column 'strain': not a number 'abc'"},
        {"emptycell.csv", "time_s,strain\n1,0.001\n2,\n",
         "emptycell.csv:3: column 'strain': empty cell"},
        {"nan.csv", "time_s,strain\n1,0.001\n2,nan\n",
         "nan.csv:3: column 'strain': 'nan' is not a finite"},
        {"inf.csv", "time_s,strain\n1,inf\n", "inf.csv:2: column 'strain': 'inf' is not a finite"},
        {"ragged.csv", "time_s,strain\n1,0.001\n2,0.002,7\n",
         "ragged.csv:3: 3 cells, but the header has 2"},
        {"order.csv", "time_s,strain\n1,0.001\n2,0.002\n1.5,0.003\n" + good_rows,
         "order.csv:4: time_s 1.5 goes back"},
        {"few.csv", "time_s,strain\n11,0.001\n12,0.002\n13,0.003\n",
         "few.csv: too few recovery rows after t0 = 10 s (3); need at least 10"},
        {"before.csv", "time_s,strain\n" + good_rows,
         "before.csv: no recovery rows after t0 = 100 s (last time_s is 12 at line 13)"},
        {"binary.csv", std::string("time_s,strain\n1,\0\n", 18), "binary.csv:2: binary data"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        const auto path = ws.write(c.name, c.content);
        const double t0_s = c.name == "before.csv" ? 100 : 10;
        const auto run = ws.dmacycle("analyze recovery " + path + " --t0 " +
                                     std::to_string(static_cast<int>(t0_s)) + " --json");
        check_refused(run, c.expected);
    }
    check_refused(ws.dmacycle("analyze recovery " + ws.write("gone.csv", "") + "-missing --t0 1"),
                  "gone.csv-missing: cannot open file");
}

TEST_CASE("analyze refuses bad arguments with one line naming the option") {
    const Workspace ws;
    const auto path = ws.write("ok.csv", "time_s,strain\n1,0\n");
    check_refused(ws.dmacycle("analyze recovery " + path), "--t0 SECONDS is required");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 abc"),
                  "--t0: 'abc' is not a finite number");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 -5"), "--t0 must be > 0");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 5 --modes 1"), "modes");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 5 --lambda -1"), "lambda");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 5 --tau-min 10 --tau-max 1"),
                  "tau");
    check_refused(ws.dmacycle("analyze recovery " + path + " --t0 5 --bogus 1"),
                  "unknown option --bogus");
    check_refused(ws.dmacycle("analyze recovery --t0 5"), "missing FILE");
    check_refused(ws.dmacycle("analyze creep " + path), "--stress-mpa S is required");
    check_refused(ws.dmacycle("analyze cycling " + path + " --composition La30Ce30"),
                  "--composition and --density go together");
    check_refused(ws.dmacycle("analyze cycling " + path + " --composition Xq30 --density 6.3"),
                  "--composition 'Xq30'");
    check_refused(ws.dmacycle("analyze bogus " + path), "unknown analysis 'bogus'");
}

TEST_CASE("analyze creep refuses a wrong header and times that do not start after loading") {
    const Workspace ws;
    check_refused(ws.dmacycle("analyze creep " + ws.write("r.csv", "time_s,stress_mpa\n1,2\n") +
                              " --stress-mpa 100"),
                  "r.csv:1: wrong header");
    std::string rows = "time_s,strain\n";
    for (int i = 0; i < 12; ++i) {
        rows += std::to_string(i) + ",0.001\n";
    }
    check_refused(ws.dmacycle("analyze creep " + ws.write("zero.csv", rows) + " --stress-mpa 100"),
                  "zero.csv:2: time_s 0 must be > 0");
}

TEST_CASE("analyze recovery --json reports the documented keys and finds the true peaks") {
    const Workspace ws;
    const auto truth = synthetic::demo_truth();
    const auto [time_s, strain] = demo_recovery();
    const auto path = ws.write("recovery.csv", recovery_csv(time_s, strain));

    const auto run = ws.dmacycle("analyze recovery " + path + " --t0 28800 --json");
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    const auto doc = nlohmann::json::parse(run.out);
    for (const char* key : {"spectrum", "peaks", "strain_vp", "lambda", "rms_residual",
                            "single_tau", "kww", "instant_kww", "strain_beyond_window"}) {
        CAPTURE(key);
        CHECK(doc.contains(key));
    }
    CHECK(doc["spectrum"]["tau_s"].size() == 60);
    CHECK(doc["spectrum"]["strain"].size() == 60);
    for (const char* key :
         {"strain_an", "tau_s", "beta", "strain_vp", "beta_stderr", "tau_s_stderr"}) {
        CAPTURE(key);
        CHECK(doc["kww"].contains(key));
    }
    CHECK(doc["instant_kww"]["time_s"].size() == doc["instant_kww"]["beta"].size());
    for (const double centre : truth.peak_log10_tau) {
        double best = 1e9;
        for (const auto& peak : doc["peaks"]) {
            best = std::min(best, std::abs(std::log10(peak["tau_s"].get<double>()) - centre));
        }
        CAPTURE(centre);
        CHECK(best <= 0.2);
    }
    CHECK(doc["rms_residual"].get<double>() <= 1.5e-6);

    const auto table = ws.dmacycle("analyze recovery " + path + " --t0 28800");
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("KWW") != std::string::npos);
    CHECK(table.out.find("not identifiable") != std::string::npos);
}

TEST_CASE("analyze recovery takes repeated time stamps as they are, averages and counts them") {
    const Workspace ws;
    const auto [time_s, strain] = demo_recovery();
    // A real file's rounding: every 10th row repeats the time of the row before it.
    std::vector<double> rounded = time_s;
    std::size_t repeated = 0;
    for (std::size_t i = 10; i < rounded.size(); i += 10, ++repeated) {
        rounded[i] = rounded[i - 1];
    }
    const auto path = ws.write("rounded.csv", recovery_csv(rounded, strain));
    const auto run = ws.dmacycle("analyze recovery " + path + " --t0 28800 --json");
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    const auto doc = nlohmann::json::parse(run.out);
    CHECK(doc["tied_samples"].get<std::size_t>() == repeated);
    CHECK(doc["samples"].get<std::size_t>() == time_s.size());
    // Rounding the time of a tenth of the rows by 2 s moves nothing that matters.
    const auto exact = nlohmann::json::parse(
        ws.dmacycle("analyze recovery " + ws.write("exact.csv", recovery_csv(time_s, strain)) +
                    " --t0 28800 --json")
            .out);
    CHECK(doc["kww"]["beta"].get<double>() ==
          doctest::Approx(exact["kww"]["beta"].get<double>()).epsilon(1e-3));
    const auto text = ws.dmacycle("analyze recovery " + path + " --t0 28800");
    CHECK(text.out.find(std::to_string(repeated) +
                        " samples repeat the time stamp before them: averaged") !=
          std::string::npos);
}

TEST_CASE("analyze recovery --db --run refuses what is not a stored recovery, in one line") {
    const Workspace ws;
    const auto csv = ws.write("ok.csv", "time_s,strain\n1,0\n");
    check_refused(ws.dmacycle("analyze recovery --db " + csv + " --run 1"),
                  "not a readable SQLite store");
    check_refused(ws.dmacycle("analyze recovery --db " + csv),
                  "--db STORE and --run ID go together");
    check_refused(ws.dmacycle("analyze recovery " + csv + " --db x.db --run 1"),
                  "no FILE, no --t0");
    check_refused(ws.dmacycle("analyze recovery --db x.db --run 1 --t0 5"), "no FILE, no --t0");
    // A run's export names its segments: t0 comes from them, not from --t0.
    const auto exported =
        ws.write("export.csv",
                 "seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,stress_pa,"
                 "strain\n0,0,2026-12-07T00:00:00.000Z,hold,365,0,0,0,0\n");
    check_refused(ws.dmacycle("analyze recovery " + exported + " --t0 5"), "drop --t0");
    check_refused(ws.dmacycle("analyze recovery " + exported), "too few rows");
}

TEST_CASE("analyze creep --db --run or an export refuses what is not a stored creep, in one line") {
    const Workspace ws;
    const auto csv = ws.write("ok.csv", "time_s,strain\n1,0\n");
    check_refused(ws.dmacycle("analyze creep --db " + csv + " --run 1"),
                  "not a readable SQLite store");
    check_refused(ws.dmacycle("analyze creep --db " + csv), "--db STORE and --run ID go together");
    check_refused(ws.dmacycle("analyze creep --db x.db --run 1 --stress-mpa 5"),
                  "no FILE, no --stress-mpa");
    check_refused(ws.dmacycle("analyze creep " + csv), "--stress-mpa S is required");
    // A run's export gives the stress; a cycling run has no creep to fit.
    std::string rows =
        "seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,stress_pa,strain\n";
    for (int i = 0; i < 20; ++i) {
        rows += std::to_string(i) + "," + std::to_string(i) + ",2026-12-07T00:00:00.000Z,cycle," +
                "365,1,0,1e8,0.001\n";
    }
    const auto exported = ws.write("export.csv", rows);
    check_refused(ws.dmacycle("analyze creep " + exported + " --stress-mpa 5"),
                  "drop --stress-mpa");
    check_refused(ws.dmacycle("analyze creep " + exported),
                  "0 samples tagged creep; a creep fit needs at least 10 (a cycling run has no "
                  "constant-stress segment: fit its recovery)");
}

namespace {

// Rows "t<TAB>strain" as RepTate writes them, after its parameter, names and units lines.
std::string reptate_text(const std::string& parameters, const std::vector<double>& t_s,
                         const std::vector<double>& strain) {
    std::ostringstream text;
    text.precision(12);
    text << parameters << "\nt\tstrain\tstress\tT\ns\t-\tPa\tC\n";
    for (std::size_t i = 0; i < t_s.size(); ++i) {
        text << t_s[i] << "\t" << strain[i] << "\n";
    }
    return text.str();
}

}  // namespace

// Built from known lines: a creep of 2 h under 10 Pa and the recovery after it, written as
// RepTate writes them, fit as the same rows in our CSV with --stress-mpa and --t0.
TEST_CASE("analyze reads RepTate creep and recovery files as they are") {
    const Workspace ws;
    const std::vector<synthetic::Line> lines = {{3.0, 2e-4}, {60.0, 5e-4}, {900.0, 8e-4}};
    std::vector<double> creep_t, recovery_t, since_unload;
    for (int i = 1; i <= 7200; i += 3) {
        creep_t.push_back(i);
    }
    auto creep = synthetic::creep_curve(lines, 1e-3, 2e-8, creep_t);
    synthetic::add_noise(creep, 1e-6, 3);
    const double t0_s = creep_t.back();
    for (int i = 1; i <= 3600; i += 3) {
        recovery_t.push_back(t0_s + i);
        since_unload.push_back(i);
    }
    auto recovery = synthetic::recovery_curve(lines, 2e-8, t0_s, recovery_t);
    synthetic::add_noise(recovery, 1e-6, 4);
    std::vector<double> recovered;  // RepTate's γ_r: the strain given back since unloading
    for (const double strain : recovery) {
        recovered.push_back(creep.back() - strain);
    }
    const auto creep_file =
        ws.write("c.creep", reptate_text("chem=MG;label=c;T=92;stress=10;", creep_t, creep));
    const auto recovery_file = ws.write(
        "r.creep", reptate_text("chem=MG;label=c;T=92;stress=10;rec=1;", since_unload, recovered));

    const auto from_reptate = ws.dmacycle("analyze creep " + creep_file + " --json");
    REQUIRE(from_reptate.exit_code == 0);
    const auto as_csv =
        ws.dmacycle("analyze creep " + ws.write("c.csv", recovery_csv(creep_t, creep)) +
                    " --stress-mpa 1e-5 --json");
    REQUIRE(as_csv.exit_code == 0);
    const auto a = nlohmann::json::parse(from_reptate.out), b = nlohmann::json::parse(as_csv.out);
    CHECK(a["stress_pa"].get<double>() == doctest::Approx(10));
    CHECK(a["spectrum"]["strain"] == b["spectrum"]["strain"]);
    CHECK(a["kww"]["beta"] == b["kww"]["beta"]);

    const auto rec =
        ws.dmacycle("analyze recovery " + recovery_file + " --after " + creep_file + " --json");
    REQUIRE(rec.exit_code == 0);
    const auto rec_csv =
        ws.dmacycle("analyze recovery " + ws.write("r.csv", recovery_csv(recovery_t, recovery)) +
                    " --t0 " + std::to_string(t0_s) + " --json");
    REQUIRE(rec_csv.exit_code == 0);
    const auto c = nlohmann::json::parse(rec.out), d = nlohmann::json::parse(rec_csv.out);
    CHECK(c["t0_s"].get<double>() == t0_s);
    CHECK(c["kww"]["beta"].get<double>() ==
          doctest::Approx(d["kww"]["beta"].get<double>()).epsilon(1e-9));
    CHECK(c["strain_vp"].get<double>() ==
          doctest::Approx(d["strain_vp"].get<double>()).epsilon(1e-9));

    check_refused(ws.dmacycle("analyze recovery " + recovery_file), "--after CREEP");
    check_refused(ws.dmacycle("analyze recovery " + creep_file + " --after " + creep_file),
                  "not a recovery (no rec=1 parameter)");
    check_refused(ws.dmacycle("analyze creep " + recovery_file), "a recovery (rec=1)");
    check_refused(ws.dmacycle("analyze creep " +
                              ws.write("n.creep", reptate_text("chem=MG;", creep_t, creep))),
                  "no positive stress= parameter");
    check_refused(
        ws.dmacycle("analyze creep " +
                    ws.write("bad.creep", "chem=MG;stress=10;\nt\tstrain\n1\t0.1\n2\tx\n")),
        "bad.creep:4: not a row of numbers: '2\tx'");
}

namespace {

// Triangle 0-200 MPa at 50 MPa/min (period 480 s), 3.5 cycles, on a linear elastic sample with
// a small lag: the loops are thin but the cycle bookkeeping is exact. The stress column is
// `stress_name`, in Pa for stress_pa and in MPa for stress_mpa.
std::string cycling_csv(const std::string& stress_name) {
    const double scale = stress_name == "stress_pa" ? 1e6 : 1;
    std::ostringstream csv;
    csv.precision(12);
    csv << "time_s," << stress_name << ",strain\n";
    const double period_s = 480;
    for (int i = 0; i <= static_cast<int>(3.5 * period_s); ++i) {
        const double t = i;
        const double phase = std::fmod(t, period_s) / period_s;
        const double stress = phase < 0.5 ? 400 * phase : 400 * (1 - phase);
        const double lagged = std::fmod(t + period_s - 5, period_s) / period_s;
        const double stress_lag = lagged < 0.5 ? 400 * lagged : 400 * (1 - lagged);
        csv << t << "," << stress * scale << "," << (stress / 36e3 + 1e-5 * stress_lag / 200)
            << "\n";
    }
    return csv.str();
}

}  // namespace

TEST_CASE("analyze cycling --json counts complete cycles and gives work done per mole") {
    const Workspace ws;
    const auto analyze = [&](const std::string& stress_name) {
        const auto run = ws.dmacycle("analyze cycling " +
                                     ws.write(stress_name + ".csv", cycling_csv(stress_name)) +
                                     " --composition La30Ce30Ni10Al20Co10 --density 6.3 --json");
        CAPTURE(run.err);
        REQUIRE(run.exit_code == 0);
        auto doc = nlohmann::json::parse(run.out);
        doc.erase("file");
        return doc;
    };
    const auto doc = analyze("stress_pa");
    CHECK(doc["stress_creep_pa"].get<double>() == doctest::Approx(100e6).epsilon(0.01));
    // Files written before the store was SI name the stress stress_mpa, in MPa: the same fit.
    const auto in_mpa = analyze("stress_mpa");
    CHECK(in_mpa["cycles"] == doc["cycles"]);
    for (const char* key : {"stress_creep_pa", "v_total_j_m3", "work_done_kj_mol"}) {
        CAPTURE(key);
        CHECK(in_mpa[key].get<double>() == doctest::Approx(doc[key].get<double>()).epsilon(1e-9));
    }
    CHECK(doc["cycles"].get<int>() == 3);
    CHECK(doc["per_cycle"].size() == 3);
    CHECK(doc["molar_mass_g_mol"].get<double>() == doctest::Approx(100.87).epsilon(1e-3));
    CHECK(doc["work_done_kj_mol"].get<double>() > 0);
    for (const char* key : {"v_creep_over_time_j_m3", "v_cycling_over_time_j_m3",
                            "v_total_over_time_j_m3", "v_total_time_s"}) {
        CAPTURE(key);
        CHECK(doc[key].size() == 3);
    }
    for (const char* key : {"t_start_s", "t_end_s", "strain_min", "strain_max", "strain_creep",
                            "loop_area_j_m3", "loop_area_raw_j_m3"}) {
        CAPTURE(key);
        CHECK(doc["per_cycle"][0].contains(key));
    }
}

TEST_CASE("analyze arrhenius --json recovers the activation energy of shifted peaks") {
    const Workspace ws;
    constexpr double boltzmann_ev_k = 8.617333262e-5;
    const double e_beta_ev = 0.85, f0_hz = 1e12;
    std::ostringstream csv;
    csv << "temperature_k,frequency_hz,tan_delta\n";
    for (const double f : {1.0, 2.0, 4.0, 8.0}) {
        const double peak_k = e_beta_ev / (boltzmann_ev_k * std::log(f0_hz / f));
        for (double t = 300; t <= 430; t += 1) {
            const double z = (t - peak_k) / 18;
            csv << t << "," << f << "," << 0.01 + 0.004 * std::exp(-0.5 * z * z) << "\n";
        }
    }
    const auto run =
        ws.dmacycle("analyze arrhenius " + ws.write("tand.csv", csv.str()) + " --json");
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    const auto doc = nlohmann::json::parse(run.out);
    CHECK(doc["peaks"].size() == 4);
    CHECK(doc["e_beta_ev"].get<double>() == doctest::Approx(e_beta_ev).epsilon(0.03));
    CHECK(doc.contains("e_beta_stderr_ev"));
    CHECK(doc.contains("ln_f0"));
}

TEST_CASE("analyze cycling and arrhenius refuse malformed files with file, line and problem") {
    const Workspace ws;
    std::string cycling = "time_s,stress_mpa,strain\n";
    for (int i = 1; i <= 12; ++i) {
        cycling += std::to_string(i) + ",100,0.003\n";
    }
    check_refused(ws.dmacycle("analyze cycling " + ws.write("c1.csv", "time_s,strain\n1,2\n")),
                  "c1.csv:1: wrong header");
    check_refused(ws.dmacycle("analyze cycling " + ws.write("c2.csv", cycling + "13,nan,0.003\n")),
                  "c2.csv:14: column 'stress_mpa': 'nan' is not a finite");
    check_refused(ws.dmacycle("analyze cycling " + ws.write("c3.csv", cycling + "5,100,0.003\n")),
                  "c3.csv:14: time_s 5 does not increase");
    check_refused(
        ws.dmacycle("analyze cycling " + ws.write("c4.csv", "time_s,stress_mpa,strain\n")),
        "c4.csv: no data rows after the header");

    std::string arrhenius = "temperature_k,frequency_hz,tan_delta\n";
    for (int i = 0; i < 12; ++i) {
        arrhenius += std::to_string(300 + i) + ",1,0.01\n";
    }
    check_refused(ws.dmacycle("analyze arrhenius " +
                              ws.write("a1.csv", "temperature_k,tan_delta\n300,0.1\n")),
                  "a1.csv:1: wrong header");
    check_refused(ws.dmacycle("analyze arrhenius " + ws.write("a2.csv", arrhenius + "-3,1,0.01\n")),
                  "a2.csv:14: temperature_k must be > 0");
    check_refused(ws.dmacycle("analyze arrhenius " + ws.write("a3.csv", arrhenius + "320,1,inf\n")),
                  "a3.csv:14: column 'tan_delta': 'inf' is not a finite");
}

TEST_CASE("analyze arrhenius names a frequency whose peak could not be located") {
    const Workspace ws;
    constexpr double boltzmann_ev_k = 8.617333262e-5;
    std::ostringstream csv;
    csv << "temperature_k,frequency_hz,tan_delta\n";
    for (const double f : {1.0, 2.0, 4.0, 8.0}) {
        // The 8 Hz peak lies beyond the end of the scan: no local fit is possible there.
        const double peak_k = f < 8 ? 0.85 / (boltzmann_ev_k * std::log(1e12 / f)) : 460;
        for (double t = 300; t <= 420; t += 1) {
            const double z = (t - peak_k) / 18;
            csv << t << "," << f << "," << 0.01 + 0.004 * std::exp(-0.5 * z * z) << "\n";
        }
    }
    const auto run = ws.dmacycle("analyze arrhenius " + ws.write("partial.csv", csv.str()));
    CAPTURE(run.out);
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("beta peak at 8 Hz fit not usable") != std::string::npos);
    CHECK(run.out.find("0.00 ± 0.00") == std::string::npos);
}

// The reader goes line by line (memory is the table, not the file): a byte-order mark, CRLF line
// ends, comments and blank lines read as the plain file does, and a NUL names its line.
TEST_CASE("analyze reads a CSV with a byte-order mark, CRLF, comments and blank lines alike") {
    const Workspace ws;
    const auto [time_s, strain] = demo_recovery();
    const std::string plain = recovery_csv(time_s, strain);
    std::string windows = "\xEF\xBB\xBF# exported by a spreadsheet\r\n\r\n";
    for (const char c : plain) {
        windows += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    const auto a =
        ws.dmacycle("analyze recovery " + ws.write("plain.csv", plain) + " --t0 28800 --json");
    const auto b =
        ws.dmacycle("analyze recovery " + ws.write("windows.csv", windows) + " --t0 28800 --json");
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    auto x = nlohmann::json::parse(a.out), y = nlohmann::json::parse(b.out);
    x.erase("file");
    y.erase("file");
    CHECK(x == y);
    std::string with_nul = plain;
    with_nul.insert(with_nul.find('\n', 200) + 1, std::string("1\0", 2));
    check_refused(ws.dmacycle("analyze recovery " + ws.write("nul.csv", with_nul) + " --t0 28800"),
                  "binary data (NUL bytes)");
}

TEST_CASE("analyze --json survives a file name that is not UTF-8") {
    const Workspace ws;
    const auto [time_s, strain] = demo_recovery();
    const auto path = ws.write("bad\xff.csv", recovery_csv(time_s, strain));
    const auto run = ws.dmacycle("analyze recovery '" + path + "' --t0 28800 --json");
    CAPTURE(run.err);
    CHECK(run.exit_code == 0);
    CHECK(nlohmann::json::parse(run.out)["file"].get<std::string>().find("bad\xEF\xBF\xBD.csv") !=
          std::string::npos);
}

// `dmacycle demo` without --synthetic goes through dmacycled: tests/client/test_client_daemon.cpp.
TEST_CASE("demo --synthetic runs the analysis on synthetic data with a verdict") {
    const Workspace ws;
    const auto csv = ws.write("demo.csv", "");
    const auto synthetic = ws.dmacycle("demo --synthetic --write-csv " + csv);
    CHECK(synthetic.exit_code == 0);
    CHECK(synthetic.out.find("verdict: PASS") != std::string::npos);
    CHECK(slurp(csv).rfind("time_s,strain\n", 0) == 0);

    check_refused(ws.dmacycle("demo --write-csv " + csv), "--write-csv goes with --synthetic");
    check_refused(ws.dmacycle("demo --synthetic --db x.db"),
                  "--db and --report do not go with --synthetic");
}
