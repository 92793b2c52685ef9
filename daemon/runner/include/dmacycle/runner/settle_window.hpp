#pragma once
#include <cmath>
#include <cstddef>
#include <deque>
#include <optional>

namespace dmacycle::runner {

// The furnace PV and sample readings of the last `span_s` of instrument time, which the runner
// judges an equilibration on: one reading is not enough, as the thermocouple's ripple puts a
// reading of a sample still short of the target inside the tolerance (docs/runner.md).
class SettleWindow {
  public:
    void restart(double span_s) {
        span_s_ = span_s;
        readings_.clear();
        furnace_sum_k_ = sample_sum_k_ = 0;
        first_t_s_.reset();
    }
    void add(double t_s, double furnace_k, double sample_k) {
        if (!first_t_s_) {
            first_t_s_ = t_s;
        }
        readings_.push_back({t_s, furnace_k, sample_k});
        furnace_sum_k_ += furnace_k;
        sample_sum_k_ += sample_k;
        while (readings_.size() > 1 && readings_.front().t_s < t_s - span_s_) {
            furnace_sum_k_ -= readings_.front().furnace_k;
            sample_sum_k_ -= readings_.front().sample_k;
            readings_.pop_front();
        }
    }
    // The window spans span_s, and both means are within ± tolerance_k of target_k, over the
    // window and over its last tenth (a sample still moving away is not settled).
    bool settled(double target_k, double tolerance_k) const {
        if (readings_.empty() || readings_.back().t_s - *first_t_s_ < span_s_) {
            return false;
        }
        double recent_furnace_k = 0, recent_sample_k = 0;
        std::size_t recent = 0;
        for (auto it = readings_.rbegin();
             it != readings_.rend() &&
             (recent == 0 || it->t_s >= readings_.back().t_s - span_s_ / 10);
             ++it, ++recent) {
            recent_furnace_k += it->furnace_k;
            recent_sample_k += it->sample_k;
        }
        const auto within = [&](double k) { return std::abs(k - target_k) <= tolerance_k; };
        return within(furnace_mean_k()) && within(sample_mean_k()) &&
               within(recent_furnace_k / static_cast<double>(recent)) &&
               within(recent_sample_k / static_cast<double>(recent));
    }
    double furnace_mean_k() const { return furnace_sum_k_ / static_cast<double>(readings_.size()); }
    double sample_mean_k() const { return sample_sum_k_ / static_cast<double>(readings_.size()); }

  private:
    struct Reading {
        double t_s, furnace_k, sample_k;
    };
    double span_s_ = 0;
    std::deque<Reading> readings_;
    double furnace_sum_k_ = 0, sample_sum_k_ = 0;
    std::optional<double> first_t_s_;
};

}  // namespace dmacycle::runner
