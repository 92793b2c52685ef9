#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Standalone SVG 1.1 figures for reports (docs/report.md): x–y panels with linear or log10 axes,
// nice ticks, labelled axes, line and marker series, a legend and a title. Long series are
// decimated per pixel column (min and max kept), so a triangle wave's envelope stays right.
namespace dmacycle::report::svg {

// Text for XML character data and attribute values: & < > " ' escaped.
std::string escape(std::string_view text);

enum class Scale { linear, log10 };

struct Tick {
    double value = 0;
    std::string label;  // SVG text content, already escaped (log ticks: 10 and a raised exponent)
};

// About `target` ticks at 1, 2 or 5 × 10^k steps covering [lo, hi] (lo < hi), the first at or
// below lo and the last at or above hi; labels with as many decimals as the step needs.
std::vector<Tick> linear_ticks(double lo, double hi, int target = 6);
// Powers of ten from the one at or below lo to the one at or above hi (0 < lo < hi), every
// `stride`-th one labelled 10^k (so at most ~`max_labels` labels).
std::vector<Tick> log10_ticks(double lo, double hi, int max_labels = 10);

struct Axis {
    std::string label;  // quantity and unit, e.g. "time t (h)"
    Scale scale = Scale::linear;
    std::optional<double> min, max;  // default: the data's range widened to whole ticks
    // When not empty: a categorical axis with these labels at x = 0, 1, ...
    std::vector<std::string> categories;
};

enum class Style { line, markers, line_and_markers };

struct Series {
    std::string name;  // in the legend unless empty
    std::vector<double> x, y;
    Style style = Style::line;
    std::string color;  // "" = the next colour of the palette
    bool dashed = false;
    // When not empty (one per y): each y's uncertainty, from y_low to y_high, drawn as error
    // bars, or as a shaded band when `band`.
    std::vector<double> y_low, y_high;
    bool band = false;
};

// A vertical line across a panel at x, labelled at its top (e.g. "recovery").
struct Marker {
    double x = 0;
    std::string label;
};

struct Panel {
    Axis x, y;
    std::vector<Series> series;
    std::vector<Marker> markers;
};

struct Figure {
    std::string id;  // prefix of the SVG's internal ids: unique per page when inlined
    std::string title;
    std::vector<Panel> panels;  // stacked top to bottom
    int width_px = 760;
    int panel_height_px = 330;
};

// The figure as a standalone SVG 1.1 document (XML declaration, xmlns).
std::string render(const Figure& figure);

struct Point {
    double x = 0, y = 0;
};
// Points (in increasing x) reduced to at most 4 per bucket of width (x1 − x0)/buckets: the
// first, the lowest, the highest and the last of each, in x order; points outside [x0, x1]
// are dropped.
std::vector<Point> decimate(std::span<const Point> points, double x0, double x1, int buckets);

}  // namespace dmacycle::report::svg
