#include "tables.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

#include "dmacycle/io/text.hpp"
#include "dmacycle/report/svg_plot.hpp"

namespace dmacycle::report {
namespace {

using svg::escape;

std::string row(const std::string& name, const std::string& value, const std::string& unit = "") {
    return "<tr><th>" + name + "</th><td>" + value + "</td><td class=\"unit\">" + unit +
           "</td></tr>\n";
}

std::string fit_rows(const RunData& data, const std::string& fit_key) {
    return row("fit status", text_of(data, fit_key + ".status")) +
           row("usable", text_of(data, fit_key + ".usable")) +
           row("message", text_of(data, fit_key + ".message"));
}

std::string run_table(const RunData& data) {
    const auto& run = data.run;
    std::ostringstream html;
    html << "<table class=\"kv\"><caption>Run</caption>\n"
         << row("run", number(data, "run.id", static_cast<double>(run.id), std::to_string(run.id)))
         << row("sample", escape(run.sample_id)) << row("condition", escape(data.condition))
         << row("profile", escape(run.profile)) << row("status", escape(run.status));
    if (run.job_id != 0) {
        html << row("job, sweep point",
                    number(data, "run.job_id", static_cast<double>(run.job_id),
                           std::to_string(run.job_id)) +
                        ", " +
                        number(data, "run.sweep_point", static_cast<double>(run.sweep_point),
                               std::to_string(run.sweep_point)));
    }
    html << row("created", escape(run.created_utc), "UTC")
         << row("started", escape(run.started_utc.empty() ? "\u2013" : run.started_utc), "UTC")
         << row("ended", escape(run.ended_utc.empty() ? "\u2013" : run.ended_utc), "UTC")
         << row("software", escape(run.software_version))
         << row("instruments", escape(run.instrument_identity)) << "</table>\n";
    return html.str();
}

std::string segments_table(const RunData& data) {
    std::ostringstream html;
    html << "<table><caption>Segments (first and last sample of each tag)</caption>\n"
         << "<tr><th>segment</th><th>from t (s)</th><th>to t (s)</th><th>samples</th></tr>\n";
    for (const auto& span : data.spans) {
        const std::string key = "segments." + span.name;
        html << "<tr><td>" << escape(span.name) << "</td><td>"
             << number(data, key + ".t_start_s", span.t_start_s, io::format("%.1f", span.t_start_s))
             << "</td><td>"
             << number(data, key + ".t_end_s", span.t_end_s, io::format("%.1f", span.t_end_s))
             << "</td><td>"
             << number(data, key + ".samples", static_cast<double>(span.samples),
                       std::to_string(span.samples))
             << "</td></tr>\n";
    }
    html << "</table>\n";
    return html.str();
}

std::string cycles_and_recovery_table(const RunData& data) {
    std::ostringstream html;
    html << "<table class=\"kv\"><caption>Cycles and recovery</caption>\n";
    html << row("cycles", number(data, "cycles.count", static_cast<double>(data.cycles.size()),
                                 std::to_string(data.cycles.size())));
    if (!data.cycles.empty()) {
        double lo = data.cycles.front().stress_min_pa, hi = data.cycles.front().stress_max_pa;
        for (const auto& cycle : data.cycles) {
            lo = std::min(lo, cycle.stress_min_pa);
            hi = std::max(hi, cycle.stress_max_pa);
        }
        // Stored in Pa (the data-value), shown in MPa.
        html << row("stress range of the cycles",
                    number(data, "cycles.stress_min_pa", lo, io::format("%.2f", lo / 1e6)) +
                        " \u2013 " +
                        number(data, "cycles.stress_max_pa", hi, io::format("%.2f", hi / 1e6)),
                    "MPa");
    }
    if (const auto strains = recovery_strains(data)) {
        html << row("initial strain (first recovery sample)",
                    number(data, "recovery.strain_initial", strains->initial,
                           shown(strains->initial)))
             << row("final strain (last recovery sample)",
                    number(data, "recovery.strain_final", strains->final_, shown(strains->final_)))
             << row("anelastic strain recovered (initial − final)",
                    number(data, "recovery.strain_anelastic", strains->anelastic,
                           shown(strains->anelastic)));
    }
    html << "</table>\n";
    return html.str();
}

std::string work_done_table(const RunData& data) {
    return "<table class=\"kv\"><caption>Work done (eqs. 4 and 5)</caption>\n" +
           row("work done WD", result_cell(data, "work_done.work_done_kj_mol"), "kJ/mol") +
           row("v_creep", result_cell(data, "work_done.v_creep_j_m3"), "J/m³") +
           row("v_cycling", result_cell(data, "work_done.v_cycling_j_m3"), "J/m³") +
           row("v_total", result_cell(data, "work_done.v_total_j_m3"), "J/m³") +
           row("σ_creep", mpa_cell(data, "work_done.stress_creep_pa"), "MPa") +
           row("ε_creep (last cycle)", result_cell(data, "work_done.strain_creep")) +
           row("complete cycles", result_cell(data, "work_done.cycles")) +
           row("molar mass", result_cell(data, "work_done.molar_mass_g_mol"), "g/mol") +
           fit_rows(data, "work_done.fit") + "</table>\n";
}

std::string spectrum_tables(const RunData& data) {
    std::ostringstream html;
    html << "<table><caption>Spectrum peaks (eq. 2)</caption>\n"
         << "<tr><th>peak</th><th>τ (s)</th><th>strain ε ± standard error</th><th>strain at "
            "unloading</th>"
            "<th>at the grid's edge</th></tr>\n";
    for (std::size_t k = 0; result_at(data, io::format("spectrum.peaks.%zu", k)); ++k) {
        const std::string key = io::format("spectrum.peaks.%zu", k);
        html << "<tr><td>" << k + 1 << "</td><td>" << result_cell(data, key + ".tau_s")
             << "</td><td>" << result_cell(data, key + ".strain", key + ".strain_stderr")
             << "</td><td>" << result_cell(data, key + ".strain_at_unload") << "</td><td>"
             << text_of(data, key + ".at_grid_edge") << "</td></tr>\n";
    }
    html << "</table>\n<table class=\"kv\"><caption>Spectrum fit (eq. 2)</caption>\n"
         << row("ε_vp = ε̇_vp·t₀", result_cell(data, "spectrum.strain_vp"))
         << row("ε̇_vp", result_cell(data, "spectrum.strain_rate_vp"), "1/s")
         << row("loading time t₀", result_cell(data, "spectrum.t0_s"), "s")
         << row("strain beyond the window", result_cell(data, "spectrum.strain_beyond_window"))
         << row("window", result_cell(data, "spectrum.window_s"), "s")
         << row("λ", result_cell(data, "spectrum.lambda"))
         << row("λ by the evidence", result_cell(data, "spectrum.lambda_evidence"))
         << row("noise of one sample", result_cell(data, "spectrum.noise_estimate"))
         << row("noise lag-1 correlation", result_cell(data, "spectrum.noise_correlation"))
         << row("rms residual (weighted over the bins)", result_cell(data, "spectrum.rms_residual"))
         << row("samples read", result_cell(data, "spectrum.samples"))
         << row("log-time bins fitted", result_cell(data, "spectrum.bins"))
         << row("misfit", text_of(data, "spectrum.misfit"))
         << fit_rows(data, "spectrum.spectrum.fit") << "</table>\n";
    return html.str();
}

std::string kww_table(const RunData& data) {
    return "<table class=\"kv\"><caption>KWW fit (eq. 3), ± standard error from the "
           "noise</caption>\n" +
           row("ε_an", result_cell(data, "kww.strain_an", "kww.strain_an_stderr")) +
           row("τ_KWW", result_cell(data, "kww.tau_s", "kww.tau_s_stderr"), "s") +
           row("β_KWW", result_cell(data, "kww.beta", "kww.beta_stderr")) +
           row("ε_vp", result_cell(data, "kww.strain_vp", "kww.strain_vp_stderr")) +
           row("rms residual", result_cell(data, "kww.rms_residual")) +
           row("misfit (rms residual / noise's)", result_cell(data, "kww.misfit_ratio")) +
           fit_rows(data, "kww.fit") + "</table>\n";
}

std::string single_tau_table(const RunData& data) {
    return "<table class=\"kv\"><caption>Single-τ fit (eq. 1), ± standard error from the "
           "noise</caption>\n" +
           row("τ", result_cell(data, "single_tau.tau_s", "single_tau.tau_s_stderr"), "s") +
           row("ε_an", result_cell(data, "single_tau.strain_an", "single_tau.strain_an_stderr")) +
           row("ε_vp", result_cell(data, "single_tau.strain_vp")) +
           row("ε̇_vp", result_cell(data, "single_tau.strain_rate_vp"), "1/s") +
           row("rms residual", result_cell(data, "single_tau.rms_residual")) +
           row("misfit (rms residual / noise's)", result_cell(data, "single_tau.misfit_ratio")) +
           fit_rows(data, "single_tau.fit") + "</table>\n";
}

std::string arrhenius_tables(const RunData& data) {
    std::ostringstream html;
    html << "<table class=\"kv\"><caption>β relaxation: Arrhenius fit of the tan δ peaks, "
            "± standard error</caption>\n"
         << row("E_β", result_cell(data, "arrhenius.e_beta_ev", "arrhenius.e_beta_stderr_ev"), "eV")
         << row("ln f₀ (f₀ in Hz)", result_cell(data, "arrhenius.ln_f0", "arrhenius.ln_f0_stderr"))
         << row("DMTA measurements", result_cell(data, "arrhenius.points"))
         << fit_rows(data, "arrhenius.fit") << "</table>\n"
         << "<table><caption>tan δ peaks</caption>\n"
         << "<tr><th>frequency (Hz)</th><th>peak temperature T_p (K)</th><th>fit</th></tr>\n";
    for (std::size_t k = 0; result_at(data, io::format("arrhenius.peaks.%zu", k)); ++k) {
        const std::string key = io::format("arrhenius.peaks.%zu", k);
        html << "<tr><td>" << result_cell(data, key + ".frequency_hz") << "</td><td>"
             << result_cell(data, key + ".temperature_k", key + ".temperature_stderr_k")
             << "</td><td>" << text_of(data, key + ".fit.status") << "</td></tr>\n";
    }
    html << "</table>\n";
    return html.str();
}

std::string instant_kww_table(const RunData& data) {
    return "<table class=\"kv\"><caption>Instant β_KWW, τ_KWW</caption>\n" +
           row("strain noise", result_cell(data, "instant_kww.noise")) +
           fit_rows(data, "instant_kww.fit") + "</table>\n";
}

std::string events_table(const RunData& data) {
    std::ostringstream html;
    html << "<table><caption>Events</caption>\n"
         << "<tr><th>t (s)</th><th>kind</th><th>message</th></tr>\n";
    for (std::size_t i = 0; i < data.events.size(); ++i) {
        const auto& event = data.events[i];
        html << "<tr><td>"
             << number(data, io::format("events.%zu.t_s", i), event.t_s,
                       io::format("%.1f", event.t_s))
             << "</td><td>" << escape(event.kind) << "</td><td>" << escape(event.message)
             << "</td></tr>\n";
    }
    html << "</table>\n";
    return html.str();
}

}  // namespace

std::string number(const RunData& data, const std::string& key, double value,
                   const std::string& shown) {
    return "<span data-run=\"" + std::to_string(data.run.id) + "\" data-key=\"" + escape(key) +
           "\" data-value=\"" + io::format("%.17g", value) + "\">" + escape(shown) + "</span>";
}

std::string shown(double value) {
    return io::format("%.4g", value);
}

std::string result_cell(const RunData& data, const std::string& key,
                        const std::string& stderr_key) {
    const auto value = result_number(data, key);
    if (!value) {
        return "\u2013";
    }
    std::string cell = number(data, key, *value, shown(*value));
    if (const auto error = stderr_key.empty() ? std::nullopt : result_number(data, stderr_key)) {
        cell += " ";  // apart: " " + a temporary string trips g++ 12's false -Wrestrict here
        cell += number(data, stderr_key, *error, "\u00b1 " + io::format("%.2g", *error));
    }
    return cell;
}

std::string mpa_cell(const RunData& data, const std::string& key) {
    const auto pa = result_number(data, key);
    return pa ? number(data, key, *pa, shown(*pa / 1e6)) : "\u2013";
}

std::string text_of(const RunData& data, const std::string& key) {
    const Json* node = result_at(data, key);
    if (!node) {
        return "\u2013";
    }
    return escape(node->is_string() ? node->get<std::string>() : node->dump());
}

std::string run_tables(const RunData& data) {
    // The result tables in a fixed order, each only when its result is stored.
    static const std::pair<const char*, std::string (*)(const RunData&)> result_tables[] = {
        {"work_done", work_done_table},
        {"spectrum", spectrum_tables},
        {"kww", kww_table},
        {"single_tau", single_tau_table},
        {"arrhenius", arrhenius_tables},
        {"instant_kww", instant_kww_table}};
    std::string html = run_table(data) + segments_table(data) + cycles_and_recovery_table(data);
    for (const auto& [kind, table] : result_tables) {
        if (data.results.count(kind)) {
            html += table(data);
        }
    }
    return html + events_table(data);
}

std::string results_note(const RunData& data) {
    if (!data.results.empty()) {
        return "";
    }
    std::string why;
    for (const auto& event : data.events) {
        if (event.kind == "interlock" || event.kind == "operator") {
            why = " (" + event.kind + ": " + event.message + ")";
            break;
        }
    }
    return "<p class=\"note\">Run " + std::to_string(data.run.id) + " is " +
           escape(data.run.status) + escape(why) +
           ": no analysis results are stored (the analysis runs only after a completed "
           "recovery). This report shows the acquired data only.</p>\n";
}

}  // namespace dmacycle::report
