// The relaxation enthalpy from a synthetic DSC scan pair whose exotherm is known exactly.
#include <doctest/doctest.h>

#include <cmath>

#include "dmacycle/analysis/dsc.hpp"
#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle/analysis/work_done.hpp"

using namespace dmacycle::analysis;

namespace {

double relative_error(double value, double truth) {
    return std::abs(value - truth) / std::abs(truth);
}

// Noise of 1 % of the exotherm's height (0.056 W/g for the default truth) on each scan.
constexpr double noise_w_g = 5.6e-4;

}  // namespace

TEST_CASE("dsc: a noise-free scan pair gives the exotherm's enthalpy almost exactly") {
    const synthetic::DscTruth truth;
    const auto pair = synthetic::dsc_pair(truth);
    const auto result = analyze_dsc(pair.sample, pair.baseline);
    REQUIRE(result.summary.usable);
    CAPTURE(result.delta_h_j_g);
    CHECK(relative_error(result.delta_h_j_g, truth.delta_h_j_g) < 1e-3);
    CHECK(result.peak_k == doctest::Approx(truth.peak_k).epsilon(0.002));
    // The split Gaussian's 10 % points: peak ∓ width · √(2 ln 10).
    CHECK(result.onset_k ==
          doctest::Approx(truth.peak_k - truth.width_below_k * std::sqrt(2 * std::log(10.0)))
              .epsilon(0.005));
    CHECK(result.end_k ==
          doctest::Approx(truth.peak_k + truth.width_above_k * std::sqrt(2 * std::log(10.0)))
              .epsilon(0.005));
    CHECK(result.sample_rate_k_min == doctest::Approx(20.0));
    CHECK(result.baseline_rate_k_min == doctest::Approx(20.0));
}

TEST_CASE("dsc: with 1 % noise the detected exotherm gives the enthalpy within 2 %") {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        synthetic::DscTruth truth;
        truth.noise_w_g = noise_w_g;
        truth.seed = seed;
        const auto pair = synthetic::dsc_pair(truth);
        const auto result = analyze_dsc(pair.sample, pair.baseline);
        CAPTURE(seed);
        REQUIRE(result.summary.usable);
        CAPTURE(result.delta_h_j_g);
        CAPTURE(result.delta_h_stderr_j_g);
        CHECK(relative_error(result.delta_h_j_g, truth.delta_h_j_g) < 0.02);
        CHECK(result.noise_w_g == doctest::Approx(noise_w_g * std::sqrt(2.0)).epsilon(0.25));
        CHECK(result.delta_h_stderr_j_g > 0);
        CHECK(result.delta_h_stderr_j_g < 0.02 * truth.delta_h_j_g);
        CHECK(result.range_lo_k < result.onset_k);
        CHECK(result.onset_k < result.peak_k);
        CHECK(result.peak_k < result.end_k);
        CHECK(result.end_k < result.range_hi_k);
    }
}

TEST_CASE("dsc: a given range is integrated as given") {
    synthetic::DscTruth truth;
    DscOptions options;
    options.range_lo_k = 320;
    options.range_hi_k = 500;
    const auto exact = analyze_dsc(synthetic::dsc_pair(truth).sample,
                                   synthetic::dsc_pair(truth).baseline, options);
    REQUIRE(exact.summary.usable);
    CHECK(exact.range_given);
    CHECK(exact.range_lo_k == 320);
    CHECK(exact.range_hi_k == 500);
    CHECK(relative_error(exact.delta_h_j_g, truth.delta_h_j_g) < 1e-3);

    truth.noise_w_g = noise_w_g;
    const auto pair = synthetic::dsc_pair(truth);
    const auto noisy = analyze_dsc(pair.sample, pair.baseline, options);
    REQUIRE(noisy.summary.usable);
    CAPTURE(noisy.delta_h_j_g);
    CHECK(relative_error(noisy.delta_h_j_g, truth.delta_h_j_g) < 0.02);

    options.range_lo_k = 290;  // below the baseline scan's first temperature
    const auto outside = analyze_dsc(pair.sample, pair.baseline, options);
    CHECK(outside.summary.status == FitStatus::invalid_input);
    CHECK(outside.summary.message.find("not inside the scans' overlap") != std::string::npos);
}

TEST_CASE("dsc: detection takes the sub-Tg exotherm and not the Tg step or crystallization") {
    synthetic::DscTruth truth;
    truth.above_tg = true;
    truth.noise_w_g = noise_w_g;
    const auto pair = synthetic::dsc_pair(truth);
    const auto result = analyze_dsc(pair.sample, pair.baseline);
    REQUIRE(result.summary.usable);
    CAPTURE(result.delta_h_j_g);
    CHECK(relative_error(result.delta_h_j_g, truth.delta_h_j_g) < 0.02);
    CHECK(result.peak_k == doctest::Approx(truth.peak_k).epsilon(0.01));
    CHECK(result.range_hi_k < 495);
}

TEST_CASE("dsc: J/g to kJ/mol with the molar mass of La30Ce30Ni10Al20Co10") {
    const auto molar_mass = molar_mass_from_composition("La30Ce30Ni10Al20Co10");
    REQUIRE(molar_mass.ok);
    CHECK(molar_mass.g_mol == doctest::Approx(100.87).epsilon(1e-4));
    // The paper's 0.79 kJ/mol after 0-200 MPa cycling is 7.83 J/g.
    CHECK(j_g_to_kj_mol(7.83, molar_mass.g_mol) == doctest::Approx(0.7898).epsilon(1e-3));
}

TEST_CASE("dsc: scans that cannot be compared are refused with the reason") {
    const synthetic::DscTruth truth;
    auto pair = synthetic::dsc_pair(truth);

    SUBCASE("no exotherm") {
        synthetic::DscTruth flat;
        flat.delta_h_j_g = 0;
        flat.noise_w_g = noise_w_g;
        const auto scans = synthetic::dsc_pair(flat);
        const auto result = analyze_dsc(scans.sample, scans.baseline);
        CHECK(result.summary.status == FitStatus::insufficient_data);
        CHECK(result.summary.message.find("no exotherm") != std::string::npos);
    }
    SUBCASE("no overlap") {
        for (auto& k : pair.baseline.temperature_k) {
            k += 400;
        }
        const auto result = analyze_dsc(pair.sample, pair.baseline);
        CHECK(result.summary.status == FitStatus::invalid_input);
        CHECK(result.summary.message.find("do not overlap") != std::string::npos);
    }
    SUBCASE("temperature not increasing") {
        pair.sample.temperature_k[100] = pair.sample.temperature_k[98];
        const auto result = analyze_dsc(pair.sample, pair.baseline);
        CHECK(result.summary.status == FitStatus::invalid_input);
        CHECK(result.summary.message.find("sample scan: temperature does not increase at point "
                                          "101") != std::string::npos);
    }
    SUBCASE("different heating rates") {
        for (auto& t : pair.baseline.time_s) {
            t *= 2;
        }
        const auto result = analyze_dsc(pair.sample, pair.baseline);
        CHECK(result.summary.status == FitStatus::invalid_input);
        CHECK(result.summary.message.find("heating rates differ: sample 20 K/min, baseline 10 "
                                          "K/min") != std::string::npos);
    }
}
