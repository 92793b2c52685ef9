#include "dmacycle/report/report.hpp"

#include <string>
#include <vector>

#include "dmacycle/report/svg_plot.hpp"
#include "figures.hpp"
#include "page.hpp"
#include "report_data.hpp"
#include "tables.hpp"

// The report of one run: its figures, a note on what is missing, the summary tables.
namespace dmacycle::report {
namespace {

using svg::escape;

// The run's figures in the page's order, each only when its data are stored.
std::vector<RenderedFigure> run_figures(const RunData& data) {
    const std::vector<const RunData*> runs = {&data};
    std::vector<RenderedFigure> figures;
    if (data.samples > 0) {
        figures.push_back({"strain",
                           "Strain ε and stress σ against the time since loading over the cycling "
                           "and the recovery (as the paper's Fig. 1b–d); dashed lines mark where "
                           "each segment starts.",
                           svg::render(strain_figure(data, "strain"))});
    }
    if (const auto figure = recovery_figure(data, "recovery")) {
        figures.push_back({"recovery",
                           "The recovery against t − t₀ (log scale): measured strain (every "
                           "sample at log-spaced times), the eq. (2) spectrum model and the "
                           "eq. (3) KWW fit (as Fig. 2a).",
                           svg::render(*figure)});
    }
    if (const auto figure = spectrum_figure(runs, "spectrum")) {
        figures.push_back({"spectrum",
                           "Discrete relaxation-time spectrum ε_i against τ_i of the eq. (2) fit, "
                           "its peaks marked (as Fig. 2b).",
                           svg::render(*figure)});
    }
    if (const auto figure = instant_figure(runs, "instant_kww")) {
        figures.push_back({"instant_kww",
                           "Instant β_KWW and τ_KWW (local slope of ln ln) against the recovery "
                           "time, with the global eq. (3) values dashed (as Fig. 2c–d).",
                           svg::render(*figure)});
    }
    if (const auto figure = work_figure(runs, "work_done")) {
        figures.push_back(
            {"work_done",
             "v_total over the cycling (eq. 4, cumulated per cycle: σ_creep·ε_creep,k "
             "+ ½·Σ loop areas) and the recovery (eq. 5: v_an(t) + v_vp + v_diss "
             "from the eq. (2) fit) (as Fig. 3b).",
             svg::render(*figure)});
    }
    if (const auto figure = tan_delta_figure(data, "tan_delta")) {
        figures.push_back({"tan_delta",
                           "DMTA scan: loss factor tan δ against the sample temperature, one "
                           "series per frequency; the located β peaks marked (as Fig. 5b).",
                           svg::render(*figure)});
    }
    if (const auto figure = arrhenius_figure(data, "arrhenius")) {
        figures.push_back({"arrhenius",
                           "Arrhenius plot: ln f against 1000/T_p of the tan δ peaks and the "
                           "fit f = f₀·exp(−E_β/(k_B·T_p)) (as Fig. 5c).",
                           svg::render(*figure)});
    }
    return figures;
}

std::string intro_of(const RunData& data) {
    return "<p>Run " + std::to_string(data.run.id) + ", sample <b>" + escape(data.run.sample_id) +
           "</b>, " + escape(data.condition) + ", status <b>" + escape(data.run.status) +
           "</b>. Times are the instrument's, since the start of loading; strain in % in the "
           "figures and dimensionless in the tables.</p>\n" +
           results_note(data);
}

}  // namespace

std::filesystem::path write_run_report(const store::RunArchive& archive, std::int64_t run_id,
                                       const std::filesystem::path& out_dir) {
    check_report_dir(out_dir);
    const RunData data = load_run(archive, run_id);
    const std::vector<RenderedFigure> figures = run_figures(data);
    const std::string title = "Run " + std::to_string(data.run.id) + ": " + data.run.sample_id;
    std::string missing;
    if (data.results.count("spectrum") && !fit_usable(data, "spectrum")) {
        missing = "<p class=\"note\">The spectrum fit is not usable: " +
                  text_of(data, "spectrum.spectrum.fit.message") + "</p>\n";
    }
    return publish(
        out_dir,
        page(title, intro_of(data), missing, figures, "<h2>Summary</h2>\n" + run_tables(data)),
        figures);
}

}  // namespace dmacycle::report
