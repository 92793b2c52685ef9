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
//  - a sample not newer than the last one delivered is a duplicate and is dropped.
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

    struct Result {
        std::optional<FrameSample> sample;  // nullopt: a duplicate, dropped
        std::optional<SampleGap> gap;
    };
    Result accept(const RawSample& raw);
    std::uint64_t duplicates() const { return duplicates_; }

  private:
    double rate_hz_ = 10.0;
    bool started_ = false;
    bool new_link_ = true;
    std::uint64_t next_seq_ = 0;
    std::uint64_t last_link_seq_ = 0;
    double last_t_s_ = 0;
    std::uint64_t duplicates_ = 0;
};

}  // namespace dmacycle::drivers
