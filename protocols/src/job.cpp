#include "dmacycle/protocols/job.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <span>
#include <sstream>

#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/protocols/units.hpp"

namespace dmacycle::protocols {
namespace {

// More points than this is almost certainly a typo, and each point is a fresh sample.
constexpr std::size_t max_sweep_points = 20;
// Names and ids become file names and table keys: short enough for any file system.
constexpr std::size_t max_name_length = 64;

// An allowed range, each bound shown in its own unit so that messages read naturally
// ("1 min … 168 h").
struct Range {
    Dimension dimension;
    double min_si;
    std::string_view min_unit;
    double max_si;
    std::string_view max_unit;

    // Relative slack: a bound written in another unit ("-150 °C", "1000 MPa/min") converts to
    // SI with rounding and must still be accepted; 1e-9 is far below any meaningful digit.
    bool contains(double si) const {
        constexpr double slack = 1e-9;
        return si >= min_si - slack * std::abs(min_si) && si <= max_si + slack * std::abs(max_si);
    }
    std::string text() const {
        return "allowed range " + format_quantity(min_si, min_unit, dimension) + " … " +
               format_quantity(max_si, max_unit, dimension);
    }
};

// The frame's and the program's bounds on each field (TA Q800 where the instrument sets them).
const Range temperature_range{Dimension::temperature, 123.15, "K", 873.15, "K"};  // −150…600 °C
const Range tolerance_range{Dimension::temperature_difference, 0.05, "K", 10, "K"};
const Range timeout_range{Dimension::time, 60, "min", 24 * 3600.0, "h"};
const Range settle_range{Dimension::time, 0, "s", 30 * 60.0, "min"};  // within the shortest timeout
const Range hold_range{Dimension::time, 0, "s", 24 * 3600.0, "h"};
const Range pre_tension_range{Dimension::force, 1e-4, "mN", 1, "N"};  // Q800 minimum force
const Range stress_range{Dimension::stress, 0, "MPa", 5e9, "MPa"};
const Range stress_rate_range{Dimension::stress_rate, 0.1e6 / 60, "MPa/min", 1000e6 / 60,
                              "MPa/min"};
const Range run_duration_range{Dimension::time, 60, "min", 168 * 3600.0, "h"};
const Range width_range{Dimension::length, 0.1e-3, "mm", 15e-3, "mm"};
const Range thickness_range{Dimension::length, 1e-6, "µm", 2e-3, "mm"};
const Range gauge_length_range{Dimension::length, 5e-3, "mm", 30e-3, "mm"};
const Range density_range{Dimension::density, 1e3, "g/cm3", 25e3, "g/cm3"};
const Range max_stress_range{Dimension::stress, 1e6, "MPa", 5e9, "MPa"};
const Range max_strain_range{Dimension::strain, 1e-3, "%", 1, "%"};
const Range band_range{Dimension::temperature_difference, 0.1, "K", 20, "K"};
const Range stale_link_range{Dimension::time, 0.1, "s", 60, "s"};
const Range tau_min_range{Dimension::time, 1e-4, "s", 1e4, "s"};
const Range tau_max_range{Dimension::time, 1, "s", 1e10, "s"};
// DMTA scans (TA Q800: heating up to 20 K/min, 0.01-200 Hz); the profile narrows them.
const Range heating_rate_range{Dimension::temperature_rate, 0.1 / 60, "K/min", 20.0 / 60, "K/min"};
const Range frequency_range{Dimension::frequency, 0.01, "Hz", 200, "Hz"};
const Range dmta_amplitude_range{Dimension::length, 0.1e-6, "µm", 1e-3, "mm"};
const Range dmta_interval_range{Dimension::time, 0.1, "s", 600, "min"};
const Range after_recovery_range{Dimension::time, 0, "h", 168 * 3600.0, "h"};
constexpr std::size_t max_frequencies = 10;
// The β peak is some 30 K wide: a narrower scan cannot show a peak and both its flanks.
constexpr double min_scan_span_k = 20;
// Each frequency measured at least every 2 K, so that each local peak fit has points enough.
constexpr double max_step_per_frequency_k = 2;
// One oscillation period settles after a frequency change, one is measured.
constexpr double min_periods_per_measurement = 2;
constexpr int min_spectrum_modes = 2, max_spectrum_modes = 200;
constexpr double max_lambda = 1e6;

std::string number_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

using Keys = std::span<const std::string_view>;

std::string join(Keys words) {
    std::string text;
    for (const auto word : words) {
        text += (text.empty() ? "" : ", ") + std::string(word);
    }
    return text;
}

std::string kind_of(const YAML::Node& node) {
    if (node.IsMap()) {
        return "a mapping";
    }
    if (node.IsSequence()) {
        return "a list";
    }
    if (node.IsNull()) {
        return "nothing";
    }
    // Long enough to recognize, short enough to keep the message on one screen line.
    constexpr std::size_t max_shown = 40;
    const auto& text = node.Scalar();
    return "'" + text.substr(0, max_shown) + (text.size() > max_shown ? "...'" : "'");
}

// A value in the file, with where it came from for messages.
struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string path;  // dotted field path
    std::string name;  // the key
};

// Where a derived value came from, so a cross-field problem points at the right line.
struct Source {
    YAML::Mark mark;
    std::string path;
};

// A quantity that may be a list of values (the swept parameter of a mode).
struct Swept {
    std::vector<double> values_si;
    std::vector<Source> sources;
};

// Walks the YAML tree, converting and range-checking fields and collecting every problem.
class Reader {
  public:
    std::vector<Diagnostic> errors;

    void error(const YAML::Mark& mark, std::string path, std::string message) {
        // yaml-cpp marks are 0-based; a null mark (−1) means "unknown".
        errors.push_back({mark.line >= 0 ? mark.line + 1 : 0,
                          mark.column >= 0 ? mark.column + 1 : 0, std::move(path),
                          std::move(message)});
    }

    // The mark of a value, or of its key when the value has none (an empty value).
    static YAML::Mark mark_of(const Entry& entry) {
        const auto mark = entry.value.Mark();
        return mark.line >= 0 ? mark : entry.key.Mark();
    }

    // Checks that `node` is a mapping whose keys are all in `allowed`, each once. Returns its
    // entries by key; nothing when it is not a mapping.
    std::vector<Entry> mapping(const YAML::Node& node, const YAML::Mark& where,
                               const std::string& path, Keys allowed, std::string_view what) {
        std::vector<Entry> entries;
        if (!node.IsMap()) {
            error(node.Mark().line >= 0 ? node.Mark() : where, path,
                  "expected " + std::string(what) + " (keys " + join(allowed) + "), got " +
                      kind_of(node));
            return entries;
        }
        std::set<std::string> seen;
        for (auto it = node.begin(); it != node.end(); ++it) {
            // Copies: yaml-cpp's iterator yields a temporary pair, so references would dangle.
            const YAML::Node key = it->first;
            const YAML::Node value = it->second;
            if (!key.IsScalar()) {
                error(key.Mark(), path, "keys must be plain names, got " + kind_of(key));
                continue;
            }
            const std::string name = key.Scalar();
            const std::string field = path.empty() ? name : path + "." + name;
            if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
                error(key.Mark(), field.empty() ? path : field,
                      "unknown key '" + name + "' (allowed: " + join(allowed) + ")");
                continue;
            }
            if (!seen.insert(name).second) {
                error(key.Mark(), field, "duplicate key");
                continue;
            }
            entries.push_back({key, value, field, name});
        }
        return entries;
    }

    std::vector<Entry> mapping(const YAML::Node& node, const YAML::Mark& where,
                               const std::string& path,
                               std::initializer_list<std::string_view> allowed,
                               std::string_view what) {
        return mapping(node, where, path, Keys(allowed.begin(), allowed.size()), what);
    }

    static const Entry* find(const std::vector<Entry>& entries, std::string_view key) {
        for (const auto& entry : entries) {
            if (entry.name == key) {
                return &entry;
            }
        }
        return nullptr;
    }

    // A required key is missing: reported at `where`, the parent's key (or the document).
    void missing(const YAML::Mark& where, const std::string& path, std::string_view hint) {
        error(where, path, "missing (" + std::string(hint) + ")");
    }

    // A scalar quantity with a unit, range-checked. nullopt after reporting a problem.
    std::optional<double> quantity(const Entry& entry, const Range& range) {
        if (!entry.value.IsScalar()) {
            const std::string expected = "a " + std::string(dimension_name(range.dimension)) +
                                         " with a unit (" + allowed_units(range.dimension) + ")";
            error(mark_of(entry), entry.path,
                  entry.value.IsNull() ? "missing value: expected " + expected
                                       : "expected " + expected + ", got " + kind_of(entry.value));
            return std::nullopt;
        }
        const auto parsed = parse_quantity(entry.value.Scalar(), range.dimension);
        if (!parsed.si) {
            error(mark_of(entry), entry.path, parsed.problem);
            return std::nullopt;
        }
        if (!range.contains(*parsed.si)) {
            error(mark_of(entry), entry.path,
                  entry.value.Scalar() + " is out of range (" + range.text() + ")");
            return std::nullopt;
        }
        return parsed.si;
    }

    // An optional quantity: the default when absent.
    double quantity_or(const std::vector<Entry>& entries, std::string_view key, const Range& range,
                       double fallback) {
        const Entry* const entry = find(entries, key);
        if (entry == nullptr) {
            return fallback;
        }
        return quantity(*entry, range).value_or(fallback);
    }

    // A required quantity.
    std::optional<double> required(const std::vector<Entry>& entries, const YAML::Mark& where,
                                   const std::string& path, std::string_view key,
                                   const Range& range, std::string_view hint) {
        const Entry* const entry = find(entries, key);
        if (entry == nullptr) {
            missing(where, join_path(path, key), hint);
            return std::nullopt;
        }
        return quantity(*entry, range);
    }

    // A quantity, or a list of 1 to max_count of them (`what` names such a list in messages).
    std::optional<Swept> quantities(const Entry& entry, const Range& range, std::size_t max_count,
                                    std::string_view what) {
        Swept result;
        if (!entry.value.IsSequence()) {
            const auto value = quantity(entry, range);
            if (!value) {
                return std::nullopt;
            }
            result.values_si.push_back(*value);
            result.sources.push_back({mark_of(entry), entry.path});
            return result;
        }
        if (entry.value.size() == 0 || entry.value.size() > max_count) {
            error(mark_of(entry), entry.path,
                  std::string(what) + " needs 1 to " + std::to_string(max_count) + " values, got " +
                      std::to_string(entry.value.size()));
            return std::nullopt;
        }
        bool ok = true;
        for (std::size_t i = 0; i < entry.value.size(); ++i) {
            const Entry item{entry.key, entry.value[i], entry.path + "[" + std::to_string(i) + "]",
                             entry.name};
            if (const auto value = quantity(item, range)) {
                result.values_si.push_back(*value);
                result.sources.push_back({mark_of(item), item.path});
            } else {
                ok = false;
            }
        }
        return ok ? std::optional<Swept>(result) : std::nullopt;
    }

    // A quantity, or a non-empty list of them when `sweepable` (one run per value).
    std::optional<Swept> swept(const Entry& entry, const Range& range, bool sweepable,
                               std::string_view mode_name) {
        if (entry.value.IsSequence() && !sweepable) {
            error(mark_of(entry), entry.path,
                  "a list (a sweep) is allowed only for the swept parameter of mode " +
                      std::string(mode_name));
            return std::nullopt;
        }
        return quantities(entry, range, max_sweep_points, "a sweep");
    }

    // A plain word or name (ids end up in file names): 1 to max_name_length of letters, digits
    // and . _ -, starting with a letter or digit (so never ".", ".." or a hidden file).
    std::optional<std::string> name(const Entry& entry) {
        if (!entry.value.IsScalar() || entry.value.Scalar().empty()) {
            error(mark_of(entry), entry.path, "expected a name, got " + kind_of(entry.value));
            return std::nullopt;
        }
        const auto& text = entry.value.Scalar();
        const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        });
        if (!plain || !std::isalnum(static_cast<unsigned char>(text.front())) ||
            text.size() > max_name_length) {
            error(mark_of(entry), entry.path,
                  kind_of(entry.value) + " is not a name: 1 to " + std::to_string(max_name_length) +
                      " letters, digits, '.', '_' and '-', starting with a letter or digit");
            return std::nullopt;
        }
        return text;
    }

    std::optional<int> integer(const Entry& entry, int min, int max) {
        const std::string text = entry.value.IsScalar() ? entry.value.Scalar() : std::string();
        int value = 0;
        const auto [stop, code] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (!entry.value.IsScalar() || text.empty() || code != std::errc() ||
            stop != text.data() + text.size()) {
            error(mark_of(entry), entry.path,
                  "expected a whole number, got " + kind_of(entry.value));
            return std::nullopt;
        }
        if (value < min || value > max) {
            error(mark_of(entry), entry.path,
                  text + " is out of range (allowed range " + std::to_string(min) + " … " +
                      std::to_string(max) + ")");
            return std::nullopt;
        }
        return value;
    }

    static std::string join_path(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }
};

// "La30Ce30Ni10Al20Co10": element symbols each followed by a positive amount.
bool plausible_composition(std::string_view text) {
    std::size_t i = 0;
    int elements = 0;
    while (i < text.size()) {
        if (!std::isupper(static_cast<unsigned char>(text[i]))) {
            return false;
        }
        ++i;
        if (i < text.size() && std::islower(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        double amount = 0;
        const auto [stop, code] =
            std::from_chars(text.data() + i, text.data() + text.size(), amount);
        if (code != std::errc() || !(amount > 0)) {
            return false;
        }
        i = static_cast<std::size_t>(stop - text.data());
        ++elements;
    }
    return elements > 0;
}

void read_sample(Reader& reader, const Entry& entry, Sample& sample) {
    const auto entries = reader.mapping(
        entry.value, Reader::mark_of(entry), "sample",
        {"id", "composition", "density", "width", "thickness", "gauge_length"}, "the sample");
    if (!entry.value.IsMap()) {
        return;
    }
    const auto where = entry.key.Mark();
    if (const Entry* id = Reader::find(entries, "id")) {
        sample.id = reader.name(*id).value_or("");
    } else {
        reader.missing(where, "sample.id", "the sample's name, e.g. R1");
    }
    if (const Entry* composition = Reader::find(entries, "composition")) {
        const std::string text =
            composition->value.IsScalar() ? composition->value.Scalar() : std::string();
        if (plausible_composition(text)) {
            sample.composition = text;
        } else {
            reader.error(Reader::mark_of(*composition), composition->path,
                         "expected element symbols with atomic amounts, e.g. "
                         "La30Ce30Ni10Al20Co10, got " +
                             kind_of(composition->value));
        }
    } else {
        reader.missing(where, "sample.composition", "e.g. La30Ce30Ni10Al20Co10");
    }
    const auto take = [&](std::string_view key, const Range& range, std::string_view hint,
                          double& target) {
        if (const auto value = reader.required(entries, where, "sample", key, range, hint)) {
            target = *value;
        }
    };
    take("density", density_range, "e.g. 6.3 g/cm3", sample.density_kg_m3);
    take("width", width_range, "e.g. 1.2 mm", sample.width_m);
    take("thickness", thickness_range, "e.g. 30 µm", sample.thickness_m);
    take("gauge_length", gauge_length_range, "e.g. 10 mm", sample.gauge_length_m);
}

// The cycling section resolved into one (σ_min, σ_max, rate) per run, with the source of σ_max
// for the force check.
struct CyclingPoint {
    double stress_min_pa = 0, stress_max_pa = 0, stress_rate_pa_s = 0;
    // σ_max − σ_min as asked (2 · amplitude): an amplitude too small to change σ in double
    // precision is not creep but a triangle too fast to run.
    double spread_pa = 0;
    Source peak_source;
    Source period_source;     // the swept (or deciding) parameter, for a too short period
    std::string label;        // appended to the sample id in a sweep, e.g. "50-150"
    std::string sweep_point;  // e.g. "amplitude 50 MPa"
};

struct CyclingSection {
    Mode mode = Mode::custom;
    double duration_s = 8 * 3600.0;
    Source duration_source;
    bool sweep = false;
    std::vector<CyclingPoint> points;
};

std::string mpa(double pa) {
    return number_text(pa / 1e6);
}

constexpr std::array<std::string_view, 5> amplitude_keys{"mode", "amplitude", "mean", "stress_rate",
                                                         "duration"};
constexpr std::array<std::string_view, 5> stress_rate_keys{"mode", "stress_rate", "mean",
                                                           "amplitude", "duration"};
constexpr std::array<std::string_view, 4> mean_stress_keys{"mode", "mean", "stress_rate",
                                                           "duration"};
constexpr std::array<std::string_view, 5> custom_keys{"mode", "stress_min", "stress_max",
                                                      "stress_rate", "duration"};

std::optional<CyclingSection> read_cycling(Reader& reader, const Entry& entry) {
    const auto where = Reader::mark_of(entry);
    if (!entry.value.IsMap()) {
        reader.error(where, "cycling",
                     "expected a mapping with 'mode' (amplitude, stress_rate, mean_stress or "
                     "custom) and its parameters, got " +
                         kind_of(entry.value));
        return std::nullopt;
    }
    const YAML::Node mode_node = entry.value["mode"];
    CyclingSection section;
    Keys keys;
    std::string_view swept_key;
    const std::string mode_text = mode_node && mode_node.IsScalar() ? mode_node.Scalar() : "";
    if (mode_text == "amplitude") {
        section.mode = Mode::amplitude;
        keys = amplitude_keys;
        swept_key = "amplitude";
    } else if (mode_text == "stress_rate") {
        section.mode = Mode::stress_rate;
        keys = stress_rate_keys;
        swept_key = "stress_rate";
    } else if (mode_text == "mean_stress") {
        section.mode = Mode::mean_stress;
        keys = mean_stress_keys;
        swept_key = "mean";
    } else if (mode_text == "custom") {
        section.mode = Mode::custom;
        keys = custom_keys;
    } else {
        if (!mode_node) {
            reader.missing(entry.key.Mark(), "cycling.mode",
                           "amplitude, stress_rate, mean_stress or custom");
        } else {
            reader.error(mode_node.Mark(), "cycling.mode",
                         "expected amplitude, stress_rate, mean_stress or custom, got " +
                             kind_of(mode_node));
        }
        return std::nullopt;
    }
    const auto entries = reader.mapping(entry.value, where, "cycling", keys, "the cycling");
    const std::string mode_name(to_string(section.mode));
    if (const Entry* duration = Reader::find(entries, "duration")) {
        section.duration_s = reader.quantity(*duration, run_duration_range).value_or(0);
        section.duration_source = {Reader::mark_of(*duration), duration->path};
    } else {
        section.duration_source = {where, "cycling.duration"};
    }

    // Each parameter: its values (several only for the swept one), or the paper's default.
    bool ok = section.duration_s > 0;
    const auto parameter = [&](std::string_view key, const Range& range,
                               std::optional<double> fallback) -> Swept {
        const Entry* const found = Reader::find(entries, key);
        if (found == nullptr) {
            if (!fallback) {
                reader.missing(entry.key.Mark(), "cycling." + std::string(key),
                               "required in mode " + mode_name);
                ok = false;
                return {};
            }
            return {{*fallback}, {{where, "cycling." + std::string(key)}}};
        }
        auto values = reader.swept(*found, range, key == swept_key, mode_name);
        if (!values) {
            ok = false;
            return {};
        }
        section.sweep = section.sweep || found->value.IsSequence();
        return *values;
    };
    constexpr double paper_rate_pa_s = 50e6 / 60, paper_mean_pa = 100e6, paper_amplitude_pa = 100e6;
    const auto add = [&](double low, double high, double spread, double rate, const Source& peak,
                         const Source& period, std::string sweep_point) {
        std::string label = mpa(low) + "-" + mpa(high);
        if (section.mode == Mode::stress_rate) {
            label += "-r" + number_text(rate * 60 / 1e6);
        }
        section.points.push_back(
            {low, high, rate, spread, peak, period, std::move(label), std::move(sweep_point)});
    };
    const auto amplitude_above_mean = [&](double a, double mean_pa, const Source& source) {
        if (a <= mean_pa) {
            return false;
        }
        reader.error(source.mark, source.path,
                     "amplitude " + mpa(a) + " MPa exceeds the mean " + mpa(mean_pa) +
                         " MPa: σ_min would be below 0 (allowed range 0 MPa … " + mpa(mean_pa) +
                         " MPa)");
        return true;
    };
    switch (section.mode) {
        case Mode::amplitude:
        case Mode::stress_rate: {
            const bool by_amplitude = section.mode == Mode::amplitude;
            const auto amplitude =
                parameter("amplitude", stress_range,
                          by_amplitude ? std::nullopt : std::optional<double>(paper_amplitude_pa));
            const auto mean = parameter("mean", stress_range, paper_mean_pa);
            const auto rate =
                parameter("stress_rate", stress_rate_range,
                          by_amplitude ? std::optional<double>(paper_rate_pa_s) : std::nullopt);
            if (!ok) {
                return std::nullopt;
            }
            const double mean_pa = mean.values_si.front();
            if (by_amplitude) {
                const double rate_pa_s = rate.values_si.front();
                for (std::size_t i = 0; i < amplitude.values_si.size(); ++i) {
                    const double a = amplitude.values_si[i];
                    if (amplitude_above_mean(a, mean_pa, amplitude.sources[i])) {
                        ok = false;
                        continue;
                    }
                    add(mean_pa - a, mean_pa + a, 2 * a, rate_pa_s, amplitude.sources[i],
                        amplitude.sources[i], "amplitude " + mpa(a) + " MPa");
                }
            } else {
                const double a = amplitude.values_si.front();
                if (amplitude_above_mean(a, mean_pa, amplitude.sources.front())) {
                    return std::nullopt;
                }
                for (std::size_t i = 0; i < rate.values_si.size(); ++i) {
                    add(mean_pa - a, mean_pa + a, 2 * a, rate.values_si[i],
                        amplitude.sources.front(), rate.sources[i],
                        "stress rate " + number_text(rate.values_si[i] * 60 / 1e6) + " MPa/min");
                }
            }
            break;
        }
        case Mode::mean_stress: {
            const auto mean = parameter("mean", stress_range, std::nullopt);
            const auto rate = parameter("stress_rate", stress_rate_range, paper_rate_pa_s);
            if (!ok) {
                return std::nullopt;
            }
            for (std::size_t i = 0; i < mean.values_si.size(); ++i) {
                add(0, 2 * mean.values_si[i], 2 * mean.values_si[i], rate.values_si.front(),
                    mean.sources[i], mean.sources[i], "mean " + mpa(mean.values_si[i]) + " MPa");
            }
            break;
        }
        case Mode::custom: {
            const auto low = parameter("stress_min", stress_range, std::nullopt);
            const auto high = parameter("stress_max", stress_range, std::nullopt);
            const auto rate = parameter("stress_rate", stress_rate_range, std::nullopt);
            if (!ok) {
                return std::nullopt;
            }
            if (high.values_si.front() < low.values_si.front()) {
                reader.error(high.sources.front().mark, high.sources.front().path,
                             "stress_max " + mpa(high.values_si.front()) +
                                 " MPa is below stress_min " + mpa(low.values_si.front()) +
                                 " MPa (allowed range " + mpa(low.values_si.front()) +
                                 " MPa … 5000 MPa)");
                return std::nullopt;
            }
            add(low.values_si.front(), high.values_si.front(),
                high.values_si.front() - low.values_si.front(), rate.values_si.front(),
                high.sources.front(), high.sources.front(), "");
            break;
        }
    }
    if (!ok) {
        return std::nullopt;
    }
    return section;
}

void read_limits(Reader& reader, const Entry& entry, double frame_force_limit_n, Limits& limits,
                 Source& force_source, Source& stress_source) {
    const auto entries = reader.mapping(
        entry.value, Reader::mark_of(entry), "limits",
        {"max_force", "max_stress", "max_strain", "temperature_band", "stale_link"}, "limits");
    const Range force_range{Dimension::force, 1e-3, "mN", frame_force_limit_n, "N"};
    if (const Entry* force = Reader::find(entries, "max_force")) {
        if (const auto value = reader.quantity(*force, force_range)) {
            limits.max_force_n = *value;
            force_source = {Reader::mark_of(*force), force->path};
        }
    }
    if (const Entry* stress = Reader::find(entries, "max_stress")) {
        limits.max_stress_pa = reader.quantity(*stress, max_stress_range);
        stress_source = {Reader::mark_of(*stress), stress->path};
    }
    limits.max_strain =
        reader.quantity_or(entries, "max_strain", max_strain_range, limits.max_strain);
    limits.temperature_band_k =
        reader.quantity_or(entries, "temperature_band", band_range, limits.temperature_band_k);
    limits.stale_link_s =
        reader.quantity_or(entries, "stale_link", stale_link_range, limits.stale_link_s);
}

// The dmta section: the scan, and the recovery times of a chained job when given.
struct DmtaSection {
    DmtaScan scan;
    Source source;                        // the dmta key
    std::optional<Swept> after_recovery;  // one run per recovery time
    Source after_recovery_source;
};

std::string kelvin(double k) {
    return format_quantity(k, "K", Dimension::temperature);
}

std::optional<DmtaSection> read_dmta(Reader& reader, const Entry& entry,
                                     const std::optional<ProfileLimit>& profile) {
    const auto entries = reader.mapping(
        entry.value, Reader::mark_of(entry), "dmta",
        {"from", "to", "rate", "frequencies", "amplitude", "interval", "after_recovery"},
        "a DMTA scan");
    if (!entry.value.IsMap()) {
        return std::nullopt;
    }
    const std::size_t errors_before = reader.errors.size();
    DmtaSection section;
    section.source = {entry.key.Mark(), "dmta"};
    DmtaScan& scan = section.scan;
    // Where each value came from; a default is blamed on the dmta key.
    Source from_source = section.source, to_source = section.source;
    Source amplitude_source = section.source, interval_source = section.source;
    const auto read = [&](std::string_view key, const Range& range, double& target,
                          Source* source) {
        if (const Entry* found = Reader::find(entries, key)) {
            if (source != nullptr) {
                *source = {Reader::mark_of(*found), found->path};
            }
            target = reader.quantity(*found, range).value_or(target);
        }
    };
    read("from", temperature_range, scan.from_k, &from_source);
    read("to", temperature_range, scan.to_k, &to_source);
    read("rate", heating_rate_range, scan.rate_k_s, nullptr);
    read("amplitude", dmta_amplitude_range, scan.amplitude_m, &amplitude_source);
    read("interval", dmta_interval_range, scan.interval_s, &interval_source);
    std::vector<Source> frequency_sources(scan.frequencies_hz.size(), section.source);
    if (const Entry* frequencies = Reader::find(entries, "frequencies")) {
        if (auto list = reader.quantities(*frequencies, frequency_range, max_frequencies,
                                          "a frequency list")) {
            scan.frequencies_hz = list->values_si;
            frequency_sources = list->sources;
        }
    }
    if (const Entry* after = Reader::find(entries, "after_recovery")) {
        section.after_recovery_source = {Reader::mark_of(*after), after->path};
        section.after_recovery = reader.quantities(*after, after_recovery_range, max_sweep_points,
                                                   "a list of recovery times");
    }
    if (reader.errors.size() != errors_before) {
        return std::nullopt;
    }

    if (!(scan.to_k >= scan.from_k + min_scan_span_k)) {
        reader.error(to_source.mark, to_source.path,
                     "a scan from " + kelvin(scan.from_k) + " to " + kelvin(scan.to_k) +
                         " does not heat by at least " + number_text(min_scan_span_k) +
                         " K, the width of a β peak (allowed range " +
                         kelvin(scan.from_k + min_scan_span_k) + " … 873.15 K)");
    }
    for (std::size_t i = 0; i < scan.frequencies_hz.size(); ++i) {
        const double f = scan.frequencies_hz[i];
        if (std::count(scan.frequencies_hz.begin(), scan.frequencies_hz.begin() + i, f) > 0) {
            reader.error(frequency_sources[i].mark, frequency_sources[i].path,
                         "repeats the frequency " + number_text(f) + " Hz");
        }
        if (profile && profile->frequency_min_hz && profile->frequency_max_hz &&
            !(f >= *profile->frequency_min_hz && f <= *profile->frequency_max_hz)) {
            reader.error(frequency_sources[i].mark, frequency_sources[i].path,
                         number_text(f) + " Hz is outside the frame's range (allowed range " +
                             number_text(*profile->frequency_min_hz) + " Hz … " +
                             number_text(*profile->frequency_max_hz) +
                             " Hz, profile frame.frequency_min_hz/max_hz)");
        }
    }
    if (profile && profile->amplitude_min_m && profile->amplitude_max_m &&
        !(scan.amplitude_m >= *profile->amplitude_min_m &&
          scan.amplitude_m <= *profile->amplitude_max_m)) {
        reader.error(amplitude_source.mark, amplitude_source.path,
                     format_quantity(scan.amplitude_m, "µm", Dimension::length) +
                         " is outside the frame's range (allowed range " +
                         format_quantity(*profile->amplitude_min_m, "µm", Dimension::length) +
                         " … " +
                         format_quantity(*profile->amplitude_max_m, "µm", Dimension::length) +
                         ", profile frame.amplitude_min_m/max_m)");
    }
    // The furnace heats only: it holds a temperature at least a kelvin above its surroundings.
    if (profile && profile->ambient_k && scan.from_k < *profile->ambient_k + 1) {
        reader.error(from_source.mark, from_source.path,
                     kelvin(scan.from_k) + " is not above the furnace's ambient " +
                         kelvin(*profile->ambient_k) +
                         " (profile furnace.ambient_k): the furnace only heats (allowed range " +
                         kelvin(*profile->ambient_k + 1) + " … 873.15 K)");
    }
    const double lowest_hz =
        *std::min_element(scan.frequencies_hz.begin(), scan.frequencies_hz.end());
    const double count = static_cast<double>(scan.frequencies_hz.size());
    const double step_k = scan.rate_k_s * scan.interval_s * count;
    if (scan.interval_s < min_periods_per_measurement / lowest_hz) {
        reader.error(interval_source.mark, interval_source.path,
                     number_text(scan.interval_s) + " s is shorter than " +
                         number_text(min_periods_per_measurement) + " periods of " +
                         number_text(lowest_hz) + " Hz (allowed range ≥ " +
                         number_text(min_periods_per_measurement / lowest_hz) + " s)");
    } else if (step_k > max_step_per_frequency_k) {
        reader.error(interval_source.mark, interval_source.path,
                     "each frequency would be measured every " + number_text(step_k) + " K (" +
                         number_text(count) + " frequencies × " + number_text(scan.interval_s) +
                         " s at " + number_text(scan.rate_k_s * 60) +
                         " K/min), too coarse for the β peak fits (allowed range ≤ " +
                         number_text(max_step_per_frequency_k / (scan.rate_k_s * count)) +
                         " s at this rate)");
    }
    if (reader.errors.size() != errors_before) {
        return std::nullopt;
    }
    return section;
}

// "8h", "30min", "90s": a recovery time in a run's sample id.
std::string duration_label(double s) {
    if (s == 0 || std::fmod(s, 3600) == 0) {
        return number_text(s / 3600) + "h";
    }
    return std::fmod(s, 60) == 0 ? number_text(s / 60) + "min" : number_text(s) + "s";
}

void read_analysis(Reader& reader, const Entry& entry, AnalysisOptions& options) {
    const auto entries =
        reader.mapping(entry.value, Reader::mark_of(entry), "analysis",
                       {"spectrum_modes", "tau_min", "tau_max", "lambda"}, "analysis options");
    if (const Entry* modes = Reader::find(entries, "spectrum_modes")) {
        options.spectrum_modes = reader.integer(*modes, min_spectrum_modes, max_spectrum_modes)
                                     .value_or(options.spectrum_modes);
    }
    options.tau_min_s = reader.quantity_or(entries, "tau_min", tau_min_range, options.tau_min_s);
    const Entry* const tau_max = Reader::find(entries, "tau_max");
    if (tau_max != nullptr) {
        if (const auto value = reader.quantity(*tau_max, tau_max_range)) {
            options.tau_max_s = *value;
            if (options.tau_max_s <= options.tau_min_s * 10) {
                reader.error(Reader::mark_of(*tau_max), tau_max->path,
                             "must exceed 10 × tau_min (" + number_text(options.tau_min_s) +
                                 " s) to span a spectrum");
            }
        }
    }
    if (const Entry* lambda = Reader::find(entries, "lambda")) {
        const std::string text = lambda->value.IsScalar() ? lambda->value.Scalar() : "";
        double value = 0;
        const auto [stop, code] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text == "auto") {
            options.lambda.reset();
        } else if (text.empty() || code != std::errc() || stop != text.data() + text.size() ||
                   !std::isfinite(value)) {
            reader.error(Reader::mark_of(*lambda), lambda->path,
                         "expected a number (the dimensionless regularization) or 'auto', got " +
                             kind_of(lambda->value));
        } else if (value < 0 || value > max_lambda) {
            reader.error(Reader::mark_of(*lambda), lambda->path,
                         text + " is out of range (allowed range 0 … " + number_text(max_lambda) +
                             ", or auto)");
        } else {
            options.lambda = value;
        }
    }
}

// Cross-field checks of one resolved run: force and stress limits, at least one whole cycle.
void check_run(Reader& reader, const Job& job, const CyclingPoint& point,
               const CyclingSection& section, double frame_force_limit_n,
               const Source& force_source, const Source& stress_source) {
    const double area_m2 = job.sample.cross_section_m2();
    const double peak_force_n = std::max(point.stress_max_pa * area_m2, job.pre_tension_n);
    const bool own_limit = job.limits.max_force_n < frame_force_limit_n;
    const double limit_n = std::min(job.limits.max_force_n, frame_force_limit_n);
    // The relative slack absorbs rounding: 500 MPa on 1.2 mm × 30 µm is exactly 18 N.
    if (peak_force_n > limit_n * (1 + 1e-9)) {
        reader.error(
            point.peak_source.mark, point.peak_source.path,
            "peak force " + number_text(peak_force_n) + " N (" + mpa(point.stress_max_pa) +
                " MPa on " + format_quantity(job.sample.width_m, "mm", Dimension::length) + " × " +
                format_quantity(job.sample.thickness_m, "µm", Dimension::length) + ") exceeds " +
                (own_limit
                     ? "limits.max_force (line " + std::to_string(force_source.mark.line + 1) + ") "
                     : "the frame limit ") +
                number_text(limit_n) + " N (allowed range 0 MPa … " + mpa(limit_n / area_m2) +
                " MPa)");
    }
    if (job.limits.max_stress_pa && point.stress_max_pa > *job.limits.max_stress_pa) {
        reader.error(point.peak_source.mark, point.peak_source.path,
                     "peak stress " + mpa(point.stress_max_pa) +
                         " MPa exceeds limits.max_stress (line " +
                         std::to_string(stress_source.mark.line + 1) + ") " +
                         mpa(*job.limits.max_stress_pa) + " MPa");
    }
    if (point.spread_pa > 0) {
        const double period_s = 2 * point.spread_pa / point.stress_rate_pa_s;
        if (!(period_s >= min_cycle_period_s)) {
            reader.error(point.period_source.mark, point.period_source.path,
                         "a triangle of σ_max − σ_min = " + mpa(point.spread_pa) + " MPa at " +
                             number_text(point.stress_rate_pa_s * 60 / 1e6) +
                             " MPa/min has a period of " + number_text(period_s) +
                             " s, shorter than the " + number_text(min_cycle_period_s) +
                             " s a 10 Hz acquisition resolves (allowed range: σ_max − σ_min ≥ " +
                             mpa(point.stress_rate_pa_s * min_cycle_period_s / 2) +
                             " MPa at this rate, or 0 for creep)");
        } else if (section.duration_s < period_s) {
            reader.error(section.duration_source.mark, section.duration_source.path,
                         format_quantity(section.duration_s, "min", Dimension::time) +
                             " is shorter than one cycle of " +
                             format_quantity(period_s, "min", Dimension::time) + " (" +
                             point.label + " MPa)");
        }
    }
}

JobFile read_job(Reader& reader, const YAML::Node& root, double frame_force_limit_n,
                 const ProfileResolver* resolve_profile) {
    JobFile file;
    const YAML::Mark top{};
    const auto entries =
        reader.mapping(root, top, "",
                       {"name", "profile", "sample", "temperature", "equilibrate", "hold",
                        "pre_tension", "cycling", "recovery", "dmta", "limits", "analysis"},
                       "a job: a mapping");
    if (!root.IsMap()) {
        return file;
    }
    Job job;
    const Entry* const dmta_entry = Reader::find(entries, "dmta");
    const Entry* const cycling_entry = Reader::find(entries, "cycling");
    job.kind = dmta_entry == nullptr      ? JobKind::cycling
               : cycling_entry == nullptr ? JobKind::dmta
                                          : JobKind::cycling_dmta;
    std::optional<ProfileLimit> profile_limits;
    if (const Entry* name = Reader::find(entries, "name")) {
        job.name = reader.name(*name).value_or("");
    }
    if (const Entry* profile = Reader::find(entries, "profile")) {
        job.profile = reader.name(*profile).value_or("");
        if (resolve_profile != nullptr && !job.profile.empty()) {
            const auto found = (*resolve_profile)(job.profile);
            if (found.force_max_n) {
                frame_force_limit_n = *found.force_max_n;
                profile_limits = found;
            } else {
                reader.error(Reader::mark_of(*profile), profile->path, found.problem);
            }
        }
    } else {
        reader.missing(root.Mark(), "profile", "the instrument profile, e.g. sim-la30");
    }
    if (const Entry* sample = Reader::find(entries, "sample")) {
        read_sample(reader, *sample, job.sample);
    } else {
        reader.missing(root.Mark(), "sample",
                       "id, composition, density, width, thickness, "
                       "gauge_length");
    }
    // An as-cast scan has no test temperature and no recovery: it starts at dmta.from; a
    // chained scan's recovery times are dmta.after_recovery.
    for (const std::string_view key : {"temperature", "recovery"}) {
        const Entry* const unused = Reader::find(entries, key);
        if (unused != nullptr && (job.kind == JobKind::dmta ||
                                  (job.kind == JobKind::cycling_dmta && key == "recovery"))) {
            reader.error(unused->key.Mark(), unused->path,
                         job.kind == JobKind::dmta
                             ? "not used by an as-cast DMTA scan (no cycling section): it starts "
                               "at dmta.from; remove it"
                             : "a chained DMTA job recovers for each of dmta.after_recovery "
                               "before its scan; remove it");
        }
    }
    if (job.kind != JobKind::dmta) {
        if (const auto value =
                reader.required(entries, root.Mark(), "", "temperature", temperature_range,
                                "the test temperature, e.g. 365 K")) {
            job.temperature_k = *value;
        }
    }
    std::optional<Source> tolerance_source;
    if (const Entry* equilibrate = Reader::find(entries, "equilibrate")) {
        const auto inner =
            reader.mapping(equilibrate->value, Reader::mark_of(*equilibrate), "equilibrate",
                           {"tolerance", "timeout", "settle"}, "equilibration settings");
        if (const Entry* tolerance = Reader::find(inner, "tolerance")) {
            tolerance_source = Source{Reader::mark_of(*tolerance), tolerance->path};
        }
        job.equilibrate_tolerance_k =
            reader.quantity_or(inner, "tolerance", tolerance_range, job.equilibrate_tolerance_k);
        job.equilibrate_timeout_s =
            reader.quantity_or(inner, "timeout", timeout_range, job.equilibrate_timeout_s);
        job.equilibrate_settle_s =
            reader.quantity_or(inner, "settle", settle_range, job.equilibrate_settle_s);
    }
    job.hold_s = reader.quantity_or(entries, "hold", hold_range, job.hold_s);
    job.pre_tension_n =
        reader.quantity_or(entries, "pre_tension", pre_tension_range, job.pre_tension_n);
    if (job.kind == JobKind::cycling) {
        job.recovery_s =
            reader.quantity_or(entries, "recovery", run_duration_range, job.recovery_s);
    }
    Source force_source{top, "limits.max_force"}, stress_source{top, "limits.max_stress"};
    Source band_source{top, "limits.temperature_band"};
    if (const Entry* limits = Reader::find(entries, "limits")) {
        read_limits(reader, *limits, frame_force_limit_n, job.limits, force_source, stress_source);
        band_source = Source{limits->key.Mark(), "limits.temperature_band"};
    }
    // Equilibrated must mean inside the band (the default one too), or the interlock trips as
    // the hold starts.
    if (job.equilibrate_tolerance_k > job.limits.temperature_band_k) {
        const Source where = tolerance_source.value_or(band_source);
        reader.error(where.mark, where.path,
                     "the equilibration tolerance ± " + number_text(job.equilibrate_tolerance_k) +
                         " K is wider than limits.temperature_band ± " +
                         number_text(job.limits.temperature_band_k) +
                         " K (allowed range 0.05 K … the band)");
    }
    if (const Entry* analysis = Reader::find(entries, "analysis")) {
        read_analysis(reader, *analysis, job.analysis);
    }
    std::optional<CyclingSection> cycling;
    if (cycling_entry != nullptr) {
        cycling = read_cycling(reader, *cycling_entry);
    } else if (dmta_entry == nullptr) {
        reader.missing(root.Mark(), "cycling",
                       "mode and its parameters; or a dmta section for an as-cast DMTA scan");
    }
    std::optional<DmtaSection> dmta;
    if (dmta_entry != nullptr) {
        dmta = read_dmta(reader, *dmta_entry, profile_limits);
    }
    file.frame_force_limit_n = frame_force_limit_n;
    file.kind = job.kind;
    if (job.name.empty()) {
        job.name = job.sample.id;
    }
    if (dmta && dmta->after_recovery && job.kind == JobKind::dmta) {
        reader.error(dmta->after_recovery_source.mark, dmta->after_recovery_source.path,
                     "recovery times need a cycling section to recover from (an as-cast scan "
                     "has none)");
    }
    if (dmta && cycling && cycling->sweep) {
        reader.error(dmta->source.mark, dmta->source.path,
                     "a chained DMTA job takes one cycling run, not a sweep (each recovery time "
                     "is already a run on its own sample)");
    }
    if (!reader.errors.empty() || (dmta_entry != nullptr && !dmta) ||
        (cycling_entry != nullptr && !cycling)) {
        return file;
    }
    if (job.kind == JobKind::dmta) {
        job.temperature_k = dmta->scan.from_k;
        job.dmta = dmta->scan;
        file.runs.push_back(std::move(job));
        return file;
    }
    if (job.kind == JobKind::cycling_dmta) {
        // One run per recovery time, each on a fresh sample: a scan to 450 K anneals the ribbon
        // (and passes T_g), so it cannot be recovered further and scanned again.
        const Swept after =
            dmta->after_recovery.value_or(Swept{{0.0, 8 * 3600.0}, {dmta->source, dmta->source}});
        const CyclingPoint& point = cycling->points.front();
        file.sweep = after.values_si.size() > 1;
        std::set<std::string> labels;
        for (std::size_t i = 0; i < after.values_si.size(); ++i) {
            Job run = job;
            run.cycling = {cycling->mode, point.stress_min_pa, point.stress_max_pa,
                           point.stress_rate_pa_s, cycling->duration_s};
            run.recovery_s = after.values_si[i];
            run.dmta = dmta->scan;
            const std::string label = "r" + duration_label(run.recovery_s);
            run.name += "-" + label;
            run.sample.id += "-" + label;
            run.sweep_point = "recovery " + format_quantity(run.recovery_s, "h", Dimension::time);
            const Source& where = after.sources[i];
            if (!labels.insert(label).second) {
                reader.error(where.mark, where.path,
                             "repeats the recovery time " + label.substr(1) +
                                 ": each scan needs its own sample id");
            }
            if (run.sample.id.size() > max_name_length || run.name.size() > max_name_length) {
                reader.error(where.mark, where.path,
                             "the run's sample id " + run.sample.id + " or name " + run.name +
                                 " exceeds " + std::to_string(max_name_length) +
                                 " characters: shorten sample.id or name");
            }
            check_run(reader, run, point, *cycling, frame_force_limit_n, force_source,
                      stress_source);
            file.runs.push_back(std::move(run));
        }
        return file;
    }
    file.sweep = cycling->sweep;
    std::set<std::string> labels;
    for (const auto& point : cycling->points) {
        Job run = job;
        run.cycling = {cycling->mode, point.stress_min_pa, point.stress_max_pa,
                       point.stress_rate_pa_s, cycling->duration_s};
        if (file.sweep) {
            run.name += "-" + point.label;
            run.sample.id += "-" + point.label;
            run.sweep_point = point.sweep_point;
            // Each point is a fresh sample stored under its id: two points printing the same
            // (e.g. 50 and 50.0000001 MPa) would mix two samples' data under one id.
            if (!labels.insert(point.label).second) {
                reader.error(point.period_source.mark, point.period_source.path,
                             "repeats the sweep point " + point.label +
                                 ": each point needs its own sample id");
            }
            if (run.sample.id.size() > max_name_length || run.name.size() > max_name_length) {
                reader.error(point.period_source.mark, point.period_source.path,
                             "the run's sample id " + run.sample.id + " or name " + run.name +
                                 " exceeds " + std::to_string(max_name_length) +
                                 " characters: shorten sample.id or name");
            }
        }
        check_run(reader, run, point, *cycling, frame_force_limit_n, force_source, stress_source);
        file.runs.push_back(std::move(run));
    }
    return file;
}

}  // namespace

const Job* run_of_sample(const JobFile& file, std::string_view sample_id) {
    for (const auto& run : file.runs) {
        if (run.sample.id == sample_id) {
            return &run;
        }
    }
    return file.runs.empty() ? nullptr : &file.runs.front();
}

std::string_view to_string(JobKind kind) {
    switch (kind) {
        case JobKind::cycling:
            return "cycling";
        case JobKind::dmta:
            return "dmta";
        case JobKind::cycling_dmta:
            return "cycling_dmta";
    }
    return "?";
}

std::string_view to_string(Mode mode) {
    switch (mode) {
        case Mode::amplitude:
            return "amplitude";
        case Mode::stress_rate:
            return "stress_rate";
        case Mode::mean_stress:
            return "mean_stress";
        case Mode::custom:
            return "custom";
    }
    return "?";
}

std::string Diagnostic::to_string(std::string_view file) const {
    std::string text(file);
    text += ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    if (!field.empty()) {
        text += field + ": ";
    }
    text += message;
    // One problem, one line: control characters quoted from the file (a multi-line scalar,
    // binary junk) would break that.
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c >= 0 && c < ' '; }, '?');
    return text;
}

namespace {

// The start of each document, without building nodes.
class DocumentStarts final : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// yaml-cpp 0.7 (Debian 12) does not consume a ',' outside brackets: every further document
// starts on it, empty, and YAML::LoadAll never returns while its memory grows
// (jbeder/yaml-cpp#1040). Found by tests/fuzz/job_file. Throws a syntax error at such a
// character instead.
void refuse_stalled_parse(const std::string& text) {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts documents;
    while (parser.HandleNextDocument(documents)) {
        const auto& starts = documents.starts;
        if (starts.size() >= 2 && starts.back().pos == starts[starts.size() - 2].pos) {
            const auto at = static_cast<std::size_t>(starts.back().pos);
            throw YAML::ParserException(
                starts.back(), at < text.size() ? "unexpected '" + std::string(1, text[at]) + "'"
                                                : "unexpected end");
        }
    }
}

JobFile parse(std::string_view yaml_text, double frame_force_limit_n,
              const ProfileResolver* resolve_profile) {
    Reader reader;
    JobFile file;
    file.frame_force_limit_n = frame_force_limit_n;
    try {
        const std::string text(yaml_text);
        refuse_stalled_parse(text);
        // All documents, so that a second one ("---" and more) is refused, not silently ignored.
        const auto documents = YAML::LoadAll(text);
        const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
        if (documents.size() > 1) {
            reader.error(documents[1].Mark(), "",
                         "a second YAML document: a job file holds one job (remove the '---' "
                         "and what follows, or use a sweep)");
        } else if (!root || root.IsNull()) {
            reader.error(YAML::Mark{}, "", "empty job file: expected a job (a mapping)");
        } else {
            file = read_job(reader, root, frame_force_limit_n, resolve_profile);
        }
    } catch (const YAML::Exception& error) {
        reader.error(error.mark, "", "YAML syntax error: " + error.msg);
    }
    // A problem shared by every sweep point (e.g. a too short duration) is reported once.
    std::vector<Diagnostic> unique;
    for (auto& diagnostic : reader.errors) {
        const bool seen = std::any_of(unique.begin(), unique.end(), [&](const Diagnostic& other) {
            return other.line == diagnostic.line && other.column == diagnostic.column &&
                   other.message == diagnostic.message;
        });
        if (!seen) {
            unique.push_back(std::move(diagnostic));
        }
    }
    std::stable_sort(unique.begin(), unique.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    file.errors = std::move(unique);
    if (!file.ok()) {
        file.runs.clear();
    }
    return file;
}

}  // namespace

JobFile parse_job(std::string_view yaml_text, double frame_force_limit_n) {
    return parse(yaml_text, frame_force_limit_n, nullptr);
}

JobFile parse_job(std::string_view yaml_text, const ProfileResolver& resolve_profile) {
    return parse(yaml_text, default_frame_force_limit_n, &resolve_profile);
}

namespace {

// A positive number in a profile, or why not.
std::optional<double> positive_number(const YAML::Node& node, std::string& problem) {
    double value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    const auto [stop, code] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (code != std::errc() || stop != text.data() + text.size() || !std::isfinite(value) ||
        value <= 0) {
        problem = "'" + text + "' is not a positive number";
        return std::nullopt;
    }
    return value;
}

}  // namespace

ProfileLimit read_profile_limit(const std::filesystem::path& profile_path) {
    const std::string where = profile_path.string();
    try {
        const YAML::Node profile = YAML::LoadFile(where);
        const YAML::Node force = profile["frame"]["force_max_n"];
        if (!force || !force.IsScalar()) {
            return {std::nullopt, where + " has no frame.force_max_n"};
        }
        std::string problem;
        ProfileLimit limit;
        limit.force_max_n = positive_number(force, problem);
        if (!limit.force_max_n) {
            return {std::nullopt, where + ": frame.force_max_n " + problem + " of newtons"};
        }
        // The DMTA keys are optional: a profile without them leaves the job's own ranges.
        const std::pair<const char*, std::optional<double> ProfileLimit::*> optional_keys[] = {
            {"frame.frequency_min_hz", &ProfileLimit::frequency_min_hz},
            {"frame.frequency_max_hz", &ProfileLimit::frequency_max_hz},
            {"frame.amplitude_min_m", &ProfileLimit::amplitude_min_m},
            {"frame.amplitude_max_m", &ProfileLimit::amplitude_max_m},
            {"furnace.ambient_k", &ProfileLimit::ambient_k}};
        for (const auto& [key, member] : optional_keys) {
            const std::string path = key;
            const auto dot = path.find('.');
            const YAML::Node section = profile[path.substr(0, dot)];
            // A missing key reads as an invalid node: IsDefined() is the one safe question.
            const YAML::Node node = section.IsDefined() && section.IsMap()
                                        ? section[path.substr(dot + 1)]
                                        : YAML::Node(YAML::NodeType::Undefined);
            if (node.IsDefined() && !node.IsNull()) {
                limit.*member = positive_number(node, problem);
                if (!(limit.*member)) {
                    return {std::nullopt, where + ": " + path + " " + problem};
                }
            }
        }
        return limit;
    } catch (const YAML::Exception& error) {
        return {std::nullopt, where + ": " + error.what()};
    }
}

std::vector<std::filesystem::path> profile_candidates(const std::string& name,
                                                      const std::filesystem::path& job_path) {
    namespace fs = std::filesystem;
    const std::string file_name = name + ".yaml";
    return {job_path.parent_path() / ".." / "instruments" / file_name,
            fs::path(DMACYCLE_CONFIG_DIR) / "instruments" / file_name};
}

std::optional<std::filesystem::path> find_profile(const std::string& name,
                                                  const std::filesystem::path& job_path) {
    for (const auto& candidate : profile_candidates(name, job_path)) {
        std::error_code ignored;
        if (std::filesystem::is_regular_file(candidate, ignored)) {
            return candidate;
        }
    }
    return std::nullopt;
}

ProfileLimit find_profile_limit(const std::string& name, const std::filesystem::path& job_path) {
    if (const auto path = find_profile(name, job_path)) {
        return read_profile_limit(*path);
    }
    const auto candidates = profile_candidates(name, job_path);
    return {std::nullopt, "unknown instrument profile '" + name + "' (looked for " +
                              candidates[0].lexically_normal().string() + " and " +
                              candidates[1].string() + ")"};
}

}  // namespace dmacycle::protocols
