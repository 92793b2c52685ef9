#include <doctest/doctest.h>

#include <string>

#include "dmacycle/sim/profile.hpp"

using namespace dmacycle::sim;

TEST_SUITE_BEGIN("drivers");

namespace {

std::string error_of(const std::string& yaml) {
    try {
        parse_profile(yaml, "bad.yaml");
    } catch (const ProfileError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("the shipped profile loads and equals the built-in defaults") {
    const auto loaded = load_profile(DMACYCLE_SOURCE_DIR "/config/instruments/sim-la30.yaml");
    const auto defaults = default_profile();
    REQUIRE(loaded.sample.elements.size() == defaults.sample.elements.size());
    for (std::size_t i = 0; i < loaded.sample.elements.size(); ++i) {
        CHECK(loaded.sample.elements[i].tau_s ==
              doctest::Approx(defaults.sample.elements[i].tau_s));
        CHECK(loaded.sample.elements[i].compliance_per_pa ==
              doctest::Approx(defaults.sample.elements[i].compliance_per_pa));
    }
    CHECK(loaded.sample.viscoplastic_prefactor_per_s ==
          doctest::Approx(defaults.sample.viscoplastic_prefactor_per_s));
    CHECK(loaded.frame.force_max_n == 18.0);
    CHECK(loaded.identity.model == "SIM-DMA");
    CHECK(loaded.sample.stress_activation);
}

TEST_CASE("a partial profile changes only what it lists") {
    const auto p = parse_profile("sample:\n  anelastic:\n    stress_activation: false\n", "p.yaml");
    CHECK_FALSE(p.sample.stress_activation);
    CHECK(p.sample.youngs_modulus_pa == 36e9);
    CHECK(p.sample.elements.size() == 61);
}

TEST_CASE("bad profiles name file / line and field") {
    CHECK(error_of("sample:\n  youngs_modulus_pa: -3\n") ==
          "bad.yaml:2: sample.youngs_modulus_pa: must be > 0");
    CHECK(error_of("geometry:\n  width_m: wide\n") ==
          "bad.yaml:2: geometry.width_m: expected a number, got 'wide'");
    CHECK(error_of("sample:\n  anelastic:\n    peaks:\n      - {log10_tau_s: 1, weigth: 2}\n") ==
          "bad.yaml:4: sample.anelastic.peaks[0].weigth: unknown field");
    CHECK(error_of("furnace:\n  display_units: fahrenheit\n") ==
          "bad.yaml:2: furnace.display_units: expected celsius or kelvin");
    CHECK(error_of("frame: [1, 2]\n") == "bad.yaml:1: frame: expected a mapping");
    CHECK(error_of("frame:\n  force_max_n: [1\n").starts_with("bad.yaml:"));
    CHECK(error_of("noise:\n  seed: 1.5\n") ==
          "bad.yaml:2: noise.seed: must be a non-negative integer");
    CHECK_THROWS_AS(load_profile("/nonexistent/profile.yaml"), ProfileError);
}

TEST_SUITE_END();
