#include "dmacycle/analysis/synthetic.hpp"

#include <array>
#include <cmath>
#include <random>

namespace dmacycle::analysis::synthetic {

std::vector<Line> log_normal_spectrum(std::span<const LogNormalPeak> peaks, double total_strain,
                                      double log10_tau_lo, double log10_tau_hi, int per_decade) {
    std::vector<Line> lines;
    const int count = static_cast<int>(std::lround((log10_tau_hi - log10_tau_lo) * per_decade)) + 1;
    double sum = 0;
    for (int i = 0; i < count; ++i) {
        const double x = log10_tau_lo + static_cast<double>(i) / per_decade;
        double weight = 0;
        for (const auto& peak : peaks) {
            const double z = (x - peak.log10_tau_center) / peak.width_decades;
            weight += peak.weight * std::exp(-0.5 * z * z);
        }
        lines.push_back({std::pow(10.0, x), weight});
        sum += weight;
    }
    for (auto& line : lines) {
        line.strain *= total_strain / sum;
    }
    return lines;
}

std::vector<double> recovery_curve(std::span<const Line> lines, double strain_rate_vp, double t0_s,
                                   std::span<const double> time_s) {
    std::vector<double> out(time_s.size(), strain_rate_vp * t0_s);
    for (const auto& line : lines) {
        const double at_unload = line.strain * -std::expm1(-t0_s / line.tau_s);
        for (std::size_t j = 0; j < time_s.size(); ++j) {
            out[j] += at_unload * std::exp((t0_s - time_s[j]) / line.tau_s);
        }
    }
    return out;
}

std::vector<double> creep_curve(std::span<const Line> lines, double strain_e, double strain_rate_vp,
                                std::span<const double> time_s) {
    std::vector<double> out(time_s.size());
    for (std::size_t j = 0; j < time_s.size(); ++j) {
        out[j] = strain_e + strain_rate_vp * time_s[j];
    }
    for (const auto& line : lines) {
        for (std::size_t j = 0; j < time_s.size(); ++j) {
            out[j] += line.strain * -std::expm1(-time_s[j] / line.tau_s);
        }
    }
    return out;
}

void add_noise(std::vector<double>& values, double sigma, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, sigma);
    for (auto& v : values) {
        v += normal(engine);
    }
}

DemoTruth demo_truth() {
    // domain.md §4: Kelvin elements 1 s to 1e6 s, 10 per decade, log-normal compliance peaks
    // (centres 1.4, 2.85, 4.2; 0.25 decade; weights 0.20, 0.35, 0.45), J_an = 2.2e-11 1/Pa,
    // loaded at σ_creep = 100 MPa; viscoplastic rate 5e-8 1/s; t0 = 8 h.
    const std::array<LogNormalPeak, 3> peaks{
        {{1.4, 0.25, 0.20}, {2.85, 0.25, 0.35}, {4.2, 0.25, 0.45}}};
    const double total_strain = 2.2e-11 * 100e6;
    return {
        log_normal_spectrum(peaks, total_strain, 0.0, 6.0, 10), {1.4, 2.85, 4.2}, 5e-8, 8 * 3600.0};
}

DscPair dsc_pair(const DscTruth& truth) {
    const double rate_k_s = truth.rate_k_min / 60.0;
    const auto instrument = [](double k) {
        return 0.05 + 2e-4 * (k - 300.0) - 1e-7 * (k - 300.0) * (k - 300.0);
    };
    const auto gaussian = [](double k, double centre, double width) {
        return std::exp(-0.5 * (k - centre) * (k - centre) / (width * width));
    };
    // ∫ Φ dt = ∫ Φ dT / rate: the split Gaussian's area in K is h √(2π) (w_below + w_above) / 2.
    const double height =
        truth.delta_h_j_g * rate_k_s /
        (std::sqrt(2.0 * std::acos(-1.0)) * (truth.width_below_k + truth.width_above_k) / 2.0);
    const double crystallization_height =
        40.0 * rate_k_s / (std::sqrt(2.0 * std::acos(-1.0)) * 4.0);
    const auto scan = [&](double start_k, double stop_k, double t0_s, bool sample) {
        DscScan out;
        for (double t = t0_s; start_k + rate_k_s * t <= stop_k; t += truth.step_s) {
            const double k = start_k + rate_k_s * t;
            double flow = instrument(k);
            if (sample) {
                flow +=
                    height * gaussian(k, truth.peak_k,
                                      k < truth.peak_k ? truth.width_below_k : truth.width_above_k);
                if (truth.above_tg) {
                    flow += -0.03 * gaussian(k, 495.0, 4.0) +
                            crystallization_height * gaussian(k, 530.0, 4.0);
                }
            }
            out.time_s.push_back(t);
            out.temperature_k.push_back(k);
            out.heat_flow_w_g.push_back(flow);
        }
        return out;
    };
    DscPair pair{scan(truth.start_k, truth.stop_k, 0.0, true),
                 scan(truth.start_k + 1.0, truth.stop_k - 1.0, truth.step_s / 2, false)};
    if (truth.noise_w_g > 0) {
        add_noise(pair.sample.heat_flow_w_g, truth.noise_w_g, truth.seed);
        add_noise(pair.baseline.heat_flow_w_g, truth.noise_w_g, truth.seed + 1);
    }
    return pair;
}

}  // namespace dmacycle::analysis::synthetic
