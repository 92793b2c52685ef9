#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "dmacycle/sim/frame_session.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "time_scale.hpp"

using namespace dmacycle::sim;

TEST_SUITE_BEGIN("drivers");

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

TEST_CASE("instrument noise is seeded / of the profile's size / and on a 1 nm grid") {
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

TEST_CASE("frame session: random garbage lines never throw and leave the session usable") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    FrameSession session(instrument);
    std::mt19937 rng(3);
    const std::string alphabet = "*?:, \t.-+eE0123456789SOURSTRAMPPROGCYCLDMTAIDNSYSERR\x01\xff";
    for (int i = 0; i < 20000; ++i) {
        std::string line;
        const auto length = rng() % 40;
        for (unsigned k = 0; k < length; ++k) {
            line += alphabet[rng() % alphabet.size()];
        }
        CHECK_NOTHROW(session.handle(line));
    }
    int queued = 0;  // at most 16, the queue's size
    while (queued < 20 && session.handle("SYST:ERR?").lines.at(0) != "0,\"No error\"") {
        ++queued;
    }
    CHECK(queued == 16);
    CHECK(session.handle("*IDN?").lines.at(0) == "dmacycle,SIM-DMA,SIM0001,0.1.0");
}

TEST_CASE("instrument: a jump of 1e6 s is cheap and / without activation / exact") {
    auto profile = default_profile();
    profile.sample.stress_activation = false;
    profile.sample.rejuvenation_energy_j_m3 = 0;
    Instrument instrument(profile, SimClock::max_speed());
    const double stress = 100e6;
    instrument.step_stress(stress);
    const auto start = std::chrono::steady_clock::now();
    instrument.measure_at(1e6);
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A hang guard, not a timing goal (bench/ has those): the old code took about 20 s.
    CHECK(wall_s < 5.0);
    const Sample reference(profile.sample);
    double expected =
        stress / profile.sample.youngs_modulus_pa + reference.viscoplastic_rate_per_s(stress) * 1e6;
    for (const auto& e : profile.sample.elements) {
        expected += e.compliance_per_pa * stress * -std::expm1(-1e6 / e.tau_s);
    }
    CHECK(instrument.true_state().strain == doctest::Approx(expected).epsilon(1e-9));
}

TEST_CASE("instrument: a furnace step during a long jump still settles the sample") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    instrument.set_furnace_setpoint_k(375.0);
    const auto start = std::chrono::steady_clock::now();
    instrument.measure_at(1e5);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
          test_support::scaled_s(1.5));  // was 1.9 s
    const auto truth = instrument.true_state();
    CHECK(truth.furnace_temperature_k == doctest::Approx(375.0).epsilon(1e-6));
    CHECK(truth.sample_temperature_k == doctest::Approx(375.0).epsilon(1e-6));
    // The sample's τ_i follow the temperature: shorter than at T_ref = 365 K.
    CHECK(instrument.true_spectrum().front().tau_s < 0.9);
}

TEST_CASE("instrument: an unreachable setpoint (output saturated) does not slow jumps down") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    instrument.set_furnace_setpoint_k(1200.0);  // above ambient + 100 % × 6 K/% = 898 K
    const auto start = std::chrono::steady_clock::now();
    instrument.measure_at(1e6);
    // A hang guard with room for a loaded machine: the old code stepped 1e7 times.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    const auto view = instrument.furnace();
    CHECK(view.output_percent == 100.0);
    CHECK(instrument.true_state().furnace_temperature_k == doctest::Approx(898.15).epsilon(1e-6));
}

TEST_CASE("instrument: time far beyond any run still advances") {
    Instrument instrument(default_profile(), SimClock::max_speed());
    instrument.advance_clock_to(1e17);  // 0.1 s steps no longer change t there
    instrument.ramp_stress(1e6, 1e6);
    instrument.set_furnace_setpoint_k(375.0);
    CHECK(instrument.measure_at(1e17 + 64).t_s == 1e17 + 64);
}

TEST_SUITE_END();
