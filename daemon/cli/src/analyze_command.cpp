#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "analyze_common.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/dsc_file.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/analysis_json.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli {

// Results are stored and printed as JSON (docs/names.md).
using store::Json;
using store::to_json;
using namespace detail;

namespace detail {

void print_json(std::ostream& out, const Json& doc) {
    out << doc.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

std::string single_file(const io::Arguments& arguments) {
    const auto& files = arguments.positionals();
    if (files.size() != 1) {
        throw io::UsageError(files.empty()
                                 ? "missing FILE"
                                 : "expected one FILE, got " + std::to_string(files.size()));
    }
    return files.front();
}

void require_rows(const io::CsvTable& table, std::size_t needed, const std::string& what) {
    if (table.rows() == 0) {
        throw io::InputError(table.path + ": no data rows after the header");
    }
    if (table.rows() < needed) {
        throw io::InputError(table.path + ": too few " + what + " (" +
                             std::to_string(table.rows()) + "); need at least " +
                             std::to_string(needed));
    }
}

analysis::SpectrumOptions spectrum_options(const io::Arguments& arguments) {
    analysis::SpectrumOptions options;
    if (const auto modes = arguments.integer("modes")) {
        options.modes = *modes;
    }
    if (const auto tau_min = arguments.number("tau-min")) {
        options.tau_min_s = *tau_min;
    }
    if (const auto tau_max = arguments.number("tau-max")) {
        options.tau_max_s = *tau_max;
    }
    // A number, or the rule that chooses it.
    const auto lambda = arguments.text("lambda");
    if (lambda == "evidence") {
        options.lambda_rule = analysis::LambdaRule::evidence;
    } else if (lambda && lambda != "discrepancy") {
        options.lambda = arguments.number("lambda");
    }
    if (const auto problem = options.validate(); !problem.empty()) {
        throw io::UsageError(problem);
    }
    return options;
}

int report_fits(std::ostream& err,
                const std::vector<std::pair<std::string, analysis::FitSummary>>& fits) {
    int code = exit_ok;
    for (const auto& [name, summary] : fits) {
        if (!summary.usable) {
            err << "dmacycle: " << name << " fit not usable ("
                << analysis::to_string(summary.status) << "): " << summary.message << "\n";
            code = exit_fit_failed;
        }
    }
    return code;
}

}  // namespace detail

namespace {

// The table and its stress in Pa, read from `stress_pa` (as exports name it) or, in files
// written before the store was SI, `stress_mpa`.
std::pair<io::CsvTable, std::vector<double>> read_cycling_csv(const std::string& path) {
    const auto header = io::read_csv_header(path);
    const bool in_mpa = std::ranges::find(header, "stress_pa") == header.end() &&
                        std::ranges::find(header, "stress_mpa") != header.end();
    auto table = io::read_csv(path, {"time_s", in_mpa ? "stress_mpa" : "stress_pa", "strain"});
    std::vector<double> stress_pa = table.columns[1];
    if (in_mpa) {
        std::ranges::for_each(stress_pa, [](double& stress) { stress *= 1e6; });
    }
    return {std::move(table), std::move(stress_pa)};
}

// The cycling as `analyze cycling` reads it: a file's rows, or a stored run's samples tagged
// cycle or creep (as the runner's work done takes them, every one of them here).
struct CyclingInput {
    std::string source;
    Json source_json;
    std::vector<double> time_s, stress_pa, strain;
};

CyclingInput read_cycling(const io::Arguments& arguments) {
    const auto db = arguments.text("db");
    const auto run_id = arguments.integer("run");
    if (db.has_value() != run_id.has_value()) {
        throw io::UsageError("--db STORE and --run ID go together");
    }
    if (!db) {
        const auto path = single_file(arguments);
        auto [table, stress_pa] = read_cycling_csv(path);
        require_rows(table, min_rows, "rows");
        io::require_increasing(table, "time_s");
        return {path, Json{{"file", path}}, table.column("time_s"), std::move(stress_pa),
                table.column("strain")};
    }
    if (!arguments.positionals().empty()) {
        throw io::UsageError("--db --run reads the run's samples: no FILE");
    }
    const store::RunArchive archive(*db);
    archive.run(*run_id);  // an unknown run is refused by name
    CyclingInput input{"run " + std::to_string(*run_id) + " in " + *db,
                       Json{{"db", *db}, {"run_id", *run_id}},
                       {},
                       {},
                       {}};
    archive.for_each_sample(*run_id, [&](const store::ArchivedSample& sample) {
        if (sample.segment == "cycle" || sample.segment == "creep") {
            input.time_s.push_back(sample.t_s);
            input.stress_pa.push_back(sample.stress_pa);
            input.strain.push_back(sample.strain);
        }
    });
    if (input.time_s.size() < min_rows) {
        throw io::InputError(*db + ": run " + std::to_string(*run_id) +
                             " has no cycling or creep samples to analyse");
    }
    return input;
}

int analyze_cycling(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(args, {"composition", "density", "db", "run"}, {"json"});
    const auto composition = arguments.text("composition");
    const auto density = arguments.number("density");
    if (composition.has_value() != density.has_value()) {
        throw io::UsageError(
            "--composition and --density go together (work done per mole needs both)");
    }
    analysis::WorkDoneOptions options;
    if (composition) {
        const auto molar_mass = analysis::molar_mass_from_composition(*composition);
        if (!molar_mass.ok) {
            throw io::UsageError("--composition '" + *composition + "': " + molar_mass.error);
        }
        if (*density <= 0) {
            throw io::UsageError("--density must be > 0 g/cm3");
        }
        options.molar_mass_g_mol = molar_mass.g_mol;
        options.density_g_cm3 = density;
    }

    const CyclingInput input = read_cycling(arguments);
    // A stored run's cycling starts and ends at σ_min by its plan, as the runner takes it.
    options.edges_are_valleys = input.source_json.contains("db");
    const auto result =
        analysis::analyze_cycling(input.time_s, input.stress_pa, input.strain, options);

    const auto optional_json = [](const std::optional<double>& value) {
        return value ? Json(*value) : Json();
    };
    if (arguments.flag("json")) {
        Json per_cycle = Json::array();
        for (const auto& cycle : result.cycles) {
            per_cycle.push_back(to_json(cycle));
        }
        Json doc = {{"kind", "cycling"}};
        doc.update(input.source_json);
        doc.update(Json{{"points", input.time_s.size()},
                        {"fit", to_json(result.summary)},
                        {"cycles", result.cycles.size()},
                        {"per_cycle", per_cycle},
                        {"stress_creep_pa", result.stress_creep_pa},
                        {"strain_creep", result.strain_creep},
                        {"v_creep_j_m3", result.v_creep_j_m3},
                        {"v_cycling_j_m3", result.v_cycling_j_m3},
                        {"v_total_j_m3", result.v_total_j_m3},
                        {"molar_mass_g_mol", optional_json(result.molar_mass_g_mol)},
                        {"work_done_kj_mol", optional_json(result.work_done_kj_mol)},
                        {"v_total_time_s", result.v_total_time_s},
                        {"v_creep_over_time_j_m3", result.v_creep_over_time_j_m3},
                        {"v_cycling_over_time_j_m3", result.v_cycling_over_time_j_m3},
                        {"v_total_over_time_j_m3", result.v_total_over_time_j_m3}});
        print_json(out, doc);
    } else {
        out << io::format("cycling: %s, %zu points, %zu complete cycles\n", input.source.c_str(),
                          input.time_s.size(), result.cycles.size());
        out << "  cycle  t_start_s   t_end_s     strain_min   strain_max   loop J/m3    raw J/m3\n";
        for (std::size_t i = 0; i < result.cycles.size(); ++i) {
            const auto& c = result.cycles[i];
            out << io::format("  %-5zu  %-10.1f  %-10.1f  %-11.4e  %-11.4e  %-11.4g  %.4g\n", i + 1,
                              c.t_start_s, c.t_end_s, c.strain_min, c.strain_max, c.loop_area_j_m3,
                              c.loop_area_raw_j_m3);
        }
        out << io::format("sigma_creep %.4g MPa, strain_creep %.4e\n", result.stress_creep_pa / 1e6,
                          result.strain_creep);
        out << io::format("v_creep %.4g J/m3, v_cycling %.4g J/m3, v_total %.4g J/m3\n",
                          result.v_creep_j_m3, result.v_cycling_j_m3, result.v_total_j_m3);
        if (result.work_done_kj_mol) {
            out << io::format("molar mass %.3f g/mol, work done %.4g kJ/mol\n",
                              result.molar_mass_g_mol.value_or(0.0), *result.work_done_kj_mol);
        }
    }
    return report_fits(err, {{"cycling", result.summary}});
}

int analyze_arrhenius(std::span<const std::string_view> args, std::ostream& out,
                      std::ostream& err) {
    const io::Arguments arguments(args, {}, {"json"});
    const auto path = single_file(arguments);
    const auto table = io::read_csv(path, {"temperature_k", "frequency_hz", "tan_delta"});
    require_rows(table, min_rows, "rows");
    const auto& temperature_k = table.column("temperature_k");
    const auto& frequency_hz = table.column("frequency_hz");
    for (std::size_t row = 0; row < table.rows(); ++row) {
        if (temperature_k[row] <= 0 || frequency_hz[row] <= 0) {
            throw io::InputError(
                io::format("%s:%zu: %s must be > 0", path.c_str(), table.line_of_row[row],
                           temperature_k[row] <= 0 ? "temperature_k" : "frequency_hz"));
        }
    }
    const auto result =
        analysis::fit_arrhenius(temperature_k, frequency_hz, table.column("tan_delta"));

    if (arguments.flag("json")) {
        Json peaks = Json::array();
        for (const auto& peak : result.peaks) {
            peaks.push_back(to_json(peak));
        }
        Json doc = {{"kind", "arrhenius"},
                    {"file", path},
                    {"fit", to_json(result.summary)},
                    {"peaks", peaks},
                    {"e_beta_ev", result.e_beta_ev},
                    {"e_beta_stderr_ev", result.e_beta_stderr_ev},
                    {"ln_f0", result.ln_f0},
                    {"ln_f0_stderr", result.ln_f0_stderr}};
        print_json(out, doc);
    } else {
        out << io::format("arrhenius: %s, %zu frequencies\n", path.c_str(), result.peaks.size());
        out << "  frequency_hz  beta peak temperature_k\n";
        for (const auto& peak : result.peaks) {
            if (peak.summary.usable) {
                out << io::format("  %-12.4g  %.2f ± %.2f\n", peak.frequency_hz, peak.temperature_k,
                                  peak.temperature_stderr_k);
            } else {
                out << io::format("  %-12.4g  — (%s)\n", peak.frequency_hz,
                                  peak.summary.message.c_str());
            }
        }
        if (result.summary.usable) {
            out << io::format("E_beta %.4f ± %.4f eV, ln f0 %.3f ± %.3f\n", result.e_beta_ev,
                              result.e_beta_stderr_ev, result.ln_f0, result.ln_f0_stderr);
        } else {
            out << "E_beta — (" << result.summary.message << ")\n";
        }
    }
    std::vector<std::pair<std::string, analysis::FitSummary>> fits{{"arrhenius", result.summary}};
    for (const auto& peak : result.peaks) {
        fits.emplace_back(io::format("beta peak at %g Hz", peak.frequency_hz), peak.summary);
    }
    return report_fits(err, fits);
}

// "T1:T2" in K.
std::pair<double, double> parse_range(const std::string& text) {
    const auto colon = text.find(':');
    const auto number = [](std::string_view part) {
        return io::parse_finite(io::trim_blanks(part));
    };
    const std::string_view whole(text);
    const auto lo = colon == std::string::npos ? std::nullopt : number(whole.substr(0, colon));
    const auto hi = colon == std::string::npos ? std::nullopt : number(whole.substr(colon + 1));
    if (!lo || !hi || !(*hi > *lo) || *lo <= 0) {
        throw io::UsageError("--range '" + text + "': expected T1:T2 in K with 0 < T1 < T2");
    }
    return {*lo, *hi};
}

// The work done of run `run_id` in the store, as its `work_done` result holds it.
double stored_work_done_kj_mol(const std::string& db, std::int64_t run_id) {
    const store::RunArchive archive(db);
    archive.run(run_id);  // an unknown run is refused by name
    const auto results = archive.results(run_id);
    const auto found = results.find("work_done");
    if (found == results.end()) {
        throw io::InputError(db + ": run " + std::to_string(run_id) +
                             " has no work_done result (not a cycling run, or not analysed)");
    }
    const auto value = found->second.find("work_done_kj_mol");
    if (value == found->second.end() || !value->is_number()) {
        throw io::InputError(
            db + ": run " + std::to_string(run_id) +
            " has no work done in kJ/mol (its job gives no composition or density)");
    }
    const double work_done = value->get<double>();
    if (!(work_done > 0)) {
        throw io::InputError(db + ": run " + std::to_string(run_id) +
                             io::format(" has work done %g kJ/mol; a ratio needs > 0", work_done));
    }
    return work_done;
}

// What `analyze dsc` was asked, checked before any file is read.
struct DscRequest {
    std::string sample_path, baseline_path;
    std::string composition;
    double molar_mass_g_mol = 0;
    io::DscReadOptions read_options;
    analysis::DscOptions options;
    std::optional<double> work_done;  // --work-done-kj-mol
    std::optional<int> run_id;        // --run, with --db: the work done of a stored run
    std::optional<std::string> db;
    std::optional<double> reference;  // --reference-kj-mol
};

DscRequest dsc_request(const io::Arguments& arguments) {
    const auto& files = arguments.positionals();
    if (files.size() != 2) {
        throw io::UsageError("expected SAMPLE and BASELINE, got " + std::to_string(files.size()) +
                             " file(s)");
    }
    DscRequest request;
    request.sample_path = files[0];
    request.baseline_path = files[1];
    const auto composition = arguments.text("composition");
    if (!composition) {
        throw io::UsageError("--composition C is required (the molar mass converts J/g to kJ/mol)");
    }
    const auto molar_mass = analysis::molar_mass_from_composition(*composition);
    if (!molar_mass.ok) {
        throw io::UsageError("--composition '" + *composition + "': " + molar_mass.error);
    }
    request.composition = *composition;
    request.molar_mass_g_mol = molar_mass.g_mol;
    request.read_options.exo_down = arguments.flag("exo-down");
    request.read_options.mass_mg = arguments.number("mass-mg");
    if (request.read_options.mass_mg && !(*request.read_options.mass_mg > 0)) {
        throw io::UsageError("--mass-mg must be > 0");
    }
    if (const auto range = arguments.text("range")) {
        const auto [lo, hi] = parse_range(*range);
        request.options.range_lo_k = lo;
        request.options.range_hi_k = hi;
    }
    request.work_done = arguments.number("work-done-kj-mol");
    request.run_id = arguments.integer("run");
    request.db = arguments.text("db");
    if (request.work_done && (request.run_id || request.db)) {
        throw io::UsageError("give --work-done-kj-mol or --run ID --db FILE, not both");
    }
    if (request.run_id.has_value() != request.db.has_value()) {
        throw io::UsageError("--run ID and --db FILE go together");
    }
    if (request.work_done && !(*request.work_done > 0)) {
        throw io::UsageError("--work-done-kj-mol must be > 0");
    }
    request.reference = arguments.number("reference-kj-mol");
    return request;
}

// The exotherm found and what it is compared with: the work done (given or stored) and a
// reference enthalpy.
struct DscReport {
    const DscRequest& request;
    const io::DscFile& sample;
    const io::DscFile& baseline;
    const analysis::DscEnthalpy& result;
    std::optional<double> work_done;
    std::string work_done_source;
    double delta_h_kj_mol = 0;
    double over_work_done = 0;  // 0 without a work done
    double delta_delta_h = 0;   // 0 without a reference
    double delta_delta_over_work_done = 0;
};

Json dsc_json(const DscReport& report) {
    const auto& result = report.result;
    const double m = report.request.molar_mass_g_mol;
    const auto& work_done = report.work_done;
    const auto& reference = report.request.reference;
    const bool usable = result.summary.usable;
    const auto number = [&](double value) { return usable ? Json(value) : Json(); };
    const auto optional_number = [&](bool present, double value) {
        return usable && present ? Json(value) : Json();
    };
    const auto scan_json = [](const io::DscFile& file, double rate_k_min) {
        return Json{{"file", file.path},
                    {"format", file.format},
                    {"points", file.line_of_row.size()},
                    {"exo_convention", file.exo_convention},
                    {"mass_mg", file.mass_mg ? Json(*file.mass_mg) : Json()},
                    {"heating_rate_k_min", rate_k_min}};
    };
    return {
        {"kind", "dsc"},
        {"sample", scan_json(report.sample, result.sample_rate_k_min)},
        {"baseline", scan_json(report.baseline, result.baseline_rate_k_min)},
        {"composition", report.request.composition},
        {"molar_mass_g_mol", m},
        {"fit", to_json(result.summary)},
        {"range_given", result.range_given},
        {"range_lo_k", number(result.range_lo_k)},
        {"range_hi_k", number(result.range_hi_k)},
        {"onset_k", number(result.onset_k)},
        {"peak_k", number(result.peak_k)},
        {"end_k", number(result.end_k)},
        {"peak_w_g", number(result.peak_w_g)},
        {"points", result.points},
        {"delta_h_j_g", number(result.delta_h_j_g)},
        {"delta_h_stderr_j_g", number(result.delta_h_stderr_j_g)},
        {"delta_h_kj_mol", number(report.delta_h_kj_mol)},
        {"delta_h_stderr_kj_mol", number(analysis::j_g_to_kj_mol(result.delta_h_stderr_j_g, m))},
        {"noise_w_g", result.noise_w_g},
        {"noise_term_j_g", number(result.noise_term_j_g)},
        {"offset_term_j_g", number(result.offset_term_j_g)},
        {"work_done_kj_mol", work_done ? Json(*work_done) : Json()},
        {"work_done_source", work_done ? Json(report.work_done_source) : Json()},
        {"delta_h_over_work_done", optional_number(work_done.has_value(), report.over_work_done)},
        {"reference_kj_mol", reference ? Json(*reference) : Json()},
        {"delta_delta_h_kj_mol", optional_number(reference.has_value(), report.delta_delta_h)},
        {"delta_delta_h_over_work_done",
         optional_number(reference && work_done, report.delta_delta_over_work_done)}};
}

void print_dsc_text(std::ostream& out, const DscReport& report) {
    const auto& sample = report.sample;
    const auto& baseline = report.baseline;
    const auto& result = report.result;
    const double m = report.request.molar_mass_g_mol;
    out << io::format("dsc: %s (%s, %zu points) - %s (%s, %zu points), %.3g K/min\n",
                      sample.path.c_str(), sample.format.c_str(), sample.line_of_row.size(),
                      baseline.path.c_str(), baseline.format.c_str(), baseline.line_of_row.size(),
                      result.sample_rate_k_min);
    if (!result.summary.usable) {
        out << "delta H — (" << result.summary.message << ")\n";
        return;
    }
    out << io::format(
        "exotherm %.2f .. %.2f K (%s): onset %.2f K, peak %.2f K (%.4g W/g), end %.2f K\n",
        result.range_lo_k, result.range_hi_k, result.range_given ? "given" : "detected",
        result.onset_k, result.peak_k, result.peak_w_g, result.end_k);
    out << io::format("delta H %.4g ± %.2g J/g = %.4g ± %.2g kJ/mol (M %.3f g/mol)\n",
                      result.delta_h_j_g, result.delta_h_stderr_j_g, report.delta_h_kj_mol,
                      analysis::j_g_to_kj_mol(result.delta_h_stderr_j_g, m), m);
    if (report.work_done) {
        out << io::format("work done %.4g kJ/mol (%s): delta H / WD %.4g\n", *report.work_done,
                          report.work_done_source.c_str(), report.over_work_done);
    }
    if (const auto& reference = report.request.reference) {
        out << io::format("delta(delta H) = %.4g - %.4g = %.4g kJ/mol", report.delta_h_kj_mol,
                          *reference, report.delta_delta_h);
        out << (report.work_done
                    ? io::format(", delta(delta H) / WD %.4g\n", report.delta_delta_over_work_done)
                    : std::string("\n"));
    }
}

int analyze_dsc(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(
        args,
        {"composition", "mass-mg", "range", "work-done-kj-mol", "run", "db", "reference-kj-mol"},
        {"exo-down", "json"});
    const auto request = dsc_request(arguments);
    const auto sample = io::read_dsc_file(request.sample_path, request.read_options);
    const auto baseline = io::read_dsc_file(request.baseline_path, request.read_options);
    auto work_done = request.work_done;
    std::string work_done_source = work_done ? "--work-done-kj-mol" : "";
    if (request.run_id) {
        work_done = stored_work_done_kj_mol(*request.db, *request.run_id);
        work_done_source = "run " + std::to_string(*request.run_id) + " in " + *request.db;
    }

    const auto result = analysis::analyze_dsc(sample.scan, baseline.scan, request.options);
    if (result.summary.status == analysis::FitStatus::invalid_input) {
        throw io::InputError(sample.path + ", " + baseline.path + ": " + result.summary.message);
    }
    const double delta_h_kj_mol =
        analysis::j_g_to_kj_mol(result.delta_h_j_g, request.molar_mass_g_mol);
    const double delta_delta_h = request.reference ? delta_h_kj_mol - *request.reference : 0;
    const DscReport report{
        .request = request,
        .sample = sample,
        .baseline = baseline,
        .result = result,
        .work_done = work_done,
        .work_done_source = work_done_source,
        .delta_h_kj_mol = delta_h_kj_mol,
        .over_work_done = work_done ? delta_h_kj_mol / *work_done : 0,
        .delta_delta_h = delta_delta_h,
        .delta_delta_over_work_done = work_done ? delta_delta_h / *work_done : 0};
    if (arguments.flag("json")) {
        print_json(out, dsc_json(report));
    } else {
        print_dsc_text(out, report);
    }
    return report_fits(err, {{"DSC exotherm", result.summary}});
}

}  // namespace

int run_analyze(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        print_help(err, *find_help("analyze"));
        return exit_bad_input;
    }
    const std::string kind(args.front());
    const auto rest = args.subspan(1);
    try {
        if (kind == "recovery") {
            return detail::analyze_recovery(rest, out, err);
        }
        if (kind == "creep") {
            return detail::analyze_creep(rest, out, err);
        }
        if (kind == "cycling") {
            return analyze_cycling(rest, out, err);
        }
        if (kind == "arrhenius") {
            return analyze_arrhenius(rest, out, err);
        }
        if (kind == "dsc") {
            return analyze_dsc(rest, out, err);
        }
        err << "dmacycle analyze: unknown analysis '" << kind
            << "' (recovery, creep, cycling, arrhenius or dsc)\n";
    } catch (const io::InputError& error) {
        err << "dmacycle: " << error.what() << "\n";
    } catch (const io::UsageError& error) {
        err << "dmacycle analyze " << kind << ": " << error.what()
            << " (see dmacycle analyze --help)\n";
    } catch (const std::exception& error) {
        // Out of memory on a huge file, or a library refusing data: still one line, no abort.
        err << "dmacycle analyze " << kind << ": " << error.what() << "\n";
    }
    return exit_bad_input;
}

}  // namespace dmacycle::cli
