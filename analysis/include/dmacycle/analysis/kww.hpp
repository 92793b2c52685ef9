#pragma once
#include <span>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"
#include "dmacycle/analysis/log_bins.hpp"

// Eq. (3): Kohlrausch-Williams-Watts stretched exponential and its instant β and τ.
namespace dmacycle::analysis {

struct KwwFit {
    FitSummary summary;
    double strain_an = 0, strain_an_stderr = 0;
    double tau_s = 0, tau_s_stderr = 0;
    double beta = 0, beta_stderr = 0;
    double strain_vp = 0, strain_vp_stderr = 0;            // recovery: the offset ε_vp
    double strain_e = 0, strain_e_stderr = 0;              // creep only
    double strain_rate_vp = 0, strain_rate_vp_stderr = 0;  // creep only, 1/s
    double rms_residual = 0;
    // The RMS residual over the RMS the noise alone would leave (0: noise unknown). Standard
    // errors are the noise's; well above 1 the model only approximates the curve (the summary
    // says so).
    double misfit_ratio = 0;
};

// Recovery, t' = t − t0: ε = ε_an exp(−(t'/τ)^β) + ε_vp, fitted to the recovery's binned
// reading (log_bins.hpp; its times are t'). Starting values are found automatically; no guesses
// are needed.
KwwFit fit_recovery_kww(const BinnedCurve& recovery);
// The same from samples at times since loading (≥ t0; a row at t0 is the strain at unloading),
// binned first.
KwwFit fit_recovery_kww(std::span<const double> time_s, std::span<const double> strain,
                        double t0_s);
// Creep: ε = ε_e + ε_an [1 − exp(−(t/τ)^β)] + ε̇_vp t.
KwwFit fit_creep_kww(std::span<const double> time_s, std::span<const double> strain);

struct InstantKww {
    FitSummary summary;
    // Time since unloading, and the local β and τ there; only where the signal-to-noise ratio
    // makes the local slope meaningful.
    std::vector<double> time_s, beta, tau_s;
    std::vector<double> beta_stderr;  // from the propagated noise, per reported window
    double noise = 0;                 // strain noise σ estimated from the data
};

// The paper's instant β and τ (Zhang et al., eq. 3 rewritten; docs/analysis.md): the local slope
// β of ln ln(ε_an(0)/ε_an(t')) against ln t' over ±0.25 decade, and τ = t' exp(−y/β), with
// ε_an(t') = ε(t') − ε_vp, ε_vp the KWW fit's and ε_an(0) the strain measured at unloading (the
// recovery's value at t' = 0; without one, its earliest bin) minus ε_vp. On a pure KWW curve
// both are constant; on a spectrum of relaxations β falls and τ rises with t'.
InstantKww instant_kww(const BinnedCurve& recovery, const KwwFit& fit);
// The same from samples at times since loading (≥ t0; a row at t0 is the strain at unloading),
// binned first.
InstantKww instant_kww(std::span<const double> time_s, std::span<const double> strain, double t0_s,
                       const KwwFit& fit);

}  // namespace dmacycle::analysis
