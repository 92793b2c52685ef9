#include "dmacycle/report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "dmacycle/io/text.hpp"

namespace dmacycle::report::svg {
namespace {

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const char* const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                               "#E69F00", "#56B4E9", "#000000", "#999999"};
constexpr int palette_size = sizeof palette / sizeof palette[0];

constexpr double tick_font_px = 13;
constexpr double label_font_px = 14;
constexpr double title_font_px = 16;
constexpr double legend_font_px = 13;

// Width of a text in DejaVu Sans / Arial at `font_px`: ~0.6 em per character on average.
// Exponents of log labels count as digits.
double text_width(std::string_view text, double font_px) {
    std::size_t characters = 0;
    for (unsigned char c : text) {
        characters += (c & 0xC0) != 0x80 ? 1 : 0;  // UTF-8: count lead bytes only
    }
    return 0.62 * font_px * static_cast<double>(characters);
}

// The visible text of a tick label (its markup removed), for measuring.
std::string visible_text(const std::string& label) {
    std::string text;
    bool in_tag = false;
    for (char c : label) {
        if (c == '<') {
            in_tag = true;
        } else if (c == '>') {
            in_tag = false;
        } else if (!in_tag) {
            text += c;
        }
    }
    return text;
}

// A coordinate in the SVG: one decimal is a tenth of a pixel.
std::string px(double value) {
    auto text = io::format("%.1f", value);
    if (text == "-0.0") {
        text = "0.0";
    }
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) {
        text.resize(text.size() - 2);
    }
    return text;
}

std::string with_minus_sign(std::string text) {
    if (!text.empty() && text.front() == '-') {
        text.replace(0, 1, "\u2212");
    }
    return text;
}

// Maps data values of one axis onto pixels.
struct Mapping {
    Scale scale = Scale::linear;
    double lo = 0, hi = 1;              // data range shown
    double pixel_lo = 0, pixel_hi = 1;  // pixels of lo and hi

    double to_unit(double v) const {
        return scale == Scale::log10
                   ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                   : (v - lo) / (hi - lo);
    }
    double operator()(double v) const { return pixel_lo + to_unit(v) * (pixel_hi - pixel_lo); }
    bool shows(double v) const { return std::isfinite(v) && (scale == Scale::linear || v > 0); }
};

struct AxisLayout {
    Mapping map;
    std::vector<Tick> ticks;
    std::vector<double> minor;  // log axes: 2..9 × 10^k, unlabelled
};

// The data range of one coordinate over a panel's series (only values the scale can show).
std::pair<double, double> data_range(const Panel& panel, bool x_axis, Scale scale) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const auto& series : panel.series) {
        const auto& values = x_axis ? series.x : series.y;
        const auto& other = x_axis ? series.y : series.x;
        const auto include = [&](std::span<const double> values) {
            for (std::size_t i = 0; i < values.size() && i < other.size(); ++i) {
                const double v = values[i];
                if (std::isfinite(v) && std::isfinite(other[i]) &&
                    (scale == Scale::linear || v > 0)) {
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
            }
        };
        include(values);
        if (!x_axis) {
            include(series.y_low);
            include(series.y_high);
        }
    }
    if (x_axis) {
        for (const auto& marker : panel.markers) {
            if (std::isfinite(marker.x) && (scale == Scale::linear || marker.x > 0)) {
                lo = std::min(lo, marker.x);
                hi = std::max(hi, marker.x);
            }
        }
    }
    if (!(lo <= hi)) {  // nothing to show: a unit range
        return scale == Scale::log10 ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
    }
    if (lo == hi) {
        if (scale == Scale::log10) {
            return {lo / 2, hi * 2};
        }
        const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
        return {lo - pad, hi + pad};
    }
    return {lo, hi};
}

// Whether labels at these pixel positions (centred, of these widths) leave a gap between them.
bool labels_fit(const std::vector<std::pair<double, double>>& position_and_size, double gap) {
    for (std::size_t i = 1; i < position_and_size.size(); ++i) {
        const auto [a, size_a] = position_and_size[i - 1];
        const auto [b, size_b] = position_and_size[i];
        if (std::abs(b - a) < (size_a + size_b) / 2 + gap) {
            return false;
        }
    }
    return true;
}

// Ticks for an axis whose pixels run from pixel_lo to pixel_hi, as many as fit without
// overlapping labels (horizontal: label widths; vertical: the font's height).
AxisLayout layout_axis(const Axis& axis, const Panel& panel, bool x_axis, double pixel_lo,
                       double pixel_hi) {
    AxisLayout layout;
    layout.map.scale = axis.categories.empty() ? axis.scale : Scale::linear;
    layout.map.pixel_lo = pixel_lo;
    layout.map.pixel_hi = pixel_hi;
    if (!axis.categories.empty()) {
        layout.map.lo = -0.5;
        layout.map.hi = static_cast<double>(axis.categories.size()) - 0.5;
        for (std::size_t i = 0; i < axis.categories.size(); ++i) {
            layout.ticks.push_back({static_cast<double>(i), escape(axis.categories[i])});
        }
        return layout;
    }
    const auto [data_lo, data_hi] = data_range(panel, x_axis, layout.map.scale);
    const bool fixed = axis.min && axis.max && *axis.min < *axis.max &&
                       (axis.scale == Scale::linear || *axis.min > 0);
    const double lo = fixed ? *axis.min : data_lo;
    const double hi = fixed ? *axis.max : data_hi;
    const double length = std::abs(pixel_hi - pixel_lo);
    for (int target = x_axis ? 8 : 7; target >= 2; --target) {
        auto ticks = axis.scale == Scale::log10 ? log10_ticks(lo, hi, target + 2)
                                                : linear_ticks(lo, hi, target);
        layout.map.lo = fixed ? lo : ticks.front().value;
        layout.map.hi = fixed ? hi : ticks.back().value;
        std::erase_if(ticks, [&](const Tick& tick) {
            return tick.value < layout.map.lo - 1e-9 * std::abs(layout.map.hi - layout.map.lo) ||
                   tick.value > layout.map.hi + 1e-9 * std::abs(layout.map.hi - layout.map.lo);
        });
        std::vector<std::pair<double, double>> placed;
        for (const auto& tick : ticks) {
            if (!tick.label.empty()) {
                placed.emplace_back(layout.map(tick.value),
                                    x_axis ? text_width(visible_text(tick.label), tick_font_px)
                                           : tick_font_px * 1.2);
            }
        }
        layout.ticks = std::move(ticks);
        if (labels_fit(placed, x_axis ? 8 : 4) || target == 2 || length <= 0) {
            break;
        }
    }
    if (axis.scale == Scale::log10) {
        const int first = static_cast<int>(std::floor(std::log10(layout.map.lo)));
        const int last = static_cast<int>(std::ceil(std::log10(layout.map.hi)));
        if (last - first <= 6) {  // more decades than that: minor ticks would crowd
            for (int k = first; k <= last; ++k) {
                for (int m = 2; m <= 9; ++m) {
                    const double v = m * std::pow(10.0, k);
                    if (v > layout.map.lo && v < layout.map.hi) {
                        layout.minor.push_back(v);
                    }
                }
            }
        }
    }
    return layout;
}

struct LegendEntry {
    const Series* series;
    std::string color;
};

std::string dash_of(const Series& series) {
    return series.dashed ? " stroke-dasharray=\"6 4\"" : "";
}

// The legend as rows of entries across `width` starting at (left, top); returns its height.
double draw_legend(std::ostringstream& out, const std::vector<LegendEntry>& entries, double left,
                   double width, double top) {
    const double row_height = legend_font_px * 1.6;
    double x = left;
    double y = top + row_height / 2;
    bool any = false;
    for (const auto& entry : entries) {
        // Legend names are mostly lower case: narrower than the estimate for tick labels.
        const double entry_width = 34 + 0.9 * text_width(entry.series->name, legend_font_px) + 16;
        if (x > left && x + entry_width > left + width) {
            x = left;
            y += row_height;
        }
        any = true;
        const auto& style = entry.series->style;
        if (style != Style::markers) {
            out << "<line x1=\"" << px(x) << "\" y1=\"" << px(y) << "\" x2=\"" << px(x + 28)
                << "\" y2=\"" << px(y) << "\" stroke=\"" << entry.color << "\" stroke-width=\"2\""
                << dash_of(*entry.series) << "/>\n";
        }
        if (style != Style::line) {
            out << "<circle cx=\"" << px(x + 14) << "\" cy=\"" << px(y) << "\" r=\"3.5\" fill=\""
                << entry.color << "\"/>\n";
        }
        out << "<text x=\"" << px(x + 34) << "\" y=\"" << px(y + legend_font_px * 0.35)
            << "\" font-size=\"" << legend_font_px << "\">" << escape(entry.series->name)
            << "</text>\n";
        x += entry_width;
    }
    return any ? y + row_height / 2 - top : 0;
}

// A panel's plot area is this high whatever its legend takes above it.
double plot_height_px(const Figure& figure) {
    return std::max(60.0, figure.panel_height_px - 2.2 * tick_font_px - 1.8 * label_font_px - 20);
}

// The series' y_low..y_high: a shaded band (a polygon out along y_high and back along y_low),
// or one vertical bar per point; points the axes cannot show are left out.
void draw_uncertainty(std::ostringstream& out, const Series& series, const std::string& color,
                      const Mapping& mx, const Mapping& my) {
    std::vector<std::size_t> shown;
    for (std::size_t i = 0;
         i < series.x.size() && i < series.y_low.size() && i < series.y_high.size(); ++i) {
        if (mx.shows(series.x[i]) && my.shows(series.y_low[i]) && my.shows(series.y_high[i])) {
            shown.push_back(i);
        }
    }
    if (shown.empty()) {
        return;
    }
    std::string path;
    const auto point = [&](char command, std::size_t i, double y) {
        path += command;
        path += px(mx(series.x[i]));
        path += ',';
        path += px(my(y));
    };
    if (series.band) {
        for (std::size_t k = 0; k < shown.size(); ++k) {
            point(k == 0 ? 'M' : 'L', shown[k], series.y_high[shown[k]]);
        }
        for (std::size_t k = shown.size(); k-- > 0;) {
            point('L', shown[k], series.y_low[shown[k]]);
        }
        out << "<path d=\"" << path << "Z\" fill=\"" << color
            << "\" fill-opacity=\"0.2\" stroke=\"none\" class=\"band\"/>\n";
        return;
    }
    for (const std::size_t i : shown) {
        point('M', i, series.y_low[i]);
        point('L', i, series.y_high[i]);
    }
    out << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << color
        << "\" stroke-width=\"1.2\" class=\"error-bars\"/>\n";
}

void draw_series(std::ostringstream& out, const Series& series, const std::string& color,
                 const Mapping& mx, const Mapping& my, double plot_width) {
    draw_uncertainty(out, series, color, mx, my);
    // Pixel points, runs of drawable points split where a value cannot be shown.
    std::vector<std::vector<Point>> runs(1);
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
        if (mx.shows(series.x[i]) && my.shows(series.y[i])) {
            runs.back().push_back({mx(series.x[i]), my(series.y[i])});
        } else if (!runs.back().empty()) {
            runs.emplace_back();
        }
    }
    const int buckets = std::max(1, static_cast<int>(plot_width));
    for (auto& run : runs) {
        if (run.size() > 4 * static_cast<std::size_t>(buckets) &&
            std::is_sorted(run.begin(), run.end(),
                           [](const Point& a, const Point& b) { return a.x < b.x; })) {
            run = decimate(run, mx.pixel_lo, mx.pixel_hi, buckets);
        }
    }
    if (series.style != Style::markers) {
        std::string path;
        for (const auto& run : runs) {
            for (std::size_t i = 0; i < run.size(); ++i) {
                path += i == 0 ? 'M' : 'L';
                path += px(run[i].x);
                path += ',';
                path += px(run[i].y);
            }
        }
        if (!path.empty()) {
            out << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << color
                << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"" << dash_of(series) << "/>\n";
        }
    }
    if (series.style != Style::line) {
        std::string path;  // one path of small circles: far smaller than one element each
        for (const auto& run : runs) {
            for (const auto& p : run) {
                path += 'M';
                path += px(p.x - 3);
                path += ',';
                path += px(p.y);
                path += "a3,3 0 1,0 6,0a3,3 0 1,0 -6,0";
            }
        }
        if (!path.empty()) {
            out << "<path d=\"" << path << "\" fill=\"" << color
                << "\" fill-opacity=\"0.75\" stroke=\"none\"/>\n";
        }
    }
}

// A panel's plot area in pixels, y growing downwards.
struct PlotArea {
    double left = 0, width = 0;
    double top = 0, bottom = 0;

    double right() const { return left + width; }
    double height() const { return bottom - top; }
};

// The left margin fits the widest y tick label of any panel and the rotated y label.
double left_margin(const Figure& figure) {
    double tick_label_width = 0;
    for (const auto& panel : figure.panels) {
        // The same plot height as draw_panel's, so the same ticks.
        for (const auto& tick :
             layout_axis(panel.y, panel, false, plot_height_px(figure), 0).ticks) {
            tick_label_width =
                std::max(tick_label_width, text_width(visible_text(tick.label), tick_font_px));
        }
    }
    return 12 + label_font_px * 1.4 + tick_label_width + 10;
}

// Each series' colour: its own, else the next of the palette.
std::vector<std::string> series_colors(const Panel& panel) {
    std::vector<std::string> colors;
    int next_color = 0;
    for (const auto& series : panel.series) {
        colors.push_back(series.color.empty() ? palette[next_color++ % palette_size]
                                              : series.color);
    }
    return colors;
}

void draw_grid(std::ostringstream& body, const AxisLayout& x, const AxisLayout& y,
               const PlotArea& area) {
    body << "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
    for (const auto& tick : x.ticks) {
        body << "<line x1=\"" << px(x.map(tick.value)) << "\" y1=\"" << px(area.top) << "\" x2=\""
             << px(x.map(tick.value)) << "\" y2=\"" << px(area.bottom) << "\"/>\n";
    }
    for (const auto& tick : y.ticks) {
        body << "<line x1=\"" << px(area.left) << "\" y1=\"" << px(y.map(tick.value)) << "\" x2=\""
             << px(area.right()) << "\" y2=\"" << px(y.map(tick.value)) << "\"/>\n";
    }
    body << "</g>\n";
}

// Tick marks outside the plot area: labelled ticks long, unlabelled and minor ones short.
void draw_ticks(std::ostringstream& body, const AxisLayout& x, const AxisLayout& y,
                const PlotArea& area) {
    body << "<g stroke=\"#333\" stroke-width=\"1\">\n";
    for (const auto& tick : x.ticks) {
        const double at = x.map(tick.value);
        body << "<line x1=\"" << px(at) << "\" y1=\"" << px(area.bottom) << "\" x2=\"" << px(at)
             << "\" y2=\"" << px(area.bottom + (tick.label.empty() ? 3 : 6)) << "\"/>\n";
    }
    for (double v : x.minor) {
        body << "<line x1=\"" << px(x.map(v)) << "\" y1=\"" << px(area.bottom) << "\" x2=\""
             << px(x.map(v)) << "\" y2=\"" << px(area.bottom + 3) << "\"/>\n";
    }
    for (const auto& tick : y.ticks) {
        const double at = y.map(tick.value);
        body << "<line x1=\"" << px(area.left - (tick.label.empty() ? 3 : 6)) << "\" y1=\""
             << px(at) << "\" x2=\"" << px(area.left) << "\" y2=\"" << px(at) << "\"/>\n";
    }
    for (double v : y.minor) {
        body << "<line x1=\"" << px(area.left - 3) << "\" y1=\"" << px(y.map(v)) << "\" x2=\""
             << px(area.left) << "\" y2=\"" << px(y.map(v)) << "\"/>\n";
    }
    body << "</g>\n";
}

void draw_tick_labels(std::ostringstream& body, const AxisLayout& x, const AxisLayout& y,
                      const PlotArea& area) {
    body << "<g font-size=\"" << tick_font_px << "\" fill=\"#222\">\n";
    for (const auto& tick : x.ticks) {
        if (!tick.label.empty()) {
            body << "<text x=\"" << px(x.map(tick.value)) << "\" y=\""
                 << px(area.bottom + 8 + tick_font_px) << "\" text-anchor=\"middle\">" << tick.label
                 << "</text>\n";
        }
    }
    for (const auto& tick : y.ticks) {
        if (!tick.label.empty()) {
            body << "<text x=\"" << px(area.left - 9) << "\" y=\""
                 << px(y.map(tick.value) + tick_font_px * 0.35) << "\" text-anchor=\"end\">"
                 << tick.label << "</text>\n";
        }
    }
    body << "</g>\n";
}

// The x label under the tick labels, the y label rotated at the figure's left edge.
void draw_axis_labels(std::ostringstream& body, const Panel& panel, const PlotArea& area) {
    body << "<text x=\"" << px(area.left + area.width / 2) << "\" y=\""
         << px(area.bottom + 2.2 * tick_font_px + label_font_px) << "\" font-size=\""
         << label_font_px << "\" text-anchor=\"middle\" fill=\"#111\" class=\"axis-label\">"
         << escape(panel.x.label) << "</text>\n";
    const double y_label_x = 12 + label_font_px;
    const double y_label_y = (area.top + area.bottom) / 2;
    body << "<text x=\"" << px(y_label_x) << "\" y=\"" << px(y_label_y) << "\" font-size=\""
         << label_font_px
         << "\" text-anchor=\"middle\" fill=\"#111\" class=\"axis-label\" "
            "transform=\"rotate(-90 "
         << px(y_label_x) << " " << px(y_label_y) << ")\">" << escape(panel.y.label) << "</text>\n";
}

// Dashed vertical lines, their labels at the top of the plot, each in the first row where it
// overlaps none.
void draw_markers(std::ostringstream& body, std::vector<Marker> markers, const Mapping& mx,
                  const PlotArea& area) {
    std::sort(markers.begin(), markers.end(),
              [](const Marker& a, const Marker& b) { return a.x < b.x; });
    std::vector<double> row_ends;  // right edge of the last label of each row
    for (const auto& marker : markers) {
        if (!mx.shows(marker.x) || marker.x < mx.lo || marker.x > mx.hi) {
            continue;
        }
        const double at = mx(marker.x);
        body << "<line x1=\"" << px(at) << "\" y1=\"" << px(area.top) << "\" x2=\"" << px(at)
             << "\" y2=\"" << px(area.bottom)
             << "\" stroke=\"#777\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
        const double label_width = text_width(marker.label, tick_font_px - 1);
        const bool room_right = at + 4 + label_width <= area.right();
        const double from = room_right ? at + 4 : at - 4 - label_width;
        std::size_t row = 0;
        while (row < row_ends.size() && row_ends[row] + 6 > from) {
            ++row;
        }
        if (row == row_ends.size()) {
            row_ends.push_back(0);
        }
        row_ends[row] = from + label_width;
        body << "<text x=\"" << px(room_right ? at + 4 : at - 4) << "\" y=\""
             << px(area.top + tick_font_px * (1 + 1.2 * static_cast<double>(row)))
             << "\" font-size=\"" << tick_font_px - 1 << "\" fill=\"#555\" text-anchor=\""
             << (room_right ? "start" : "end") << "\">" << escape(marker.label) << "</text>\n";
    }
}

// Panel `p` of the figure from `top` down: legend, axes, data, markers, frame. Returns the top
// of the next panel.
double draw_panel(std::ostringstream& body, const Figure& figure, std::size_t p, double left,
                  double plot_width, double top) {
    const auto& panel = figure.panels[p];
    const auto colors = series_colors(panel);
    std::vector<LegendEntry> entries;
    for (std::size_t s = 0; s < panel.series.size(); ++s) {
        if (!panel.series[s].name.empty()) {
            entries.push_back({&panel.series[s], colors[s]});
        }
    }
    const double legend_height = draw_legend(body, entries, left, plot_width, top + 4);
    PlotArea area;
    area.left = left;
    area.width = plot_width;
    area.top = top + 4 + legend_height + 10;
    area.bottom = area.top + plot_height_px(figure);
    const auto x = layout_axis(panel.x, panel, true, left, left + plot_width);
    const auto y = layout_axis(panel.y, panel, false, area.bottom, area.top);
    const std::string clip = figure.id + "-clip" + std::to_string(p);
    body << "<defs><clipPath id=\"" << escape(clip) << "\"><rect x=\"" << px(area.left) << "\" y=\""
         << px(area.top) << "\" width=\"" << px(area.width) << "\" height=\"" << px(area.height())
         << "\"/></clipPath></defs>\n";
    draw_grid(body, x, y, area);
    draw_ticks(body, x, y, area);
    draw_tick_labels(body, x, y, area);
    draw_axis_labels(body, panel, area);
    // Data, clipped to the plot area, then markers and the frame on top.
    body << "<g clip-path=\"url(#" << escape(clip) << ")\">\n";
    for (std::size_t s = 0; s < panel.series.size(); ++s) {
        draw_series(body, panel.series[s], colors[s], x.map, y.map, plot_width);
    }
    body << "</g>\n";
    draw_markers(body, panel.markers, x.map, area);
    body << "<rect x=\"" << px(area.left) << "\" y=\"" << px(area.top) << "\" width=\""
         << px(area.width) << "\" height=\"" << px(area.height())
         << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\" class=\"frame\"/>\n";
    return area.bottom + 2.2 * tick_font_px + 1.8 * label_font_px + 6;
}

}  // namespace

std::string escape(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            case '"':
                escaped += "&quot;";
                break;
            case '\'':
                escaped += "&#39;";
                break;
            default:
                // Control characters are not allowed in XML 1.0 text: shown as a space.
                escaped +=
                    (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') ? ' ' : c;
        }
    }
    return escaped;
}

std::vector<Tick> linear_ticks(double lo, double hi, int target) {
    if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi)) {
        const double centre = std::isfinite(lo) ? lo : 0;
        lo = centre - 1;
        hi = centre + 1;
    }
    const double raw = (hi - lo) / std::max(target, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double normalized = raw / magnitude;
    const double factor = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10;
    const double step = factor * magnitude;
    // Indices rather than a running sum: no accumulated rounding in the tick values.
    const auto first = static_cast<long long>(std::floor(lo / step + 1e-9));
    const auto last = static_cast<long long>(std::ceil(hi / step - 1e-9));
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    std::vector<Tick> ticks;
    for (long long k = first; k <= last; ++k) {
        const double value = static_cast<double>(k) * step;
        auto label = io::format("%.*f", decimals, value);
        if (label.find_first_not_of("-0.") == std::string::npos) {
            label =
                decimals > 0 ? "0." + std::string(static_cast<std::size_t>(decimals), '0') : "0";
        }
        ticks.push_back({value, with_minus_sign(label)});
    }
    return ticks;
}

std::vector<Tick> log10_ticks(double lo, double hi, int max_labels) {
    if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) {
        lo = 1;
        hi = 10;
    }
    const int first = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    int last = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    last = std::max(last, first + 1);
    const int count = last - first + 1;
    const int stride = std::max(1, (count + std::max(max_labels, 1) - 1) / std::max(max_labels, 1));
    std::vector<Tick> ticks;
    for (int k = first; k <= last; ++k) {
        std::string label;
        if ((k - first) % stride == 0) {
            label = "10<tspan dy=\"-0.5em\" font-size=\"0.75em\">" +
                    with_minus_sign(std::to_string(k)) + "</tspan>";
        }
        ticks.push_back({std::pow(10.0, k), label});
    }
    return ticks;
}

std::vector<Point> decimate(std::span<const Point> points, double x0, double x1, int buckets) {
    std::vector<Point> kept;
    if (buckets < 1 || !(x1 > x0)) {
        return kept;
    }
    const double width = (x1 - x0) / buckets;
    std::size_t i = 0;
    while (i < points.size()) {
        if (!(points[i].x >= x0 && points[i].x <= x1)) {
            ++i;
            continue;
        }
        const auto bucket = std::min(static_cast<long long>((points[i].x - x0) / width),
                                     static_cast<long long>(buckets) - 1);
        const std::size_t begin = i;
        std::size_t lowest = i, highest = i;
        while (i < points.size() && points[i].x >= x0 && points[i].x <= x1 &&
               std::min(static_cast<long long>((points[i].x - x0) / width),
                        static_cast<long long>(buckets) - 1) == bucket) {
            lowest = points[i].y < points[lowest].y ? i : lowest;
            highest = points[i].y > points[highest].y ? i : highest;
            ++i;
        }
        std::vector<std::size_t> picks = {begin, lowest, highest, i - 1};
        std::sort(picks.begin(), picks.end());
        picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
        for (auto pick : picks) {
            kept.push_back(points[pick]);
        }
    }
    return kept;
}

std::string render(const Figure& figure) {
    const double width = figure.width_px;
    const double right = 24;
    const double left = left_margin(figure);
    const double plot_width = width - left - right;
    std::ostringstream body;
    double top = figure.title.empty() ? 8 : title_font_px * 2.2;
    for (std::size_t p = 0; p < figure.panels.size(); ++p) {
        top = draw_panel(body, figure, p, left, plot_width, top);
    }

    const double height = top + 4;
    std::ostringstream svg;
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << px(width)
        << "\" height=\"" << px(height) << "\" viewBox=\"0 0 " << px(width) << " " << px(height)
        << "\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n"
        << "<title>" << escape(figure.title) << "</title>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    if (!figure.title.empty()) {
        svg << "<text x=\"" << px(width / 2) << "\" y=\"" << px(title_font_px * 1.4)
            << "\" font-size=\"" << title_font_px
            << "\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#111\">"
            << escape(figure.title) << "</text>\n";
    }
    svg << body.str() << "</svg>\n";
    return svg.str();
}

}  // namespace dmacycle::report::svg
