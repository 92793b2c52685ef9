#pragma once
#include <nlohmann/json.hpp>

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/log_bins.hpp"
#include "dmacycle/analysis/single_tau.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/analysis/work_done.hpp"

// JSON forms of the analysis results, shared by the CLI and (later) the store and the API, so
// every consumer sees the same names.
namespace dmacycle::store {

using Json = nlohmann::ordered_json;

Json to_json(const analysis::FitSummary& summary);
Json to_json(const analysis::SpectrumPeak& peak);
// Adds the fields every spectrum result carries: spectrum, peaks, window, λ, residuals.
void add_spectrum_fields(Json& doc, const analysis::SpectrumFit& fit);
// How a recovery was read for its fits (docs/analysis.md): t0_s, samples, bins, bins per decade,
// tied samples averaged, the noise of one sample.
Json recovery_reading_json(const analysis::BinnedCurve& curve, double t0_s);
Json to_json(const analysis::SingleTauFit& fit);
Json to_json(const analysis::KwwFit& fit);
Json to_json(const analysis::InstantKww& instant);
Json to_json(const analysis::CycleRecord& cycle);
Json to_json(const analysis::TanDeltaPeak& peak);

// A work_done result as schema versions 1-4 stored it (stress_creep_mpa, per_cycle[].stress_min_mpa
// and stress_max_mpa) with those stresses in Pa under their names since version 5; a result
// already in Pa comes back as it was.
nlohmann::json work_done_stresses_in_pa(nlohmann::json work_done);

}  // namespace dmacycle::store
