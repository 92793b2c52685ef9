#pragma once
#include <cstdint>
#include <span>
#include <vector>

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

}  // namespace dmacycle::analysis::synthetic
