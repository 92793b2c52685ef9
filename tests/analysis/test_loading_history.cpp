#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "dmacycle/analysis/loading_history.hpp"

using namespace dmacycle::analysis;

namespace {

// τ values on and between the history's modes (10 per decade).
const std::vector<double> kTaus{0.5, 3.3, 25.1, 100, 777, 1e4, 5e5};

}  // namespace

TEST_CASE("loading history: a constant stress removed at once gives eq. (2)'s 1 - exp(-t0/tau)") {
    LoadingHistory history;
    const double t0_s = 7200;
    for (int i = 0; i <= 72000; ++i) {
        history.add(0.1 * i, 1e8);
    }
    history.add(t0_s + 1e-6, 0.0);  // unloaded at once
    CHECK(history.mean_stress_pa() == doctest::Approx(1e8).epsilon(1e-6));
    const auto response = history.response(kTaus);
    for (std::size_t k = 0; k < kTaus.size(); ++k) {
        CAPTURE(kTaus[k]);
        CHECK(response[k] == doctest::Approx(-std::expm1(-t0_s / kTaus[k])).epsilon(0.01));
    }
}

TEST_CASE(
    "loading history: a linear unloading ramp gives its exact kernel tau/D (1 - exp(-D/tau))") {
    // 8 h at 100 MPa, then down to 0 at 12.5 MPa/min (D = 480 s), sampled at 10 Hz.
    LoadingHistory history;
    const double hold_s = 28800, ramp_s = 480;
    const int hold_steps = static_cast<int>(hold_s * 10);
    const int ramp_steps = static_cast<int>(ramp_s * 10);
    for (int i = 0; i <= hold_steps; ++i) {
        history.add(0.1 * i, 1e8);
    }
    for (int i = 1; i <= ramp_steps; ++i) {
        history.add(hold_s + 0.1 * i, 1e8 * (1 - static_cast<double>(i) / ramp_steps));
    }
    const double reference = history.mean_stress_pa();
    CHECK(reference == doctest::Approx(1e8 * (hold_s + ramp_s / 2) / (hold_s + ramp_s)));
    const auto response = history.response(kTaus);
    for (std::size_t k = 0; k < kTaus.size(); ++k) {
        const double tau = kTaus[k];
        CAPTURE(tau);
        // The ramp's exact kernel for a mode at equilibrium: τ/D (1 − e^(−D/τ)).
        if (tau < 1000) {
            CHECK(response[k] ==
                  doctest::Approx(tau / ramp_s * -std::expm1(-ramp_s / tau) * 1e8 / reference)
                      .epsilon(0.01));
        }
        CHECK(response[k] > 0);
        CHECK(response[k] <= 1.0);
    }
}

TEST_CASE("loading history: eq. (2) strains are had from a_i / h, not from an emptied mode") {
    CHECK(strain_from_unload(2e-5, 0.05) == doctest::Approx(4e-4));
    // A mode the loading left all but empty: its a_i stands in, not blown up.
    CHECK(strain_from_unload(3e-6, 1e-4) == 3e-6);
}
