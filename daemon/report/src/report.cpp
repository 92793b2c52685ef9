#include "dmacycle/report/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/analysis/numerics.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/report/svg_plot.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::report {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using svg::escape;

constexpr double j_per_mj = 1e6;
constexpr int recovery_markers = 120;  // data points drawn over the fits (log-spaced)
constexpr int model_points = 300;

struct SegmentSpan {
    std::string name;
    double t_start_s = 0, t_end_s = 0;  // first and last sample with this tag
    std::int64_t samples = 0;
};

// One run as the report needs it, all of it read through RunArchive.
struct RunData {
    store::ArchivedRun run;
    std::vector<double> t_s, strain, stress_mpa;
    std::vector<SegmentSpan> spans;  // in order of first appearance
    std::vector<store::ArchivedEvent> events;
    std::vector<store::ArchivedCycle> cycles;
    std::vector<store::ArchivedDmta> dmta;  // a DMTA scan's measurements
    std::map<std::string, Json> results;
    // Time zero of the time axes: the first sample of load, cycle or creep (else the run's
    // first sample).
    double zero_s = 0;
    double plan_end_s = 0;  // the last sample not tagged after_plan: the figures end there
    bool loaded = false;
    std::optional<std::size_t> recovery_first, recovery_last;  // sample indices
    std::string condition;                                     // e.g. "0–200 MPa"
};

// Builders for the plot structs (designated initializers that leave members out warn in g++).
svg::Axis axis(const std::string& label, svg::Scale scale = svg::Scale::linear) {
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

svg::Series series_of(const std::string& name, svg::Style style = svg::Style::line,
                      const std::string& color = "", bool dashed = false) {
    svg::Series built;
    built.name = name;
    built.style = style;
    built.color = color;
    built.dashed = dashed;
    return built;
}

svg::Series series_of(const std::string& name, std::vector<double> x, std::vector<double> y,
                      svg::Style style = svg::Style::line, bool dashed = false) {
    auto built = series_of(name, style, "", dashed);
    built.x = std::move(x);
    built.y = std::move(y);
    return built;
}

svg::Figure figure_of(const std::string& id, const std::string& title,
                      std::vector<svg::Panel> panels, int panel_height_px = 330) {
    svg::Figure built;
    built.id = id;
    built.title = title;
    built.panels = std::move(panels);
    built.panel_height_px = panel_height_px;
    return built;
}

bool is_loading(const std::string& segment) {
    return segment == "load" || segment == "cycle" || segment == "creep";
}

RunData load_run(const store::RunArchive& archive, std::int64_t run_id) {
    RunData data;
    data.run = archive.run(run_id);
    double stress_lo = std::numeric_limits<double>::infinity();
    double stress_hi = -stress_lo;
    bool stressed = false;
    std::optional<double> load_start;
    archive.for_each_sample(run_id, [&](const store::ArchivedSample& sample) {
        const std::size_t index = data.t_s.size();
        data.t_s.push_back(sample.t_s);
        data.strain.push_back(sample.strain);
        data.stress_mpa.push_back(sample.stress_mpa);
        auto span = std::find_if(data.spans.begin(), data.spans.end(),
                                 [&](const SegmentSpan& s) { return s.name == sample.segment; });
        if (span == data.spans.end()) {
            data.spans.push_back({sample.segment, sample.t_s, sample.t_s, 0});
            span = data.spans.end() - 1;
        }
        span->t_end_s = sample.t_s;
        ++span->samples;
        if (sample.segment != "after_plan") {
            data.plan_end_s = sample.t_s;
        }
        if (is_loading(sample.segment)) {
            if (!load_start) {
                load_start = sample.t_s;
            }
            if (sample.segment != "load") {
                stress_lo = std::min(stress_lo, sample.stress_mpa);
                stress_hi = std::max(stress_hi, sample.stress_mpa);
                stressed = true;
            }
        }
        if (sample.segment == "recovery") {
            if (!data.recovery_first) {
                data.recovery_first = index;
            }
            data.recovery_last = index;
        }
    });
    data.events = archive.events(run_id);
    data.cycles = archive.cycles(run_id);
    data.dmta = archive.dmta(run_id);
    data.results = archive.results(run_id);
    data.loaded = load_start.has_value();
    data.zero_s = load_start.value_or(data.t_s.empty() ? 0.0 : data.t_s.front());
    // The cycling's stress range in whole MPa: the pre-tension under a clipped triangle is "0".
    data.condition = stressed ? io::format("%.0f\u2013%.0f MPa", std::round(stress_lo) + 0.0,
                                           std::round(stress_hi) + 0.0)
                              : "not loaded";
    return data;
}

// A stored result's number by its data key "KIND.FIELD[.INDEX|.FIELD...]" (docs/report.md).
const Json* result_at(const RunData& data, const std::string& key) {
    std::istringstream parts(key);
    std::string part;
    std::getline(parts, part, '.');
    const auto found = data.results.find(part);
    if (found == data.results.end()) {
        return nullptr;
    }
    const Json* node = &found->second;
    while (std::getline(parts, part, '.')) {
        if (node->is_array() && !part.empty() &&
            part.find_first_not_of("0123456789") == std::string::npos &&
            std::stoul(part) < node->size()) {
            node = &(*node)[std::stoul(part)];
        } else if (node->is_object() && node->contains(part)) {
            node = &(*node)[part];
        } else {
            return nullptr;
        }
    }
    return node;
}

std::optional<double> result_number(const RunData& data, const std::string& key) {
    const Json* node = result_at(data, key);
    return node && node->is_number() ? std::optional(node->get<double>()) : std::nullopt;
}

std::vector<double> result_numbers(const RunData& data, const std::string& key) {
    const Json* node = result_at(data, key);
    std::vector<double> values;
    if (node && node->is_array()) {
        for (const auto& value : *node) {
            values.push_back(value.is_number() ? value.get<double>() : std::nan(""));
        }
    }
    return values;
}

// A number shown with its exact value (%.17g: reads back to the same double) in data-value:
// the contract a test checks against the store.
std::string number(const RunData& data, const std::string& key, double value,
                   const std::string& shown) {
    return "<span data-run=\"" + std::to_string(data.run.id) + "\" data-key=\"" + escape(key) +
           "\" data-value=\"" + io::format("%.17g", value) + "\">" + escape(shown) + "</span>";
}

std::string shown(double value) {
    return io::format("%.4g", value);
}

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

// A stored result's number, with its standard error when `stderr_key` is given; "–" when the
// result does not have it.
std::string result_cell(const RunData& data, const std::string& key,
                        const std::string& stderr_key = "") {
    const auto value = result_number(data, key);
    if (!value) {
        return "\u2013";
    }
    std::string cell = number(data, key, *value, shown(*value));
    if (const auto error = stderr_key.empty() ? std::nullopt : result_number(data, stderr_key)) {
        cell += " " + number(data, stderr_key, *error, "\u00b1 " + io::format("%.2g", *error));
    }
    return cell;
}

std::string text_of(const RunData& data, const std::string& key) {
    const Json* node = result_at(data, key);
    if (!node) {
        return "\u2013";
    }
    return escape(node->is_string() ? node->get<std::string>() : node->dump());
}

// Recovery time t − t0 of each sample of the recovery, s.
std::vector<std::pair<double, double>> recovery_points(const RunData& data) {
    std::vector<std::pair<double, double>> points;
    if (!data.recovery_first) {
        return points;
    }
    const double start = data.t_s[*data.recovery_first];
    for (std::size_t i = *data.recovery_first; i <= *data.recovery_last; ++i) {
        points.emplace_back(data.t_s[i] - start, data.strain[i]);
    }
    return points;
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

// Eq. (2) in the recovery from the stored spectrum: Σ ε_i(t0)·exp(−(t − t0)/τ_i), the
// anelastic part; the model adds ε_vp.
std::optional<double> spectrum_anelastic(const RunData& data, double since_unload_s) {
    const auto tau = result_numbers(data, "spectrum.spectrum.tau_s");
    const auto at_unload = result_numbers(data, "spectrum.spectrum.strain_at_unload");
    if (tau.empty() || tau.size() != at_unload.size()) {
        return std::nullopt;
    }
    double sum = 0;
    for (std::size_t i = 0; i < tau.size(); ++i) {
        sum += at_unload[i] * std::exp(-since_unload_s / tau[i]);
    }
    return sum;
}

bool fit_usable(const RunData& data, const std::string& kind) {
    const Json* fit = result_at(data, kind == "spectrum" ? "spectrum.spectrum.fit" : kind + ".fit");
    return fit && fit->is_object() && fit->value("usable", false);
}

// Hours, or minutes for runs shorter than two hours, for every time axis of a figure.
struct TimeUnit {
    double seconds = 3600;
    std::string symbol = "h";
};

TimeUnit time_unit(const std::vector<const RunData*>& runs) {
    double longest = 0;
    for (const auto* data : runs) {
        longest = std::max(longest, data->plan_end_s - data->zero_s);
    }
    return longest < 2 * 3600 ? TimeUnit{60, "min"} : TimeUnit{};
}

std::string time_axis_label(const RunData& data, const TimeUnit& unit) {
    return (data.loaded ? "time since loading t (" : "time since the run's start t (") +
           unit.symbol + ")";
}

// ---- Figures of one run ----

svg::Figure strain_figure(const RunData& data, const std::string& id) {
    const auto unit = time_unit({&data});
    auto strain = panel_of(axis(time_axis_label(data, unit)), axis("strain ε (%)"));
    auto stress = panel_of(axis(time_axis_label(data, unit)), axis("stress σ (MPa)"));
    auto strain_series = series_of("", svg::Style::line, "#0072B2");
    auto stress_series = series_of("", svg::Style::line, "#D55E00");
    for (std::size_t i = 0; i < data.t_s.size(); ++i) {
        if (data.t_s[i] < data.zero_s || data.t_s[i] > data.plan_end_s) {
            continue;  // equilibration and hold before time zero; the furnace's cooling after
        }
        const double t = (data.t_s[i] - data.zero_s) / unit.seconds;
        strain_series.x.push_back(t);
        strain_series.y.push_back(data.strain[i] * 100);
        stress_series.x.push_back(t);
        stress_series.y.push_back(data.stress_mpa[i]);
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

std::optional<svg::Figure> recovery_figure(const RunData& data, const std::string& id) {
    const auto points = recovery_points(data);
    auto markers = log_spaced_markers(points, recovery_markers, 100);
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
        beta.series.push_back(series_of(name, time, b, svg::Style::line_and_markers));
        tau.series.push_back(series_of(name, time, t, svg::Style::line_and_markers));
        const auto fit_beta = result_number(*data, "kww.beta");
        const auto fit_tau = result_number(*data, "kww.tau_s");
        if (runs.size() == 1 && fit_beta && fit_tau) {
            const std::vector<double> ends = {time.front(), time.back()};
            beta.series.push_back(series_of("eq. (3) fit, β = " + io::format("%.3f", *fit_beta),
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

// v_total over the cycling (eq. 4, cumulated per cycle) and the recovery (eq. 5:
// v_an(t) + v_vp + v_diss from the eq. (2) fit), in MJ/m³ against the time since loading.
struct WorkSeries {
    svg::Series cycling, recovery, an, vp, diss;
};

std::optional<WorkSeries> work_series(const RunData& data, const TimeUnit& unit) {
    const Json* work = result_at(data, "work_done");
    const auto sigma = result_number(data, "work_done.stress_creep_mpa");
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
        const double v =
            *sigma * j_per_mj * cycle.value("strain_creep", 0.0) + loops / 2;  // eq. (4)
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
        const auto first = static_cast<std::size_t>(
            std::lower_bound(data.t_s.begin(), data.t_s.end(), creep->t_start_s) -
            data.t_s.begin());
        const auto step = std::max<std::int64_t>(1, creep->samples / model_points);
        for (std::size_t i = first; i < data.t_s.size() && data.t_s[i] <= creep->t_end_s;
             i += static_cast<std::size_t>(step)) {
            out.cycling.x.push_back((data.t_s[i] - data.zero_s) / unit.seconds);
            out.cycling.y.push_back(*sigma * data.strain[i]);
        }
    }
    const auto vp = result_number(data, "spectrum.strain_vp");
    if (data.recovery_first && vp && spectrum_anelastic(data, 0)) {
        const double start = data.t_s[*data.recovery_first];
        const double length = data.t_s[*data.recovery_last] - start;
        const double v_vp = *sigma * j_per_mj * *vp;
        const double v_diss = *v_cycling / 2;
        out.vp.dashed = out.an.dashed = out.diss.dashed = true;
        for (int k = 0; k <= model_points; ++k) {
            const double since = length * k / model_points;
            const double v_an = *sigma * j_per_mj * *spectrum_anelastic(data, since);
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
    if (runs.size() == 1 && runs.front()->recovery_first) {
        const auto& data = *runs.front();
        panel.markers.push_back(
            {(data.t_s[*data.recovery_first] - data.zero_s) / unit.seconds, "recovery"});
    }
    return figure_of(id, "Strain energy density v_total over cycling and recovery",
                     {std::move(panel)});
}

// tan δ against the sample temperature, one series per frequency, the located β peaks marked
// (as the paper's Fig. 5b).
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

// ln f against 1000/T_p of the located peaks with the fitted line f = f0 exp(−E_β/(k_B T))
// (as the paper's Fig. 5c).
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

// ---- Tables ----

std::string row(const std::string& name, const std::string& value, const std::string& unit = "") {
    return "<tr><th>" + name + "</th><td>" + value + "</td><td class=\"unit\">" + unit +
           "</td></tr>\n";
}

std::string fit_rows(const RunData& data, const std::string& fit_key) {
    return row("fit status", text_of(data, fit_key + ".status")) +
           row("usable", text_of(data, fit_key + ".usable")) +
           row("message", text_of(data, fit_key + ".message"));
}

// Strain at the start and the end of the recovery and their difference (Fig. 1e).
struct RecoveryStrains {
    double initial = 0, final_ = 0, anelastic = 0;
};
std::optional<RecoveryStrains> recovery_strains(const RunData& data) {
    if (!data.recovery_first) {
        return std::nullopt;
    }
    const double initial = data.strain[*data.recovery_first];
    const double final_ = data.strain[*data.recovery_last];
    return RecoveryStrains{initial, final_, initial - final_};
}

std::string run_tables(const RunData& data) {
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

    html << "<table class=\"kv\"><caption>Cycles and recovery</caption>\n";
    html << row("cycles", number(data, "cycles.count", static_cast<double>(data.cycles.size()),
                                 std::to_string(data.cycles.size())));
    if (!data.cycles.empty()) {
        double lo = data.cycles.front().stress_min_mpa, hi = data.cycles.front().stress_max_mpa;
        for (const auto& cycle : data.cycles) {
            lo = std::min(lo, cycle.stress_min_mpa);
            hi = std::max(hi, cycle.stress_max_mpa);
        }
        html << row("stress range of the cycles",
                    number(data, "cycles.stress_min_mpa", lo, io::format("%.2f", lo)) + " \u2013 " +
                        number(data, "cycles.stress_max_mpa", hi, io::format("%.2f", hi)),
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

    if (data.results.count("work_done")) {
        html << "<table class=\"kv\"><caption>Work done (eqs. 4 and 5)</caption>\n"
             << row("work done WD", result_cell(data, "work_done.work_done_kj_mol"), "kJ/mol")
             << row("v_creep", result_cell(data, "work_done.v_creep_j_m3"), "J/m³")
             << row("v_cycling", result_cell(data, "work_done.v_cycling_j_m3"), "J/m³")
             << row("v_total", result_cell(data, "work_done.v_total_j_m3"), "J/m³")
             << row("σ_creep", result_cell(data, "work_done.stress_creep_mpa"), "MPa")
             << row("ε_creep (last cycle)", result_cell(data, "work_done.strain_creep"))
             << row("complete cycles", result_cell(data, "work_done.cycles"))
             << row("molar mass", result_cell(data, "work_done.molar_mass_g_mol"), "g/mol")
             << fit_rows(data, "work_done.fit") << "</table>\n";
    }
    if (data.results.count("spectrum")) {
        html << "<table><caption>Spectrum peaks (eq. 2)</caption>\n"
             << "<tr><th>peak</th><th>τ (s)</th><th>strain ε</th><th>strain at unloading</th>"
                "<th>at the grid's edge</th></tr>\n";
        for (std::size_t k = 0; result_at(data, io::format("spectrum.peaks.%zu", k)); ++k) {
            const std::string key = io::format("spectrum.peaks.%zu", k);
            html << "<tr><td>" << k + 1 << "</td><td>" << result_cell(data, key + ".tau_s")
                 << "</td><td>" << result_cell(data, key + ".strain") << "</td><td>"
                 << result_cell(data, key + ".strain_at_unload") << "</td><td>"
                 << text_of(data, key + ".at_grid_edge") << "</td></tr>\n";
        }
        html << "</table>\n<table class=\"kv\"><caption>Spectrum fit (eq. 2)</caption>\n"
             << row("ε_vp = ε̇_vp·t₀", result_cell(data, "spectrum.strain_vp"))
             << row("ε̇_vp", result_cell(data, "spectrum.strain_rate_vp"), "1/s")
             << row("loading time t₀", result_cell(data, "spectrum.t0_s"), "s")
             << row("strain beyond the window", result_cell(data, "spectrum.strain_beyond_window"))
             << row("window", result_cell(data, "spectrum.window_s"), "s")
             << row("λ", result_cell(data, "spectrum.lambda"))
             << row("noise estimate", result_cell(data, "spectrum.noise_estimate"))
             << row("rms residual", result_cell(data, "spectrum.rms_residual"))
             << row("points fitted", result_cell(data, "spectrum.points"))
             << row("misfit", text_of(data, "spectrum.misfit"))
             << fit_rows(data, "spectrum.spectrum.fit") << "</table>\n";
    }
    if (data.results.count("kww")) {
        html << "<table class=\"kv\"><caption>KWW fit (eq. 3), ± standard error</caption>\n"
             << row("ε_an", result_cell(data, "kww.strain_an", "kww.strain_an_stderr"))
             << row("τ_KWW", result_cell(data, "kww.tau_s", "kww.tau_s_stderr"), "s")
             << row("β_KWW", result_cell(data, "kww.beta", "kww.beta_stderr"))
             << row("ε_vp", result_cell(data, "kww.strain_vp", "kww.strain_vp_stderr"))
             << row("rms residual", result_cell(data, "kww.rms_residual"))
             << fit_rows(data, "kww.fit") << "</table>\n";
    }
    if (data.results.count("single_tau")) {
        html << "<table class=\"kv\"><caption>Single-τ fit (eq. 1), ± standard error</caption>\n"
             << row("τ", result_cell(data, "single_tau.tau_s", "single_tau.tau_s_stderr"), "s")
             << row("ε_an",
                    result_cell(data, "single_tau.strain_an", "single_tau.strain_an_stderr"))
             << row("ε_vp", result_cell(data, "single_tau.strain_vp"))
             << row("ε̇_vp", result_cell(data, "single_tau.strain_rate_vp"), "1/s")
             << row("rms residual", result_cell(data, "single_tau.rms_residual"))
             << fit_rows(data, "single_tau.fit") << "</table>\n";
    }
    if (data.results.count("arrhenius")) {
        html << "<table class=\"kv\"><caption>β relaxation: Arrhenius fit of the tan δ peaks, "
                "± standard error</caption>\n"
             << row("E_β", result_cell(data, "arrhenius.e_beta_ev", "arrhenius.e_beta_stderr_ev"),
                    "eV")
             << row("ln f₀ (f₀ in Hz)",
                    result_cell(data, "arrhenius.ln_f0", "arrhenius.ln_f0_stderr"))
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
    }
    if (data.results.count("instant_kww")) {
        html << "<table class=\"kv\"><caption>Instant β_KWW, τ_KWW</caption>\n"
             << row("strain noise", result_cell(data, "instant_kww.noise"))
             << fit_rows(data, "instant_kww.fit") << "</table>\n";
    }
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

// Why a run has no results, in a sentence for the top of its report.
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

// ---- Page and files ----

struct RenderedFigure {
    std::string name;  // file stem under figures/
    std::string caption;
    std::string svg;
};

const char* const page_style =
    "body{font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;margin:2em auto;max-width:72em;"
    "color:#111;line-height:1.4;padding:0 1em}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
    "figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}"
    "figcaption{font-size:.9em;color:#333}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "td.unit{color:#555}.note{background:#fff4d6;border:1px solid #e0b84c;padding:.6em 1em}"
    "span[data-value],.conditions td{white-space:nowrap}code{font-size:.95em}";

std::string page(const std::string& title, const std::string& intro, const std::string& body,
                 const std::vector<RenderedFigure>& figures, const std::string& tables) {
    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
         << "<meta charset=\"utf-8\"/>\n<title>" << escape(title) << "</title>\n<style>"
         << page_style << "</style>\n</head>\n<body>\n<h1>" << escape(title) << "</h1>\n"
         << intro << body << "<h2>Figures</h2>\n";
    for (std::size_t i = 0; i < figures.size(); ++i) {
        auto svg_text = figures[i].svg;
        svg_text.erase(0, svg_text.find("<svg"));  // no XML declaration inside the page
        html << "<figure id=\"" << escape(figures[i].name) << "\">\n"
             << svg_text << "<figcaption>Fig. " << i + 1 << ". " << figures[i].caption
             << " (<a href=\"figures/" << escape(figures[i].name) << ".svg\">figures/"
             << escape(figures[i].name) << ".svg</a>)</figcaption>\n</figure>\n";
    }
    html << tables << "<p class=\"footer\">Written by <code>dmacycle report</code>; every number "
         << "carries its stored value in <code>data-value</code> (docs/report.md).</p>\n"
         << "</body>\n</html>\n";
    return html.str();
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        throw io::InputError(path.string() + ": cannot write");
    }
}

// Writes the page and its figures into a directory beside OUT, then renames it into place
// (a previous report in OUT is moved aside first and removed after).
fs::path publish(const fs::path& out_dir, const std::string& html,
                 const std::vector<RenderedFigure>& figures) {
    check_report_dir(out_dir);
    const fs::path target = fs::absolute(out_dir).lexically_normal();
    const fs::path parent = target.parent_path();
    const std::string tag = "." + target.filename().string() + "." + std::to_string(::getpid());
    const fs::path staging = parent / (tag + ".partial");
    const fs::path previous = parent / (tag + ".previous");
    std::error_code ignored;
    try {
        fs::create_directories(parent);
        fs::remove_all(staging, ignored);
        fs::create_directories(staging / "figures");
        for (const auto& figure : figures) {
            write_text(staging / "figures" / (figure.name + ".svg"), figure.svg);
        }
        write_text(staging / "index.html", html);
        if (fs::exists(target)) {
            fs::rename(target, previous);
        }
        fs::rename(staging, target);
        fs::remove_all(previous, ignored);
    } catch (const fs::filesystem_error& error) {
        fs::remove_all(staging, ignored);
        if (!fs::exists(target) && fs::exists(previous)) {
            fs::rename(previous, target, ignored);
        }
        throw io::InputError(target.string() +
                             ": cannot write the report: " + error.code().message());
    } catch (...) {
        fs::remove_all(staging, ignored);
        throw;
    }
    return target / "index.html";
}

std::string intro_of(const RunData& data) {
    return "<p>Run " + std::to_string(data.run.id) + ", sample <b>" + escape(data.run.sample_id) +
           "</b>, " + escape(data.condition) + ", status <b>" + escape(data.run.status) +
           "</b>. Times are the instrument's, since the start of loading; strain in % in the "
           "figures and dimensionless in the tables.</p>\n" +
           results_note(data);
}

}  // namespace

void check_report_dir(const fs::path& out_dir) {
    if (out_dir.empty()) {
        throw io::InputError("--out DIR is empty");
    }
    std::error_code error;
    const auto status = fs::status(out_dir, error);
    if (!fs::exists(status)) {
        return;
    }
    if (!fs::is_directory(status)) {
        throw io::InputError(out_dir.string() + ": exists and is not a directory");
    }
    for (const auto& entry : fs::directory_iterator(out_dir, error)) {
        const auto name = entry.path().filename().string();
        if (name != "index.html" && name != "figures") {
            throw io::InputError(out_dir.string() + ": holds other files than a report (" + name +
                                 "); give a new or empty directory");
        }
    }
    if (error) {
        throw io::InputError(out_dir.string() + ": cannot read: " + error.message());
    }
}

fs::path write_run_report(const store::RunArchive& archive, std::int64_t run_id,
                          const fs::path& out_dir) {
    check_report_dir(out_dir);
    const RunData data = load_run(archive, run_id);
    const std::vector<const RunData*> runs = {&data};
    std::vector<RenderedFigure> figures;
    if (!data.t_s.empty()) {
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

fs::path write_campaign_report(const store::RunArchive& archive,
                               const std::vector<std::int64_t>& run_ids, const std::string& title,
                               const fs::path& out_dir) {
    check_report_dir(out_dir);
    std::vector<RunData> data;
    for (auto id : run_ids) {
        data.push_back(load_run(archive, id));
    }
    std::vector<const RunData*> runs;
    for (const auto& run : data) {
        runs.push_back(&run);
    }
    // Conditions as categories; a condition that occurs twice gets its run id.
    std::vector<std::string> labels;
    for (const auto& run : data) {
        const auto same = std::count_if(data.begin(), data.end(), [&](const RunData& other) {
            return other.condition == run.condition;
        });
        labels.push_back(same > 1 ? run.condition + " (run " + std::to_string(run.run.id) + ")"
                                  : run.condition);
    }

    std::vector<RenderedFigure> figures;
    {
        auto panel = panel_of(axis("condition (σ_min–σ_max)"), axis("strain ε (%)"));
        panel.x.categories = labels;
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
        figures.push_back(
            {"strains",
             "Initial, final and anelastic strain of the recovery per condition (as "
             "the paper's Fig. 1e; definitions in docs/report.md).",
             svg::render(figure_of("strains", "Initial, final and anelastic strain", {panel}))});
    }
    {
        const auto unit = time_unit(runs);
        auto panel =
            panel_of(axis("time since loading t (" + unit.symbol + ")"), axis("strain ε (%)"));
        for (const auto& run : data) {
            auto series = series_of(run.condition);
            for (std::size_t i = 0; i < run.t_s.size(); ++i) {
                if (run.t_s[i] >= run.zero_s && run.t_s[i] <= run.plan_end_s) {
                    series.x.push_back((run.t_s[i] - run.zero_s) / unit.seconds);
                    series.y.push_back(run.strain[i] * 100);
                }
            }
            panel.series.push_back(std::move(series));
        }
        figures.push_back(
            {"strain",
             "Strain against the time since loading, one curve per condition (as "
             "Fig. 1b–d).",
             svg::render(figure_of("strain", "Strain over cycling and recovery", {panel}))});
    }
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

    std::ostringstream overview;
    overview << "<h2>Conditions</h2>\n<table "
                "class=\"conditions\"><tr><th>run</th><th>sample</th><th>condition</th>"
                "<th>status</th><th>initial ε</th><th>final ε</th><th>anelastic ε</th>"
                "<th>WD (kJ/mol)</th><th>v_total (J/m³)</th><th>β_KWW</th><th>τ_KWW (s)</th>"
                "</tr>\n";
    for (const auto& run : data) {
        const auto strains = recovery_strains(run);
        const auto strain_cell = [&](const char* key, double RecoveryStrains::*field) {
            return strains ? number(run, key, (*strains).*field, shown((*strains).*field))
                           : std::string("\u2013");
        };
        overview << "<tr><td>"
                 << number(run, "run.id", static_cast<double>(run.run.id),
                           std::to_string(run.run.id))
                 << "</td><td>" << escape(run.run.sample_id) << "</td><td>" << escape(run.condition)
                 << "</td><td>" << escape(run.run.status) << "</td><td>"
                 << strain_cell("recovery.strain_initial", &RecoveryStrains::initial) << "</td><td>"
                 << strain_cell("recovery.strain_final", &RecoveryStrains::final_) << "</td><td>"
                 << strain_cell("recovery.strain_anelastic", &RecoveryStrains::anelastic)
                 << "</td><td>" << result_cell(run, "work_done.work_done_kj_mol") << "</td><td>"
                 << result_cell(run, "work_done.v_total_j_m3") << "</td><td>"
                 << result_cell(run, "kww.beta", "kww.beta_stderr") << "</td><td>"
                 << result_cell(run, "kww.tau_s", "kww.tau_s_stderr") << "</td></tr>\n";
    }
    overview << "</table>\n";
    std::string notes;
    for (const auto& run : data) {
        notes += results_note(run);
    }
    std::string tables;
    for (const auto& run : data) {
        tables += "<h2 id=\"run-" + std::to_string(run.run.id) + "\">Run " +
                  std::to_string(run.run.id) + ": " + escape(run.run.sample_id) + ", " +
                  escape(run.condition) + "</h2>\n" + run_tables(run);
    }
    const std::string intro = "<p>" + std::to_string(data.size()) +
                              " runs; conditions are the cycling's stress range σ_min–σ_max in "
                              "whole MPa (docs/report.md).</p>\n" +
                              notes;
    return publish(out_dir, page(title, intro, overview.str(), figures, tables), figures);
}

}  // namespace dmacycle::report
