#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "dmacycle/analysis/dsc.hpp"

// Curves made from known parameters (the model of domain.md), for tests, the demo and benches.
namespace dmacycle::analysis::synthetic {

struct Line {
    double tau_s;
    double strain;  // eq. (2) ε_i
};

// Lines on a log grid whose strains follow log-normal peaks in log10 τ.
struct LogNormalPeak {
    double log10_tau_center;
    double width_decades;
    double weight;
};
std::vector<Line> log_normal_spectrum(std::span<const LogNormalPeak> peaks, double total_strain,
                                      double log10_tau_lo = 0, double log10_tau_hi = 6,
                                      int per_decade = 10);

// Eq. (2) recovery at the given times (since loading, > t0).
std::vector<double> recovery_curve(std::span<const Line> lines, double strain_rate_vp, double t0_s,
                                   std::span<const double> time_s);
// Eq. (2) creep.
std::vector<double> creep_curve(std::span<const Line> lines, double strain_e, double strain_rate_vp,
                                std::span<const double> time_s);

// Adds seeded Gaussian noise of the given standard deviation.
void add_noise(std::vector<double>& values, double sigma, std::uint64_t seed);

// The domain.md model's 0-200 MPa run: spectrum at unloading (stress 100 MPa mean for 8 h).
struct DemoTruth {
    std::vector<Line> lines;
    std::vector<double> peak_log10_tau;  // the log-normal centres
    double strain_rate_vp;
    double t0_s;
};
DemoTruth demo_truth();

// A DSC scan pair at a constant heating rate: the instrument's curved, sloped baseline in both;
// in the sample a sub-Tg exotherm of exactly delta_h_j_g (a split Gaussian in temperature,
// wider below its peak) and, optionally, the Tg endotherm and a crystallization exotherm above.
// The baseline scan starts half a sample later and 1 K higher and ends 1 K lower, so it is
// interpolated onto the sample's temperatures.
struct DscTruth {
    double delta_h_j_g = 7.83;  // 0.79 kJ/mol of La30Ce30Ni10Al20Co10 (the paper's 0-200 sample)
    double rate_k_min = 20;
    double start_k = 300, stop_k = 600;
    double peak_k = 420, width_below_k = 25, width_above_k = 12;
    double step_s = 0.5;
    double noise_w_g = 0;  // Gaussian noise on each scan
    std::uint64_t seed = 1;
    bool above_tg = false;  // an endotherm at 495 K and a 40 J/g exotherm at 530 K
};
struct DscPair {
    DscScan sample, baseline;
};
DscPair dsc_pair(const DscTruth& truth);

}  // namespace dmacycle::analysis::synthetic
