#include "dmacycle/store/analysis_json.hpp"

namespace dmacycle::store {

Json to_json(const analysis::FitSummary& summary) {
    return {{"status", analysis::to_string(summary.status)},
            {"usable", summary.usable},
            {"message", summary.message}};
}

Json to_json(const analysis::SpectrumPeak& peak) {
    return {{"tau_s", peak.tau_s},
            {"strain", peak.strain},
            {"strain_stderr", peak.strain_stderr},
            {"strain_at_unload", peak.strain_at_unload},
            {"strain_undetermined", peak.strain_undetermined},
            {"at_grid_edge", peak.at_grid_edge}};
}

void add_spectrum_fields(Json& doc, const analysis::SpectrumFit& fit) {
    Json peaks = Json::array();
    for (const auto& peak : fit.peaks) {
        peaks.push_back(to_json(peak));
    }
    doc["spectrum"] = {{"fit", to_json(fit.summary)},  {"tau_s", fit.tau_s},
                       {"strain", fit.strain},         {"strain_at_unload", fit.strain_at_unload},
                       {"strain_low", fit.strain_low}, {"strain_high", fit.strain_high}};
    if (!fit.kernel.empty()) {
        doc["spectrum"]["kernel"] = fit.kernel;
    }
    doc["peaks"] = std::move(peaks);
    doc["misfit"] = fit.misfit;
    doc["strain_beyond_window"] = fit.strain_beyond_window;
    doc["window_s"] = fit.window_s;
    doc["lambda"] = fit.lambda;
    doc["lambda_evidence"] = fit.lambda_evidence;
    doc["lambda_plausible_low"] = fit.lambda_plausible_low;
    doc["lambda_plausible_high"] = fit.lambda_plausible_high;
    doc["noise_estimate"] = fit.noise_estimate;
    doc["rms_residual"] = fit.rms_residual;
}

Json recovery_reading_json(const analysis::BinnedCurve& curve, double t0_s) {
    return {{"t0_s", t0_s},
            {"samples", curve.samples},
            {"bins", curve.size()},
            {"bins_per_decade", analysis::kBinsPerDecade},
            {"tied_samples", curve.tied},
            {"sample_noise", curve.noise},
            {"noise_correlation", curve.noise_correlation}};
}

Json to_json(const analysis::SingleTauFit& fit) {
    return {{"fit", to_json(fit.summary)},
            {"tau_s", fit.tau_s},
            {"tau_s_stderr", fit.tau_s_stderr},
            {"strain_an", fit.strain_an},
            {"strain_an_stderr", fit.strain_an_stderr},
            {"strain_vp", fit.strain_vp},
            {"strain_e", fit.strain_e},
            {"strain_rate_vp", fit.strain_rate_vp},
            {"rms_residual", fit.rms_residual},
            {"misfit_ratio", fit.misfit_ratio}};
}

Json to_json(const analysis::KwwFit& fit) {
    return {{"fit", to_json(fit.summary)},
            {"strain_an", fit.strain_an},
            {"strain_an_stderr", fit.strain_an_stderr},
            {"tau_s", fit.tau_s},
            {"tau_s_stderr", fit.tau_s_stderr},
            {"beta", fit.beta},
            {"beta_stderr", fit.beta_stderr},
            {"strain_vp", fit.strain_vp},
            {"strain_vp_stderr", fit.strain_vp_stderr},
            {"strain_e", fit.strain_e},
            {"strain_e_stderr", fit.strain_e_stderr},
            {"strain_rate_vp", fit.strain_rate_vp},
            {"strain_rate_vp_stderr", fit.strain_rate_vp_stderr},
            {"rms_residual", fit.rms_residual},
            {"misfit_ratio", fit.misfit_ratio}};
}

Json to_json(const analysis::InstantKww& instant) {
    return {{"fit", to_json(instant.summary)},
            {"time_s", instant.time_s},
            {"beta", instant.beta},
            {"tau_s", instant.tau_s},
            {"beta_stderr", instant.beta_stderr},
            {"noise", instant.noise}};
}

Json to_json(const analysis::CycleRecord& cycle) {
    return {{"t_start_s", cycle.t_start_s},
            {"t_end_s", cycle.t_end_s},
            {"stress_min_pa", cycle.stress_min_pa},
            {"stress_max_pa", cycle.stress_max_pa},
            {"strain_min", cycle.strain_min},
            {"strain_max", cycle.strain_max},
            {"strain_creep", cycle.strain_creep},
            {"loop_area_j_m3", cycle.loop_area_j_m3},
            {"loop_area_raw_j_m3", cycle.loop_area_raw_j_m3}};
}

Json to_json(const analysis::TanDeltaPeak& peak) {
    return {{"frequency_hz", peak.frequency_hz},
            {"temperature_k", peak.temperature_k},
            {"temperature_stderr_k", peak.temperature_stderr_k},
            {"fit", to_json(peak.summary)}};
}

namespace {

// Renames an object's `<stem>_mpa` to `<stem>_pa`, scaled; the rest stays in its order.
void mpa_to_pa(nlohmann::json& object, const std::string& stem) {
    const auto old = object.find(stem + "_mpa");
    if (old == object.end() || !old->is_number()) {
        return;
    }
    const double pa = old->get<double>() * 1e6;
    object.erase(old);
    object[stem + "_pa"] = pa;
}

}  // namespace

nlohmann::json work_done_stresses_in_pa(nlohmann::json work_done) {
    if (!work_done.is_object()) {
        return work_done;
    }
    mpa_to_pa(work_done, "stress_creep");
    if (const auto cycles = work_done.find("per_cycle");
        cycles != work_done.end() && cycles->is_array()) {
        for (auto& cycle : *cycles) {
            if (cycle.is_object()) {
                mpa_to_pa(cycle, "stress_min");
                mpa_to_pa(cycle, "stress_max");
            }
        }
    }
    return work_done;
}

}  // namespace dmacycle::store
