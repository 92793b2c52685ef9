// `dmacycle run JOB.yaml --db FILE [--rig RIG.yaml] [--speed X|max] [--sample-rate HZ] [--json]`:
// one job (or each point of a sweep) run in the foreground on the devices a rig names, or on the
// simulator of the job's profile; docs/runner.md.
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/profiles.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/runner/rig.hpp"
#include "dmacycle/runner/runner.hpp"
#include "dmacycle/store/analysis_json.hpp"

namespace dmacycle::cli {

// Results are stored and printed as JSON (docs/names.md).
using store::Json;
using store::to_json;
namespace {

namespace fs = std::filesystem;
namespace sim = dmacycle::sim;

// The profile a job names, found as `validate` and `plan` find it (docs/job-files.md).
fs::path find_profile(const std::string& job_path, const std::string& name) {
    if (auto path = io::find_profile(name, job_path)) {
        return *path;
    }
    std::string tried;
    for (const auto& path : io::profile_candidates(name, job_path)) {
        tried += (tried.empty() ? "" : ", ") + path.lexically_normal().string();
    }
    throw io::InputError(job_path + ": profile '" + name + "' not found (looked for " + tried +
                         ")");
}

// Sequence numbers the instrument reported as sent but the store never got (link gaps): the
// driver numbers samples across reconnects, so every hole in first..last is a lost sample.
std::int64_t missing_samples(const runner::RunOutcome& outcome) {
    const std::int64_t expected = outcome.last_seq - outcome.first_seq + 1;
    return std::max<std::int64_t>(expected - static_cast<std::int64_t>(outcome.samples), 0);
}

// The fits of a completed run that are not usable, by kind: a run can complete its acquisition
// and still leave a fit the scientist must not trust.
std::vector<std::string> unusable_fits(const runner::RunOutcome& outcome) {
    std::vector<std::string> kinds;
    for (const auto& [kind, text] : outcome.results) {
        const auto doc = Json::parse(text);
        const auto& fit = doc.contains("spectrum") ? doc["spectrum"]["fit"] : doc["fit"];
        if (fit.is_object() && fit.value("usable", false) == false) {
            kinds.push_back(kind);
        }
    }
    return kinds;
}

void print_summary(std::ostream& out, const protocols::Job& job, const protocols::Plan& plan,
                   const runner::RunOutcome& outcome) {
    out << "run " << outcome.run_id << " " << job.name << " (sample " << job.sample.id
        << "): " << to_string(outcome.status);
    if (outcome.status != store::RunStatus::completed) {
        out << ": " << outcome.message;
    }
    out << "\n  segments:";
    for (const auto& segment : plan.segments) {
        out << " " << to_string(segment.kind);
    }
    out << "\n  samples " << outcome.samples << " (seq " << outcome.first_seq << "-"
        << outcome.last_seq << ", " << missing_samples(outcome) << " missing), cycles "
        << outcome.cycles << "\n";
    const auto result = [&](const char* kind) {
        const auto found = outcome.results.find(kind);
        return found == outcome.results.end() ? Json() : Json::parse(found->second);
    };
    if (const auto work = result("work_done"); !work.is_null()) {
        out << "  work done: "
            << (work["work_done_kj_mol"].is_number()
                    ? io::format("%.4g kJ/mol", work["work_done_kj_mol"].get<double>())
                    : std::string("n/a"))
            << io::format(", v_total %.4g J/m3\n", work["v_total_j_m3"].get<double>());
    }
    if (const auto spectrum = result("spectrum"); !spectrum.is_null()) {
        out << "  spectrum peaks:";
        for (const auto& peak : spectrum["peaks"]) {
            out << io::format(" tau %.3g s", peak["tau_s"].get<double>())
                << io::format(" (strain %.3g)", peak["strain"].get<double>());
        }
        out << "\n";
    }
    if (const auto kww = result("kww"); !kww.is_null()) {
        out << io::format("  KWW: beta %.3f", kww["beta"].get<double>())
            << io::format(", tau %.4g s", kww["tau_s"].get<double>())
            << (kww["fit"]["usable"].get<bool>() ? "" : " (not usable)") << "\n";
    }
    if (const auto arrhenius = result("arrhenius"); !arrhenius.is_null()) {
        out << io::format("  E_beta %.3f", arrhenius["e_beta_ev"].get<double>())
            << io::format(" ± %.3f eV", arrhenius["e_beta_stderr_ev"].get<double>())
            << io::format(", ln f0 %.2f", arrhenius["ln_f0"].get<double>()) << " from "
            << arrhenius["peaks"].size() << " tan δ peaks ("
            << arrhenius["points"].get<std::size_t>() << " DMTA measurements)"
            << (arrhenius["fit"]["usable"].get<bool>() ? "" : " (not usable)") << "\n";
    }
    if (const auto unusable = unusable_fits(outcome); !unusable.empty()) {
        out << "  fits not usable:";
        for (const auto& kind : unusable) {
            out << " " << kind;
        }
        out << " (their results say why)\n";
    }
}

Json outcome_json(const protocols::Job& job, const runner::RunOutcome& outcome) {
    Json results = Json::object();
    for (const auto& [kind, json] : outcome.results) {
        results[kind] = Json::parse(json);
    }
    Json run = {{"run_id", outcome.run_id},
                {"job", job.name},
                {"sample", job.sample.id},
                {"sweep_point", job.sweep_point},
                {"status", to_string(outcome.status)},
                {"message", outcome.message},
                {"samples", outcome.samples},
                {"first_seq", outcome.first_seq},
                {"missing_samples", missing_samples(outcome)},
                {"last_seq", outcome.last_seq},
                {"cycles", outcome.cycles},
                {"interlocks", outcome.interlocks},
                {"results", results}};
    if (results.contains("arrhenius")) {
        // A scan's β energy beside the run: what a DMTA job is run for.
        run["e_beta_ev"] = results["arrhenius"]["e_beta_ev"];
        run["e_beta_stderr_ev"] = results["arrhenius"]["e_beta_stderr_ev"];
    }
    return run;
}

// What `dmacycle run` was asked, checked before the job file is read.
struct RunRequest {
    std::string path;  // JOB.yaml
    std::string db;
    std::optional<std::string> rig;        // RIG.yaml; none: the simulator of the job's profile
    std::optional<sim::SimClock> speed;    // a simulator's, when given
    std::optional<double> sample_rate_hz;  // --sample-rate; else the job's, else 10 Hz
    bool json = false;
};

RunRequest run_request(const io::Arguments& arguments) {
    if (arguments.positionals().size() != 1) {
        throw io::UsageError(arguments.positionals().empty() ? "missing JOB.yaml"
                                                             : "one JOB.yaml at a time");
    }
    const std::string path = arguments.positionals().front();
    const auto db = arguments.text("db");
    if (!db || db->empty()) {
        throw io::UsageError("missing --db FILE");
    }
    const auto rig = arguments.text("rig");
    if (rig && rig->empty()) {
        throw io::UsageError("--rig needs a rig file");
    }
    std::optional<sim::SimClock> speed;
    if (const auto speed_text = arguments.text("speed")) {
        speed = sim::SimClock::parse(*speed_text);
        if (!speed) {
            throw io::UsageError("--speed must be a positive number or 'max', not '" + *speed_text +
                                 "'");
        }
    }
    RunRequest request{path, *db, rig, speed, std::nullopt};
    if (const auto rate = arguments.text("sample-rate")) {
        request.sample_rate_hz = io::parse_finite(*rate).value_or(0);
        if (!(*request.sample_rate_hz > 0)) {
            throw io::UsageError("--sample-rate must be a positive number of Hz, not '" + *rate +
                                 "'");
        }
    }
    request.json = arguments.flag("json");
    return request;
}

// The instrument profile the job file names; one that does not load is the input's fault.
sim::Profile load_job_profile(const std::string& path, const protocols::JobFile& job_file) {
    const auto profile_path = find_profile(path, job_file.runs.front().profile);
    try {
        return sim::load_profile(profile_path);
    } catch (const sim::ProfileError& error) {
        throw io::InputError(error.what());
    }
}

// What the job runs on: the rig given, or the simulator of the job's profile (at --speed, by
// default 1). Everything here is the input's fault: refused before the store is opened.
runner::RigSpec run_rig(const RunRequest& request, const protocols::JobFile& job_file) {
    if (!request.rig) {
        return runner::simulated_rig(load_job_profile(request.path, job_file),
                                     request.speed.value_or(sim::SimClock(1.0)));
    }
    runner::RigSpec rig;
    try {
        rig = runner::load_rig(*request.rig);
    } catch (const drivers::DriverError& error) {
        throw io::InputError(error.what());
    }
    if (request.speed) {
        if (!rig.simulator) {
            throw io::UsageError("--speed sets a simulator's clock, and " + *request.rig +
                                 " names real devices");
        }
        rig.simulator->clock = *request.speed;
    }
    return rig;
}

// The rate streamed and stored: --sample-rate, else the job file's `sample_rate`, else 10 Hz.
double sample_rate_of(const RunRequest& request, const protocols::JobFile& job_file) {
    return request.sample_rate_hz.value_or(job_file.runs.front().sample_rate_hz.value_or(10.0));
}

// The rig's frame must stream that rate.
void check_sample_rate(const RunRequest& request, const protocols::JobFile& job_file,
                       const runner::RigSpec& rig) {
    std::string problem;
    try {
        problem = runner::sample_rate_problem(rig, sample_rate_of(request, job_file));
    } catch (const drivers::DriverError& error) {
        throw io::InputError(error.what());
    }
    if (!problem.empty() && request.sample_rate_hz) {
        throw io::UsageError("--sample-rate: " + problem);
    }
    if (!problem.empty()) {
        throw io::InputError(request.path + ": sample_rate: " + problem);
    }
}

// Where the runs of a job file go: the open store and the rig brought up.
struct RunTarget {
    store::SampleStore& store;
    runner::Rig& rig;
    const runner::RunnerOptions& options;
};

// Runs the file's jobs in turn, each reported as it ends; a run that does not complete stops a
// sweep. Returns the exit code.
int run_jobs(const RunRequest& request, const std::string& text, const protocols::JobFile& job_file,
             const RunTarget& target, std::ostream& out, std::ostream& err) {
    Json runs = Json::array();
    bool all_completed = true;
    bool fits_usable = true;
    for (std::size_t i = 0; i < job_file.runs.size(); ++i) {
        const auto& job = job_file.runs[i];
        if (i > 0 && target.rig.simulator) {
            target.rig.simulator->instrument().new_sample();  // each sweep point: a fresh ribbon
        }
        if (!request.json) {
            out << "run " << (i + 1) << "/" << job_file.runs.size() << ": " << job.name
                << (job.sweep_point.empty() ? "" : " " + job.sweep_point) << ", sample "
                << job.sample.id << "\n";
        }
        const auto outcome = runner::execute_run(job, text, target.store, target.rig.frame,
                                                 target.rig.furnace, target.options);
        all_completed = all_completed && outcome.status == store::RunStatus::completed;
        fits_usable = fits_usable && unusable_fits(outcome).empty();
        if (request.json) {
            runs.push_back(outcome_json(job, outcome));
        } else {
            print_summary(out, job, protocols::make_plan(job), outcome);
        }
        if (outcome.status != store::RunStatus::completed) {
            // The operator decides what follows a fault (docs/runner.md): the next point would
            // heat and load again.
            if (i + 1 < job_file.runs.size()) {
                err << "dmacycle run: sweep stopped after run " << (i + 1) << " of "
                    << job_file.runs.size() << ": " << outcome.message << "\n";
            }
            break;
        }
    }
    if (request.json) {
        out << Json{{"file", request.path}, {"db", request.db}, {"runs", runs}}.dump(2) << "\n";
    }
    if (!all_completed) {
        return exit_run_faulted;
    }
    return fits_usable ? exit_ok : exit_fit_failed;
}

// Opens the store and brings the rig up for a checked job file, then runs it.
int run_job_file(const RunRequest& request, const std::string& text,
                 const protocols::JobFile& job_file, runner::RigSpec rig, std::ostream& out,
                 std::ostream& err) {
    // At --speed max the acquisition outruns the writer: 20,000 uncommitted rows (33 min at
    // 10 Hz) keep the queue to a few MB; appends then wait for commits.
    store::SampleStore store(request.db, store::StoreOptions{.max_pending_rows = 20000});
    auto devices = runner::bring_up(rig);
    std::mutex out_mutex;
    runner::RunnerOptions options;
    options.sample_rate_hz = sample_rate_of(request, job_file);
    options.hold_at = devices.hold_at();
    options.frame_starved = devices.frame_starved();
    if (!request.json) {
        options.on_event = [&](double t_s, const std::string& kind, const std::string& message) {
            std::lock_guard lock(out_mutex);
            out << io::format("[%10.1f s] ", t_s) << kind << ": " << message << "\n";
        };
    }
    return run_jobs(request, text, job_file, {store, devices, options}, out, err);
}

}  // namespace

int run_run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    try {
        const io::Arguments arguments(args, {"db", "rig", "speed", "sample-rate"}, {"json"});
        const auto request = run_request(arguments);
        // Everything is checked before the database is opened: a refused job writes nothing.
        const std::string text = io::read_job_text(request.path);
        auto job_file = protocols::parse_job(text);
        if (job_file.ok()) {
            auto rig = run_rig(request, job_file);
            // The job must also fit the instrument the profile describes: its frame's force
            // and stream rate and, for a DMTA scan, its frequency and amplitude ranges and the
            // furnace's ambient.
            job_file = protocols::parse_job(text, [&](const std::string& name) {
                return io::find_profile_limit(name, request.path);
            });
            if (job_file.ok()) {
                check_sample_rate(request, job_file, rig);
                return run_job_file(request, text, job_file, std::move(rig), out, err);
            }
        }
        for (const auto& problem : job_file.errors) {
            err << problem.to_string(request.path) << "\n";
        }
        return exit_bad_input;
    } catch (const io::InputError& error) {
        err << error.what() << "\n";
    } catch (const io::UsageError& error) {
        err << "dmacycle run: " << error.what() << " (" << usage_of("run") << ")\n";
    } catch (const store::StoreError& error) {
        err << "dmacycle run: store: " << error.what() << "\n";
    } catch (const std::exception& error) {
        // Not the input's fault (e.g. no loopback port for the simulator): the run did not run.
        err << "dmacycle run: " << error.what() << "\n";
        return exit_run_faulted;
    }
    return exit_bad_input;
}

}  // namespace dmacycle::cli
