#include "figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/analysis/numerics.hpp"
#include "dmacycle/io/text.hpp"

namespace dmacycle::report {
namespace {

constexpr double j_per_mj = 1e6;
constexpr int recovery_markers = 120;  // data points drawn over the fits (log-spaced)
constexpr int model_points = 300;

// 3 significant digits, a power of ten written as ×10 and a superscript exponent.
std::string pretty(double value) {
    auto text = io::format("%.3g", value);
    const auto e = text.find('e');
    if (e == std::string::npos) {
        return text;
    }
    static const char* const superscripts[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    std::string power;
    for (char c : std::to_string(std::stoi(text.substr(e + 1)))) {
        power += c == '-' ? "⁻" : superscripts[c - '0'];
    }
    return text.substr(0, e) + "×10" + power;
}

// About `count` samples at log-spaced recovery times (t − t0 > 0), for markers over fits.
svg::Series log_spaced_markers(const std::vector<std::pair<double, double>>& points, int count,
                               double scale) {
    auto series = series_of("measured", svg::Style::markers);
    const auto first_positive =
        std::find_if(points.begin(), points.end(), [](const auto& p) { return p.first > 0; });
    if (first_positive == points.end()) {
        return series;
    }
    std::size_t last = points.size();
    for (double target : analysis::log_space(first_positive->first, points.back().first, count)) {
        const auto at = std::lower_bound(first_positive, points.end(), target,
                                         [](const auto& p, double t) { return p.first < t; });
        const auto index = static_cast<std::size_t>(at - points.begin());
        if (at != points.end() && index != last) {
            series.x.push_back(at->first);
            series.y.push_back(at->second * scale);
            last = index;
        }
    }
    return series;
}

std::string time_axis_label(const RunData& data, const TimeUnit& unit) {
    return (data.loaded ? "time since loading t (" : "time since the run's start t (") +
           unit.symbol + ")";
}

// Eq. (2) and eq. (3) model curves over the recovery, strain in %.
void add_recovery_fits(const RunData& data, double t_first, double t_last,
                       std::vector<svg::Series>& series) {
    const auto times = analysis::log_space(t_first, t_last, model_points);
    if (const auto vp = result_number(data, "spectrum.strain_vp");
        vp && spectrum_anelastic(data, 0)) {
        auto fit = series_of("eq. (2) spectrum fit");
        for (double t : times) {
            fit.x.push_back(t);
            fit.y.push_back((*spectrum_anelastic(data, t) + *vp) * 100);
        }
        series.push_back(std::move(fit));
    }
    const auto an = result_number(data, "kww.strain_an");
    const auto tau = result_number(data, "kww.tau_s");
    const auto beta = result_number(data, "kww.beta");
    const auto vp = result_number(data, "kww.strain_vp");
    if (an && tau && beta && vp && *tau > 0) {
        auto fit = series_of("eq. (3) KWW fit", svg::Style::line, "", true);
        for (double t : times) {
            fit.x.push_back(t);
            fit.y.push_back((*an * std::exp(-std::pow(t / *tau, *beta)) + *vp) * 100);
        }
        series.push_back(std::move(fit));
    }
}

// v_total over the cycling (eq. 4, cumulated per cycle) and the recovery (eq. 5:
// v_an(t) + v_vp + v_diss from the eq. (2) fit), in MJ/m³ against the time since loading.
struct WorkSeries {
    svg::Series cycling, recovery, an, vp, diss;
};

std::optional<WorkSeries> work_series(const RunData& data, const TimeUnit& unit) {
    const Json* work = result_at(data, "work_done");
    const auto sigma = result_number(data, "work_done.stress_creep_pa");
    const auto v_cycling = result_number(data, "work_done.v_cycling_j_m3");
    if (!work || !sigma || !v_cycling) {
        return std::nullopt;
    }
    WorkSeries out;
    out.cycling.style = svg::Style::line_and_markers;
    // The per-cycle times are plan times; the cycles rows hold the same cycles in run time.
    const Json per_cycle = work->value("per_cycle", Json::array());
    const double offset =
        !data.cycles.empty() && !per_cycle.empty()
            ? data.cycles.front().t_start_s - per_cycle.front().value("t_start_s", 0.0)
            : 0.0;
    double loops = 0;
    for (const auto& cycle : per_cycle) {
        loops += cycle.value("loop_area_j_m3", 0.0);
        const double v = *sigma * cycle.value("strain_creep", 0.0) + loops / 2;  // eq. (4)
        out.cycling.x.push_back((cycle.value("t_end_s", 0.0) + offset - data.zero_s) /
                                unit.seconds);
        out.cycling.y.push_back(v / j_per_mj);
    }
    const auto creep = std::find_if(data.spans.begin(), data.spans.end(),
                                    [](const SegmentSpan& span) { return span.name == "creep"; });
    if (per_cycle.empty() && creep != data.spans.end()) {
        // Pure creep: no cycles, v_total(t) = v_creep(t) = σ_creep·ε(t) over the creep (eq. 4
        // with ε_creep the strain reached), at most model_points of its samples.
        out.cycling.style = svg::Style::line;
        std::vector<TracePoint> points;
        for (const auto& p : data.trace) {
            if (p.t_s >= creep->t_start_s && p.t_s <= creep->t_end_s) {
                points.push_back(p);
            }
        }
        const auto step = std::max<std::size_t>(1, points.size() / model_points);
        for (std::size_t i = 0; i < points.size(); i += step) {
            out.cycling.x.push_back((points[i].t_s - data.zero_s) / unit.seconds);
            out.cycling.y.push_back(*sigma * points[i].strain / j_per_mj);
        }
    }
    const auto vp = result_number(data, "spectrum.strain_vp");
    if (data.recovery && vp && spectrum_anelastic(data, 0)) {
        const double start = data.recovery->t_start_s;
        const double length = data.recovery->t_end_s - start;
        const double v_vp = *sigma * *vp;
        const double v_diss = *v_cycling / 2;
        out.vp.dashed = out.an.dashed = out.diss.dashed = true;
        for (int k = 0; k <= model_points; ++k) {
            const double since = length * k / model_points;
            const double v_an = *sigma * *spectrum_anelastic(data, since);
            const double t = (start + since - data.zero_s) / unit.seconds;
            for (auto* series : {&out.recovery, &out.an, &out.vp, &out.diss}) {
                series->x.push_back(t);
            }
            out.recovery.y.push_back((v_an + v_vp + v_diss) / j_per_mj);
            out.an.y.push_back(v_an / j_per_mj);
            out.vp.y.push_back(v_vp / j_per_mj);
            out.diss.y.push_back(v_diss / j_per_mj);
        }
    }
    if (out.cycling.x.empty() && out.recovery.x.empty()) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

svg::Axis axis(const std::string& label, svg::Scale scale) {
    svg::Axis built;
    built.label = label;
    built.scale = scale;
    return built;
}

svg::Panel panel_of(svg::Axis x, svg::Axis y) {
    svg::Panel built;
    built.x = std::move(x);
    built.y = std::move(y);
    return built;
}

svg::Series series_of(const std::string& name, svg::Style style, const std::string& color,
                      bool dashed) {
    svg::Series built;
    built.name = name;
    built.style = style;
    built.color = color;
    built.dashed = dashed;
    return built;
}

svg::Series series_of(const std::string& name, std::vector<double> x, std::vector<double> y,
                      svg::Style style, bool dashed) {
    auto built = series_of(name, style, "", dashed);
    built.x = std::move(x);
    built.y = std::move(y);
    return built;
}

svg::Figure figure_of(const std::string& id, const std::string& title,
                      std::vector<svg::Panel> panels, int panel_height_px) {
    svg::Figure built;
    built.id = id;
    built.title = title;
    built.panels = std::move(panels);
    built.panel_height_px = panel_height_px;
    return built;
}

TimeUnit time_unit(const std::vector<const RunData*>& runs) {
    double longest = 0;
    for (const auto* data : runs) {
        longest = std::max(longest, data->plan_end_s - data->zero_s);
    }
    return longest < 2 * 3600 ? TimeUnit{60, "min"} : TimeUnit{};
}

svg::Figure strain_figure(const RunData& data, const std::string& id) {
    const auto unit = time_unit({&data});
    auto strain = panel_of(axis(time_axis_label(data, unit)), axis("strain ε (%)"));
    auto stress = panel_of(axis(time_axis_label(data, unit)), axis("stress σ (MPa)"));
    auto strain_series = series_of("", svg::Style::line, "#0072B2");
    auto stress_series = series_of("", svg::Style::line, "#D55E00");
    for (const auto& p : data.trace) {
        if (p.t_s < data.zero_s || p.t_s > data.plan_end_s) {
            continue;  // equilibration and hold before time zero; the furnace's cooling after
        }
        const double t = (p.t_s - data.zero_s) / unit.seconds;
        strain_series.x.push_back(t);
        strain_series.y.push_back(p.strain * 100);
        stress_series.x.push_back(t);
        stress_series.y.push_back(p.stress_pa / 1e6);
    }
    for (const auto& span : data.spans) {
        if (span.t_start_s > data.zero_s && span.t_start_s <= data.plan_end_s) {
            const svg::Marker marker{(span.t_start_s - data.zero_s) / unit.seconds, span.name};
            strain.markers.push_back(marker);
            stress.markers.push_back(marker);
        }
    }
    strain.series.push_back(std::move(strain_series));
    stress.series.push_back(std::move(stress_series));
    return figure_of(id, "Strain and stress over cycling and recovery",
                     {std::move(strain), std::move(stress)}, 300);
}

std::optional<svg::Figure> recovery_figure(const RunData& data, const std::string& id) {
    auto markers = log_spaced_markers(data.recovery_curve, recovery_markers, 100);
    if (markers.x.empty()) {
        return std::nullopt;
    }
    markers.color = "#555555";
    auto panel =
        panel_of(axis("recovery time t − t₀ (s)", svg::Scale::log10), axis("strain ε (%)"));
    panel.series.push_back(markers);
    add_recovery_fits(data, markers.x.front(), markers.x.back(), panel.series);
    return figure_of(id, "Strain recovery with the eq. (2) and KWW fits", {std::move(panel)});
}

std::optional<svg::Figure> spectrum_figure(const std::vector<const RunData*>& runs,
                                           const std::string& id) {
    auto panel = panel_of(axis("relaxation time τ (s)", svg::Scale::log10), axis("strain ε_i (%)"));
    for (const auto* data : runs) {
        const auto tau = result_numbers(*data, "spectrum.spectrum.tau_s");
        const auto strain = result_numbers(*data, "spectrum.spectrum.strain");
        if (tau.empty() || tau.size() != strain.size()) {
            continue;
        }
        auto series = series_of(runs.size() > 1 ? data->condition : "ε_i of eq. (2)",
                                svg::Style::line_and_markers);
        series.x = tau;
        for (double value : strain) {
            series.y.push_back(value * 100);
        }
        // The evidence's credible band (docs/analysis.md), when stored.
        const auto low = result_numbers(*data, "spectrum.spectrum.strain_low");
        const auto high = result_numbers(*data, "spectrum.spectrum.strain_high");
        // Only over the observed window: past it ε_i is not identifiable (strain_beyond_window).
        const double window_s = result_number(*data, "spectrum.window_s").value_or(INFINITY);
        if (low.size() == tau.size() && high.size() == tau.size()) {
            for (std::size_t i = 0; i < tau.size(); ++i) {
                const bool inside = tau[i] <= window_s;
                series.y_low.push_back(inside ? low[i] * 100 : NAN);
                series.y_high.push_back(inside ? high[i] * 100 : NAN);
            }
            series.band = true;
            if (runs.size() == 1) {
                series.name += "; band: ±1 sd over the plausible λ (evidence), within the window";
            }
        }
        panel.series.push_back(std::move(series));
        if (runs.size() == 1) {
            for (std::size_t k = 0;; ++k) {
                const auto peak = result_number(*data, io::format("spectrum.peaks.%zu.tau_s", k));
                if (!peak) {
                    break;
                }
                panel.markers.push_back({*peak, "peak " + pretty(*peak) + " s"});
            }
        }
    }
    if (panel.series.empty()) {
        return std::nullopt;
    }
    return figure_of(id, "Relaxation-time spectrum of the recovery (eq. 2)", {std::move(panel)});
}

std::optional<svg::Figure> instant_figure(const std::vector<const RunData*>& runs,
                                          const std::string& id) {
    auto beta = panel_of(axis("recovery time t − t₀ (s)", svg::Scale::log10),
                         axis("instant β_KWW (dimensionless)"));
    auto tau = panel_of(axis("recovery time t − t₀ (s)", svg::Scale::log10),
                        axis("instant τ_KWW (s)", svg::Scale::log10));
    for (const auto* data : runs) {
        const auto time = result_numbers(*data, "instant_kww.time_s");
        const auto b = result_numbers(*data, "instant_kww.beta");
        const auto t = result_numbers(*data, "instant_kww.tau_s");
        if (time.empty() || time.size() != b.size() || time.size() != t.size()) {
            continue;
        }
        const std::string name = runs.size() > 1 ? data->condition : "instant";
        auto beta_series = series_of(name, time, b, svg::Style::line_and_markers);
        const auto b_stderr = result_numbers(*data, "instant_kww.beta_stderr");
        if (b_stderr.size() == b.size()) {
            for (std::size_t i = 0; i < b.size(); ++i) {
                beta_series.y_low.push_back(b[i] - b_stderr[i]);
                beta_series.y_high.push_back(b[i] + b_stderr[i]);
            }
        }
        beta.series.push_back(std::move(beta_series));
        tau.series.push_back(series_of(name, time, t, svg::Style::line_and_markers));
        const auto fit_beta = result_number(*data, "kww.beta");
        const auto fit_tau = result_number(*data, "kww.tau_s");
        if (runs.size() == 1 && fit_beta && fit_tau) {
            const std::vector<double> ends = {time.front(), time.back()};
            const double beta_stderr = result_number(*data, "kww.beta_stderr").value_or(0.0);
            beta.series.push_back(series_of("eq. (3) fit, β = " + io::format("%.3f", *fit_beta) +
                                                io::format(" ± %.2g", beta_stderr),
                                            ends, {*fit_beta, *fit_beta}, svg::Style::line, true));
            tau.series.push_back(
                series_of("eq. (3) fit, τ = " + io::format("%.4g", *fit_tau) + " s", ends,
                          {*fit_tau, *fit_tau}, svg::Style::line, true));
        }
    }
    if (beta.series.empty()) {
        return std::nullopt;
    }
    return figure_of(id, "Instant β_KWW and τ_KWW during the recovery",
                     {std::move(beta), std::move(tau)}, 290);
}

std::optional<svg::Figure> work_figure(const std::vector<const RunData*>& runs,
                                       const std::string& id) {
    const auto unit = time_unit(runs);
    auto panel = panel_of(axis(time_axis_label(*runs.front(), unit)),
                          axis("strain energy density v (MJ/m³)"));
    for (const auto* data : runs) {
        auto series = work_series(*data, unit);
        if (!series) {
            continue;
        }
        if (runs.size() == 1) {
            series->cycling.name = "v_total, cycling (eq. 4, per cycle)";
            series->recovery.name = "v_total = v_an + v_vp + v_diss (eq. 5)";
            series->an.name = "v_an";
            series->vp.name = "v_vp";
            series->diss.name = "v_diss";
            series->cycling.color = series->recovery.color = "#0072B2";
            series->an.color = "#D55E00";
            series->vp.color = "#009E73";
            series->diss.color = "#CC79A7";
            for (auto* s :
                 {&series->cycling, &series->recovery, &series->an, &series->vp, &series->diss}) {
                if (!s->x.empty()) {
                    panel.series.push_back(std::move(*s));
                }
            }
        } else {
            // One colour per condition: the cycling's per-cycle points joined to the recovery.
            auto joined = series_of(data->condition);
            for (const auto* part : {&series->cycling, &series->recovery}) {
                joined.x.insert(joined.x.end(), part->x.begin(), part->x.end());
                joined.y.insert(joined.y.end(), part->y.begin(), part->y.end());
            }
            panel.series.push_back(std::move(joined));
        }
    }
    if (panel.series.empty()) {
        return std::nullopt;
    }
    if (runs.size() == 1 && runs.front()->recovery) {
        const auto& data = *runs.front();
        panel.markers.push_back(
            {(data.recovery->t_start_s - data.zero_s) / unit.seconds, "recovery"});
    }
    return figure_of(id, "Strain energy density v_total over cycling and recovery",
                     {std::move(panel)});
}

std::optional<svg::Figure> tan_delta_figure(const RunData& data, const std::string& id) {
    if (data.dmta.empty()) {
        return std::nullopt;
    }
    auto panel = panel_of(axis("sample temperature T (K)"), axis("loss factor tan δ (1)"));
    std::vector<double> frequencies;
    for (const auto& row : data.dmta) {
        if (std::find(frequencies.begin(), frequencies.end(), row.frequency_hz) ==
            frequencies.end()) {
            frequencies.push_back(row.frequency_hz);
        }
    }
    std::sort(frequencies.begin(), frequencies.end());
    for (const double frequency : frequencies) {
        auto series = series_of(io::format("%g Hz", frequency), svg::Style::line);
        for (const auto& row : data.dmta) {
            if (row.frequency_hz == frequency) {
                series.x.push_back(row.temperature_k);
                series.y.push_back(row.tan_delta);
            }
        }
        panel.series.push_back(std::move(series));
    }
    for (std::size_t k = 0;; ++k) {
        const auto t_p = result_number(data, io::format("arrhenius.peaks.%zu.temperature_k", k));
        const auto f = result_number(data, io::format("arrhenius.peaks.%zu.frequency_hz", k));
        if (!t_p || !f) {
            break;
        }
        panel.markers.push_back({*t_p, io::format("%g Hz: %.1f K", *f, *t_p)});
    }
    return figure_of(id, "DMTA scan: tan δ against temperature per frequency", {std::move(panel)});
}

std::optional<svg::Figure> arrhenius_figure(const RunData& data, const std::string& id) {
    const auto e_beta = result_number(data, "arrhenius.e_beta_ev");
    const auto ln_f0 = result_number(data, "arrhenius.ln_f0");
    auto peaks = series_of("tan δ peaks", svg::Style::markers);
    for (std::size_t k = 0;; ++k) {
        const auto t_p = result_number(data, io::format("arrhenius.peaks.%zu.temperature_k", k));
        const auto f = result_number(data, io::format("arrhenius.peaks.%zu.frequency_hz", k));
        if (!t_p || !f) {
            break;
        }
        peaks.x.push_back(1000 / *t_p);
        peaks.y.push_back(std::log(*f));
    }
    if (peaks.x.size() < 2 || !e_beta || !ln_f0) {
        return std::nullopt;
    }
    auto panel = panel_of(axis("inverse peak temperature 1000/T_p (1/K)"), axis("ln f (f in Hz)"));
    const auto [lo, hi] = std::minmax_element(peaks.x.begin(), peaks.x.end());
    const double margin = 0.05 * (*hi - *lo);
    std::vector<double> x{*lo - margin, *hi + margin}, y;
    for (const double inverse : x) {
        y.push_back(*ln_f0 - *e_beta / analysis::boltzmann_ev_k * inverse / 1000);
    }
    const auto stderr_ev = result_number(data, "arrhenius.e_beta_stderr_ev");
    panel.series.push_back(
        series_of(io::format("fit: E_β = %.3f ± %.3f eV", *e_beta, stderr_ev.value_or(0.0)),
                  std::move(x), std::move(y)));
    panel.series.push_back(std::move(peaks));
    return figure_of(id, "Arrhenius plot of the β relaxation", {std::move(panel)});
}

}  // namespace dmacycle::report
