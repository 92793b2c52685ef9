#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"
#include "dmacycle/analysis/loading_history.hpp"
#include "dmacycle/analysis/log_bins.hpp"

// Discrete relaxation-time spectrum, eq. (2) of the paper, for recovery and for creep.
namespace dmacycle::analysis {

// How λ is chosen when not given (docs/analysis.md): the discrepancy principle (the smoothest
// spectrum whose residual is the noise's), or the evidence (Bayesian, as pyReSpect-time).
enum class LambdaRule { discrepancy, evidence };

struct SpectrumOptions {
    int modes = 60;
    double tau_min_s = 1e-2;
    double tau_max_s = 1e8;
    // Tikhonov parameter under the normalization documented in spectrum.cpp; nullopt = chosen
    // automatically. Scale-invariant: with s = max|strain| over the N points (a recovery's
    // log-time bins, weights w_j; a creep curve's samples, w_j = 1) and a_i each mode's
    // strain_at_unload (creep: the strain it reaches by the last time), the fit minimizes
    //     (1/Σw) Σ_j w_j ((model_j − strain_j) / s)² + λ Σ_i (a_i / s)².
    std::optional<double> lambda;
    LambdaRule lambda_rule = LambdaRule::discrepancy;  // when lambda is not given

    // Empty when the options are usable, otherwise what is wrong with them.
    std::string validate() const;
};

struct SpectrumPeak {
    double tau_s = 0;             // relaxation time at the local maximum
    double strain = 0;            // eq. (2) strains summed over the peak
    double strain_at_unload = 0;  // recovery: the same modes' strain still present at t0
    // The standard error of `strain` from the noise, at the λ used (the sandwich
    // (G_F + λI)⁻¹ G_F (G_F + λI)⁻¹ over the modes off the bound, summed over the peak's modes
    // within the window). Like the other fits' standard errors it leaves out the model: here the
    // choice of λ and where the peak's bounds fall (docs/analysis.md).
    double strain_stderr = 0;
    // The maximum is the first or last mode of the grid: the true τ may lie beyond it, so
    // tau_s is only a bound.
    bool at_grid_edge = false;
    // Some of its modes kept under 1 % of their strain at unloading (a slow unloading ramp
    // empties the fast ones; in creep, a load ramp fills them before the hold): their ε_i cannot
    // be had from the data, and their strain at unloading (creep: over the hold) stands in.
    bool strain_undetermined = false;
};

struct SpectrumFit {
    FitSummary summary;
    std::vector<double> tau_s;
    std::vector<double> strain;  // eq. (2) ε_i
    // Recovery: ε_i h(τ_i), the strain of each mode still present at unloading: the quantity
    // the recovery data actually determine (h: eq. 2's 1 − exp(−t0/τ_i), or the recorded
    // history's, loading_history.hpp). Creep: the strain each mode shows over the hold (equal to
    // `strain` after a step load).
    std::vector<double> strain_at_unload;
    // How ε_i was had from strain_at_unload (which loading kernel).
    std::string kernel;
    std::vector<SpectrumPeak> peaks;
    double strain_e = 0;        // creep: instantaneous elastic strain
    double strain_vp = 0;       // recovery: ε̇_vp·t0; creep: ε̇_vp·(last time)
    double strain_rate_vp = 0;  // 1/s; recovery: strain_vp / t0
    // Strain held by modes with τ beyond the observed window: over the window they are
    // indistinguishable from a constant (recovery) or a straight line (creep), so this strain
    // and strain_vp are not separately identifiable.
    double strain_beyond_window = 0;
    double window_s = 0;  // length of the observed window
    // The λ used, given or chosen, in the normalization of SpectrumOptions::lambda.
    double lambda = 0;
    // The evidence over λ, whichever rule chose `lambda`: its choice (exp of the posterior mean
    // of log λ), the central 95 % of p(λ), and a band on `strain`: the amplitudes' posterior
    // mean ∓ 1 sd mixed over λ (the spread over plausible λ and, at each, the noise's).
    double lambda_evidence = 0;
    double lambda_plausible_low = 0, lambda_plausible_high = 0;
    std::vector<double> strain_low, strain_high;
    double noise_estimate = 0;  // strain, from the data
    double rms_residual = 0;
    // The residual, unregularized or at the λ used (given or chosen), is well above the noise
    // estimate (the summary message says by how much): the τ range misses relaxations, the
    // noise is correlated, or λ smooths the data away. Far above it the fit is not usable.
    bool misfit = false;
    std::vector<double> fitted;  // model at the input times
};

// Fitted to the recovery's binned reading (log_bins.hpp: its times are t − t0), weighted by bin;
// with a recorded loading history (not empty, mean stress not 0), ε_i from its kernel.
SpectrumFit fit_recovery_spectrum(const BinnedCurve& recovery, double t0_s,
                                  const SpectrumOptions& options = {},
                                  const LoadingHistory* history = nullptr);
// The same from samples: time_s since the start of loading, none before t0_s (a row at t0 is the
// strain at unloading); binned first.
SpectrumFit fit_recovery_spectrum(std::span<const double> time_s, std::span<const double> strain,
                                  double t0_s, const SpectrumOptions& options = {});

// A creep's recorded loading before its hold (the load ramp). Each mode then enters the hold
// holding h_i of its strain (loading_history.hpp, at the hold stress) and shows the rest,
// g_i = 1 − h_i, as a step response from the hold's start: the fit's amplitudes are g_i ε_i,
// and the strain the ramp gave (h_i ε_i, and ε̇_vp over the ramp) joins the elastic step.
struct CreepRamp {
    LoadingHistory history;  // from the start of loading to the start of the hold
    double hold_stress_pa = 0;
};

// time_s: time since loading (> 0), strain including the elastic jump. With a ramp: time since
// the hold began (> 0), and ε_i and ε_e corrected for what the ramp did.
SpectrumFit fit_creep_spectrum(std::span<const double> time_s, std::span<const double> strain,
                               const SpectrumOptions& options = {},
                               const CreepRamp* ramp = nullptr);

}  // namespace dmacycle::analysis
