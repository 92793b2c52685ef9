#include <doctest/doctest.h>

#include "dmacycle/drivers/sample_sequencer.hpp"

using namespace dmacycle::drivers;

namespace {

RawSample raw(std::uint64_t link_seq, double t_s) {
    return {link_seq, {t_s, 0, 0, 365}};
}

}  // namespace

TEST_CASE("sample sequencer: one link, a lost line leaves a reported hole, duplicates dropped") {
    SampleSequencer seq;
    seq.set_rate_hz(10);
    CHECK(seq.accept(raw(0, 5.0)).sample->seq == 0);
    CHECK_FALSE(seq.accept(raw(1, 5.1)).gap);
    const auto after_loss = seq.accept(raw(4, 5.4));  // 2 and 3 never arrived
    CHECK(after_loss.sample->seq == 4);
    REQUIRE(after_loss.gap);
    CHECK(after_loss.gap->first_seq == 2);
    CHECK(after_loss.gap->count == 2);
    CHECK_FALSE(after_loss.gap->across_reconnect);
    const auto again = seq.accept(raw(4, 5.4));
    CHECK_FALSE(again.sample);
    CHECK(seq.duplicates() == 1);
}

TEST_CASE("sample sequencer: across a reconnect the hole comes from instrument time") {
    SampleSequencer seq;
    seq.set_rate_hz(10);
    for (std::uint64_t i = 0; i < 5; ++i) {
        seq.accept(raw(i, 1.0 + 0.1 * static_cast<double>(i)));  // seq 0..4, last t 1.4 s
    }
    seq.new_link();
    // The new link numbers from 0 again; its first sample at t = 2.03 s is 6 periods later.
    const auto first = seq.accept(raw(0, 2.03));
    REQUIRE(first.sample);
    CHECK(first.sample->seq == 10);
    REQUIRE(first.gap);
    CHECK(first.gap->first_seq == 5);
    CHECK(first.gap->count == 5);
    CHECK(first.gap->across_reconnect);
    CHECK(first.gap->to_t_s - first.gap->from_t_s == doctest::Approx(0.63));
    CHECK(seq.accept(raw(1, 2.13)).sample->seq == 11);

    // A new link that replays a sample already delivered: dropped, not renumbered.
    seq.new_link();
    CHECK_FALSE(seq.accept(raw(0, 2.13)).sample);
    // Reconnected within one period: a gap of 0 samples is still reported, with its span.
    const auto quick = seq.accept(raw(1, 2.23));
    CHECK(quick.sample->seq == 12);
    REQUIRE(quick.gap);
    CHECK(quick.gap->count == 0);
}
