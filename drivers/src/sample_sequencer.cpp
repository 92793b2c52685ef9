#include "dmacycle/drivers/sample_sequencer.hpp"

#include <algorithm>
#include <cmath>

namespace dmacycle::drivers {

SampleSequencer::Result SampleSequencer::accept(const RawSample& raw) {
    Result result;
    std::uint64_t missing = 0;
    if (started_) {
        // Periods of instrument time since the last sample, clamped so that any t_s (1e300
        // from a garbled line) converts to an integer without undefined behaviour.
        const double periods = std::clamp(std::round((raw.value.t_s - last_t_s_) * rate_hz_),
                                          -max_gap_periods - 1, max_gap_periods + 1);
        bool epoch = periods > max_gap_periods;
        if (!epoch && new_link_) {
            // Half a period of tolerance: the new stream's time grid need not line up with the
            // old one, but anything not clearly newer was delivered already, unless the clock
            // went back too far for that (the instrument restarted).
            const bool newer = raw.value.t_s > last_t_s_ + 0.5 / rate_hz_;
            if (!newer && periods >= -epoch_periods) {
                ++duplicates_;
                return result;
            }
            epoch = !newer;
            missing = epoch ? 0 : static_cast<std::uint64_t>(std::max(periods, 1.0)) - 1;
        } else if (!epoch) {
            if (raw.link_seq <= last_link_seq_) {
                if (raw.value.t_s <= last_t_s_ + 0.5 / rate_hz_) {
                    ++duplicates_;
                    return result;
                }
                epoch = true;  // numbering restarted while the clock ran on
            } else {
                const std::uint64_t step = raw.link_seq - last_link_seq_;
                // The numbers say step periods, the clock says periods: a garbled number or a
                // clock that jumped when they disagree by more than a small stall could explain.
                epoch = std::abs(static_cast<double>(step) - periods) > epoch_periods;
                missing = epoch ? 0 : step - 1;
            }
        }
        if (epoch) {
            ++epochs_;
            result.new_epoch = true;
        } else if (missing > 0 || new_link_) {
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
