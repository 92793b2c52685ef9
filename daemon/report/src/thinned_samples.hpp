#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

// A run's samples thinned as they stream from the store, so that a report's memory does not
// grow with the run's length or rate (issue 19): what a plot can show, and no more.
namespace dmacycle::report {

struct TracePoint {
    double t_s = 0, strain = 0, stress_pa = 0;
};

// The samples over time in at most `buckets` equal time buckets, each keeping its first and last
// sample and those of its lowest and highest strain and stress: drawn at any width up to the
// bucket count, the curve keeps its envelope (a triangle wave its peaks). The bucket width
// doubles whenever the samples outgrow the buckets, so the range need not be known up front.
class Envelope {
  public:
    explicit Envelope(std::size_t buckets = 4096);
    // Samples in time order; one earlier than the last bucket joins the last bucket.
    void add(const TracePoint& sample);
    std::vector<TracePoint> points() const;  // in time order, each sample once
    std::size_t buckets() const { return buckets_.size(); }

  private:
    struct Bucket {
        std::int64_t index = 0;
        TracePoint first, last, strain_lo, strain_hi, stress_lo, stress_hi;
        void join(const TracePoint& p);
        void join(const Bucket& later);
    };
    void halve();
    std::size_t max_buckets_;
    double t0_s_ = 0, width_s_ = 1e-3;
    std::vector<Bucket> buckets_;
};

// A recovery's (t − t0, strain) at log-spaced times: its first sample, then the first sample at
// or past each of `per_decade` steps a decade from `first_s` on; a log-time axis shows no more.
class LogSteps {
  public:
    explicit LogSteps(double per_decade = 1000, double first_s = 1e-6);
    void add(double since_s, double strain);
    const std::vector<std::pair<double, double>>& points() const { return points_; }

  private:
    double per_decade_, first_s_;
    double next_s_;
    std::vector<std::pair<double, double>> points_;
};

}  // namespace dmacycle::report
