#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

#include "job_ranges.hpp"
#include "job_sections.hpp"

// The short sections of a job file: sample, equilibrate, limits and analysis.
namespace dmacycle::protocols::detail {
namespace {

constexpr int min_spectrum_modes = 2, max_spectrum_modes = 200;
constexpr double max_lambda = 1e6;

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

}  // namespace

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

std::optional<Source> read_equilibrate(Reader& reader, const Entry& entry, Job& job) {
    std::optional<Source> tolerance_source;
    const auto inner = reader.mapping(entry.value, Reader::mark_of(entry), "equilibrate",
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
    return tolerance_source;
}

void read_limits(Reader& reader, const Entry& entry, double frame_force_limit_n, Limits& limits,
                 LimitSources& sources) {
    const auto entries = reader.mapping(
        entry.value, Reader::mark_of(entry), "limits",
        {"max_force", "max_stress", "max_strain", "temperature_band", "stale_link"}, "limits");
    const Range force_range{Dimension::force, 1e-3, "mN", frame_force_limit_n, "N"};
    if (const Entry* force = Reader::find(entries, "max_force")) {
        if (const auto value = reader.quantity(*force, force_range)) {
            limits.max_force_n = *value;
            sources.force = {Reader::mark_of(*force), force->path};
        }
    }
    if (const Entry* stress = Reader::find(entries, "max_stress")) {
        limits.max_stress_pa = reader.quantity(*stress, max_stress_range);
        sources.stress = {Reader::mark_of(*stress), stress->path};
    }
    limits.max_strain =
        reader.quantity_or(entries, "max_strain", max_strain_range, limits.max_strain);
    limits.temperature_band_k =
        reader.quantity_or(entries, "temperature_band", band_range, limits.temperature_band_k);
    limits.stale_link_s =
        reader.quantity_or(entries, "stale_link", stale_link_range, limits.stale_link_s);
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
        if (text == "auto" || text == "evidence") {
            options.lambda.reset();
            options.lambda_by_evidence = text == "evidence";
        } else if (text.empty() || code != std::errc() || stop != text.data() + text.size() ||
                   !std::isfinite(value)) {
            reader.error(Reader::mark_of(*lambda), lambda->path,
                         "expected a number (the dimensionless regularization), 'auto' or "
                         "'evidence', got " +
                             kind_of(lambda->value));
        } else if (value < 0 || value > max_lambda) {
            reader.error(Reader::mark_of(*lambda), lambda->path,
                         text + " is out of range (allowed range 0 … " + number_text(max_lambda) +
                             ", or auto, or evidence)");
        } else {
            options.lambda = value;
        }
    }
}

}  // namespace dmacycle::protocols::detail
