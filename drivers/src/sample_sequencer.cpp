#include "dmacycle/drivers/sample_sequencer.hpp"

#include <cmath>

namespace dmacycle::drivers {

SampleSequencer::Result SampleSequencer::accept(const RawSample& raw) {
    Result result;
    std::uint64_t missing = 0;
    if (started_) {
        const double period_s = 1.0 / rate_hz_;
        if (new_link_) {
            // Half a period of tolerance: the new stream's time grid need not line up with the
            // old one, but anything not clearly newer was delivered already.
            if (raw.value.t_s <= last_t_s_ + 0.5 * period_s) {
                ++duplicates_;
                return result;
            }
            const double periods = std::round((raw.value.t_s - last_t_s_) * rate_hz_);
            missing = static_cast<std::uint64_t>(periods) - 1;
        } else {
            if (raw.link_seq <= last_link_seq_) {
                ++duplicates_;
                return result;
            }
            missing = raw.link_seq - last_link_seq_ - 1;
        }
        if (missing > 0 || new_link_) {
            result.gap = SampleGap{next_seq_, missing, last_t_s_, raw.value.t_s, new_link_};
        }
    }
    next_seq_ += missing;
    result.sample = FrameSample{next_seq_, raw.value};
    ++next_seq_;
    started_ = true;
    new_link_ = false;
    last_link_seq_ = raw.link_seq;
    last_t_s_ = raw.value.t_s;
    return result;
}

}  // namespace dmacycle::drivers
