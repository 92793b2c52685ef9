#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "dmacycle/analysis/numerics.hpp"
#include "dmacycle/analysis/synthetic.hpp"

using namespace dmacycle::analysis;

TEST_CASE("noise estimate recovers the added white noise on a curved signal") {
    std::vector<double> time_s;
    for (int i = 1; i <= 20000; ++i) {
        time_s.push_back(i);
    }
    const auto truth = synthetic::demo_truth();
    auto strain = synthetic::recovery_curve(truth.lines, truth.strain_rate_vp, 0.5, time_s);
    synthetic::add_noise(strain, 1e-6, 7);
    CHECK(estimate_noise(strain) == doctest::Approx(1e-6).epsilon(0.05));
}

TEST_CASE("log_space spans both ends") {
    const auto grid = log_space(1e-2, 1e8, 60);
    REQUIRE(grid.size() == 60);
    CHECK(grid.front() == doctest::Approx(1e-2));
    CHECK(grid.back() == doctest::Approx(1e8));
    CHECK(grid[1] / grid[0] == doctest::Approx(std::pow(1e10, 1.0 / 59)));
}
