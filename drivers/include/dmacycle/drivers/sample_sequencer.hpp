#pragma once
#include <cstdint>
#include <optional>

#include "dmacycle/drivers/load_frame.hpp"

// Maps the instrument's per-connection sample numbers into one continuous sequence for the
// whole run (docs/drivers.md, "Sequence continuity"):
//  - on one link, seq advances with the instrument's link_seq, so a skipped link_seq (a lost
//    or unparseable line) leaves the same hole in seq;
//  - across a reconnect (link_seq restarts at 0), the hole is the number of sample periods
//    between the last sample and the new one, from instrument time, which keeps running;
//  - a sample not newer than the last one delivered is a duplicate and is dropped;
//  - an instrument clock that went back more than epoch_periods (a power cycle), numbers and
//    clock that disagree by more than that, or a jump beyond max_gap_periods start a new
//    epoch: the sample is kept, seq continues without a hole, and the result says so.
// Every hole is returned as a gap, so seq never skips silently.
namespace dmacycle::drivers {

struct FrameSample {
    std::uint64_t seq = 0;  // continuous over the run; a hole is always reported as a gap
    FrameMeasurement value;
};

struct SampleGap {
    std::uint64_t first_seq = 0;  // the first missing seq
    std::uint64_t count = 0;      // how many are missing
    double from_t_s = 0;          // the last sample before and the first after (instrument time)
    double to_t_s = 0;
    bool across_reconnect = false;
};

class SampleSequencer {
  public:
    void set_rate_hz(double rate_hz) { rate_hz_ = rate_hz; }
    void new_link() { new_link_ = true; }

    // How far instrument time and sample numbers may disagree, in periods, before the sample
    // starts a new epoch rather than being a duplicate or a gap.
    static constexpr double epoch_periods = 100;
    // A longer outage than this (at 10 Hz, ~116 days) is not believed: a new epoch.
    static constexpr double max_gap_periods = 1e8;

    struct Result {
        std::optional<FrameSample> sample;  // nullopt: a duplicate, dropped
        std::optional<SampleGap> gap;
        bool new_epoch = false;  // the instrument's clock or numbering restarted or jumped
    };
    Result accept(const RawSample& raw);
    std::uint64_t duplicates() const { return duplicates_; }
    std::uint64_t epochs() const { return epochs_; }  // new epochs so far

  private:
    double rate_hz_ = 10.0;
    bool started_ = false;
    bool new_link_ = true;
    std::uint64_t next_seq_ = 0;
    std::uint64_t last_link_seq_ = 0;
    double last_t_s_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t epochs_ = 0;
};

}  // namespace dmacycle::drivers
