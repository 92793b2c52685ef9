// `analyze recovery` and `analyze creep`: the relaxation fits of eqs. (1)-(3).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyze_common.hpp"
#include "dmacycle/analysis/recovery_fits.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/recovery_reading.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli::detail {

using store::Json;
using store::to_json;

namespace {

// A usable fit's warning (a misfit, a peak on the grid's edge) in the text too, not only the JSON.
void print_warning(std::ostream& out, const analysis::FitSummary& summary) {
    if (summary.usable && summary.message.find("warning") != std::string::npos) {
        out << "  " << summary.message << "\n";
    }
}

void print_spectrum_table(std::ostream& out, const analysis::SpectrumFit& fit, bool recovery) {
    out << io::format(
        "spectrum: %zu modes on [%.3g, %.3g] s, lambda %.3g, rms residual %.3g "
        "(noise estimate %.3g)\n",
        fit.tau_s.size(), fit.tau_s.empty() ? 0.0 : fit.tau_s.front(),
        fit.tau_s.empty() ? 0.0 : fit.tau_s.back(), fit.lambda, fit.rms_residual,
        fit.noise_estimate);
    out << io::format(
        "  the evidence's lambda %.3g (95 %% of p(lambda) in [%.3g, %.3g]); ± its noise's "
        "standard error; the band on each mode's strain is in the JSON (strain_low, strain_high)\n",
        fit.lambda_evidence, fit.lambda_plausible_low, fit.lambda_plausible_high);
    out << (recovery ? "  peak   tau_s          strain (eq. 2) ± se        strain at unload\n"
                     : "  peak   tau_s          strain (eq. 2) ± se        strain over the hold\n");
    for (std::size_t i = 0; i < fit.peaks.size(); ++i) {
        const auto& peak = fit.peaks[i];
        out << io::format(
            "  %-5zu  %-13.4g  %.4e ± %-9.2e  %.4e%s\n", i + 1, peak.tau_s, peak.strain,
            peak.strain_stderr, peak.strain_at_unload,
            peak.at_grid_edge ? "  (at an end of the tau grid: tau only a bound)" : "");
    }
    print_warning(out, fit.summary);
    if (recovery) {
        out << "eq. (2) strains from the loading kernel: " << fit.kernel << "\n";
        out << io::format("strain_vp %.4e (rate %.4g 1/s)\n", fit.strain_vp, fit.strain_rate_vp);
    } else {
        out << io::format("strain_e %.4e, strain_rate_vp %.4g 1/s\n", fit.strain_e,
                          fit.strain_rate_vp);
    }
    out << io::format(
        "not identifiable from the %.4g s window: %.4e strain in modes with tau > "
        "window (trades off against the viscoplastic term)\n",
        fit.window_s, fit.strain_beyond_window);
}

void print_kww_table(std::ostream& out, const analysis::KwwFit& kww, bool recovery) {
    out << io::format("KWW: strain_an %.4e ± %.2e, tau %.4g ± %.2g s, beta %.4f ± %.2g",
                      kww.strain_an, kww.strain_an_stderr, kww.tau_s, kww.tau_s_stderr, kww.beta,
                      kww.beta_stderr);
    if (recovery) {
        out << io::format(", strain_vp %.4e ± %.2e", kww.strain_vp, kww.strain_vp_stderr);
    } else {
        out << io::format(", strain_e %.4e, strain_rate_vp %.4g 1/s", kww.strain_e,
                          kww.strain_rate_vp);
    }
    out << io::format(" [%s]\n", analysis::to_string(kww.summary.status));
    print_warning(out, kww.summary);
}

void print_single_tau_table(std::ostream& out, const analysis::SingleTauFit& fit) {
    out << io::format("single tau: tau %.4g ± %.2g s, strain_an %.4e, rms residual %.3g [%s]\n",
                      fit.tau_s, fit.tau_s_stderr, fit.strain_an, fit.rms_residual,
                      analysis::to_string(fit.summary.status));
    print_warning(out, fit.summary);
}

// A recovery as the fits read it, and where it came from.
struct RecoveryInput {
    analysis::LoadingHistory history;  // empty for a time_s,strain file
    std::string source;                // for the output: the file, or "run ID in STORE"
    Json source_json;                  // {"file": …} or {"db": …, "run_id": …}
    std::string how;                   // what gave t0
    analysis::BinnedCurve curve;
    double t0_s = 0;
};

// Every stored sample of the run, read as the runner read them (store::RecoveryReading).
RecoveryInput recovery_from_store(const std::string& db, std::int64_t run_id) {
    const store::RunArchive archive(db);
    archive.run(run_id);  // an unknown run is refused by name
    store::RecoveryReading reading;
    archive.for_each_sample(run_id, [&](const store::ArchivedSample& sample) {
        reading.add(sample.t_s, sample.segment, sample.stress_pa, sample.strain);
    });
    const std::string source = "run " + std::to_string(run_id) + " in " + db;
    if (!reading.has_recovery()) {
        throw io::InputError(db + ": run " + std::to_string(run_id) +
                             " has no recovery samples after a loading");
    }
    return {reading.history(),
            source,
            Json{{"db", db}, {"run_id", run_id}},
            "t0 from the run's segments",
            reading.curve(),
            reading.t0_s()};
}

// A run's own CSV export (dmacycle export): its segment column gives t0, as in the store.
RecoveryInput recovery_from_export(const std::string& path) {
    const auto table = io::read_csv(path, {"t_s", "stress_pa", "strain"}, {"segment"});
    require_rows(table, min_rows, "rows");
    io::require_not_decreasing(table, "t_s");
    const auto& t_s = table.column("t_s");
    const auto& stress_pa = table.column("stress_pa");
    const auto& strain = table.column("strain");
    store::RecoveryReading reading;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        reading.add(t_s[row], table.text[0][row], stress_pa[row], strain[row]);
    }
    if (!reading.has_recovery()) {
        throw io::InputError(path +
                             ": no rows tagged recovery after rows tagged load, cycle or creep");
    }
    return {reading.history(), path,          Json{{"file", path}}, "t0 from the export's segments",
            reading.curve(),   reading.t0_s()};
}

// time_s,strain rows; those after --t0 are the recovery. Repeated time stamps are averaged.
RecoveryInput recovery_from_csv(const std::string& path, double t0_s) {
    const auto table = io::read_csv(path, {"time_s", "strain"});
    require_rows(table, 1, "rows");
    io::require_not_decreasing(table, "time_s");
    const auto& time_s = table.column("time_s");
    // A row at t0 itself is the strain at unloading (log_bins.hpp).
    const auto first = static_cast<std::size_t>(
        std::lower_bound(time_s.begin(), time_s.end(), t0_s) - time_s.begin());
    if (first == time_s.size()) {
        throw io::InputError(
            io::format("%s: no recovery rows after t0 = %g s (last time_s is %g at "
                       "line %zu)",
                       path.c_str(), t0_s, time_s.back(), table.line_of_row.back()));
    }
    if (time_s.size() - first < min_rows) {
        throw io::InputError(
            io::format("%s: too few recovery rows after t0 = %g s (%zu); need at least %zu",
                       path.c_str(), t0_s, time_s.size() - first, min_rows));
    }
    return {{},
            path,
            Json{{"file", path}},
            "t0 given",
            analysis::bin_recovery(time_s, table.column("strain"), t0_s),
            t0_s};
}

RecoveryInput read_recovery(const io::Arguments& arguments) {
    const auto db = arguments.text("db");
    const auto run_id = arguments.integer("run");
    const auto t0_s = arguments.number("t0");
    if (db.has_value() != run_id.has_value()) {
        throw io::UsageError("--db STORE and --run ID go together");
    }
    if (db) {
        if (!arguments.positionals().empty() || t0_s) {
            throw io::UsageError("--db --run reads the run's samples and t0: no FILE, no --t0");
        }
        return recovery_from_store(*db, *run_id);
    }
    const auto path = single_file(arguments);
    const auto header = io::read_csv_header(path);
    const bool is_export = std::ranges::find(header, "t_s") != header.end() &&
                           std::ranges::find(header, "segment") != header.end();
    if (is_export) {
        if (t0_s) {
            throw io::UsageError(path + " is a run's export: its segments give t0, drop --t0");
        }
        return recovery_from_export(path);
    }
    if (!t0_s) {
        throw io::UsageError(
            "--t0 SECONDS is required (time of unloading, from the start of loading)");
    }
    if (*t0_s <= 0) {
        throw io::UsageError("--t0 must be > 0 s");
    }
    return recovery_from_csv(path, *t0_s);
}

// A creep as the fits read it: times since loading (> 0), or since the hold after a recorded
// load ramp, strains, the stress.
struct CreepInput {
    std::string source;  // for the output: the file, or "run ID in STORE"
    Json source_json;    // {"file": …} or {"db": …, "run_id": …}
    std::string how;     // what gave the times and the stress
    std::vector<double> time_s, strain;
    double stress_pa = 0;
    std::optional<analysis::CreepRamp> ramp;
};

// A run's samples tagged creep at their mean stress, timed from the start of the hold: the
// samples tagged load before it are the ramp (analysis::CreepRamp). Without a ramp the load is
// a step one sample step before the first creep sample.
class CreepReading {
  public:
    void add(double t_s, const std::string& segment, double stress_pa, double strain) {
        if (segment == "load" && input_.time_s.empty()) {
            ramp_.add(t_s, stress_pa);
            hold_start_s_ = t_s;
        } else if (segment == "creep") {
            if (!hold_start_s_) {
                first_creep_s_ = t_s;
                hold_start_s_ = t_s;
            }
            input_.time_s.push_back(t_s - *hold_start_s_);
            input_.strain.push_back(strain);
            stress_sum_pa_ += stress_pa;
        }
    }

    CreepInput finish(std::string source, Json source_json, const std::string& what) && {
        if (input_.time_s.size() < min_rows) {
            throw io::InputError(io::format(
                "%s: %zu samples tagged creep; a creep fit needs at least %zu (a cycling run has "
                "no constant-stress segment: fit its recovery)",
                what.c_str(), input_.time_s.size(), min_rows));
        }
        input_.stress_pa = stress_sum_pa_ / static_cast<double>(input_.time_s.size());
        if (first_creep_s_) {
            const double step_s = input_.time_s[1] - input_.time_s[0];
            for (double& t : input_.time_s) {
                t += step_s;
            }
            input_.how = "the samples tagged creep, after a step load";
        } else {
            input_.ramp = analysis::CreepRamp{std::move(ramp_), input_.stress_pa};
            input_.how = "the samples tagged creep, after the recorded load ramp";
        }
        input_.source = std::move(source);
        input_.source_json = std::move(source_json);
        return std::move(input_);
    }

  private:
    analysis::LoadingHistory ramp_;
    std::optional<double> hold_start_s_, first_creep_s_;
    double stress_sum_pa_ = 0;
    CreepInput input_;
};

CreepInput creep_from_store(const std::string& db, std::int64_t run_id) {
    const store::RunArchive archive(db);
    archive.run(run_id);  // an unknown run is refused by name
    CreepReading reading;
    archive.for_each_sample(run_id, [&](const store::ArchivedSample& sample) {
        reading.add(sample.t_s, sample.segment, sample.stress_pa, sample.strain);
    });
    const std::string source = "run " + std::to_string(run_id) + " in " + db;
    return std::move(reading).finish(source, Json{{"db", db}, {"run_id", run_id}},
                                     db + ": run " + std::to_string(run_id));
}

CreepInput creep_from_export(const std::string& path) {
    const auto table = io::read_csv(path, {"t_s", "stress_pa", "strain"}, {"segment"});
    io::require_not_decreasing(table, "t_s");
    CreepReading reading;
    for (std::size_t row = 0; row < table.rows(); ++row) {
        reading.add(table.column("t_s")[row], table.text[0][row], table.column("stress_pa")[row],
                    table.column("strain")[row]);
    }
    return std::move(reading).finish(path, Json{{"file", path}}, path);
}

// time_s,strain rows since loading, at the stress given.
CreepInput creep_from_csv(const std::string& path, double stress_mpa) {
    const auto table = io::read_csv(path, {"time_s", "strain"});
    require_rows(table, min_rows, "rows");
    io::require_not_decreasing(table, "time_s");
    const auto& time_s = table.column("time_s");
    if (time_s.front() <= 0) {
        throw io::InputError(io::format("%s:%zu: time_s %g must be > 0 (time since loading)",
                                        path.c_str(), table.line_of_row.front(), time_s.front()));
    }
    CreepInput input{path,        Json{{"file", path}},   "stress given, a step load at time 0",
                     time_s,      table.column("strain"), stress_mpa * 1e6,
                     std::nullopt};
    return input;
}

CreepInput read_creep(const io::Arguments& arguments) {
    const auto db = arguments.text("db");
    const auto run_id = arguments.integer("run");
    const auto stress_mpa = arguments.number("stress-mpa");
    if (db.has_value() != run_id.has_value()) {
        throw io::UsageError("--db STORE and --run ID go together");
    }
    if (db) {
        if (!arguments.positionals().empty() || stress_mpa) {
            throw io::UsageError(
                "--db --run reads the run's samples and stress: no FILE, no --stress-mpa");
        }
        return creep_from_store(*db, *run_id);
    }
    const auto path = single_file(arguments);
    const auto header = io::read_csv_header(path);
    if (std::ranges::find(header, "t_s") != header.end() &&
        std::ranges::find(header, "segment") != header.end()) {
        if (stress_mpa) {
            throw io::UsageError(path +
                                 " is a run's export: its rows give the stress, drop "
                                 "--stress-mpa");
        }
        return creep_from_export(path);
    }
    if (!stress_mpa) {
        throw io::UsageError("--stress-mpa S is required (the creep stress)");
    }
    if (*stress_mpa <= 0) {
        throw io::UsageError("--stress-mpa must be > 0");
    }
    return creep_from_csv(path, *stress_mpa);
}

}  // namespace

int analyze_recovery(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(
        args, {"t0", "lambda", "modes", "tau-min", "tau-max", "db", "run"}, {"json"});
    const auto options = spectrum_options(arguments);
    const RecoveryInput input = read_recovery(arguments);
    const auto& curve = input.curve;
    const auto fits = analysis::fit_recovery(curve, input.t0_s, options, &input.history);

    if (arguments.flag("json")) {
        Json doc = {{"kind", "recovery"}};
        doc.update(input.source_json);
        doc.update(store::recovery_reading_json(curve, input.t0_s));
        doc["strain_vp"] = fits.spectrum.strain_vp;
        doc["strain_rate_vp"] = fits.spectrum.strain_rate_vp;
        store::add_spectrum_fields(doc, fits.spectrum);
        doc["single_tau"] = to_json(fits.single_tau);
        doc["kww"] = to_json(fits.kww);
        doc["instant_kww"] = to_json(fits.instant);
        print_json(out, doc);
    } else {
        out << io::format(
            "recovery: %s, %zu samples after t0 = %.10g s (%s), in %zu log-time bins "
            "(%d per decade)\n",
            input.source.c_str(), curve.samples, input.t0_s, input.how.c_str(), curve.size(),
            analysis::kBinsPerDecade);
        if (curve.tied > 0) {
            out << io::format("%zu samples repeat the time stamp before them: averaged\n",
                              curve.tied);
        }
        print_spectrum_table(out, fits.spectrum, true);
        print_single_tau_table(out, fits.single_tau);
        print_kww_table(out, fits.kww, true);
        const auto& instant = fits.instant;
        if (!instant.time_s.empty()) {
            out << io::format("instant KWW over t' = %.4g .. %.4g s: beta %.3f .. %.3f\n",
                              instant.time_s.front(), instant.time_s.back(),
                              *std::min_element(instant.beta.begin(), instant.beta.end()),
                              *std::max_element(instant.beta.begin(), instant.beta.end()));
        }
    }
    return report_fits(err, {{"spectrum", fits.spectrum.summary},
                             {"single-tau", fits.single_tau.summary},
                             {"KWW", fits.kww.summary},
                             {"instant KWW", fits.instant.summary}});
}

int analyze_creep(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(
        args, {"stress-mpa", "lambda", "modes", "tau-min", "tau-max", "db", "run"}, {"json"});
    const auto options = spectrum_options(arguments);
    const CreepInput input = read_creep(arguments);
    const auto& time_s = input.time_s;
    const auto& strain = input.strain;
    const double stress_pa = input.stress_pa;

    const auto spectrum =
        analysis::fit_creep_spectrum(time_s, strain, options, input.ramp ? &*input.ramp : nullptr);
    const auto single = analysis::fit_creep_single_tau(time_s, strain);
    const auto kww = analysis::fit_creep_kww(time_s, strain);

    if (arguments.flag("json")) {
        Json doc = {
            {"kind", "creep"},
            {"stress_pa", stress_pa},
            {"points", time_s.size()},
            {"strain_e", spectrum.strain_e},
            {"modulus_pa", spectrum.strain_e > 0 ? Json(stress_pa / spectrum.strain_e) : Json()},
            {"strain_rate_vp", spectrum.strain_rate_vp}};
        doc.update(input.source_json);
        store::add_spectrum_fields(doc, spectrum);
        doc["single_tau"] = to_json(single);
        doc["kww"] = to_json(kww);
        print_json(out, doc);
    } else {
        out << io::format("creep: %s, %zu points at %.6g MPa (%s)\n", input.source.c_str(),
                          time_s.size(), stress_pa / 1e6, input.how.c_str());
        print_spectrum_table(out, spectrum, false);
        if (spectrum.strain_e > 0) {
            out << io::format("apparent modulus sigma/strain_e %.4g GPa\n",
                              stress_pa / spectrum.strain_e / 1e9);
        }
        print_single_tau_table(out, single);
        print_kww_table(out, kww, false);
    }
    return report_fits(
        err,
        {{"spectrum", spectrum.summary}, {"single-tau", single.summary}, {"KWW", kww.summary}});
}

}  // namespace dmacycle::cli::detail
