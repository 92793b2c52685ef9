#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/log_bins.hpp"
#include "dmacycle/analysis/synthetic.hpp"

using namespace dmacycle::analysis;

namespace {

constexpr double kT0_s = 28800;  // 8 h of loading
constexpr double kStrainAn = 2e-3;
constexpr double kStrainVp = 1.4e-3;
constexpr double kNoise = 1e-6;

struct Curve {
    std::vector<double> time_s, strain;
};

// Eq. (3) sampled at 1 Hz for 8 h from unloading (t' = 0 ... 28 800 s).
Curve kww_recovery(double beta, double tau_s, double noise, std::uint64_t seed) {
    Curve curve;
    for (int i = 0; i <= 28800; ++i) {
        curve.time_s.push_back(kT0_s + i);
        curve.strain.push_back(kStrainAn * std::exp(-std::pow(i / tau_s, beta)) + kStrainVp);
    }
    synthetic::add_noise(curve.strain, noise, seed);
    return curve;
}

double decades_reported(const InstantKww& instant) {
    return instant.time_s.empty() ? 0.0
                                  : std::log10(instant.time_s.back() / instant.time_s.front());
}

// Windows whose β standard error is at most this are the precise ones.
constexpr double kPreciseStderr = 0.005;

// Every reported β within 4 standard errors of the truth; the precise ones within 0.02, and their
// τ within 10 %.
void check_flat(const InstantKww& instant, double beta, double tau_s) {
    REQUIRE(instant.beta.size() == instant.time_s.size());
    REQUIRE(instant.tau_s.size() == instant.time_s.size());
    for (std::size_t i = 0; i < instant.time_s.size(); ++i) {
        CAPTURE(instant.time_s[i]);
        CAPTURE(instant.beta_stderr[i]);
        CHECK(std::abs(instant.beta[i] - beta) < 4 * instant.beta_stderr[i] + 0.005);
        if (instant.beta_stderr[i] <= kPreciseStderr) {
            CHECK(std::abs(instant.beta[i] - beta) < 0.02);
            CHECK(std::abs(instant.tau_s[i] / tau_s - 1) < 0.1);
        }
    }
}

// The span, in decades of t', of the windows with a precise β.
double precise_decades(const InstantKww& instant) {
    double first = 0, last = 0;
    for (std::size_t i = 0; i < instant.time_s.size(); ++i) {
        if (instant.beta_stderr[i] <= kPreciseStderr) {
            first = first == 0 ? instant.time_s[i] : first;
            last = instant.time_s[i];
        }
    }
    return first > 0 ? std::log10(last / first) : 0.0;
}

}  // namespace

TEST_CASE("KWW recovery fit recovers known beta and tau with consistent standard errors") {
    struct Truth {
        double beta, tau_s;
    };
    const std::array<Truth, 3> truths{{{0.45, 2000}, {0.7, 300}, {0.3, 1e4}}};
    std::uint64_t seed = 11;
    for (const auto& truth : truths) {
        CAPTURE(truth.beta);
        CAPTURE(truth.tau_s);
        const auto curve = kww_recovery(truth.beta, truth.tau_s, kNoise, seed++);
        const auto fit = fit_recovery_kww(curve.time_s, curve.strain, kT0_s);
        REQUIRE(fit.summary.usable);
        CAPTURE(fit.beta);
        CAPTURE(fit.tau_s);
        CHECK(std::abs(fit.beta - truth.beta) < 0.02);
        CHECK(std::abs(fit.tau_s / truth.tau_s - 1) < 0.05);
        CHECK(std::abs(fit.strain_an / kStrainAn - 1) < 0.01);
        CHECK(std::abs(fit.strain_vp / kStrainVp - 1) < 0.01);
        CHECK(fit.rms_residual == doctest::Approx(kNoise).epsilon(0.05));

        REQUIRE(fit.beta_stderr > 0);
        REQUIRE(fit.tau_s_stderr > 0);
        REQUIRE(fit.strain_an_stderr > 0);
        REQUIRE(fit.strain_vp_stderr > 0);
        CHECK(std::abs(fit.beta - truth.beta) < 4 * fit.beta_stderr);
        CHECK(std::abs(fit.tau_s - truth.tau_s) < 4 * fit.tau_s_stderr);
        CHECK(std::abs(fit.strain_an - kStrainAn) < 4 * fit.strain_an_stderr);
        CHECK(std::abs(fit.strain_vp - kStrainVp) < 4 * fit.strain_vp_stderr);
    }
}

TEST_CASE("KWW creep fit recovers known parameters") {
    constexpr double beta = 0.5, tau_s = 1500, strain_e = 4e-3, rate_per_s = 5e-8;
    std::vector<double> time_s, strain;
    for (int i = 0; i <= 28800; ++i) {
        time_s.push_back(i);
        strain.push_back(strain_e + kStrainAn * -std::expm1(-std::pow(i / tau_s, beta)) +
                         rate_per_s * i);
    }
    synthetic::add_noise(strain, kNoise, 5);
    const auto fit = fit_creep_kww(time_s, strain);
    REQUIRE(fit.summary.usable);
    CHECK(std::abs(fit.beta - beta) < 0.02);
    CHECK(std::abs(fit.tau_s / tau_s - 1) < 0.05);
    CHECK(std::abs(fit.strain_an / kStrainAn - 1) < 0.02);
    CHECK(std::abs(fit.strain_e / strain_e - 1) < 0.01);
    CHECK(std::abs(fit.strain_rate_vp / rate_per_s - 1) < 0.1);
    CHECK(std::abs(fit.beta - beta) < 4 * fit.beta_stderr);
    CHECK(std::abs(fit.tau_s - tau_s) < 4 * fit.tau_s_stderr);
    CHECK(std::abs(fit.strain_rate_vp - rate_per_s) < 4 * fit.strain_rate_vp_stderr);
    CHECK(fit.rms_residual == doctest::Approx(kNoise).epsilon(0.05));
}

TEST_CASE("instant KWW beta is constant on a pure KWW curve") {
    struct Truth {
        double beta, tau_s;
    };
    const std::array<Truth, 2> truths{{{0.45, 2000}, {0.7, 300}}};
    for (const auto& truth : truths) {
        CAPTURE(truth.beta);
        const auto curve = kww_recovery(truth.beta, truth.tau_s, kNoise, 21);
        const auto fit = fit_recovery_kww(curve.time_s, curve.strain, kT0_s);
        REQUIRE(fit.summary.usable);
        const auto instant = instant_kww(curve.time_s, curve.strain, kT0_s, fit);
        REQUIRE(instant.summary.usable);
        CHECK(instant.noise == doctest::Approx(kNoise).epsilon(0.1));
        CHECK(decades_reported(instant) >= 2.0);
        REQUIRE(instant.beta.size() == instant.time_s.size());
        REQUIRE(instant.tau_s.size() == instant.time_s.size());
        check_flat(instant, truth.beta, truth.tau_s);
    }
}

TEST_CASE("instant KWW beta of a pure KWW curve at 10 Hz is flat within 0.02 over three decades") {
    // The product's rate and the simulated instrument's noise, 8 h from unloading.
    LogTimeBinner binner;
    std::vector<double> strain;
    for (int i = 0; i <= 288000; ++i) {
        strain.push_back(kStrainAn * std::exp(-std::pow(0.1 * i / 3000, 0.5)) + kStrainVp);
    }
    synthetic::add_noise(strain, 3e-7, 5);
    for (int i = 0; i <= 288000; ++i) {
        binner.add(0.1 * i, strain[static_cast<std::size_t>(i)]);
    }
    const BinnedCurve curve = binner.curve();
    const auto fit = fit_recovery_kww(curve);
    REQUIRE(fit.summary.usable);
    const auto instant = instant_kww(curve, fit);
    REQUIRE(instant.summary.usable);
    CHECK(instant.summary.message.find("measured at unloading") != std::string::npos);
    MESSAGE("instant beta over ", decades_reported(instant), " decades from ",
            instant.time_s.front(), " s");
    CHECK(precise_decades(instant) >= 3.0);
    check_flat(instant, 0.5, 3000);
}

TEST_CASE("instant KWW reports less, or nothing, when noise swamps the signal") {
    const auto quiet = kww_recovery(0.45, 2000, kNoise, 31);
    const auto quiet_fit = fit_recovery_kww(quiet.time_s, quiet.strain, kT0_s);
    const double quiet_decades =
        decades_reported(instant_kww(quiet.time_s, quiet.strain, kT0_s, quiet_fit));
    REQUIRE(quiet_decades >= 1.0);

    const auto noisy = kww_recovery(0.45, 2000, 3e-4, 31);
    const auto noisy_fit = fit_recovery_kww(noisy.time_s, noisy.strain, kT0_s);
    const auto noisy_instant = instant_kww(noisy.time_s, noisy.strain, kT0_s, noisy_fit);
    CHECK(noisy_instant.time_s.size() == noisy_instant.beta.size());
    if (noisy_instant.summary.usable) {
        CHECK(decades_reported(noisy_instant) < 0.5 * quiet_decades);
    } else {
        CHECK(noisy_instant.time_s.empty());
        CHECK_FALSE(noisy_instant.summary.message.empty());
    }
}

TEST_CASE("KWW fits reject bad input without throwing") {
    const auto good = kww_recovery(0.45, 2000, kNoise, 41);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> short_time(good.time_s.begin(), good.time_s.begin() + 5);
    const std::vector<double> short_strain(good.strain.begin(), good.strain.begin() + 5);
    auto with_nan = good.strain;
    with_nan[100] = nan;
    auto backwards = good.time_s;
    std::swap(backwards[10], backwards[11]);

    struct Case {
        const char* name;
        std::vector<double> time_s, strain;
        double t0_s;
        FitStatus status;
    };
    const std::vector<Case> cases{
        {"mismatched sizes", good.time_s, short_strain, kT0_s, FitStatus::invalid_input},
        {"too few points", short_time, short_strain, kT0_s, FitStatus::insufficient_data},
        {"non-finite strain", good.time_s, with_nan, kT0_s, FitStatus::invalid_input},
        {"time not after t0", good.time_s, good.strain, kT0_s + 10, FitStatus::invalid_input},
        {"non-finite t0", good.time_s, good.strain, nan, FitStatus::invalid_input},
        {"time not increasing", backwards, good.strain, kT0_s, FitStatus::invalid_input},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        KwwFit fit;
        CHECK_NOTHROW(fit = fit_recovery_kww(c.time_s, c.strain, c.t0_s));
        CHECK_FALSE(fit.summary.usable);
        CHECK(fit.summary.status == c.status);
        CHECK_FALSE(fit.summary.message.empty());
        InstantKww instant;
        CHECK_NOTHROW(instant = instant_kww(c.time_s, c.strain, c.t0_s, fit));
        CHECK_FALSE(instant.summary.usable);
        CHECK(instant.time_s.empty());
    }

    KwwFit creep;
    CHECK_NOTHROW(creep = fit_creep_kww(good.time_s, short_strain));
    CHECK_FALSE(creep.summary.usable);
    std::vector<double> negative_time = good.time_s;
    negative_time.front() = -1;
    CHECK_NOTHROW(creep = fit_creep_kww(negative_time, good.strain));
    CHECK(creep.summary.status == FitStatus::invalid_input);

    // A flat line, exact or noisy, has no relaxation to fit.
    std::vector<double> flat(good.time_s.size(), kStrainVp);
    KwwFit flat_fit;
    CHECK_NOTHROW(flat_fit = fit_recovery_kww(good.time_s, flat, kT0_s));
    CHECK_FALSE(flat_fit.summary.usable);
    synthetic::add_noise(flat, kNoise, 43);
    CHECK_NOTHROW(flat_fit = fit_recovery_kww(good.time_s, flat, kT0_s));
    CHECK_FALSE(flat_fit.summary.usable);
}

TEST_CASE("KWW: an optimum beyond the tau bound is reported as the bound") {
    // Three well-separated modes: the best stretched exponential runs to τ → ∞ (β ≈ 0.13), and
    // the fit stops on the bound instead of creeping along it to an iteration cap.
    std::vector<double> time_s;
    for (int i = 1; i <= 28800; ++i) {
        time_s.push_back(kT0_s + i);
    }
    const std::vector<synthetic::Line> lines{{30, 3e-4}, {800, 3e-4}, {2e4, 6.3e-4}};
    auto strain = synthetic::recovery_curve(lines, 6e-9, kT0_s, time_s);
    synthetic::add_noise(strain, kNoise, 51);
    const auto fit = fit_recovery_kww(time_s, strain, kT0_s);
    CHECK_FALSE(fit.summary.usable);
    CHECK(fit.summary.status == FitStatus::not_converged);
    CHECK(fit.summary.message.find("bound") != std::string::npos);
    // Three decades beyond the last time since unloading.
    CHECK(fit.tau_s == doctest::Approx(28800 * 1e3));
    CHECK(std::isfinite(fit.rms_residual));
}

TEST_CASE("KWW: strains near the double range are fitted in scaled units") {
    const auto curve = kww_recovery(0.45, 2000, kNoise, 52);
    const auto reference = fit_recovery_kww(curve.time_s, curve.strain, kT0_s);
    auto huge = curve.strain;
    for (double& v : huge) {
        v *= 1e300;
    }
    const auto fit = fit_recovery_kww(curve.time_s, huge, kT0_s);
    REQUIRE(reference.summary.usable);
    REQUIRE(fit.summary.usable);
    CHECK(fit.beta == doctest::Approx(reference.beta).epsilon(1e-6));
    CHECK(fit.tau_s == doctest::Approx(reference.tau_s).epsilon(1e-6));
    CHECK(fit.strain_an / 1e300 == doctest::Approx(reference.strain_an).epsilon(1e-6));
    CHECK(fit.rms_residual / 1e300 == doctest::Approx(reference.rms_residual).epsilon(1e-6));
}
