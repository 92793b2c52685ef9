#pragma once
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/report/svg_plot.hpp"
#include "report_data.hpp"

// The paper's figures of stored runs (docs/report.md "Figures of one run"); those taking several
// runs overlay them, one series per condition. A figure whose data are missing is nullopt.
namespace dmacycle::report {

// Builders for the plot structs (designated initializers that leave members out warn in g++).
svg::Axis axis(const std::string& label, svg::Scale scale = svg::Scale::linear);
svg::Panel panel_of(svg::Axis x, svg::Axis y);
svg::Series series_of(const std::string& name, svg::Style style = svg::Style::line,
                      const std::string& color = "", bool dashed = false);
svg::Series series_of(const std::string& name, std::vector<double> x, std::vector<double> y,
                      svg::Style style = svg::Style::line, bool dashed = false);
svg::Figure figure_of(const std::string& id, const std::string& title,
                      std::vector<svg::Panel> panels, int panel_height_px = 330);

// Hours, or minutes for runs shorter than two hours, for every time axis of a figure.
struct TimeUnit {
    double seconds = 3600;
    std::string symbol = "h";
};
TimeUnit time_unit(const std::vector<const RunData*>& runs);

// Strain and, below, stress against the time since loading (Fig. 1b–d).
svg::Figure strain_figure(const RunData& data, const std::string& id);
// The recovery on a log time axis with the eq. (2) and eq. (3) fits (Fig. 2a).
std::optional<svg::Figure> recovery_figure(const RunData& data, const std::string& id);
// The eq. (2) relaxation-time spectrum (Fig. 2b).
std::optional<svg::Figure> spectrum_figure(const std::vector<const RunData*>& runs,
                                           const std::string& id);
// Instant β_KWW and τ_KWW during the recovery (Fig. 2c–d).
std::optional<svg::Figure> instant_figure(const std::vector<const RunData*>& runs,
                                          const std::string& id);
// v_total over the cycling and the recovery (Fig. 3b).
std::optional<svg::Figure> work_figure(const std::vector<const RunData*>& runs,
                                       const std::string& id);
// tan δ against the sample temperature, one series per frequency, the located β peaks marked
// (as the paper's Fig. 5b).
std::optional<svg::Figure> tan_delta_figure(const RunData& data, const std::string& id);
// ln f against 1000/T_p of the located peaks with the fitted line f = f0 exp(−E_β/(k_B T))
// (as the paper's Fig. 5c).
std::optional<svg::Figure> arrhenius_figure(const RunData& data, const std::string& id);

}  // namespace dmacycle::report
