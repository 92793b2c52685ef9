#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "job_ranges.hpp"
#include "job_sections.hpp"

// The dmta section: a temperature scan's settings, checked against what the β peak fits need
// and against the instrument profile's frame and furnace.
namespace dmacycle::protocols::detail {
namespace {

constexpr std::size_t max_frequencies = 10;
// The β peak is some 30 K wide: a narrower scan cannot show a peak and both its flanks.
constexpr double min_scan_span_k = 20;
// Each frequency measured at least every 2 K, so that each local peak fit has points enough.
constexpr double max_step_per_frequency_k = 2;
// One oscillation period settles after a frequency change, one is measured.
constexpr double min_periods_per_measurement = 2;

std::string kelvin(double k) {
    return format_quantity(k, "K", Dimension::temperature);
}

// Where each scan value came from; a default is blamed on the dmta key.
struct ScanSources {
    Source from, to, amplitude, interval;
    std::vector<Source> frequencies;
};

// The scan's settings and the recovery times into `section`, which holds the defaults.
ScanSources read_settings(Reader& reader, const std::vector<Entry>& entries, DmtaSection& section) {
    DmtaScan& scan = section.scan;
    ScanSources sources{section.source, section.source, section.source, section.source,
                        std::vector<Source>(scan.frequencies_hz.size(), section.source)};
    const auto read = [&](std::string_view key, const Range& range, double& target,
                          Source* source) {
        if (const Entry* found = Reader::find(entries, key)) {
            if (source != nullptr) {
                *source = {Reader::mark_of(*found), found->path};
            }
            target = reader.quantity(*found, range).value_or(target);
        }
    };
    read("from", temperature_range, scan.from_k, &sources.from);
    read("to", temperature_range, scan.to_k, &sources.to);
    read("rate", heating_rate_range, scan.rate_k_s, nullptr);
    read("amplitude", dmta_amplitude_range, scan.amplitude_m, &sources.amplitude);
    read("interval", dmta_interval_range, scan.interval_s, &sources.interval);
    if (const Entry* frequencies = Reader::find(entries, "frequencies")) {
        if (auto list = reader.quantities(*frequencies, frequency_range, max_frequencies,
                                          "a frequency list")) {
            scan.frequencies_hz = list->values_si;
            sources.frequencies = list->sources;
        }
    }
    if (const Entry* after = Reader::find(entries, "after_recovery")) {
        section.after_recovery_source = {Reader::mark_of(*after), after->path};
        section.after_recovery = reader.quantities(*after, after_recovery_range, max_sweep_points,
                                                   "a list of recovery times");
    }
    return sources;
}

void check_span(Reader& reader, const DmtaScan& scan, const ScanSources& sources) {
    if (!(scan.to_k >= scan.from_k + min_scan_span_k)) {
        reader.error(sources.to.mark, sources.to.path,
                     "a scan from " + kelvin(scan.from_k) + " to " + kelvin(scan.to_k) +
                         " does not heat by at least " + number_text(min_scan_span_k) +
                         " K, the width of a β peak (allowed range " +
                         kelvin(scan.from_k + min_scan_span_k) + " … 873.15 K)");
    }
}

// Each frequency once, and within the frame's range when the profile states it.
void check_frequencies(Reader& reader, const DmtaScan& scan, const ScanSources& sources,
                       const std::optional<ProfileLimit>& profile) {
    for (std::size_t i = 0; i < scan.frequencies_hz.size(); ++i) {
        const double f = scan.frequencies_hz[i];
        if (std::count(scan.frequencies_hz.begin(), scan.frequencies_hz.begin() + i, f) > 0) {
            reader.error(sources.frequencies[i].mark, sources.frequencies[i].path,
                         "repeats the frequency " + number_text(f) + " Hz");
        }
        if (profile && profile->frequency_min_hz && profile->frequency_max_hz &&
            !(f >= *profile->frequency_min_hz && f <= *profile->frequency_max_hz)) {
            reader.error(sources.frequencies[i].mark, sources.frequencies[i].path,
                         number_text(f) + " Hz is outside the frame's range (allowed range " +
                             number_text(*profile->frequency_min_hz) + " Hz … " +
                             number_text(*profile->frequency_max_hz) +
                             " Hz, profile frame.frequency_min_hz/max_hz)");
        }
    }
}

// The amplitude within the frame's range, and a start temperature the furnace can hold, when
// the profile states them.
void check_frame_and_furnace(Reader& reader, const DmtaScan& scan, const ScanSources& sources,
                             const std::optional<ProfileLimit>& profile) {
    if (profile && profile->amplitude_min_m && profile->amplitude_max_m &&
        !(scan.amplitude_m >= *profile->amplitude_min_m &&
          scan.amplitude_m <= *profile->amplitude_max_m)) {
        reader.error(sources.amplitude.mark, sources.amplitude.path,
                     format_quantity(scan.amplitude_m, "µm", Dimension::length) +
                         " is outside the frame's range (allowed range " +
                         format_quantity(*profile->amplitude_min_m, "µm", Dimension::length) +
                         " … " +
                         format_quantity(*profile->amplitude_max_m, "µm", Dimension::length) +
                         ", profile frame.amplitude_min_m/max_m)");
    }
    // The furnace heats only: it holds a temperature at least a kelvin above its surroundings.
    if (profile && profile->ambient_k && scan.from_k < *profile->ambient_k + 1) {
        reader.error(sources.from.mark, sources.from.path,
                     kelvin(scan.from_k) + " is not above the furnace's ambient " +
                         kelvin(*profile->ambient_k) +
                         " (profile furnace.ambient_k): the furnace only heats (allowed range " +
                         kelvin(*profile->ambient_k + 1) + " … 873.15 K)");
    }
}

// Each measurement at least min_periods_per_measurement long, and each frequency measured often
// enough for its peak fit.
void check_timing(Reader& reader, const DmtaScan& scan, const ScanSources& sources) {
    const double lowest_hz =
        *std::min_element(scan.frequencies_hz.begin(), scan.frequencies_hz.end());
    const double count = static_cast<double>(scan.frequencies_hz.size());
    const double step_k = scan.rate_k_s * scan.interval_s * count;
    if (scan.interval_s < min_periods_per_measurement / lowest_hz) {
        reader.error(sources.interval.mark, sources.interval.path,
                     number_text(scan.interval_s) + " s is shorter than " +
                         number_text(min_periods_per_measurement) + " periods of " +
                         number_text(lowest_hz) + " Hz (allowed range ≥ " +
                         number_text(min_periods_per_measurement / lowest_hz) + " s)");
    } else if (step_k > max_step_per_frequency_k) {
        reader.error(sources.interval.mark, sources.interval.path,
                     "each frequency would be measured every " + number_text(step_k) + " K (" +
                         number_text(count) + " frequencies × " + number_text(scan.interval_s) +
                         " s at " + number_text(scan.rate_k_s * 60) +
                         " K/min), too coarse for the β peak fits (allowed range ≤ " +
                         number_text(max_step_per_frequency_k / (scan.rate_k_s * count)) +
                         " s at this rate)");
    }
}

}  // namespace

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
    const ScanSources sources = read_settings(reader, entries, section);
    if (reader.errors.size() != errors_before) {
        return std::nullopt;
    }
    check_span(reader, section.scan, sources);
    check_frequencies(reader, section.scan, sources, profile);
    check_frame_and_furnace(reader, section.scan, sources, profile);
    check_timing(reader, section.scan, sources);
    if (reader.errors.size() != errors_before) {
        return std::nullopt;
    }
    return section;
}

}  // namespace dmacycle::protocols::detail
