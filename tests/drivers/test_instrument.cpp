#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "dmacycle/drivers/sim/instrument.hpp"

using namespace dmacycle::drivers::sim;

namespace {

std::vector<Measurement> record(std::uint64_t seed, int n) {
    auto profile = default_profile();
    profile.noise.seed = seed;
    Instrument instrument(profile, SimClock::max_speed());
    instrument.step_stress(100e6);
    std::vector<Measurement> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(instrument.measure_at(0.1 * i));
    }
    return out;
}

}  // namespace

TEST_CASE("instrument noise is seeded, of the profile's size, and on a 1 nm grid") {
    const auto a = record(7, 2000), b = record(7, 2000), c = record(8, 2000);
    double sum = 0, sum_sq = 0;
    bool same = true, differs = false, on_grid = true;
    for (std::size_t i = 0; i < a.size(); ++i) {
        same = same && a[i].force_n == b[i].force_n && a[i].displacement_m == b[i].displacement_m;
        differs = differs || a[i].force_n != c[i].force_n;
        const double residual = a[i].force_n - 3.6;  // 100 MPa on 3.6e-8 m²
        sum += residual;
        sum_sq += residual * residual;
        const double nm = a[i].displacement_m / 1e-9;
        on_grid = on_grid && std::abs(nm - std::round(nm)) < 1e-6;
    }
    CHECK(same);
    CHECK(differs);
    CHECK(on_grid);
    const double n = static_cast<double>(a.size());
    CHECK(std::sqrt(sum_sq / n - (sum / n) * (sum / n)) == doctest::Approx(1e-4).epsilon(0.1));
}

TEST_CASE("instrument timestamps follow the simulated clock and the truth is queryable") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    instrument.ramp_stress(100e6, 1e6);
    CHECK(instrument.ramp_end_s() == doctest::Approx(100.0));
    const auto m = instrument.measure_at(50.0);
    CHECK(m.t_s == 50.0);
    CHECK(instrument.now_s() == 50.0);
    const auto truth = instrument.true_state();
    CHECK(truth.stress_pa == doctest::Approx(50e6));
    CHECK(m.displacement_m == doctest::Approx(truth.strain * 10e-3).epsilon(1e-3));
    const auto spectrum = instrument.true_spectrum();
    REQUIRE(spectrum.size() == 61);
    CHECK(spectrum.front().tau_s == doctest::Approx(1.0).epsilon(1e-3));  // at 365 K = T_ref
}
