#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dmacycle/analysis/single_tau.hpp"
#include "dmacycle/analysis/synthetic.hpp"

using namespace dmacycle::analysis;

namespace {

constexpr double kT0_s = 28800;
constexpr double kStrain1 = 2.5e-3;
constexpr double kRatePerS = 5e-8;
constexpr double kNoise = 1e-6;

double relative_error(double value, double truth) {
    return std::abs(value / truth - 1);
}

}  // namespace

TEST_CASE("single-tau recovery fit recovers known tau and amplitudes") {
    for (const double tau_s : {1500.0, 8000.0}) {
        CAPTURE(tau_s);
        std::vector<double> time_s;
        for (int i = 1; i <= 28800; ++i) {
            time_s.push_back(kT0_s + i);
        }
        const std::array<synthetic::Line, 1> line{{{tau_s, kStrain1}}};
        auto strain = synthetic::recovery_curve(line, kRatePerS, kT0_s, time_s);
        synthetic::add_noise(strain, kNoise, 3);

        const auto fit = fit_recovery_single_tau(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        CHECK(relative_error(fit.tau_s, tau_s) < 0.01);
        CHECK(relative_error(fit.strain_an, kStrain1) < 0.01);
        CHECK(relative_error(fit.strain_vp, kRatePerS * kT0_s) < 0.01);
        CHECK(relative_error(fit.strain_rate_vp, kRatePerS) < 0.01);
        REQUIRE(fit.tau_s_stderr > 0);
        REQUIRE(fit.strain_an_stderr > 0);
        CHECK(std::abs(fit.tau_s - tau_s) < 4 * fit.tau_s_stderr);
        CHECK(std::abs(fit.strain_an - kStrain1) < 4 * fit.strain_an_stderr);
        CHECK(fit.rms_residual == doctest::Approx(kNoise).epsilon(0.05));
    }
}

TEST_CASE("single-tau creep fit recovers known tau and amplitudes") {
    constexpr double tau_s = 1500, strain_e = 4e-3;
    std::vector<double> time_s;
    for (int i = 0; i <= 28800; ++i) {
        time_s.push_back(i);
    }
    const std::array<synthetic::Line, 1> line{{{tau_s, kStrain1}}};
    auto strain = synthetic::creep_curve(line, strain_e, kRatePerS, time_s);
    synthetic::add_noise(strain, kNoise, 4);

    const auto fit = fit_creep_single_tau(time_s, strain);
    REQUIRE(fit.summary.usable);
    CHECK(relative_error(fit.tau_s, tau_s) < 0.01);
    CHECK(relative_error(fit.strain_an, kStrain1) < 0.01);
    CHECK(relative_error(fit.strain_e, strain_e) < 0.01);
    CHECK(relative_error(fit.strain_rate_vp, kRatePerS) < 0.01);
    CHECK(std::abs(fit.tau_s - tau_s) < 4 * fit.tau_s_stderr);
    CHECK(std::abs(fit.strain_an - kStrain1) < 4 * fit.strain_an_stderr);
}

TEST_CASE("single-tau fits reject bad input without throwing") {
    std::vector<double> time_s, strain;
    for (int i = 1; i <= 100; ++i) {
        time_s.push_back(kT0_s + i);
        strain.push_back(1e-3 * std::exp(-i / 30.0));
    }
    const std::vector<double> short_strain(strain.begin(), strain.begin() + 50);
    const std::vector<double> few_time(time_s.begin(), time_s.begin() + 4);
    const std::vector<double> few_strain(strain.begin(), strain.begin() + 4);
    auto with_inf = strain;
    with_inf[7] = std::numeric_limits<double>::infinity();
    auto backwards_time = time_s;
    std::swap(backwards_time[20], backwards_time[19]);

    struct Case {
        const char* name;
        std::vector<double> time_s, strain;
        double t0_s;
        FitStatus status;
    };
    const std::vector<Case> cases{
        {"mismatched sizes", time_s, short_strain, kT0_s, FitStatus::invalid_input},
        {"too few points", few_time, few_strain, kT0_s, FitStatus::insufficient_data},
        {"non-finite strain", time_s, with_inf, kT0_s, FitStatus::invalid_input},
        {"time before t0", time_s, strain, kT0_s + 2, FitStatus::invalid_input},
        {"time going backwards", backwards_time, strain, kT0_s, FitStatus::invalid_input},
        {"no loading time", time_s, strain, 0.0, FitStatus::invalid_input},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        SingleTauFit fit;
        CHECK_NOTHROW(fit = fit_recovery_single_tau(c.time_s, c.strain, c.t0_s));
        CHECK_FALSE(fit.summary.usable);
        CHECK(fit.summary.status == c.status);
        CHECK_FALSE(fit.summary.message.empty());
    }
    SingleTauFit creep;
    CHECK_NOTHROW(creep = fit_creep_single_tau(few_time, few_strain));
    CHECK(creep.summary.status == FitStatus::insufficient_data);
    CHECK_NOTHROW(creep = fit_creep_single_tau(time_s, with_inf));
    CHECK(creep.summary.status == FitStatus::invalid_input);
}

TEST_CASE("single-tau fit of pure noise reports no relaxation") {
    std::vector<double> time_s;
    for (int i = 1; i <= 3000; ++i) {
        time_s.push_back(kT0_s + i);
    }
    std::vector<double> strain(time_s.size(), 1.4e-3);
    synthetic::add_noise(strain, kNoise, 8);
    SingleTauFit fit;
    CHECK_NOTHROW(fit = fit_recovery_single_tau(time_s, strain, kT0_s));
    CHECK_FALSE(fit.summary.usable);
    CHECK_FALSE(fit.summary.message.empty());
}

TEST_CASE("single-tau: a straight decline reports tau on its bound") {
    // A line is exp(−t'/τ) for τ → ∞: the optimum lies beyond the box.
    std::vector<double> time_s, strain;
    for (int i = 1; i <= 3000; ++i) {
        time_s.push_back(kT0_s + i);
        strain.push_back(2e-3 - 1e-7 * i);
    }
    synthetic::add_noise(strain, kNoise, 9);
    const auto fit = fit_recovery_single_tau(time_s, strain, kT0_s);
    CHECK_FALSE(fit.summary.usable);
    CHECK(fit.summary.status == FitStatus::not_converged);
    CHECK(fit.summary.message.find("bound") != std::string::npos);
    CHECK(fit.tau_s == doctest::Approx(3000 * 1e3));
}

TEST_CASE("single-tau: strains near the double range are fitted in scaled units") {
    std::vector<double> time_s;
    for (int i = 1; i <= 3000; ++i) {
        time_s.push_back(kT0_s + i);
    }
    const std::array<synthetic::Line, 1> line{{{800, kStrain1}}};
    auto strain = synthetic::recovery_curve(line, kRatePerS, kT0_s, time_s);
    synthetic::add_noise(strain, kNoise, 10);
    const auto reference = fit_recovery_single_tau(time_s, strain, kT0_s);
    for (double& v : strain) {
        v *= 1e300;
    }
    const auto fit = fit_recovery_single_tau(time_s, strain, kT0_s);
    REQUIRE(reference.summary.usable);
    REQUIRE(fit.summary.usable);
    CHECK(fit.tau_s == doctest::Approx(reference.tau_s).epsilon(1e-6));
    CHECK(fit.strain_an / 1e300 == doctest::Approx(reference.strain_an).epsilon(1e-6));
    CHECK(std::isfinite(fit.rms_residual));
}
