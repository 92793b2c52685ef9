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

TEST_CASE("sample sequencer: one garbled but numeric link_seq does not poison later samples") {
    SampleSequencer seq;
    seq.set_rate_hz(10);
    for (std::uint64_t i = 0; i < 5; ++i) {
        REQUIRE(seq.accept(raw(i, 1.0 + 0.1 * static_cast<double>(i))).sample);
    }
    const auto poison = seq.accept(raw(100'000'000'000ULL, 1.5));
    REQUIRE(poison.sample);
    CHECK(poison.new_epoch);  // numbers and clock disagree: reported, not a 1e11 gap
    CHECK(poison.sample->seq == 5);
    CHECK_FALSE(poison.gap);
    int kept = 0;
    for (std::uint64_t i = 6; i < 1006; ++i) {
        kept += seq.accept(raw(i, 1.0 + 0.1 * static_cast<double>(i))).sample ? 1 : 0;
    }
    CHECK(kept == 1000);
    CHECK(seq.duplicates() == 0);
    CHECK(seq.epochs() == 2);  // into the bad number and back out of it
}

TEST_CASE("sample sequencer: an instrument clock restarted by a power cycle is a new epoch") {
    SampleSequencer seq;
    seq.set_rate_hz(10);
    for (std::uint64_t i = 0; i < 100; ++i) {
        seq.accept(raw(i, 1000.0 + 0.1 * static_cast<double>(i)));
    }
    seq.new_link();
    const auto first = seq.accept(raw(0, 0.0));
    REQUIRE(first.sample);
    CHECK(first.new_epoch);
    CHECK(first.sample->seq == 100);  // seq goes on without a hole
    int kept = 1;
    for (std::uint64_t i = 1; i < 1000; ++i) {
        const auto r = seq.accept(raw(i, 0.1 * static_cast<double>(i)));
        kept += r.sample ? 1 : 0;
        CHECK_FALSE(r.new_epoch);
    }
    CHECK(kept == 1000);
    CHECK(seq.duplicates() == 0);
    // A sample repeated just after a reconnect is still a duplicate, not an epoch.
    seq.new_link();
    CHECK_FALSE(seq.accept(raw(0, 99.9)).sample);
    CHECK(seq.duplicates() == 1);
}

TEST_CASE("sample sequencer: absurd times are clamped, not cast out of range") {
    SampleSequencer seq;
    seq.set_rate_hz(10);
    seq.accept(raw(0, 1.0));
    seq.new_link();
    const auto far = seq.accept(raw(0, 1e300));
    REQUIRE(far.sample);
    CHECK(far.new_epoch);
    CHECK(far.sample->seq == 1);
    const auto back = seq.accept(raw(1, -1e300));
    REQUIRE(back.sample);
    CHECK(back.new_epoch);
    CHECK(back.sample->seq == 2);
}
