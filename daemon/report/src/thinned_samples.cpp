#include "thinned_samples.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dmacycle::report {

Envelope::Envelope(std::size_t buckets) : max_buckets_(std::max<std::size_t>(buckets, 1)) {}

void Envelope::Bucket::join(const TracePoint& p) {
    last = p;
    strain_lo = p.strain < strain_lo.strain ? p : strain_lo;
    strain_hi = p.strain > strain_hi.strain ? p : strain_hi;
    stress_lo = p.stress_pa < stress_lo.stress_pa ? p : stress_lo;
    stress_hi = p.stress_pa > stress_hi.stress_pa ? p : stress_hi;
}

void Envelope::Bucket::join(const Bucket& later) {
    last = later.last;
    strain_lo = later.strain_lo.strain < strain_lo.strain ? later.strain_lo : strain_lo;
    strain_hi = later.strain_hi.strain > strain_hi.strain ? later.strain_hi : strain_hi;
    stress_lo = later.stress_lo.stress_pa < stress_lo.stress_pa ? later.stress_lo : stress_lo;
    stress_hi = later.stress_hi.stress_pa > stress_hi.stress_pa ? later.stress_hi : stress_hi;
}

void Envelope::add(const TracePoint& sample) {
    if (buckets_.empty()) {
        t0_s_ = sample.t_s;
    }
    const double offset = (sample.t_s - t0_s_) / width_s_;
    const auto index = offset >= 0 ? static_cast<std::int64_t>(std::min(offset, 9e15)) : 0;
    if (!buckets_.empty() && index <= buckets_.back().index) {
        buckets_.back().join(sample);
        return;
    }
    buckets_.push_back({index, sample, sample, sample, sample, sample, sample});
    while (buckets_.size() > max_buckets_) {
        halve();
    }
}

// Twice the width: neighbours that now share a bucket are joined.
void Envelope::halve() {
    width_s_ *= 2;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        Bucket bucket = buckets_[i];
        bucket.index /= 2;
        if (kept > 0 && buckets_[kept - 1].index == bucket.index) {
            buckets_[kept - 1].join(bucket);
        } else {
            buckets_[kept++] = bucket;
        }
    }
    buckets_.resize(kept);
}

std::vector<TracePoint> Envelope::points() const {
    std::vector<TracePoint> out;
    out.reserve(buckets_.size() * 3);
    for (const auto& b : buckets_) {
        TracePoint picks[] = {b.first, b.strain_lo, b.strain_hi, b.stress_lo, b.stress_hi, b.last};
        std::stable_sort(std::begin(picks), std::end(picks),
                         [](const TracePoint& a, const TracePoint& c) { return a.t_s < c.t_s; });
        for (const auto& p : picks) {
            const bool same = !out.empty() && out.back().t_s == p.t_s &&
                              out.back().strain == p.strain && out.back().stress_pa == p.stress_pa;
            if (!same) {
                out.push_back(p);
            }
        }
    }
    return out;
}

LogSteps::LogSteps(double per_decade, double first_s)
    : per_decade_(per_decade),
      first_s_(first_s),
      next_s_(-std::numeric_limits<double>::infinity()) {}

void LogSteps::add(double since_s, double strain) {
    if (!(since_s >= next_s_)) {
        return;
    }
    points_.emplace_back(since_s, strain);
    const double decades = std::log10(std::max(since_s, first_s_) / first_s_);
    next_s_ = first_s_ * std::pow(10.0, (std::floor(decades * per_decade_) + 1) / per_decade_);
}

}  // namespace dmacycle::report
