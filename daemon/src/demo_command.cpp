#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle/daemon/commands.hpp"

namespace dmacycle::daemon {
namespace {

constexpr double noise_strain = 1e-6;
constexpr double peak_tolerance_decades = 0.2;
constexpr double residual_tolerance = 1.5;  // × noise

// The analysis half of the main job alone: the recovery after an 8-hour 0-200 MPa run, made
// from the domain.md model with known truth, so the fits can be judged against it.
int run_synthetic_demo(const std::optional<std::string>& csv_path, std::ostream& out,
                       std::ostream& err) {
    const auto truth = analysis::synthetic::demo_truth();
    std::vector<double> time_s;
    for (int second = 1; second <= 8 * 3600; ++second) {
        time_s.push_back(truth.t0_s + second);
    }
    auto strain =
        analysis::synthetic::recovery_curve(truth.lines, truth.strain_rate_vp, truth.t0_s, time_s);
    analysis::synthetic::add_noise(strain, noise_strain, 20231124);
    if (csv_path) {
        std::ofstream csv(*csv_path);
        csv.precision(12);
        csv << "time_s,strain\n";
        for (std::size_t i = 0; i < time_s.size(); ++i) {
            csv << time_s[i] << "," << strain[i] << "\n";
        }
        if (!csv) {
            err << "dmacycle demo: cannot write " << *csv_path << "\n";
            return exit_bad_input;
        }
    }

    const auto spectrum = analysis::fit_recovery_spectrum(time_s, strain, truth.t0_s);
    const auto kww = analysis::fit_recovery_kww(time_s, strain, truth.t0_s);
    char line[256];
    out << "dmacycle demo: synthetic 0-200 MPa recovery (domain.md model), 8 h at 1 Hz after "
           "t0 = 8 h, noise 1e-6 strain\n";
    std::snprintf(line, sizeof line,
                  "spectrum: 60 modes on [1e-2, 1e8] s, automatic lambda %.3g, rms residual %.3g = "
                  "%.2f x noise\n",
                  spectrum.lambda, spectrum.rms_residual, spectrum.rms_residual / noise_strain);
    out << line;
    out << "  true log10(tau/s)  found tau_s     error (decades)  strain\n";
    bool peaks_found = spectrum.summary.usable;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const double centre : truth.peak_log10_tau) {
        const analysis::SpectrumPeak* nearest = nullptr;
        for (const auto& peak : spectrum.peaks) {
            if (!nearest || std::abs(std::log10(peak.tau_s) - centre) <
                                std::abs(std::log10(nearest->tau_s) - centre)) {
                nearest = &peak;
            }
        }
        const double error =
            nearest ? std::log10(nearest->tau_s) - centre : std::numeric_limits<double>::infinity();
        peaks_found = peaks_found && std::abs(error) <= peak_tolerance_decades;
        std::snprintf(line, sizeof line, "  %-17.2f  %-13.4g  %+-15.3f  %.3e\n", centre,
                      nearest ? nearest->tau_s : nan, error, nearest ? nearest->strain : nan);
        out << line;
    }
    std::snprintf(line, sizeof line,
                  "strain_vp %.4e (true %.4e); %.3e strain beyond the %.0f s window\n",
                  spectrum.strain_vp, truth.strain_rate_vp * truth.t0_s,
                  spectrum.strain_beyond_window, spectrum.window_s);
    out << line;
    std::snprintf(line, sizeof line,
                  "KWW: beta %.3f ± %.3f, tau %.4g ± %.2g s, strain_an %.4e [%s]\n", kww.beta,
                  kww.beta_stderr, kww.tau_s, kww.tau_s_stderr, kww.strain_an,
                  analysis::to_string(kww.summary.status));
    out << line;

    const bool residual_ok = spectrum.rms_residual <= residual_tolerance * noise_strain;
    const bool pass = peaks_found && residual_ok && kww.summary.usable;
    std::snprintf(line, sizeof line,
                  "verdict: %s — %zu true peaks %s within %.1f decade, residual %s %.1f x noise, "
                  "KWW %s\n",
                  pass ? "PASS" : "FAIL", truth.peak_log10_tau.size(),
                  peaks_found ? "all found" : "NOT all found", peak_tolerance_decades,
                  residual_ok ? "within" : "above", residual_tolerance,
                  kww.summary.usable ? "usable" : "not usable");
    out << line;
    return pass ? exit_ok : exit_fit_failed;
}

// The main job end to end: config/jobs/mode1-0-200.yaml on the simulated instrument at
// `--speed max` through the production drivers into a temporary SQLite file, then a verdict.
int run_simulated_demo(std::ostream& out, std::ostream& err) {
    const auto job = std::filesystem::path(DMACYCLE_CONFIG_DIR) / "jobs" / "mode1-0-200.yaml";
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "dmacycle-demo-XXXXXX").string();
    if (mkdtemp(dir_template.data()) == nullptr) {
        err << "dmacycle demo: cannot create a temporary folder\n";
        return exit_bad_input;
    }
    const std::filesystem::path dir(dir_template);
    const std::string db = (dir / "demo.db").string();
    const std::string job_text = job.string();
    const std::vector<std::string_view> args{job_text, "--db", db, "--speed", "max", "--json"};
    std::ostringstream report;
    out << "dmacycle demo: " << job_text
        << " on the simulated instrument at --speed max (10 min hold, 8 h of 0-200 MPa "
           "cycling, 8 h of recovery, 10 Hz)\n";
    const int code = run_run(args, report, err);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    if (code != exit_ok && code != exit_fit_failed) {  // an unusable fit shows in the verdict
        err << "dmacycle demo: the run did not complete (exit " << code << ")\n";
        return code;
    }
    const auto run = nlohmann::json::parse(report.str())["runs"].at(0);
    const auto& results = run["results"];
    const auto& work = results["work_done"];
    const auto& kww = results["kww"];
    const auto& spectrum = results["spectrum"];
    char line[256];
    std::snprintf(line, sizeof line, "status %s; %lld samples stored (seq %lld-%lld); %d cycles\n",
                  run["status"].get<std::string>().c_str(), run["samples"].get<long long>(),
                  run["first_seq"].get<long long>(), run["last_seq"].get<long long>(),
                  run["cycles"].get<int>());
    out << line;
    const double wd = work.value("work_done_kj_mol", 0.0);
    std::snprintf(line, sizeof line,
                  "work done: %.4f kJ/mol (v_creep %.4g, v_cycling %.4g, v_total %.4g J/m3; "
                  "%d cycles analysed)\n",
                  wd, work.value("v_creep_j_m3", 0.0), work.value("v_cycling_j_m3", 0.0),
                  work.value("v_total_j_m3", 0.0), work.value("cycles", 0));
    out << line;
    out << "spectrum peaks (profile's log-normal centres 10^1.4, 10^2.85, 10^4.2 s, reshaped by "
           "stress-assisted activation and rejuvenation):";
    for (const auto& peak : spectrum["peaks"]) {
        std::snprintf(line, sizeof line, " %.3g s (%.2e)", peak["tau_s"].get<double>(),
                      peak["strain"].get<double>());
        out << line;
    }
    std::snprintf(line, sizeof line, "\nKWW: beta %.3f ± %.3f, tau %.4g ± %.2g s\n",
                  kww.value("beta", 0.0), kww.value("beta_stderr", 0.0), kww.value("tau_s", 0.0),
                  kww.value("tau_s_stderr", 0.0));
    out << line;

    const bool complete =
        run["status"] == "completed" && run["cycles"] == 60 && work.value("cycles", 0) == 60 &&
        run["last_seq"].get<long long>() - run["first_seq"].get<long long>() + 1 ==
            run["samples"].get<long long>();
    const bool wd_ok = wd >= 2e-2 && wd <= 8e-2;
    const bool fits_ok = spectrum["spectrum"]["fit"]["usable"] == true &&
                         kww["fit"]["usable"] == true && work["fit"]["usable"] == true;
    const bool pass = complete && wd_ok && fits_ok;
    std::snprintf(line, sizeof line,
                  "verdict: %s — %s, work done %s the domain.md range 2-8e-2 kJ/mol, fits %s\n",
                  pass ? "PASS" : "FAIL",
                  complete ? "completed with 60 cycles and every sample stored once"
                           : "NOT completed as planned",
                  wd_ok ? "within" : "OUTSIDE", fits_ok ? "usable" : "NOT all usable");
    out << line;
    return pass ? exit_ok : exit_fit_failed;
}

}  // namespace

int run_demo(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    std::optional<std::string> csv_path;
    bool synthetic = false;
    try {
        const Arguments arguments(args, {"write-csv"}, {"synthetic"});
        if (!arguments.positionals().empty()) {
            throw UsageError("unexpected argument '" + arguments.positionals().front() + "'");
        }
        csv_path = arguments.text("write-csv");
        synthetic = arguments.flag("synthetic");
        if (csv_path && !synthetic) {
            throw UsageError("--write-csv goes with --synthetic");
        }
    } catch (const UsageError& error) {
        err << "dmacycle demo: " << error.what()
            << " (usage: dmacycle demo [--synthetic [--write-csv FILE]])\n";
        return exit_bad_input;
    }
    return synthetic ? run_synthetic_demo(csv_path, out, err) : run_simulated_demo(out, err);
}

}  // namespace dmacycle::daemon
