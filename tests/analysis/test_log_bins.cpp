#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "dmacycle/analysis/log_bins.hpp"
#include "dmacycle/analysis/synthetic.hpp"

using namespace dmacycle::analysis;

namespace {

// 1 h at 10 Hz of a slow decay with white noise.
struct Curve {
    std::vector<double> time_s, value;
};

Curve decay(double sigma, std::uint64_t seed) {
    Curve curve;
    for (int i = 1; i <= 36000; ++i) {
        curve.time_s.push_back(0.1 * i);
        curve.value.push_back(1e-3 * std::exp(-0.1 * i / 500.0));
    }
    synthetic::add_noise(curve.value, sigma, seed);
    return curve;
}

}  // namespace

TEST_CASE("log bins: a fixed grid of 50 per decade, each bin's mean, count, weight and spread") {
    const std::vector<double> time_s{1.0, 1.01, 1.02, 2.0, 10.0, 10.0};
    const std::vector<double> value{1.0, 2.0, 3.0, 4.0, 5.0, 7.0};
    const BinnedCurve curve = bin_log_time(time_s, value);
    REQUIRE(curve.size() == 3);
    CHECK(curve.time_s[0] == doctest::Approx(1.01));
    CHECK(curve.value[0] == doctest::Approx(2.0));
    CHECK(curve.count[0] == 3);
    CHECK(curve.weight[0] == doctest::Approx(3.0 / kFullWeightSamples));
    CHECK(curve.time_spread_s[0] == doctest::Approx(std::sqrt(2.0 / 3.0) * 0.01));
    CHECK(curve.value[2] == doctest::Approx(6.0));  // the repeated time stamp, averaged
    CHECK(curve.tied == 1);
    CHECK(curve.samples == 6);
    CHECK(curve.first_s == 1.0);
    CHECK(curve.last_s == 10.0);
}

TEST_CASE("log bins: the sums do not depend on the samples' order or on thinning's phase") {
    const Curve curve = decay(1e-6, 3);
    const BinnedCurve in_order = bin_log_time(curve.time_s, curve.value);
    std::vector<std::size_t> order(curve.time_s.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    LogTimeBinner shuffled;
    for (const std::size_t i : order) {
        shuffled.add(curve.time_s[i], curve.value[i]);
    }
    const BinnedCurve other = shuffled.curve();
    REQUIRE(other.size() == in_order.size());
    for (std::size_t i = 0; i < other.size(); ++i) {
        CHECK(other.value[i] == doctest::Approx(in_order.value[i]).epsilon(1e-12));
        CHECK(other.weight[i] == in_order.weight[i]);
    }
    CHECK(other.noise == doctest::Approx(in_order.noise).epsilon(1e-9));
}

TEST_CASE("log bins: white noise is measured from the scatter within bins, uncorrelated") {
    for (const double sigma : {1e-7, 1e-6, 1e-5}) {
        CAPTURE(sigma);
        const Curve curve = decay(sigma, 11);
        const BinnedCurve binned = bin_log_time(curve.time_s, curve.value);
        CHECK(binned.noise == doctest::Approx(sigma).epsilon(0.03));
        // The curve's curvature within a bin passes for a little correlation at the lowest noise.
        CHECK(binned.noise_correlation < (sigma < 1e-6 ? 0.1 : 0.03));
        // A late bin of many samples: its mean's noise is σ/√n.
        const std::size_t last = binned.size() - 1;
        CHECK(binned.mean_noise(last) ==
              doctest::Approx(binned.noise / std::sqrt(binned.count[last])).epsilon(0.06));
    }
}

TEST_CASE("log bins: sparse log-spaced rows take the noise from the bins' second differences") {
    std::vector<double> time_s, value;
    for (int i = 0; i < 200; ++i) {
        time_s.push_back(0.01 * std::pow(10.0, i / 40.0));
        value.push_back(1e-3 * std::exp(-time_s.back() / 30.0));
    }
    synthetic::add_noise(value, 2e-6, 5);
    const BinnedCurve binned = bin_log_time(time_s, value);
    CHECK(binned.size() == 200);  // 40 per decade: a bin each
    CHECK(binned.noise == doctest::Approx(2e-6).epsilon(0.35));
    CHECK(binned.noise_correlation == 0);
}

TEST_CASE(
    "log bins: a recovery is binned since t0, its sample at t0 kept as the strain at unloading") {
    const std::vector<double> time_s{99, 100, 100.5, 101, 102};
    const std::vector<double> value{9, 1, 2, 3, 4};
    const BinnedCurve binned = bin_recovery(time_s, value, 100);
    CHECK(binned.samples == 4);  // not the one before t0
    REQUIRE(binned.value_at_origin.has_value());
    CHECK(*binned.value_at_origin == 1);
    CHECK(binned.size() == 3);
    CHECK(binned.first_s == 0.5);
    CHECK(binned.last_s == 2.0);
    CHECK_FALSE(bin_recovery(std::vector<double>{101.0}, std::vector<double>{1.0}, 100)
                    .value_at_origin.has_value());
}
