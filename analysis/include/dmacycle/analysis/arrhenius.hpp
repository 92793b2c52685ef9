#pragma once
#include <span>
#include <vector>

#include "dmacycle/analysis/fit_summary.hpp"

// β-relaxation activation energy from tan δ(T) at several frequencies.
namespace dmacycle::analysis {

inline constexpr double boltzmann_ev_k = 8.617333262e-5;  // k_B, eV/K

struct TanDeltaPeak {
    FitSummary summary;
    double frequency_hz = 0;
    double temperature_k = 0, temperature_stderr_k = 0;
};

// The β peak of one tan δ(T) curve, located by a local fit (the peak is broad and noisy).
TanDeltaPeak locate_beta_peak(std::span<const double> temperature_k,
                              std::span<const double> tan_delta, double frequency_hz);

struct ArrheniusFit {
    FitSummary summary;
    std::vector<TanDeltaPeak> peaks;  // one per frequency, ascending
    double e_beta_ev = 0, e_beta_stderr_ev = 0;
    double ln_f0 = 0, ln_f0_stderr = 0;  // f0 in Hz
};

// Rows grouped by frequency; f = f0 exp(−E_β/(k_B T_p)) fitted to the peaks.
ArrheniusFit fit_arrhenius(std::span<const double> temperature_k,
                           std::span<const double> frequency_hz, std::span<const double> tan_delta);

}  // namespace dmacycle::analysis
