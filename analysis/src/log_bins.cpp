#include "dmacycle/analysis/log_bins.hpp"

#include <algorithm>
#include <cmath>

#include "dmacycle/analysis/numerics.hpp"

namespace dmacycle::analysis {
namespace {

// Below this many pooled degrees of freedom the scatter within bins says too little about the
// noise (sparse, log-spaced files), and the bins' second differences say it instead.
constexpr double kMinPooledDof = 30;

}  // namespace

namespace {

// Var(mean of n AR(1) samples) / (σ²/n) = 1 + 2 Σ_{k<n} (1 − k/n) ρ^k.
double correlation_factor(double n, double rho) {
    if (rho <= 0 || n < 2) {
        return 1.0;
    }
    return (1 + rho) / (1 - rho) - 2 * rho * (1 - std::pow(rho, n)) / (n * (1 - rho) * (1 - rho));
}

}  // namespace

double BinnedCurve::mean_noise(std::size_t i) const {
    return noise * std::sqrt(correlation_factor(count[i], noise_correlation) / count[i]);
}

double BinnedCurve::weighted_mean_noise() const {
    double sum_w = 0, sum = 0;
    for (std::size_t i = 0; i < size(); ++i) {
        sum_w += weight[i];
        sum += weight[i] * correlation_factor(count[i], noise_correlation) / count[i];
    }
    return sum_w > 0 ? noise * std::sqrt(sum / sum_w) : 0.0;
}

void LogTimeBinner::add(double time_s, double value) {
    ++samples_;
    if (time_s == 0) {
        origin_sum_ += value;
        origin_count_ += 1;
        return;
    }
    const auto key = static_cast<long>(std::floor(std::log10(time_s) * kBinsPerDecade));
    auto [it, fresh] = bins_.try_emplace(key);
    Bin& bin = it->second;
    if (fresh) {
        bin.t_ref = time_s;
        bin.v_ref = value;
        bin.v_unit = value != 0 ? std::abs(value) : 1.0;
    } else if (time_s == bin.last_t) {
        ++tied_;
    }
    const double t = time_s - bin.t_ref;
    const double v = value / bin.v_unit - bin.v_ref / bin.v_unit;
    if (!fresh) {
        const double d = v - bin.last_v;
        bin.pairs += 1;
        bin.sd += d;
        bin.sdd += d * d;
    }
    bin.last_t = time_s;
    bin.last_v = v;
    bin.n += 1;
    bin.st += t;
    bin.sv += v;
    bin.stt += t * t;
    bin.stv += t * v;
    bin.svv += v * v;
    const bool first = samples_ == static_cast<std::size_t>(origin_count_) + 1;
    first_s_ = first ? time_s : std::min(first_s_, time_s);
    last_s_ = first ? time_s : std::max(last_s_, time_s);
}

BinnedCurve LogTimeBinner::curve() const {
    BinnedCurve out;
    out.samples = samples_;
    out.tied = tied_;
    out.first_s = first_s_;
    out.last_s = last_s_;
    if (origin_count_ > 0) {
        out.value_at_origin = origin_sum_ / origin_count_;
    }
    double unit = 0;  // the largest bin unit: the pooled sum of squares is kept in it
    for (const auto& [key, bin] : bins_) {
        unit = std::max(unit, bin.v_unit);
    }
    double pooled_ss = 0, pooled_dof = 0;
    double pooled_dd = 0, pooled_pairs_dof = 0;  // consecutive differences about their mean
    for (const auto& [key, bin] : bins_) {
        out.time_s.push_back(bin.t_ref + bin.st / bin.n);
        out.value.push_back(bin.v_ref + bin.v_unit * (bin.sv / bin.n));
        out.count.push_back(bin.n);
        out.weight.push_back(std::min(bin.n, kFullWeightSamples) / kFullWeightSamples);
        const double spread_tt = std::max(bin.stt - bin.st * bin.st / bin.n, 0.0);
        out.time_spread_s.push_back(std::sqrt(spread_tt / bin.n));
        if (bin.n < 2) {
            continue;
        }
        // Scatter about the bin's own line (the curve's slope across a bin is not noise); about
        // its mean when every sample has the same time.
        const double spread_tv = bin.stv - bin.st * bin.sv / bin.n;
        const double spread_vv = bin.svv - bin.sv * bin.sv / bin.n;
        const bool has_spread = spread_tt > 1e-18 * bin.t_ref * bin.t_ref * bin.n;
        if (has_spread && bin.n < 3) {
            continue;
        }
        const double ss = has_spread ? spread_vv - spread_tv * spread_tv / spread_tt : spread_vv;
        const double in_unit = bin.v_unit / unit;
        pooled_ss += std::max(ss, 0.0) * in_unit * in_unit;
        pooled_dof += bin.n - (has_spread ? 2 : 1);
        if (bin.pairs >= 2) {
            // The mean difference is the curve's own slope, not noise.
            pooled_dd += std::max(bin.sdd - bin.sd * bin.sd / bin.pairs, 0.0) * in_unit * in_unit;
            pooled_pairs_dof += bin.pairs - 1;
        }
    }
    if (pooled_dof >= kMinPooledDof) {
        out.noise = unit * std::sqrt(pooled_ss / pooled_dof);
        if (pooled_pairs_dof >= kMinPooledDof && pooled_ss > 0) {
            // Var(difference) = 2σ²(1 − ρ).
            const double rho = 1 - (pooled_dd / pooled_pairs_dof) / (2 * pooled_ss / pooled_dof);
            out.noise_correlation = std::clamp(rho, 0.0, 0.99);
        }
    } else if (out.size() >= 3) {
        out.noise = estimate_noise(out.value);
    }
    return out;
}

BinnedCurve bin_log_time(std::span<const double> time_s, std::span<const double> value) {
    LogTimeBinner binner;
    const std::size_t n = std::min(time_s.size(), value.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (time_s[i] > 0 && std::isfinite(time_s[i]) && std::isfinite(value[i])) {
            binner.add(time_s[i], value[i]);
        }
    }
    return binner.curve();
}

BinnedCurve bin_recovery(std::span<const double> time_s, std::span<const double> strain,
                         double t0_s) {
    LogTimeBinner binner;
    const std::size_t n = std::min(time_s.size(), strain.size());
    for (std::size_t i = 0; i < n; ++i) {
        const double since_unload_s = time_s[i] - t0_s;
        if (since_unload_s >= 0 && std::isfinite(since_unload_s) && std::isfinite(strain[i])) {
            binner.add(since_unload_s, strain[i]);
        }
    }
    return binner.curve();
}

}  // namespace dmacycle::analysis
