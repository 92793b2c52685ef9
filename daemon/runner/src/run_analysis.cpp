#include "run.hpp"

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/analysis/recovery_fits.hpp"
#include "dmacycle/analysis/work_done.hpp"
#include "dmacycle/store/analysis_json.hpp"

namespace dmacycle::runner::detail {

// Results are stored and printed as JSON (docs/names.md).
using store::Json;
using store::to_json;

void Run::analyse(const AnalysisInput& input, RunOutcome& outcome) {
    if (scan_ != nullptr) {
        const auto fit = analysis::fit_arrhenius(input.dmta_temperature_k, input.dmta_frequency_hz,
                                                 input.dmta_tan_delta);
        Json peaks = Json::array();
        for (const auto& peak : fit.peaks) {
            peaks.push_back(to_json(peak));
        }
        outcome.results["arrhenius"] = Json{
            {"fit", to_json(fit.summary)},
            {"points", input.dmta_tan_delta.size()},
            {"e_beta_ev", fit.e_beta_ev},
            {"e_beta_stderr_ev", fit.e_beta_stderr_ev},
            {"ln_f0", fit.ln_f0},
            {"ln_f0_stderr", fit.ln_f0_stderr},
            {"peaks", peaks}}.dump();
    }
    if (job_.kind == protocols::JobKind::dmta) {
        return;  // as cast: nothing was cycled or recovered
    }
    if (input.recovery.has_recovery()) {
        add_recovery_fits(input, outcome);
    }
    add_work_done(input, outcome);
}

// The recovery's fits (a chained scan right after unloading has no recovery to fit).
void Run::add_recovery_fits(const AnalysisInput& input, RunOutcome& outcome) {
    analysis::SpectrumOptions spectrum_options;
    spectrum_options.modes = job_.analysis.spectrum_modes;
    spectrum_options.tau_min_s = job_.analysis.tau_min_s;
    spectrum_options.tau_max_s = job_.analysis.tau_max_s;
    spectrum_options.lambda = job_.analysis.lambda;
    if (job_.analysis.lambda_by_evidence) {
        spectrum_options.lambda_rule = analysis::LambdaRule::evidence;
    }
    const analysis::BinnedCurve curve = input.recovery.curve();
    const double t0_s = input.recovery.t0_s();
    const auto fits =
        analysis::fit_recovery(curve, t0_s, spectrum_options, &input.recovery.history());
    Json doc = store::recovery_reading_json(curve, t0_s);
    doc["strain_vp"] = fits.spectrum.strain_vp;
    doc["strain_rate_vp"] = fits.spectrum.strain_rate_vp;
    store::add_spectrum_fields(doc, fits.spectrum);
    outcome.results["spectrum"] = doc.dump();
    outcome.results["kww"] = to_json(fits.kww).dump();
    outcome.results["instant_kww"] = to_json(fits.instant).dump();
    outcome.results["single_tau"] = to_json(fits.single_tau).dump();
}

void Run::add_work_done(const AnalysisInput& input, RunOutcome& outcome) {
    analysis::WorkDoneOptions work_options;
    work_options.edges_are_valleys = true;  // by the plan, cycling starts and ends at σ_min
    const auto molar_mass = analysis::molar_mass_from_composition(job_.sample.composition);
    if (molar_mass.ok) {
        work_options.molar_mass_g_mol = molar_mass.g_mol;
        work_options.density_g_cm3 = job_.sample.density_kg_m3 / 1000.0;
    }
    const auto work = analysis::analyze_cycling(input.cycling_t_s, input.cycling_stress_pa,
                                                input.cycling_strain, work_options);
    const auto optional_json = [](const std::optional<double>& value) {
        return value ? Json(*value) : Json();
    };
    Json per_cycle = Json::array();
    for (const auto& cycle : work.cycles) {
        per_cycle.push_back(to_json(cycle));
    }
    outcome.results["work_done"] = Json{{"fit", to_json(work.summary)},
                                        {"points", input.cycling_t_s.size()},
                                        {"sample_step", input.cycling_step},
                                        {"cycles", work.cycles.size()},
                                        {"per_cycle", per_cycle},
                                        {"stress_creep_pa", work.stress_creep_pa},
                                        {"strain_creep", work.strain_creep},
                                        {"v_creep_j_m3", work.v_creep_j_m3},
                                        {"v_cycling_j_m3", work.v_cycling_j_m3},
                                        {"v_total_j_m3", work.v_total_j_m3},
                                        {"molar_mass_g_mol", optional_json(work.molar_mass_g_mol)},
                                        {"work_done_kj_mol", optional_json(work.work_done_kj_mol)}}
                                       .dump();
}

}  // namespace dmacycle::runner::detail
