#include "report_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "dmacycle/io/text.hpp"

namespace dmacycle::report {
namespace {

bool is_loading(const std::string& segment) {
    return segment == "load" || segment == "cycle" || segment == "creep";
}

}  // namespace

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
        data.stress_pa.push_back(sample.stress_pa);
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
                stress_lo = std::min(stress_lo, sample.stress_pa);
                stress_hi = std::max(stress_hi, sample.stress_pa);
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
    data.condition = stressed ? io::format("%.0f\u2013%.0f MPa", std::round(stress_lo / 1e6) + 0.0,
                                           std::round(stress_hi / 1e6) + 0.0)
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
    if (!data.recovery_first) {
        return std::nullopt;
    }
    const double initial = data.strain[*data.recovery_first];
    const double final_ = data.strain[*data.recovery_last];
    return RecoveryStrains{initial, final_, initial - final_};
}

}  // namespace dmacycle::report
