#pragma once
#include <span>

#include "dmacycle/analysis/fit_summary.hpp"
#include "dmacycle/analysis/log_bins.hpp"

// Eq. (1): creep or recovery with a single relaxation time.
namespace dmacycle::analysis {

struct SingleTauFit {
    FitSummary summary;
    double tau_s = 0, tau_s_stderr = 0;
    double strain_an = 0, strain_an_stderr = 0;  // ε_1 of eq. (1)
    double strain_vp = 0;                        // recovery: ε̇_vp·t0
    double strain_e = 0;                         // creep only
    double strain_rate_vp = 0;                   // 1/s
    double rms_residual = 0;
    // The RMS residual over the RMS the noise alone would leave (0: noise unknown). Standard
    // errors are the noise's; well above 1 the model only approximates the curve (the summary
    // says so).
    double misfit_ratio = 0;
};

// Recovery: ε(t) = ε_1 [1 − exp(−t0/τ)] exp((t0 − t)/τ) + ε̇_vp t0, for t > t0, fitted to the
// recovery's binned reading (log_bins.hpp; its times are t − t0).
SingleTauFit fit_recovery_single_tau(const BinnedCurve& recovery, double t0_s);
// The same from samples at times since loading (≥ t0; a row at t0 is the strain at unloading),
// binned first.
SingleTauFit fit_recovery_single_tau(std::span<const double> time_s, std::span<const double> strain,
                                     double t0_s);
// Creep: ε(t) = ε_e + ε_1 [1 − exp(−t/τ)] + ε̇_vp t.
SingleTauFit fit_creep_single_tau(std::span<const double> time_s, std::span<const double> strain);

}  // namespace dmacycle::analysis
