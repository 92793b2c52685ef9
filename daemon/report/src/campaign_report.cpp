#include "dmacycle/report/report.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/report/svg_plot.hpp"
#include "figures.hpp"
#include "page.hpp"
#include "report_data.hpp"
#include "tables.hpp"

// The campaign report of several runs (docs/report.md "Campaign report"): the conditions side by
// side in its own figures and table, the figures of one run overlaid, then each run's tables.
namespace dmacycle::report {
namespace {

using svg::escape;

// Conditions as categories; a condition that occurs twice gets its run id.
std::vector<std::string> condition_labels(const std::vector<RunData>& data) {
    std::vector<std::string> labels;
    for (const auto& run : data) {
        const auto same = std::count_if(data.begin(), data.end(), [&](const RunData& other) {
            return other.condition == run.condition;
        });
        labels.push_back(same > 1 ? run.condition + " (run " + std::to_string(run.run.id) + ")"
                                  : run.condition);
    }
    return labels;
}

// Initial, final and anelastic strain of the recovery per condition (Fig. 1e).
RenderedFigure recovery_strains_figure(const std::vector<RunData>& data) {
    auto panel = panel_of(axis("condition (σ_min–σ_max)"), axis("strain ε (%)"));
    panel.x.categories = condition_labels(data);
    auto initial = series_of("initial (start of recovery)", svg::Style::line_and_markers);
    auto final_ = series_of("final (end of recovery)", svg::Style::line_and_markers);
    auto anelastic = series_of("anelastic (initial − final)", svg::Style::line_and_markers);
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (const auto strains = recovery_strains(data[i])) {
            const auto x = static_cast<double>(i);
            initial.x.push_back(x);
            initial.y.push_back(strains->initial * 100);
            final_.x.push_back(x);
            final_.y.push_back(strains->final_ * 100);
            anelastic.x.push_back(x);
            anelastic.y.push_back(strains->anelastic * 100);
        }
    }
    panel.series = {initial, final_, anelastic};
    return {"strains",
            "Initial, final and anelastic strain of the recovery per condition (as "
            "the paper's Fig. 1e; definitions in docs/report.md).",
            svg::render(figure_of("strains", "Initial, final and anelastic strain", {panel}))};
}

// KWW β and τ of the recovery per condition, each ± its standard error (Table S1's fits).
RenderedFigure kww_figure(const std::vector<RunData>& data) {
    auto beta = panel_of(axis("condition (σ_min–σ_max)"), axis("β_KWW (dimensionless)"));
    auto tau = panel_of(axis("condition (σ_min–σ_max)"), axis("τ_KWW (s)"));
    beta.x.categories = tau.x.categories = condition_labels(data);
    auto beta_series = series_of("eq. (3) fit ± standard error", svg::Style::markers);
    auto tau_series = series_of("eq. (3) fit ± standard error", svg::Style::markers);
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto add = [&](svg::Series& series, const char* key, const char* stderr_key) {
            const auto value = result_number(data[i], key);
            if (!value || !fit_usable(data[i], "kww")) {
                return;
            }
            const double error = result_number(data[i], stderr_key).value_or(0.0);
            series.x.push_back(static_cast<double>(i));
            series.y.push_back(*value);
            series.y_low.push_back(*value - error);
            series.y_high.push_back(*value + error);
        };
        add(beta_series, "kww.beta", "kww.beta_stderr");
        add(tau_series, "kww.tau_s", "kww.tau_s_stderr");
    }
    beta.series = {beta_series};
    tau.series = {tau_series};
    return {
        "kww",
        "KWW β and τ of the recovery per condition, each with its standard error (the "
        "noise's, docs/analysis.md) as an error bar.",
        svg::render(figure_of("kww", "KWW fit of the recovery per condition", {beta, tau}, 260))};
}

// Strain against the time since loading, one curve per condition (Fig. 1b–d).
RenderedFigure strain_curves_figure(const std::vector<RunData>& data,
                                    const std::vector<const RunData*>& runs) {
    const auto unit = time_unit(runs);
    auto panel = panel_of(axis("time since loading t (" + unit.symbol + ")"), axis("strain ε (%)"));
    for (const auto& run : data) {
        auto series = series_of(run.condition);
        for (const auto& p : run.trace) {
            if (p.t_s >= run.zero_s && p.t_s <= run.plan_end_s) {
                series.x.push_back((p.t_s - run.zero_s) / unit.seconds);
                series.y.push_back(p.strain * 100);
            }
        }
        panel.series.push_back(std::move(series));
    }
    return {"strain",
            "Strain against the time since loading, one curve per condition (as "
            "Fig. 1b–d).",
            svg::render(figure_of("strain", "Strain over cycling and recovery", {panel}))};
}

// The campaign's figures in the page's order, the overlays only when some run has their data.
std::vector<RenderedFigure> campaign_figures(const std::vector<RunData>& data) {
    std::vector<const RunData*> runs;
    for (const auto& run : data) {
        runs.push_back(&run);
    }
    std::vector<RenderedFigure> figures = {recovery_strains_figure(data),
                                           strain_curves_figure(data, runs), kww_figure(data)};
    if (const auto figure = spectrum_figure(runs, "spectrum")) {
        figures.push_back(
            {"spectrum", "Relaxation-time spectra overlaid (as Fig. 2b).", svg::render(*figure)});
    }
    if (const auto figure = instant_figure(runs, "instant_kww")) {
        figures.push_back({"instant_kww", "Instant β_KWW and τ_KWW overlaid (as Fig. 2c–d).",
                           svg::render(*figure)});
    }
    if (const auto figure = work_figure(runs, "work_done")) {
        figures.push_back({"work_done",
                           "v_total over cycling (per cycle) and recovery (eq. 5) overlaid (as "
                           "Fig. 3).",
                           svg::render(*figure)});
    }
    return figures;
}

std::string conditions_row(const RunData& run) {
    const auto strains = recovery_strains(run);
    const auto strain_cell = [&](const char* key, double RecoveryStrains::*field) {
        return strains ? number(run, key, (*strains).*field, shown((*strains).*field))
                       : std::string("\u2013");
    };
    std::ostringstream html;
    html << "<tr><td>"
         << number(run, "run.id", static_cast<double>(run.run.id), std::to_string(run.run.id))
         << "</td><td>" << escape(run.run.sample_id) << "</td><td>" << escape(run.condition)
         << "</td><td>" << escape(run.run.status) << "</td><td>"
         << strain_cell("recovery.strain_initial", &RecoveryStrains::initial) << "</td><td>"
         << strain_cell("recovery.strain_final", &RecoveryStrains::final_) << "</td><td>"
         << strain_cell("recovery.strain_anelastic", &RecoveryStrains::anelastic) << "</td><td>"
         << result_cell(run, "work_done.work_done_kj_mol") << "</td><td>"
         << result_cell(run, "work_done.v_total_j_m3") << "</td><td>"
         << result_cell(run, "kww.beta", "kww.beta_stderr") << "</td><td>"
         << result_cell(run, "kww.tau_s", "kww.tau_s_stderr") << "</td></tr>\n";
    return html.str();
}

// One row per run: the condition, the recovery strains and the main results.
std::string conditions_table(const std::vector<RunData>& data) {
    std::string html =
        "<h2>Conditions</h2>\n<table "
        "class=\"conditions\"><tr><th>run</th><th>sample</th><th>condition</th>"
        "<th>status</th><th>initial ε</th><th>final ε</th><th>anelastic ε</th>"
        "<th>WD (kJ/mol)</th><th>v_total (J/m³)</th><th>β_KWW</th><th>τ_KWW (s)</th>"
        "</tr>\n";
    for (const auto& run : data) {
        html += conditions_row(run);
    }
    return html + "</table>\n";
}

std::string campaign_intro(const std::vector<RunData>& data) {
    std::string notes;
    for (const auto& run : data) {
        notes += results_note(run);
    }
    return "<p>" + std::to_string(data.size()) +
           " runs; conditions are the cycling's stress range σ_min–σ_max in "
           "whole MPa (docs/report.md).</p>\n" +
           notes;
}

// Each run's summary tables under a heading naming it.
std::string campaign_tables(const std::vector<RunData>& data) {
    std::string tables;
    for (const auto& run : data) {
        tables += "<h2 id=\"run-" + std::to_string(run.run.id) + "\">Run " +
                  std::to_string(run.run.id) + ": " + escape(run.run.sample_id) + ", " +
                  escape(run.condition) + "</h2>\n" + run_tables(run);
    }
    return tables;
}

}  // namespace

std::filesystem::path write_campaign_report(const store::RunArchive& archive,
                                            const std::vector<std::int64_t>& run_ids,
                                            const std::string& title,
                                            const std::filesystem::path& out_dir) {
    check_report_dir(out_dir);
    std::vector<RunData> data;
    for (auto id : run_ids) {
        data.push_back(load_run(archive, id));
    }
    const auto figures = campaign_figures(data);
    return publish(
        out_dir,
        page(title, campaign_intro(data), conditions_table(data), figures, campaign_tables(data)),
        figures);
}

}  // namespace dmacycle::report
