#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/daemon_child.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/shipped_config.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/report/report.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli {
namespace {

constexpr double noise_strain = 1e-6;
constexpr double peak_tolerance_decades = 0.2;
constexpr double residual_tolerance = 1.5;  // × noise
// The simulated job takes seconds at --speed max; this only stops a stuck demo.
constexpr std::chrono::seconds demo_job_timeout{300};

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
                  "KWW: beta %.3f ± %.2g, tau %.4g ± %.2g s, strain_an %.4e [%s]\n", kww.beta,
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

// A mkdtemp folder, removed with everything in it when the demo ends.
class TempFolder {
  public:
    TempFolder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "dmacycle-demo-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a temporary folder in " +
                                     std::filesystem::temp_directory_path().string());
        }
        path_ = pattern;
    }
    ~TempFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    const bool written =
        fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) {
        close(fd);
    }
    if (!written) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

volatile std::sig_atomic_t demo_interrupted = 0;

// Ctrl-C or SIGTERM while the demo waits: noted, so the demo stops its daemon and removes its
// folder on the way out instead of dying with them left behind.
class InterruptGuard {
  public:
    InterruptGuard() {
        struct sigaction action {};
        action.sa_handler = [](int) { demo_interrupted = 1; };
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, &old_int_);
        sigaction(SIGTERM, &action, &old_term_);
    }
    ~InterruptGuard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

  private:
    struct sigaction old_int_ {
    }, old_term_{};
};

// The summary and verdict of the demo's one run, from GET /api/v1/runs/ID and its results.
int report_run(const nlohmann::json& run, const nlohmann::json& results, std::ostream& out) {
    const auto& work = results.value("work_done", nlohmann::json::object());
    const auto& kww = results.value("kww", nlohmann::json::object());
    const auto& spectrum = results.value("spectrum", nlohmann::json::object());
    out << "segments:";
    for (const auto& event : run.value("events", nlohmann::json::array())) {
        const auto message = event.value("message", "");
        const std::string_view started = " started";
        if (event.value("kind", "") == "segment" && message.size() > started.size() &&
            message.compare(message.size() - started.size(), started.size(), started) == 0) {
            out << " " << message.substr(0, message.size() - started.size());
        }
    }
    const auto samples = run.value("samples", 0LL);
    const auto first_seq = run.value("first_seq", 0LL);
    const auto last_seq = run.value("last_seq", -1LL);
    const auto missing = std::max(last_seq - first_seq + 1 - samples, 0LL);
    char line[256];
    std::snprintf(line, sizeof line,
                  "\nstatus %s; %lld samples stored (seq %lld-%lld, %lld missing); %d cycles\n",
                  run.value("status", "?").c_str(), samples, first_seq, last_seq, missing,
                  run.value("cycles", 0));
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
    for (const auto& peak : spectrum.value("peaks", nlohmann::json::array())) {
        std::snprintf(line, sizeof line, " %.3g s (%.2e)", peak.value("tau_s", 0.0),
                      peak.value("strain", 0.0));
        out << line;
    }
    std::snprintf(line, sizeof line, "\nKWW: beta %.3f ± %.2g, tau %.4g ± %.2g s\n",
                  kww.value("beta", 0.0), kww.value("beta_stderr", 0.0), kww.value("tau_s", 0.0),
                  kww.value("tau_s_stderr", 0.0));
    out << line;

    const auto usable = [](const nlohmann::json& doc) {
        return doc.is_object() && doc.contains("fit") && doc["fit"].value("usable", false);
    };
    const bool complete = run.value("status", "") == "completed" && run.value("cycles", 0) == 60 &&
                          work.value("cycles", 0) == 60 && missing == 0 && samples > 0;
    const bool wd_ok = wd >= 2e-2 && wd <= 8e-2;
    const bool fits_ok =
        usable(spectrum.value("spectrum", nlohmann::json::object())) && usable(kww) && usable(work);
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

// The demo daemon's configuration in `dir`: `db` served with the simulated instrument at
// --speed max, the tokens in tokens.yaml beside it.
void write_demo_config(const std::filesystem::path& dir, const std::filesystem::path& config_dir,
                       const std::filesystem::path& db) {
    std::ostringstream config;  // JSON strings are YAML strings: paths quoted safely
    config << "# dmacycle demo: the simulated instrument as fast as it goes\n"
           << "listen: 127.0.0.1:0\n"
           << "database: " << nlohmann::json(db.string()).dump() << "\n"
           << "tokens: tokens.yaml\n"
           << "profiles: " << nlohmann::json((config_dir / "instruments").string()).dump() << "\n"
           << "instrument:\n  simulate:\n    profile: "
           << nlohmann::json((config_dir / "instruments" / "sim-la30.yaml").string()).dump()
           << "\n    speed: max\n";
    write_file(dir / "dmacycled.yaml", config.str(), 0600);
}

// Submits the job file and waits for the job to end, printing each segment as it starts;
// returns the ended job (GET /api/v1/jobs/ID), which has a run.
nlohmann::json run_demo_job(const ApiClient& client, const std::filesystem::path& job_path,
                            std::ostream& out) {
    const auto submitted = client.post("/api/v1/jobs", io::read_job_text(job_path.string()));
    const auto job_id = submitted.at("job_id").get<std::int64_t>();
    out << "submitted " << job_path.string() << " as job " << job_id
        << " (10 min hold, 8 h of 0-200 MPa cycling, 8 h of recovery, 10 Hz); waiting\n";
    const auto started = std::chrono::steady_clock::now();
    std::string segment;
    const auto job = wait_for_job(
        client, job_id, demo_job_timeout, std::chrono::milliseconds(200),
        [&](const nlohmann::json& polled) {
            if (demo_interrupted) {
                throw std::runtime_error("interrupted; stopping dmacycled");
            }
            const auto progress = polled.value("progress", nlohmann::json());
            if (progress.is_object() && progress.value("segment", "") != segment) {
                segment = progress.value("segment", "");
                char line[128];
                std::snprintf(
                    line, sizeof line, "  %5.1f s  %s\n",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count(),
                    segment.c_str());
                out << line << std::flush;
            }
        });
    if (!job) {
        throw std::runtime_error("job " + std::to_string(job_id) + " did not end within " +
                                 std::to_string(demo_job_timeout.count()) + " s");
    }
    out << "job " << job_id << " " << job->value("status", "")
        << io::format(
               " after %.1f s",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (const auto message = job->value("message", ""); !message.empty()) {
        out << ": " << message;
    }
    out << "\n";
    if (job->value("run_ids", nlohmann::json::array()).empty()) {
        throw std::runtime_error("job " + std::to_string(job_id) + " has no run");
    }
    return *job;
}

// The main job end to end through the service: dmacycled (beside this executable) as a child
// with the simulated instrument at --speed max and a throwaway token, the shipped
// jobs/mode1-0-200.yaml (io::shipped_config_dir) submitted through the HTTP API, waited for, its
// run and results fetched, then a verdict.
int run_service_demo(const std::optional<std::string>& db_path,
                     const std::optional<std::string>& report_dir, std::ostream& out,
                     std::ostream& err) {
    const auto config_dir = io::shipped_config_dir();
    const auto job_path = config_dir / "jobs" / "mode1-0-200.yaml";
    const InterruptGuard interrupts;
    std::optional<TempFolder> folder;
    std::optional<DaemonChild> daemon;
    try {
        folder.emplace();
        const auto& dir = folder->path();
        const std::string token = random_token();
        write_file(dir / "tokens.yaml",
                   "tokens:\n  - name: demo\n    token: \"" + token +
                       "\"\n    scopes: [read, submit, control]\n",
                   0600);
        const auto db = db_path ? std::filesystem::absolute(*db_path) : dir / "demo.db";
        write_demo_config(dir, config_dir, db);
        daemon.emplace(dmacycled_beside_self(),
                       std::vector<std::string>{"--config", (dir / "dmacycled.yaml").string()},
                       dir / "dmacycled.log", std::chrono::seconds(60),
                       [] { return demo_interrupted != 0; });
        out << "dmacycle demo: dmacycled (pid " << daemon->pid() << ") listening on "
            << daemon->url() << ", simulated instrument at --speed max, store " << db.string()
            << "\n";
        const ApiClient client(parse_server_url(daemon->url()), token);
        const auto job = run_demo_job(client, job_path, out);
        const auto& run_ids = job.value("run_ids", nlohmann::json::array());
        const auto run_id = run_ids.front().dump();
        const auto run = client.get("/api/v1/runs/" + run_id);
        const auto results = client.get("/api/v1/runs/" + run_id + "/results")
                                 .value("results", nlohmann::json::object());
        const int code = report_run(run, results, out);
        const int stop_status = daemon->stop();
        if (!WIFEXITED(stop_status) || WEXITSTATUS(stop_status) != 0) {
            err << "dmacycle demo: dmacycled did not stop cleanly on SIGTERM; its log:\n"
                << daemon->output_tail();
        }
        if (report_dir) {
            const store::RunArchive archive(db);
            out << "report: "
                << report::write_run_report(archive, run_ids.front().get<std::int64_t>(),
                                            *report_dir)
                       .string()
                << "\n";
        }
        if (job.value("status", "") != "completed") {
            return exit_run_faulted;
        }
        return code;
    } catch (const std::exception& error) {
        err << "dmacycle demo: " << error.what() << "\n";
        if (const auto* refused = dynamic_cast<const ClientError*>(&error)) {
            for (const auto& detail : refused->details()) {
                err << detail << "\n";
            }
        }
        if (daemon) {
            err << "dmacycled's log (end):\n" << daemon->output_tail();
        }
        return exit_device_error;
    }
}

}  // namespace

int run_demo(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    std::optional<std::string> csv_path, db_path, report_dir;
    bool synthetic = false;
    try {
        const io::Arguments arguments(args, {"write-csv", "db", "report"}, {"synthetic"});
        if (!arguments.positionals().empty()) {
            throw io::UsageError("unexpected argument '" + arguments.positionals().front() + "'");
        }
        csv_path = arguments.text("write-csv");
        db_path = arguments.text("db");
        report_dir = arguments.text("report");
        synthetic = arguments.flag("synthetic");
        if (csv_path && !synthetic) {
            throw io::UsageError("--write-csv goes with --synthetic");
        }
        if ((db_path || report_dir) && synthetic) {
            throw io::UsageError("--db and --report do not go with --synthetic");
        }
        if (report_dir) {
            report::check_report_dir(*report_dir);
        }
    } catch (const io::UsageError& error) {
        err << "dmacycle demo: " << error.what() << " (" << usage_of("demo") << ")\n";
        return exit_bad_input;
    } catch (const io::InputError& error) {
        err << "dmacycle demo: " << error.what() << "\n";
        return exit_bad_input;
    }
    return synthetic ? run_synthetic_demo(csv_path, out, err)
                     : run_service_demo(db_path, report_dir, out, err);
}

}  // namespace dmacycle::cli
