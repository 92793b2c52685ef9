#include <array>
#include <string>
#include <string_view>

#include "job_ranges.hpp"
#include "job_sections.hpp"

// The cycling section: the mode, its parameters (one of them possibly swept) and the duration,
// resolved into one triangle (or creep) per run.
namespace dmacycle::protocols::detail {
namespace {

constexpr std::array<std::string_view, 5> amplitude_keys{"mode", "amplitude", "mean", "stress_rate",
                                                         "duration"};
constexpr std::array<std::string_view, 5> stress_rate_keys{"mode", "stress_rate", "mean",
                                                           "amplitude", "duration"};
constexpr std::array<std::string_view, 4> mean_stress_keys{"mode", "mean", "stress_rate",
                                                           "duration"};
constexpr std::array<std::string_view, 5> custom_keys{"mode", "stress_min", "stress_max",
                                                      "stress_rate", "duration"};

// The paper's values, the default of each parameter a mode does not require.
constexpr double paper_rate_pa_s = 50e6 / 60, paper_mean_pa = 100e6, paper_amplitude_pa = 100e6;

// What a mode allows: its keys, and the one parameter it may sweep (none for custom).
struct ModeSchema {
    Mode mode;
    Keys keys;
    std::string_view swept_key;
};

// The mode named by cycling.mode; nullopt after reporting it missing or unknown.
std::optional<ModeSchema> read_mode(Reader& reader, const Entry& entry) {
    const YAML::Node mode_node = entry.value["mode"];
    const std::string mode_text = mode_node && mode_node.IsScalar() ? mode_node.Scalar() : "";
    if (mode_text == "amplitude") {
        return ModeSchema{Mode::amplitude, amplitude_keys, "amplitude"};
    }
    if (mode_text == "stress_rate") {
        return ModeSchema{Mode::stress_rate, stress_rate_keys, "stress_rate"};
    }
    if (mode_text == "mean_stress") {
        return ModeSchema{Mode::mean_stress, mean_stress_keys, "mean"};
    }
    if (mode_text == "custom") {
        return ModeSchema{Mode::custom, custom_keys, {}};
    }
    if (!mode_node) {
        reader.missing(entry.key.Mark(), "cycling.mode",
                       "amplitude, stress_rate, mean_stress or custom");
    } else {
        reader.error(
            mode_node.Mark(), "cycling.mode",
            "expected amplitude, stress_rate, mean_stress or custom, got " + kind_of(mode_node));
    }
    return std::nullopt;
}

// Reads a cycling mapping whose mode is known into the points of a CyclingSection. Every
// problem is reported and clears ok_, so that no section comes out of a bad one.
class CyclingReader {
  public:
    CyclingReader(Reader& reader, const Entry& entry, const ModeSchema& schema)
        : reader_(reader),
          entry_(entry),
          where_(Reader::mark_of(entry)),
          entries_(reader.mapping(entry.value, where_, "cycling", schema.keys, "the cycling")),
          swept_key_(schema.swept_key),
          mode_name_(to_string(schema.mode)) {
        section_.mode = schema.mode;
    }

    std::optional<CyclingSection> read() {
        read_duration();
        ok_ = section_.duration_s > 0;
        switch (section_.mode) {
            case Mode::amplitude:
            case Mode::stress_rate:
                read_about_mean();
                break;
            case Mode::mean_stress:
                read_mean_stress();
                break;
            case Mode::custom:
                read_custom();
                break;
        }
        if (!ok_) {
            return std::nullopt;
        }
        return section_;
    }

  private:
    void read_duration() {
        if (const Entry* duration = Reader::find(entries_, "duration")) {
            section_.duration_s = reader_.quantity(*duration, run_duration_range).value_or(0);
            section_.duration_source = {Reader::mark_of(*duration), duration->path};
        } else {
            section_.duration_source = {where_, "cycling.duration"};
        }
    }

    // A parameter's values (several only for the swept one), or `fallback` when it is absent.
    Swept parameter(std::string_view key, const Range& range, std::optional<double> fallback) {
        const Entry* const found = Reader::find(entries_, key);
        if (found == nullptr) {
            if (!fallback) {
                reader_.missing(entry_.key.Mark(), "cycling." + std::string(key),
                                "required in mode " + mode_name_);
                ok_ = false;
                return {};
            }
            return {{*fallback}, {{where_, "cycling." + std::string(key)}}};
        }
        auto values = reader_.swept(*found, range, key == swept_key_, mode_name_);
        if (!values) {
            ok_ = false;
            return {};
        }
        section_.sweep = section_.sweep || found->value.IsSequence();
        return *values;
    }

    void add(double low, double high, double spread, double rate, const Source& peak,
             const Source& period, std::string sweep_point) {
        std::string label = mpa(low) + "-" + mpa(high);
        if (section_.mode == Mode::stress_rate) {
            label += "-r" + number_text(rate * 60 / 1e6);
        }
        section_.points.push_back(
            {low, high, rate, spread, peak, period, std::move(label), std::move(sweep_point)});
    }

    bool amplitude_above_mean(double a, double mean_pa, const Source& source) {
        if (a <= mean_pa) {
            return false;
        }
        reader_.error(source.mark, source.path,
                      "amplitude " + mpa(a) + " MPa exceeds the mean " + mpa(mean_pa) +
                          " MPa: σ_min would be below 0 (allowed range 0 MPa … " + mpa(mean_pa) +
                          " MPa)");
        return true;
    }

    // Modes amplitude and stress_rate: a triangle about a mean, sweeping its amplitude or its
    // stress rate.
    void read_about_mean() {
        const bool by_amplitude = section_.mode == Mode::amplitude;
        const auto amplitude =
            parameter("amplitude", stress_range,
                      by_amplitude ? std::nullopt : std::optional<double>(paper_amplitude_pa));
        const auto mean = parameter("mean", stress_range, paper_mean_pa);
        const auto rate =
            parameter("stress_rate", stress_rate_range,
                      by_amplitude ? std::optional<double>(paper_rate_pa_s) : std::nullopt);
        if (!ok_) {
            return;
        }
        const double mean_pa = mean.values_si.front();
        if (by_amplitude) {
            add_amplitudes(amplitude, mean_pa, rate.values_si.front());
        } else {
            add_stress_rates(amplitude, mean_pa, rate);
        }
    }

    void add_amplitudes(const Swept& amplitude, double mean_pa, double rate_pa_s) {
        for (std::size_t i = 0; i < amplitude.values_si.size(); ++i) {
            const double a = amplitude.values_si[i];
            if (amplitude_above_mean(a, mean_pa, amplitude.sources[i])) {
                ok_ = false;
                continue;
            }
            add(mean_pa - a, mean_pa + a, 2 * a, rate_pa_s, amplitude.sources[i],
                amplitude.sources[i], "amplitude " + mpa(a) + " MPa");
        }
    }

    void add_stress_rates(const Swept& amplitude, double mean_pa, const Swept& rate) {
        const double a = amplitude.values_si.front();
        if (amplitude_above_mean(a, mean_pa, amplitude.sources.front())) {
            ok_ = false;
            return;
        }
        for (std::size_t i = 0; i < rate.values_si.size(); ++i) {
            add(mean_pa - a, mean_pa + a, 2 * a, rate.values_si[i], amplitude.sources.front(),
                rate.sources[i],
                "stress rate " + number_text(rate.values_si[i] * 60 / 1e6) + " MPa/min");
        }
    }

    // Mode mean_stress: triangles from 0 to twice each mean.
    void read_mean_stress() {
        const auto mean = parameter("mean", stress_range, std::nullopt);
        const auto rate = parameter("stress_rate", stress_rate_range, paper_rate_pa_s);
        if (!ok_) {
            return;
        }
        for (std::size_t i = 0; i < mean.values_si.size(); ++i) {
            add(0, 2 * mean.values_si[i], 2 * mean.values_si[i], rate.values_si.front(),
                mean.sources[i], mean.sources[i], "mean " + mpa(mean.values_si[i]) + " MPa");
        }
    }

    // Mode custom: one triangle between stress_min and stress_max, no sweep.
    void read_custom() {
        const auto low = parameter("stress_min", stress_range, std::nullopt);
        const auto high = parameter("stress_max", stress_range, std::nullopt);
        const auto rate = parameter("stress_rate", stress_rate_range, std::nullopt);
        if (!ok_) {
            return;
        }
        if (high.values_si.front() < low.values_si.front()) {
            reader_.error(high.sources.front().mark, high.sources.front().path,
                          "stress_max " + mpa(high.values_si.front()) +
                              " MPa is below stress_min " + mpa(low.values_si.front()) +
                              " MPa (allowed range " + mpa(low.values_si.front()) +
                              " MPa … 5000 MPa)");
            ok_ = false;
            return;
        }
        add(low.values_si.front(), high.values_si.front(),
            high.values_si.front() - low.values_si.front(), rate.values_si.front(),
            high.sources.front(), high.sources.front(), "");
    }

    Reader& reader_;
    const Entry& entry_;
    const YAML::Mark where_;
    const std::vector<Entry> entries_;
    const std::string_view swept_key_;
    const std::string mode_name_;
    CyclingSection section_;
    bool ok_ = true;
};

}  // namespace

std::optional<CyclingSection> read_cycling(Reader& reader, const Entry& entry) {
    if (!entry.value.IsMap()) {
        reader.error(Reader::mark_of(entry), "cycling",
                     "expected a mapping with 'mode' (amplitude, stress_rate, mean_stress or "
                     "custom) and its parameters, got " +
                         kind_of(entry.value));
        return std::nullopt;
    }
    const auto schema = read_mode(reader, entry);
    if (!schema) {
        return std::nullopt;
    }
    return CyclingReader(reader, entry, *schema).read();
}

}  // namespace dmacycle::protocols::detail
