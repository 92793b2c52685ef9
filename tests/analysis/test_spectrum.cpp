#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "dmacycle/analysis/numerics.hpp"
#include "dmacycle/analysis/spectrum.hpp"
#include "dmacycle/analysis/synthetic.hpp"

using namespace dmacycle::analysis;

namespace {

constexpr double kT0_s = 8 * 3600.0;
constexpr double kNoise = 1e-6;
constexpr double kRateVp = 5e-8;

// 8 h of recovery at 1 Hz after 8 h under load.
std::vector<double> recovery_times() {
    std::vector<double> time_s;
    for (int i = 1; i <= 28800; ++i) {
        time_s.push_back(kT0_s + i);
    }
    return time_s;
}

std::vector<double> creep_times() {
    std::vector<double> time_s;
    for (int i = 1; i <= 28800; ++i) {
        time_s.push_back(i);
    }
    return time_s;
}

std::vector<double> noisy_recovery(std::span<const synthetic::Line> lines, double rate_vp,
                                   std::span<const double> time_s, std::uint64_t seed) {
    auto strain = synthetic::recovery_curve(lines, rate_vp, kT0_s, time_s);
    synthetic::add_noise(strain, kNoise, seed);
    return strain;
}

// Eq. (2) as the fit sees a recovery's bins (log_bins.hpp): the mean of the model at each bin's
// mean time ∓ its time spread.
std::vector<double> bin_model(std::span<const synthetic::Line> lines, double rate_vp,
                              std::span<const double> time_s, std::span<const double> strain) {
    const BinnedCurve curve = bin_recovery(time_s, strain, kT0_s);
    std::vector<double> lower, upper;
    for (std::size_t i = 0; i < curve.size(); ++i) {
        lower.push_back(kT0_s + curve.time_s[i] - curve.time_spread_s[i]);
        upper.push_back(kT0_s + curve.time_s[i] + curve.time_spread_s[i]);
    }
    auto model = synthetic::recovery_curve(lines, rate_vp, kT0_s, lower);
    const auto above = synthetic::recovery_curve(lines, rate_vp, kT0_s, upper);
    for (std::size_t i = 0; i < model.size(); ++i) {
        model[i] = 0.5 * (model[i] + above[i]);
    }
    return model;
}

double decades_between(double tau_a_s, double tau_b_s) {
    return std::abs(std::log10(tau_a_s / tau_b_s));
}

double nearest_peak_decades(const SpectrumFit& fit, double tau_s) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& peak : fit.peaks) {
        best = std::min(best, decades_between(peak.tau_s, tau_s));
    }
    return best;
}

double total_at_unload(const SpectrumFit& fit) {
    double sum = 0;
    for (const double a : fit.strain_at_unload) {
        sum += a;
    }
    return sum;
}

// Every true peak has a fitted one within 0.2 decade; every fitted peak holding more than 5 %
// of the strain lies within 0.3 decade of a true one.
void check_peaks_match(const SpectrumFit& fit, std::span<const double> true_log10_tau) {
    CHECK_FALSE(fit.misfit);
    for (const double log10_tau : true_log10_tau) {
        CAPTURE(log10_tau);
        CHECK(nearest_peak_decades(fit, std::pow(10.0, log10_tau)) < 0.2);
    }
    const double total = total_at_unload(fit);
    for (const auto& peak : fit.peaks) {
        double nearest = std::numeric_limits<double>::infinity();
        for (const double log10_tau : true_log10_tau) {
            nearest = std::min(nearest, std::abs(std::log10(peak.tau_s) - log10_tau));
        }
        CAPTURE(peak.tau_s);
        CHECK_FALSE(peak.at_grid_edge);
        CHECK((nearest < 0.3 || peak.strain_at_unload < 0.05 * total));
    }
}

// Sum of squared differences between neighbouring modes, relative to the squared total.
double roughness(const SpectrumFit& fit) {
    double sum = 0;
    for (std::size_t i = 1; i < fit.strain_at_unload.size(); ++i) {
        const double step = fit.strain_at_unload[i] - fit.strain_at_unload[i - 1];
        sum += step * step;
    }
    const double total = total_at_unload(fit);
    return sum / (total * total);
}

}  // namespace

TEST_CASE("spectrum: recovery from discrete lines finds each line") {
    const auto time_s = recovery_times();
    const std::vector<synthetic::Line> lines{{30, 5e-4}, {1e3, 8e-4}, {2e4, 1e-3}};
    const auto strain = noisy_recovery(lines, kRateVp, time_s, 11);

    const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
    REQUIRE(fit.summary.usable);
    REQUIRE(fit.peaks.size() == 3);
    check_peaks_match(fit, std::array{std::log10(30.0), 3.0, std::log10(2e4)});
    for (std::size_t k = 0; k < lines.size(); ++k) {
        const double at_unload = lines[k].strain * -std::expm1(-kT0_s / lines[k].tau_s);
        CHECK(fit.peaks[k].strain_at_unload == doctest::Approx(at_unload).epsilon(0.1));
    }
    CHECK(fit.rms_residual <= 1.5 * kNoise);
    CHECK(fit.noise_estimate == doctest::Approx(kNoise).epsilon(0.1));
    CHECK(fit.window_s == doctest::Approx(28800));
    // No true mode lies beyond the window, so whatever the fit puts there trades with ε̇_vp·t0.
    CHECK(fit.strain_vp + fit.strain_beyond_window ==
          doctest::Approx(kRateVp * kT0_s).epsilon(0.02));
    CHECK(fit.strain_rate_vp == doctest::Approx(fit.strain_vp / kT0_s));
}

TEST_CASE("spectrum: recovery from log-normal spectra finds each peak") {
    const auto time_s = recovery_times();
    SUBCASE("the domain model's demo truth") {
        const auto truth = synthetic::demo_truth();
        const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 5);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        check_peaks_match(fit, truth.peak_log10_tau);
        CHECK(fit.rms_residual <= 1.5 * kNoise);
    }
    SUBCASE("two broad peaks") {
        const std::array<synthetic::LogNormalPeak, 2> shape{{{1.0, 0.3, 0.5}, {3.5, 0.3, 0.5}}};
        const auto lines = synthetic::log_normal_spectrum(shape, 2e-3);
        const auto strain = noisy_recovery(lines, kRateVp, time_s, 6);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        check_peaks_match(fit, std::array{1.0, 3.5});
        CHECK(fit.rms_residual <= 1.5 * kNoise);
    }
}

TEST_CASE("spectrum: two lines 0.9 decade apart are resolved") {
    const auto time_s = recovery_times();
    const std::vector<synthetic::Line> lines{{100, 1e-3}, {794, 1e-3}};
    const auto strain = noisy_recovery(lines, kRateVp, time_s, 3);

    const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
    REQUIRE(fit.summary.usable);
    REQUIRE(fit.peaks.size() == 2);
    CHECK(decades_between(fit.peaks[0].tau_s, 100) < 0.2);
    CHECK(decades_between(fit.peaks[1].tau_s, 794) < 0.2);
    CHECK(fit.peaks[0].strain == doctest::Approx(1e-3).epsilon(0.05));
    CHECK(fit.peaks[1].strain == doctest::Approx(1e-3).epsilon(0.05));
}

TEST_CASE("spectrum: peak tau is refined between grid nodes") {
    const auto time_s = recovery_times();
    const double log10_step = 10.0 / 59;  // default grid: 60 modes on [1e-2, 1e8] s
    for (const double fraction : {0.4, 0.5}) {
        CAPTURE(fraction);
        const double log10_tau = -2 + 25 * log10_step + fraction * log10_step;
        const std::vector<synthetic::Line> lines{{std::pow(10.0, log10_tau), 1e-3}};
        const auto fit =
            fit_recovery_spectrum(time_s, noisy_recovery(lines, kRateVp, time_s, 1), kT0_s);
        REQUIRE(fit.summary.usable);
        REQUIRE(fit.peaks.size() == 1);
        // The nearest grid node is min(fraction, 1 − fraction) steps away.
        const double grid_error = std::min(fraction, 1 - fraction) * log10_step;
        CHECK(std::abs(std::log10(fit.peaks[0].tau_s) - log10_tau) < 0.6 * grid_error);
    }
}

TEST_CASE("spectrum: no peaks are listed for noise or numerically-zero modes") {
    const auto time_s = recovery_times();
    SUBCASE("pure noise on a constant") {
        for (const std::uint64_t seed : {1, 2, 3}) {
            std::vector<double> strain(time_s.size(), 1.4e-3);
            synthetic::add_noise(strain, kNoise, seed);
            SpectrumOptions barely_regularized;
            barely_regularized.lambda = 1e-10;
            for (const auto& options : {SpectrumOptions{}, barely_regularized}) {
                const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s, options);
                REQUIRE(fit.summary.usable);
                CHECK(fit.peaks.empty());
                CHECK(fit.strain_vp == doctest::Approx(1.4e-3).epsilon(0.01));
            }
        }
    }
    SUBCASE("noise-free demo truth") {
        const auto truth = synthetic::demo_truth();
        const auto strain =
            synthetic::recovery_curve(truth.lines, truth.strain_rate_vp, kT0_s, time_s);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        REQUIRE(fit.peaks.size() == 3);
        check_peaks_match(fit, truth.peak_log10_tau);
    }
}

TEST_CASE("spectrum: creep from known lines") {
    const auto time_s = creep_times();
    const std::vector<synthetic::Line> lines{{50, 6e-4}, {2e3, 1e-3}};
    const double strain_e = 2.8e-3;
    auto strain = synthetic::creep_curve(lines, strain_e, kRateVp, time_s);
    synthetic::add_noise(strain, kNoise, 8);

    const auto fit = fit_creep_spectrum(time_s, strain);
    REQUIRE(fit.summary.usable);
    REQUIRE(fit.peaks.size() == 2);
    check_peaks_match(fit, std::array{std::log10(50.0), std::log10(2e3)});
    CHECK(fit.peaks[0].strain == doctest::Approx(6e-4).epsilon(0.1));
    CHECK(fit.peaks[1].strain == doctest::Approx(1e-3).epsilon(0.1));
    CHECK(fit.strain_e == doctest::Approx(strain_e).epsilon(0.01));
    CHECK(fit.strain_rate_vp == doctest::Approx(kRateVp).epsilon(0.1));
    CHECK(fit.strain_vp == doctest::Approx(fit.strain_rate_vp * time_s.back()));
    CHECK(fit.rms_residual <= 1.5 * kNoise);
}

TEST_CASE("spectrum: reported strains reproduce the fitted curve through eq. (2)") {
    const auto truth = synthetic::demo_truth();
    SUBCASE("recovery") {
        const auto time_s = recovery_times();
        const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 2);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        std::vector<synthetic::Line> reported;
        for (std::size_t i = 0; i < fit.tau_s.size(); ++i) {
            reported.push_back({fit.tau_s[i], fit.strain[i]});
            CHECK(fit.strain_at_unload[i] >= 0);
        }
        const auto model = bin_model(reported, fit.strain_rate_vp, time_s, strain);
        REQUIRE(model.size() == fit.fitted.size());
        double worst = 0;
        for (std::size_t j = 0; j < model.size(); ++j) {
            worst = std::max(worst, std::abs(model[j] - fit.fitted[j]));
        }
        CHECK(worst < 1e-9);
    }
    SUBCASE("recovery, irregular sampling") {
        // Mostly 1 Hz with displaced points, then log-spaced: uniform and irregular stretches.
        std::vector<double> time_s;
        for (int i = 1; i <= 3000; ++i) {
            time_s.push_back(kT0_s + i + (i % 97 == 0 ? 0.3 : 0.0));
        }
        for (int i = 1; i <= 500; ++i) {
            time_s.push_back(kT0_s + 3000 * std::pow(10.0, i / 500.0));
        }
        const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 2);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        REQUIRE(fit.summary.usable);
        std::vector<synthetic::Line> reported;
        for (std::size_t i = 0; i < fit.tau_s.size(); ++i) {
            reported.push_back({fit.tau_s[i], fit.strain[i]});
        }
        const auto model = bin_model(reported, fit.strain_rate_vp, time_s, strain);
        REQUIRE(model.size() == fit.fitted.size());
        double worst = 0;
        for (std::size_t j = 0; j < model.size(); ++j) {
            worst = std::max(worst, std::abs(model[j] - fit.fitted[j]));
        }
        CHECK(worst < 1e-9);
        check_peaks_match(fit, truth.peak_log10_tau);
    }
    SUBCASE("creep") {
        const auto time_s = creep_times();
        auto strain = synthetic::creep_curve(truth.lines, 2.8e-3, kRateVp, time_s);
        synthetic::add_noise(strain, kNoise, 2);
        const auto fit = fit_creep_spectrum(time_s, strain);
        REQUIRE(fit.summary.usable);
        std::vector<synthetic::Line> reported;
        for (std::size_t i = 0; i < fit.tau_s.size(); ++i) {
            reported.push_back({fit.tau_s[i], fit.strain[i]});
            CHECK(fit.strain[i] >= 0);
        }
        const auto model =
            synthetic::creep_curve(reported, fit.strain_e, fit.strain_rate_vp, time_s);
        double worst = 0;
        for (std::size_t j = 0; j < model.size(); ++j) {
            worst = std::max(worst, std::abs(model[j] - fit.fitted[j]));
        }
        CHECK(worst < 1e-9);
    }
}

TEST_CASE("spectrum: a larger fixed lambda fits worse and smoother") {
    const auto time_s = recovery_times();
    const auto truth = synthetic::demo_truth();
    const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 4);
    std::vector<SpectrumFit> fits;
    for (const double lambda : {1e-8, 1e-6, 1e-4}) {
        SpectrumOptions options;
        options.lambda = lambda;
        fits.push_back(fit_recovery_spectrum(time_s, strain, kT0_s, options));
        REQUIRE(fits.back().summary.usable);
        CHECK(fits.back().lambda == lambda);
    }
    for (std::size_t k = 1; k < fits.size(); ++k) {
        CAPTURE(k);
        CHECK(fits[k].rms_residual > fits[k - 1].rms_residual);
        CHECK(roughness(fits[k]) < roughness(fits[k - 1]));
        CHECK(fits[k].peaks.size() <= fits[k - 1].peaks.size());
    }
}

TEST_CASE("spectrum: lambda does not depend on the strain unit") {
    const auto time_s = recovery_times();
    const auto truth = synthetic::demo_truth();
    const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 9);
    auto strain_percent = strain;
    for (double& value : strain_percent) {
        value *= 100;
    }
    SUBCASE("automatic") {
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        const auto fit_percent = fit_recovery_spectrum(time_s, strain_percent, kT0_s);
        REQUIRE(fit.summary.usable);
        REQUIRE(fit_percent.summary.usable);
        CHECK(fit_percent.lambda == doctest::Approx(fit.lambda).epsilon(1e-9));
        REQUIRE(fit_percent.peaks.size() == fit.peaks.size());
        for (std::size_t k = 0; k < fit.peaks.size(); ++k) {
            CHECK(fit_percent.peaks[k].tau_s == doctest::Approx(fit.peaks[k].tau_s).epsilon(1e-6));
            CHECK(fit_percent.peaks[k].strain ==
                  doctest::Approx(100 * fit.peaks[k].strain).epsilon(1e-6));
        }
        CHECK(fit_percent.noise_estimate == doctest::Approx(100 * fit.noise_estimate));
    }
    SUBCASE("fixed") {
        SpectrumOptions options;
        options.lambda = 1e-6;
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s, options);
        const auto fit_percent = fit_recovery_spectrum(time_s, strain_percent, kT0_s, options);
        for (std::size_t i = 0; i < fit.strain_at_unload.size(); ++i) {
            CHECK(fit_percent.strain_at_unload[i] ==
                  doctest::Approx(100 * fit.strain_at_unload[i]).epsilon(1e-6).scale(1e-6));
        }
    }
}

TEST_CASE("spectrum: automatic lambda is stable under a change of noise seed") {
    const auto time_s = recovery_times();
    const auto truth = synthetic::demo_truth();
    const auto reference = fit_recovery_spectrum(
        time_s, noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 1), kT0_s);
    REQUIRE(reference.summary.usable);
    for (const std::uint64_t seed : {2, 3, 4}) {
        CAPTURE(seed);
        const auto fit = fit_recovery_spectrum(
            time_s, noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, seed), kT0_s);
        REQUIRE(fit.summary.usable);
        // The residual is flat in λ near the target: λ wanders, the peaks do not.
        CHECK(std::abs(std::log10(fit.lambda / reference.lambda)) < 0.75);
        REQUIRE(fit.peaks.size() == reference.peaks.size());
        for (std::size_t k = 0; k < fit.peaks.size(); ++k) {
            CHECK(decades_between(fit.peaks[k].tau_s, reference.peaks[k].tau_s) < 0.1);
            CHECK(fit.peaks[k].strain_at_unload ==
                  doctest::Approx(reference.peaks[k].strain_at_unload).epsilon(0.1));
        }
    }
}

TEST_CASE("spectrum: bad input is reported, not thrown") {
    const auto time_s = recovery_times();
    const auto truth = synthetic::demo_truth();
    const auto strain = synthetic::recovery_curve(truth.lines, kRateVp, kT0_s, time_s);
    const std::span<const double> first_five_times(time_s.data(), 5);
    const std::span<const double> first_five_strains(strain.data(), 5);
    const auto check_rejected = [](const SpectrumFit& fit, FitStatus status) {
        CHECK_FALSE(fit.summary.usable);
        CHECK(fit.summary.status == status);
        CHECK_FALSE(fit.summary.message.empty());
    };

    SUBCASE("sizes differ") {
        const std::span<const double> shorter(strain.data(), strain.size() - 1);
        check_rejected(fit_recovery_spectrum(time_s, shorter, kT0_s), FitStatus::invalid_input);
        check_rejected(fit_creep_spectrum(time_s, shorter), FitStatus::invalid_input);
    }
    SUBCASE("too few points") {
        check_rejected(fit_recovery_spectrum(first_five_times, first_five_strains, kT0_s),
                       FitStatus::insufficient_data);
        check_rejected(fit_creep_spectrum(std::span<const double>{}, std::span<const double>{}),
                       FitStatus::insufficient_data);
    }
    SUBCASE("non-finite values") {
        auto broken = strain;
        broken[100] = std::numeric_limits<double>::quiet_NaN();
        check_rejected(fit_recovery_spectrum(time_s, broken, kT0_s), FitStatus::invalid_input);
        auto broken_time = time_s;
        broken_time[7] = std::numeric_limits<double>::infinity();
        check_rejected(fit_recovery_spectrum(broken_time, strain, kT0_s), FitStatus::invalid_input);
        check_rejected(fit_recovery_spectrum(time_s, strain, std::nan("")),
                       FitStatus::invalid_input);
    }
    SUBCASE("times not after t0") {
        check_rejected(fit_recovery_spectrum(time_s, strain, time_s[3]), FitStatus::invalid_input);
        check_rejected(fit_recovery_spectrum(time_s, strain, 0.0), FitStatus::invalid_input);
        auto from_zero = creep_times();
        from_zero[0] = 0;
        check_rejected(fit_creep_spectrum(from_zero, strain), FitStatus::invalid_input);
    }
    SUBCASE("time going backwards") {
        auto shuffled = time_s;
        std::swap(shuffled[10], shuffled[11]);
        check_rejected(fit_recovery_spectrum(shuffled, strain, kT0_s), FitStatus::invalid_input);
        auto backwards = creep_times();
        std::swap(backwards[20], backwards[19]);
        check_rejected(fit_creep_spectrum(backwards, strain), FitStatus::invalid_input);
    }
    SUBCASE("invalid options") {
        SpectrumOptions options;
        CHECK(options.validate().empty());
        options.modes = 1;
        CHECK_FALSE(options.validate().empty());
        check_rejected(fit_recovery_spectrum(time_s, strain, kT0_s, options),
                       FitStatus::invalid_input);
        options.modes = 400;
        CHECK(options.validate().empty());
        // Beyond this the NNLS solves of the λ search take seconds.
        options.modes = 401;
        CHECK_FALSE(options.validate().empty());
        options = {};
        options.tau_min_s = 0;
        CHECK_FALSE(options.validate().empty());
        options = {};
        options.tau_max_s = options.tau_min_s;
        CHECK_FALSE(options.validate().empty());
        options = {};
        options.lambda = -1e-6;
        CHECK_FALSE(options.validate().empty());
        check_rejected(fit_creep_spectrum(creep_times(), strain, options),
                       FitStatus::invalid_input);
        options.lambda = std::numeric_limits<double>::infinity();
        CHECK_FALSE(options.validate().empty());
        options.lambda = 0.0;
        CHECK(options.validate().empty());
    }
}

TEST_CASE("spectrum: degenerate but valid data give an empty spectrum, not a failure") {
    std::vector<double> time_s;
    for (int i = 1; i <= 50; ++i) {
        time_s.push_back(kT0_s + 10.0 * i);
    }
    SUBCASE("all zero") {
        const std::vector<double> strain(time_s.size(), 0.0);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        CHECK(fit.summary.usable);
        CHECK(fit.peaks.empty());
        CHECK(fit.rms_residual == 0);
    }
    SUBCASE("constant") {
        const std::vector<double> strain(time_s.size(), 1.5e-3);
        const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
        CHECK(fit.summary.usable);
        CHECK(fit.peaks.empty());
        CHECK(fit.strain_vp == doctest::Approx(1.5e-3));
    }
}

TEST_CASE("spectrum: a tau range that cannot hold the relaxation is not usable") {
    // 2,000 s of recovery after 100 s of loading: the 300 s mode dominates the whole window.
    std::vector<double> time_s;
    for (int i = 1; i <= 2000; ++i) {
        time_s.push_back(100.0 + i);
    }
    const std::vector<synthetic::Line> lines{{300, 4e-3}};
    auto strain = synthetic::recovery_curve(lines, 1e-6, 100, time_s);
    synthetic::add_noise(strain, kNoise, 21);
    SpectrumOptions options;
    options.tau_max_s = 10;
    for (const std::optional<double> lambda : {std::optional<double>{}, std::optional(1e-8)}) {
        CAPTURE(lambda.has_value());
        options.lambda = lambda;
        const auto fit = fit_recovery_spectrum(time_s, strain, 100, options);
        CHECK(fit.misfit);
        CHECK_FALSE(fit.summary.usable);
        CHECK(fit.summary.status == FitStatus::not_converged);
        CHECK(fit.summary.message.find("cannot fit") != std::string::npos);
        REQUIRE_FALSE(fit.peaks.empty());
        CHECK(fit.peaks.back().at_grid_edge);
        CHECK(fit.peaks.back().tau_s == doctest::Approx(10));
    }
}

TEST_CASE("spectrum: a peak on the end of the tau grid is flagged as a bound") {
    const auto time_s = recovery_times();
    const std::vector<synthetic::Line> lines{{10, 1e-3}, {1e3, 1e-3}};
    const auto strain = noisy_recovery(lines, kRateVp, time_s, 22);
    SpectrumOptions options;
    options.tau_min_s = 10;
    const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s, options);
    REQUIRE(fit.summary.usable);
    CHECK_FALSE(fit.misfit);
    REQUIRE(fit.peaks.size() == 2);
    CHECK(fit.peaks[0].at_grid_edge);
    CHECK(fit.peaks[0].tau_s == doctest::Approx(10));
    CHECK_FALSE(fit.peaks[1].at_grid_edge);
    CHECK(fit.summary.message.find("only a bound") != std::string::npos);
}

TEST_CASE("spectrum: a lambda that smooths the data away is flagged misfit, whoever chose it") {
    const auto time_s = recovery_times();
    const auto truth = synthetic::demo_truth();
    const auto strain = noisy_recovery(truth.lines, truth.strain_rate_vp, time_s, 1);
    const auto automatic = fit_recovery_spectrum(time_s, strain, kT0_s);
    REQUIRE(automatic.summary.usable);
    CHECK_FALSE(automatic.misfit);
    SpectrumOptions options;
    options.lambda = 0.1;
    const auto given = fit_recovery_spectrum(time_s, strain, kT0_s, options);
    CHECK(given.misfit);
    CHECK(given.rms_residual > 3 * automatic.rms_residual);
    CHECK(given.summary.message.find("warning: at this lambda") != std::string::npos);
    options.lambda = 1e6;  // nothing left of the spectrum
    const auto flattened = fit_recovery_spectrum(time_s, strain, kT0_s, options);
    CHECK(flattened.misfit);
    CHECK_FALSE(flattened.summary.usable);
    CHECK(flattened.summary.message.find("lambda smooths the data away") != std::string::npos);
}

TEST_CASE("spectrum: correlated noise is measured as noise, not taken for a misfit") {
    const auto time_s = recovery_times();
    const std::vector<synthetic::Line> lines{{30, 5e-4}, {1e3, 8e-4}, {2e4, 1e-3}};
    auto strain = synthetic::recovery_curve(lines, kRateVp, kT0_s, time_s);
    // AR(1) noise, lag-1 correlation 0.95: the second-difference estimate sees ~5x too little.
    std::vector<double> innovation(strain.size(), 0.0);
    synthetic::add_noise(innovation, 20 * kNoise, 23);
    double correlated = 0;
    for (std::size_t j = 0; j < strain.size(); ++j) {
        correlated = 0.95 * correlated + innovation[j];
        strain[j] += correlated;
    }
    // The bins see its correlation (log_bins.hpp), and the residual it leaves is the noise's.
    const BinnedCurve curve = bin_recovery(time_s, strain, kT0_s);
    CHECK(curve.noise_correlation == doctest::Approx(0.95).epsilon(0.05));
    const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
    CHECK(fit.summary.usable);
    CHECK_FALSE(fit.misfit);
    CHECK(nearest_peak_decades(fit, 1e3) < 0.2);
    CHECK(nearest_peak_decades(fit, 2e4) < 0.3);
}

TEST_CASE("spectrum: huge strains are fitted in scaled units or reported, never inf") {
    std::vector<double> time_s;
    for (int i = 1; i <= 200; ++i) {
        time_s.push_back(100.0 + i);
    }
    SUBCASE("1e300: finite residual") {
        const std::vector<synthetic::Line> lines{{10, 1e300}};
        auto strain = synthetic::recovery_curve(lines, 0, 100, time_s);
        const auto fit = fit_recovery_spectrum(time_s, strain, 100);
        REQUIRE(fit.summary.usable);
        CHECK(std::isfinite(fit.rms_residual));
        CHECK(fit.rms_residual < 1e-2 * 1e300);
    }
    SUBCASE("eq. (2) strains beyond the double range: not usable") {
        // A slow mode after a short loading time holds ε_i ≫ its strain at unloading.
        std::vector<double> strain;
        for (const double t : time_s) {
            strain.push_back(1e306 * (2 - 1e-3 * (t - 100)));
        }
        const auto fit = fit_recovery_spectrum(time_s, strain, 1.0);
        CHECK_FALSE(fit.summary.usable);
        CHECK(fit.summary.message.find("floating-point range") != std::string::npos);
    }
}

namespace {

// Lines on the fit's own τ grid (60 modes on [1e-2, 1e8] s) from two log-normal peaks, so each
// fitted mode has a true value to compare with.
std::vector<synthetic::Line> lines_on_fit_grid() {
    const SpectrumOptions options;
    const auto tau_s = log_space(options.tau_min_s, options.tau_max_s, options.modes);
    std::vector<synthetic::Line> lines;
    for (const double tau : tau_s) {
        const double a = std::log10(tau) - 1.5, b = std::log10(tau) - 3.5;
        lines.push_back(
            {tau, 1e-3 * (std::exp(-a * a / (2 * 0.09)) + std::exp(-b * b / (2 * 0.09)))});
    }
    return lines;
}

SpectrumFit evidence_fit(std::span<const synthetic::Line> lines, double noise, std::uint64_t seed) {
    const auto time_s = recovery_times();
    auto strain = synthetic::recovery_curve(lines, kRateVp, kT0_s, time_s);
    synthetic::add_noise(strain, noise, seed);
    SpectrumOptions options;
    options.lambda_rule = LambdaRule::evidence;
    return fit_recovery_spectrum(time_s, strain, kT0_s, options);
}

}  // namespace

// The band is a Bayesian credible band: it holds the regularization's bias as well as the
// noise's scatter, so it must hold the truth and be at least as wide as the scatter over seeds,
// yet leave each peak's top clear of zero.
TEST_CASE("spectrum: the evidence's lambda grows with the noise and its band holds the truth") {
    const auto lines = lines_on_fit_grid();
    std::vector<double> median_lambda;
    for (const double noise : {1e-6, 1e-5}) {
        CAPTURE(noise);
        std::vector<SpectrumFit> fits;
        std::vector<double> lambdas;
        for (const std::uint64_t seed : {1, 2, 3, 4, 5}) {
            fits.push_back(evidence_fit(lines, noise, seed));
            const SpectrumFit& fit = fits.back();
            REQUIRE(fit.summary.usable);
            CHECK(fit.lambda == fit.lambda_evidence);
            CHECK(fit.lambda_plausible_low <= fit.lambda);
            CHECK(fit.lambda <= fit.lambda_plausible_high);
            CHECK(fit.summary.message.find("by the evidence") != std::string::npos);
            lambdas.push_back(fit.lambda);
        }
        std::sort(lambdas.begin(), lambdas.end());
        median_lambda.push_back(lambdas[2]);
        int held = 0, counted = 0;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const double truth = lines[i].strain;
            if (truth < 1e-4) {
                continue;
            }
            CAPTURE(lines[i].tau_s);
            double mean = 0, half = 0;
            for (const auto& fit : fits) {
                mean += fit.strain[i] / 5;
                half += 0.5 * (fit.strain_high[i] - fit.strain_low[i]) / 5;
                held += fit.strain_low[i] <= truth && truth <= fit.strain_high[i];
                ++counted;
            }
            double variance = 0;
            for (const auto& fit : fits) {
                variance += (fit.strain[i] - mean) * (fit.strain[i] - mean) / 4;
            }
            CHECK(half >= 0.7 * std::sqrt(variance));
            if (truth >= 5e-4) {
                CHECK(half < truth);
            }
        }
        CHECK(held >= 0.85 * counted);
    }
    // λ carries the noise's variance: 10x the noise, about 100x the λ.
    CHECK(median_lambda[1] > 10 * median_lambda[0]);
}

// The peaks' standard errors are the noise's, at the λ used: of the order of how far the
// peaks' strains move between noise seeds (robust scatter: the discrepancy rule's λ and the
// peaks' bounds also move, now and then by much).
TEST_CASE("spectrum: a peak's standard error is of the order of its scatter over noise seeds") {
    const auto lines = lines_on_fit_grid();
    const auto time_s = recovery_times();
    for (const double noise : {1e-6, 1e-5}) {
        CAPTURE(noise);
        std::vector<double> first, second, first_se, second_se;
        for (const std::uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
            auto strain = synthetic::recovery_curve(lines, kRateVp, kT0_s, time_s);
            synthetic::add_noise(strain, noise, seed);
            const auto fit = fit_recovery_spectrum(time_s, strain, kT0_s);
            REQUIRE(fit.summary.usable);
            for (const auto& peak : fit.peaks) {
                if (decades_between(peak.tau_s, std::pow(10.0, 1.5)) < 0.2) {
                    first.push_back(peak.strain);
                    first_se.push_back(peak.strain_stderr);
                } else if (decades_between(peak.tau_s, std::pow(10.0, 3.5)) < 0.2) {
                    second.push_back(peak.strain);
                    second_se.push_back(peak.strain_stderr);
                }
            }
        }
        REQUIRE(first.size() == 8);
        REQUIRE(second.size() == 8);
        const auto median = [](std::vector<double> values) {
            std::sort(values.begin(), values.end());
            return 0.5 * (values[values.size() / 2 - 1] + values[values.size() / 2]);
        };
        const auto robust_scatter = [&](const std::vector<double>& values) {
            const double middle = median(values);
            std::vector<double> deviation;
            for (const double v : values) {
                deviation.push_back(std::abs(v - middle));
            }
            return 1.4826 * median(deviation);
        };
        for (const auto& [values, errors] :
             {std::pair{first, first_se}, std::pair{second, second_se}}) {
            const double ratio = median(errors) / robust_scatter(values);
            MESSAGE("standard error / scatter over seeds: ", ratio);
            CHECK(ratio > 0.25);
            CHECK(ratio < 4.0);
        }
    }
}
