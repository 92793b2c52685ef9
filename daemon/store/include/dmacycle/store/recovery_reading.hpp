#pragma once
#include <optional>
#include <string_view>

#include "dmacycle/analysis/loading_history.hpp"
#include "dmacycle/analysis/log_bins.hpp"

// A run's recovery as every fit reads it: the runner while it acquires, `analyze --db --run` from
// a store, `analyze` from an exported CSV. All three see the same stored samples in seq order
// with their segment tags (docs/store-schema.md) and apply one rule, so they fit the same bins:
// - t0, the loading time, runs from the first sample tagged load, cycle or creep to the first
//   sample tagged recovery (an operator's pause holds the load, so it counts);
// - each recovery sample is binned at its time since that first recovery sample (which, at 0,
//   gives the strain at unloading);
// - the stress of every sample from the loading's first to the recovery's first is the loading
//   history that eq. (2)'s strains are had through (analysis/loading_history.hpp).
namespace dmacycle::store {

class RecoveryReading {
  public:
    void add(double t_s, std::string_view segment, double stress_pa, double strain);

    // A loading and at least one recovery sample after it were seen.
    bool has_recovery() const { return loading_start_s_ && recovery_start_s_; }
    double t0_s() const;
    std::size_t recovery_samples() const { return binner_.samples(); }
    analysis::BinnedCurve curve() const { return binner_.curve(); }
    const analysis::LoadingHistory& history() const { return history_; }

  private:
    std::optional<double> loading_start_s_, recovery_start_s_;
    analysis::LogTimeBinner binner_;
    analysis::LoadingHistory history_;
};

}  // namespace dmacycle::store
