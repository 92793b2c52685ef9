#include "report_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "dmacycle/io/text.hpp"

namespace dmacycle::report {
namespace {

bool is_loading(std::string_view segment) {
    return segment == "load" || segment == "cycle" || segment == "creep";
}

// The samples' share of load_run: one pass, each sample thinned or counted as it streams.
struct SampleReader {
    explicit SampleReader(RunData& run) : data(run) {}
    RunData& data;
    Envelope trace;
    LogSteps recovery;
    double stress_lo = std::numeric_limits<double>::infinity();
    double stress_hi = -stress_lo;
    std::optional<double> load_start;

    void add(const store::ArchivedTrace& sample) {
        ++data.samples;
        trace.add({sample.t_s, sample.strain, sample.stress_pa});
        auto span = std::find_if(data.spans.begin(), data.spans.end(),
                                 [&](const SegmentSpan& s) { return s.name == sample.segment; });
        if (span == data.spans.end()) {
            data.spans.push_back({std::string(sample.segment), sample.t_s, sample.t_s, 0});
            span = data.spans.end() - 1;
        }
        span->t_end_s = sample.t_s;
        ++span->samples;
        if (sample.segment != "after_plan") {
            data.plan_end_s = sample.t_s;
        }
        if (is_loading(sample.segment)) {
            load_start = load_start.value_or(sample.t_s);
            if (sample.segment != "load") {
                stress_lo = std::min(stress_lo, sample.stress_pa);
                stress_hi = std::max(stress_hi, sample.stress_pa);
            }
        }
        if (sample.segment == "recovery") {
            auto& rec = data.recovery;
            if (!rec) {
                rec = RecoverySpan{sample.t_s, sample.t_s, sample.strain, sample.strain};
            }
            rec->t_end_s = sample.t_s;
            rec->strain_last = sample.strain;
            recovery.add(sample.t_s - rec->t_start_s, sample.strain);
        }
    }
};

}  // namespace

RunData load_run(const store::RunArchive& archive, std::int64_t run_id) {
    RunData data;
    data.run = archive.run(run_id);
    SampleReader reader(data);
    double first_s = 0;
    archive.for_each_trace(run_id, [&](const store::ArchivedTrace& sample) {
        first_s = data.samples == 0 ? sample.t_s : first_s;
        reader.add(sample);
    });
    data.trace = reader.trace.points();
    data.recovery_curve = reader.recovery.points();
    data.events = archive.events(run_id);
    data.cycles = archive.cycles(run_id);
    data.dmta = archive.dmta(run_id);
    data.results = archive.results(run_id);
    data.loaded = reader.load_start.has_value();
    data.zero_s = reader.load_start.value_or(first_s);
    // The cycling's stress range in whole MPa: the pre-tension under a clipped triangle is "0".
    const bool stressed = reader.stress_lo <= reader.stress_hi;
    data.condition =
        stressed ? io::format("%.0f\u2013%.0f MPa", std::round(reader.stress_lo / 1e6) + 0.0,
                              std::round(reader.stress_hi / 1e6) + 0.0)
                 : "not loaded";
    return data;
}

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

bool fit_usable(const RunData& data, const std::string& kind) {
    const Json* fit = result_at(data, kind == "spectrum" ? "spectrum.spectrum.fit" : kind + ".fit");
    return fit && fit->is_object() && fit->value("usable", false);
}

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

std::optional<RecoveryStrains> recovery_strains(const RunData& data) {
    if (!data.recovery) {
        return std::nullopt;
    }
    const double initial = data.recovery->strain_first;
    const double final_ = data.recovery->strain_last;
    return RecoveryStrains{initial, final_, initial - final_};
}

}  // namespace dmacycle::report
