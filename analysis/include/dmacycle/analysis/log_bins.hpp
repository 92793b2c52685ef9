#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <vector>

// The one reading of a relaxation curve for its fits, whoever fits it (the runner as it
// acquires, `analyze` on a store or a file): the samples summed into bins of equal width in
// log time on a fixed grid, bin k holding 10^(k/kBinsPerDecade) ≤ t < 10^((k+1)/kBinsPerDecade).
// Every fit then sees each bin's mean at its samples' mean time, weighted by how many samples
// it holds up to kFullWeightSamples. Why (docs/analysis.md): fitted sample by sample, a curve
// weighs the late times by their sampling density, so thinning, a different rate or a file
// with log-spaced rows changed the fitted KWW β by 100x its standard error; bins of a fixed
// log grid weigh each stretch of log time alike once it holds a few samples, whatever the rate.
// The sums are order-independent and constant in memory (a few hundred bins), so the runner
// bins every sample of a recovery of any length or rate.
namespace dmacycle::analysis {

inline constexpr int kBinsPerDecade = 50;
inline constexpr double kFullWeightSamples = 16;

struct BinnedCurve {
    std::vector<double> time_s;  // mean time of each bin's samples
    // Standard deviation of the bin's sample times about their mean: a fit evaluates its model
    // at time_s ± time_spread_s and takes the mean, which is the model's mean over the bin's
    // samples to second order (at the mean time alone, a curve's curvature biases a bin of many
    // samples by more than its noise).
    std::vector<double> time_spread_s;
    std::vector<double> value;   // mean value
    std::vector<double> count;   // samples in the bin
    std::vector<double> weight;  // min(count, kFullWeightSamples) / kFullWeightSamples
    // Standard deviation of one sample: pooled from the scatter about a line within each bin,
    // or, when too few bins hold several samples, from the bins' second differences.
    double noise = 0;
    // Lag-1 correlation of the noise from one sample to the next, in [0, 0.99]: from the
    // variance of consecutive differences within bins against 2σ² (white noise: 0). A bin's
    // mean then varies more than σ²/n (AR(1) noise is assumed).
    double noise_correlation = 0;
    std::size_t samples = 0;
    // Samples that share a time stamp with an earlier one (real files have them): averaged
    // with it in its bin.
    std::size_t tied = 0;
    // The first and last sample times above 0 (the bins' mean times lie inside).
    double first_s = 0, last_s = 0;
    // The mean of the samples at time 0, if any (a recovery's strain at unloading).
    std::optional<double> value_at_origin;

    std::size_t size() const { return time_s.size(); }
    // Standard deviation of bin i's mean from the noise: σ/√n times the factor its correlation
    // gives.
    double mean_noise(std::size_t i) const;
    // Standard deviation of bin i's mean under white noise.
    // Weighted RMS of the bins' mean noise: what a perfect model leaves as a weighted residual.
    double weighted_mean_noise() const;
};

class LogTimeBinner {
  public:
    // time_s ≥ 0 and finite (the caller refuses others); any order. Samples at 0 (a
    // recovery's first, at unloading) have no place on a log axis: their mean is kept apart.
    void add(double time_s, double value);
    BinnedCurve curve() const;
    std::size_t samples() const { return samples_; }

  private:
    // Sums about the bin's first sample (so that they do not cancel), values in units of its
    // magnitude (so that squares of strains near the double range do not overflow).
    struct Bin {
        double t_ref = 0, v_ref = 0, v_unit = 1;
        double n = 0, st = 0, sv = 0, stt = 0, stv = 0, svv = 0;
        double last_t = 0, last_v = 0;
        double pairs = 0, sd = 0, sdd = 0;  // consecutive differences within the bin
    };
    std::map<long, Bin> bins_;
    std::size_t samples_ = 0;
    std::size_t tied_ = 0;
    double first_s_ = 0, last_s_ = 0;
    double origin_sum_ = 0, origin_count_ = 0;
};

// Every (time, value) pair with time > 0 binned; the others are skipped.
BinnedCurve bin_log_time(std::span<const double> time_s, std::span<const double> value);
// A recovery's samples at times since loading, binned at their times since unloading t − t0
// (a sample at t0 itself is the value at the origin).
BinnedCurve bin_recovery(std::span<const double> time_s, std::span<const double> strain,
                         double t0_s);

}  // namespace dmacycle::analysis
