// The SVG plotting module of the reports (daemon/report/include/dmacycle/report/svg_plot.hpp):
// ticks, escaping, decimation and well-formed standalone documents.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "dmacycle/report/svg_plot.hpp"
#include "xml_tree.hpp"

TEST_SUITE_BEGIN("report");

namespace svg = dmacycle::report::svg;
namespace pt = boost::property_tree;
using report_test::collect;
using report_test::parse_xml;

namespace {

std::vector<double> values_of(const std::vector<svg::Tick>& ticks) {
    std::vector<double> values;
    for (const auto& tick : ticks) {
        values.push_back(tick.value);
    }
    return values;
}

std::vector<std::string> labels_of(const std::vector<svg::Tick>& ticks) {
    std::vector<std::string> labels;
    for (const auto& tick : ticks) {
        labels.push_back(tick.label);
    }
    return labels;
}

}  // namespace

TEST_CASE("linear ticks step by 1 2 or 5 times a power of ten and cover the range") {
    const auto hours = svg::linear_ticks(0, 16.2, 8);
    CHECK(values_of(hours) == std::vector<double>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18});
    CHECK(labels_of(hours).front() == "0");
    CHECK(labels_of(hours).back() == "18");

    const auto strain = svg::linear_ticks(-0.05, 0.42, 5);
    CHECK(labels_of(strain) ==
          std::vector<std::string>{"\u22120.1", "0.0", "0.1", "0.2", "0.3", "0.4", "0.5"});

    const auto stress = svg::linear_ticks(0.27, 200.0, 4);
    CHECK(values_of(stress) == std::vector<double>{0, 50, 100, 150, 200});

    // A flat range is widened rather than divided by zero.
    const auto flat = svg::linear_ticks(3, 3, 4);
    CHECK(flat.size() >= 2);
    CHECK(flat.front().value <= 2);
    CHECK(flat.back().value >= 4);
}

TEST_CASE("log10 ticks are decades with raised exponents and thin out past max_labels") {
    const auto recovery = svg::log10_ticks(0.1, 28800, 10);
    REQUIRE(recovery.size() == 7);
    CHECK(recovery.front().value == doctest::Approx(0.1));
    CHECK(recovery.back().value == doctest::Approx(1e5));
    CHECK(recovery.front().label == "10<tspan dy=\"-0.5em\" font-size=\"0.75em\">\u22121</tspan>");
    CHECK(recovery[1].label == "10<tspan dy=\"-0.5em\" font-size=\"0.75em\">0</tspan>");

    const auto spectrum = svg::log10_ticks(1e-2, 1e8, 5);  // 11 decades, every 3rd labelled
    REQUIRE(spectrum.size() == 11);
    std::vector<int> labelled;
    for (std::size_t i = 0; i < spectrum.size(); ++i) {
        if (!spectrum[i].label.empty()) {
            labelled.push_back(static_cast<int>(std::lround(std::log10(spectrum[i].value))));
        }
    }
    CHECK(labelled == std::vector<int>{-2, 1, 4, 7});
}

TEST_CASE("escape makes text safe in XML text and attributes") {
    CHECK(svg::escape("a<b & \"c\" 'd' >") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39; &gt;");
    CHECK(svg::escape("strain ε (%)") == "strain ε (%)");
    CHECK(svg::escape(std::string("bell\x07") + "x") == "bell x");
}

TEST_CASE("decimation keeps each bucket's extremes so a triangle wave keeps its envelope") {
    std::vector<svg::Point> wave;
    for (int i = 0; i < 100000; ++i) {
        const double phase = (i % 1000) / 1000.0;  // period 1000 points, from -1 up to 1 and back
        wave.push_back({static_cast<double>(i), phase < 0.5 ? -1 + 4 * phase : 3 - 4 * phase});
    }
    const auto kept = svg::decimate(wave, 0, 99999, 50);
    CHECK(kept.size() <= 4 * 50);
    CHECK(kept.front().x == 0);
    CHECK(kept.back().x == 99999);
    for (int bucket = 0; bucket < 50; ++bucket) {
        double lo = 2, hi = -2;
        for (const auto& p : kept) {
            if (p.x >= bucket * 2000 && p.x < (bucket + 1) * 2000) {
                lo = std::min(lo, p.y);
                hi = std::max(hi, p.y);
            }
        }
        CHECK(lo == -1);
        CHECK(hi == 1);
    }
    CHECK(std::is_sorted(kept.begin(), kept.end(),
                         [](const svg::Point& a, const svg::Point& b) { return a.x < b.x; }));
}

TEST_CASE("a rendered figure is a well-formed standalone SVG with its labels and legend") {
    svg::Figure figure;
    figure.id = "t";
    figure.title = "Fits <and> \"data\" & more";
    svg::Panel panel;
    panel.x.label = "recovery time t − t₀ (s)";
    panel.x.scale = svg::Scale::log10;
    panel.y.label = "strain ε (%)";
    svg::Series data;
    data.name = "measured <raw>";
    data.style = svg::Style::markers;
    svg::Series fit;
    fit.name = "fit";
    fit.dashed = true;
    for (int i = 0; i <= 100; ++i) {
        const double t = std::pow(10.0, -1 + 0.05 * i);
        data.x.push_back(t);
        data.y.push_back(0.4 * std::exp(-std::sqrt(t / 1000)));
        fit.x.push_back(t);
        fit.y.push_back(0.4 * std::exp(-std::sqrt(t / 1000)));
    }
    data.x.push_back(0);  // not on a log axis: skipped, not drawn at -infinity
    data.y.push_back(1);
    panel.series = {data, fit};
    panel.markers.push_back({100, "peak & co"});
    figure.panels = {panel, panel};
    const auto text = svg::render(figure);
    CHECK(text.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0) == 0);
    CHECK(text.find("inf") == std::string::npos);
    CHECK(text.find("nan") == std::string::npos);

    const auto tree = parse_xml(text, "the figure");
    const auto& root = tree.get_child("svg");
    CHECK(root.get<std::string>("<xmlattr>.xmlns") == "http://www.w3.org/2000/svg");
    CHECK(root.get<std::string>("<xmlattr>.version") == "1.1");
    CHECK(root.get<std::string>("title") == figure.title);
    std::vector<const pt::ptree*> texts;
    collect(root, "text", texts);
    std::vector<std::string> axis_labels, legend;
    for (const auto* node : texts) {
        if (node->get<std::string>("<xmlattr>.class", "") == "axis-label") {
            axis_labels.push_back(node->data());
        }
        if (node->data() == data.name || node->data() == "fit") {
            legend.push_back(node->data());
        }
    }
    CHECK(axis_labels ==
          std::vector<std::string>{panel.x.label, panel.y.label, panel.x.label, panel.y.label});
    CHECK(legend.size() == 4);  // both entries in each panel's legend
    std::vector<const pt::ptree*> clips;
    collect(root, "clipPath", clips);
    REQUIRE(clips.size() == 2);
    CHECK(clips[0]->get<std::string>("<xmlattr>.id") == "t-clip0");
    CHECK(clips[1]->get<std::string>("<xmlattr>.id") == "t-clip1");
}

TEST_CASE("x tick labels that would overlap are thinned") {
    svg::Figure figure;
    figure.id = "n";
    figure.width_px = 260;
    svg::Panel panel;
    panel.x.label = "energy E (J)";
    panel.y.label = "count n (1)";
    svg::Series series;
    series.x = {1000000, 9000000};
    series.y = {0, 1};
    panel.series = {series};
    figure.panels = {panel};
    const auto tree = parse_xml(svg::render(figure), "the figure");
    std::vector<const pt::ptree*> texts;
    collect(tree.get_child("svg"), "text", texts);
    std::vector<double> centres;
    std::vector<std::size_t> lengths;
    for (const auto* node : texts) {
        if (node->get<std::string>("<xmlattr>.text-anchor", "") == "middle" &&
            node->get<std::string>("<xmlattr>.class", "").empty()) {
            centres.push_back(node->get<double>("<xmlattr>.x"));
            lengths.push_back(node->data().size());
        }
    }
    REQUIRE(centres.size() >= 2);
    for (std::size_t i = 1; i < centres.size(); ++i) {
        // 13 px digits are ~8 px wide: centres at least one label's width apart.
        CHECK(centres[i] - centres[i - 1] >= 8.0 * static_cast<double>(lengths[i]));
    }
}

TEST_CASE("labels of markers close together go to separate rows") {
    svg::Figure figure;
    figure.id = "m";
    svg::Panel panel;
    panel.x.label = "relaxation time τ (s)";
    panel.x.scale = svg::Scale::log10;
    panel.y.label = "strain ε_i (%)";
    svg::Series series;
    series.x = {1e-2, 1e8};
    series.y = {0, 1};
    panel.series = {series};
    panel.markers = {{700, "peak 684 s"}, {1000, "peak 1000 s"}, {1e6, "peak 10⁶ s"}};
    figure.panels = {panel};
    const auto tree = parse_xml(svg::render(figure), "the figure");
    std::vector<const pt::ptree*> texts;
    collect(tree.get_child("svg"), "text", texts);
    std::map<std::string, double> y_of;
    for (const auto* node : texts) {
        y_of[node->data()] = node->get<double>("<xmlattr>.y");
    }
    REQUIRE(y_of.count("peak 684 s") == 1);
    CHECK(y_of["peak 1000 s"] > y_of["peak 684 s"]);  // would overlap: the next row
    CHECK(y_of["peak 10⁶ s"] == y_of["peak 684 s"]);  // far away: the first row
}

TEST_CASE("uncertainties are drawn as error bars or as a band and widen the y range") {
    svg::Figure figure;
    figure.id = "u";
    svg::Panel panel;
    panel.x.label = "x (s)";
    panel.y.label = "y (m)";
    svg::Series bars;
    bars.style = svg::Style::markers;
    for (int i = 0; i < 5; ++i) {
        bars.x.push_back(i);
        bars.y.push_back(1);
        bars.y_low.push_back(0.5);
        bars.y_high.push_back(i == 2 ? 7.5 : 1.5);  // beyond every y: the axis must reach it
    }
    svg::Series band = bars;
    band.style = svg::Style::line;
    band.band = true;
    panel.series = {bars, band};
    figure.panels = {panel};
    const auto tree = parse_xml(svg::render(figure), "the figure");
    std::vector<const pt::ptree*> paths, texts;
    collect(tree.get_child("svg"), "path", paths);
    collect(tree.get_child("svg"), "text", texts);
    std::map<std::string, std::string> by_class;
    for (const auto* path : paths) {
        by_class[path->get<std::string>("<xmlattr>.class", "")] =
            path->get<std::string>("<xmlattr>.d");
    }
    REQUIRE(by_class.count("error-bars") == 1);
    REQUIRE(by_class.count("band") == 1);
    const auto count = [](const std::string& d, char c) {
        return std::count(d.begin(), d.end(), c);
    };
    CHECK(count(by_class["error-bars"], 'M') == 5);  // one bar per point
    CHECK(count(by_class["error-bars"], 'L') == 5);
    CHECK(count(by_class["band"], 'M') == 1);  // one closed polygon: out along the top, back
    CHECK(count(by_class["band"], 'L') == 9);
    CHECK(by_class["band"].back() == 'Z');
    bool reaches = false;
    for (const auto* node : texts) {
        reaches = reaches || node->data() == "8";  // a tick at or above 7.5
    }
    CHECK(reaches);
}

TEST_SUITE_END();
