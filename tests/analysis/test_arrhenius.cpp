#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "dmacycle/analysis/arrhenius.hpp"

using namespace dmacycle::analysis;

namespace {

constexpr double k_b_ev_k = 8.617333262e-5;
constexpr double e_beta_input_ev = 0.83;

// domain.md §4: M*/M_u = 1 − Δ_β ∫ g(E)/(1 + iωτ_β(E)) dE − Δ_α/(1 + (iωτ_α)^a), tan δ = M''/M'.
// The Gaussian g is integrated by the trapezoid rule over ±6σ_E (spectrally accurate).
double tan_delta_model(double temperature_k, double frequency_hz) {
    const double omega = 2 * std::numbers::pi * frequency_hz;
    const double sigma_e = 0.07, delta_beta = 0.10;
    const int nodes = 481;
    const double step = 12 * sigma_e / (nodes - 1);
    std::complex<double> beta = 0;
    double norm = 0;
    for (int i = 0; i < nodes; ++i) {
        const double e = e_beta_input_ev - 6 * sigma_e + i * step;
        const double weight = (i == 0 || i == nodes - 1 ? 0.5 : 1.0) *
                              std::exp(-0.5 * std::pow((e - e_beta_input_ev) / sigma_e, 2));
        const double tau_s = 3.8e-13 * std::exp(e / (k_b_ev_k * temperature_k));
        beta += weight / std::complex<double>(1.0, omega * tau_s);
        norm += weight;
    }
    const double tau_alpha_s = 100 * std::exp(3.5 / k_b_ev_k * (1 / temperature_k - 1 / 438.0));
    const std::complex<double> alpha =
        0.9 / (1.0 + std::pow(std::complex<double>(0, omega * tau_alpha_s), 0.55));
    const std::complex<double> modulus = 1.0 - delta_beta * beta / norm - alpha;
    return modulus.imag() / modulus.real();
}

// The model's exact β peak temperature, by golden-section search.
double exact_peak_k(double frequency_hz) {
    double lo = 320, hi = 430;
    for (int i = 0; i < 100; ++i) {
        const double a = lo + 0.382 * (hi - lo), b = lo + 0.618 * (hi - lo);
        if (tan_delta_model(a, frequency_hz) < tan_delta_model(b, frequency_hz)) {
            lo = a;
        } else {
            hi = b;
        }
    }
    return 0.5 * (lo + hi);
}

// Unweighted least-squares slope of ln f against 1/T_p → E_β.
double exact_arrhenius_ev(const std::vector<double>& frequencies_hz) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const auto n = static_cast<double>(frequencies_hz.size());
    for (const double f : frequencies_hz) {
        const double x = 1 / exact_peak_k(f), y = std::log(f);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    return -k_b_ev_k * (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

struct Sweep {
    std::vector<double> temperature_k, frequency_hz, tan_delta;
};

// A multi-frequency DMTA ramp, 300-420 K every 0.5 K, rows interleaved as an instrument writes
// them; noise relative (fraction of the value) and absolute.
Sweep make_sweep(const std::vector<double>& frequencies_hz, double relative_noise,
                 double absolute_noise, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> gauss;
    Sweep s;
    for (int i = 0; i <= 240; ++i) {
        const double t = 300 + 0.5 * i;
        for (const double f : frequencies_hz) {
            s.temperature_k.push_back(t);
            s.frequency_hz.push_back(f * (1 + 1e-7 * gauss(rng)));  // logged, not exact
            s.tan_delta.push_back(tan_delta_model(t, f) * (1 + relative_noise * gauss(rng)) +
                                  absolute_noise * gauss(rng));
        }
    }
    return s;
}

}  // namespace

TEST_CASE("arrhenius: the model's 1 Hz beta peak is near 364 K") {
    CHECK(exact_peak_k(1.0) == doctest::Approx(364).epsilon(0.005));
}

TEST_CASE("arrhenius: E_beta of the Gaussian-distribution tan delta model at 1-8 Hz") {
    const std::vector<double> frequencies{1, 2, 4, 8};
    const double exact_ev = exact_arrhenius_ev(frequencies);
    // Without noise the local fit's own bias shows (mostly from the 8 Hz peak, whose window is
    // cut by the end of the range at 420 K, next to the α tail).
    const Sweep clean = make_sweep(frequencies, 0.0, 0.0, 0);
    const ArrheniusFit noiseless =
        fit_arrhenius(clean.temperature_k, clean.frequency_hz, clean.tan_delta);
    REQUIRE(noiseless.summary.usable);
    MESSAGE("noise-free: E_beta " << noiseless.e_beta_ev << " eV (exact-peak fit " << exact_ev
                                  << ")");
    CHECK(std::abs(noiseless.e_beta_ev - exact_ev) < 0.01);
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        CAPTURE(seed);
        const Sweep s = make_sweep(frequencies, 0.02, 0.0, seed);
        const ArrheniusFit fit = fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta);
        REQUIRE(fit.summary.usable);
        REQUIRE(fit.peaks.size() == 4);
        double worst_peak_k = 0;
        for (const TanDeltaPeak& p : fit.peaks) {
            CHECK(p.summary.usable);
            worst_peak_k =
                std::max(worst_peak_k, std::abs(p.temperature_k - exact_peak_k(p.frequency_hz)));
            CHECK(p.temperature_stderr_k > 0);
        }
        MESSAGE("seed " << seed << ": E_beta " << fit.e_beta_ev << " +- " << fit.e_beta_stderr_ev
                        << " eV (exact-peak fit " << exact_ev << "), worst T_p error "
                        << worst_peak_k << " K");
        CHECK(std::abs(fit.e_beta_ev - exact_ev) < 0.03);
        CHECK(std::abs(fit.e_beta_ev - e_beta_input_ev) < 0.03);
        CHECK(worst_peak_k < 1.5);
        CHECK(fit.e_beta_stderr_ev > 0);
        CHECK(fit.ln_f0_stderr > 0);
        // ln f0 = E_β/(k_B T_p) + ln f at any peak.
        CHECK(
            fit.ln_f0 ==
            doctest::Approx(fit.e_beta_ev / (k_b_ev_k * fit.peaks[0].temperature_k)).epsilon(0.02));
    }
}

TEST_CASE("arrhenius: 0.5-16 Hz with absolute noise 1e-4") {
    const std::vector<double> frequencies{0.5, 1, 2, 4, 8, 16};
    const double exact_ev = exact_arrhenius_ev(frequencies);
    const Sweep s = make_sweep(frequencies, 0.0, 1e-4, 5);
    const ArrheniusFit fit = fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta);
    REQUIRE(fit.summary.usable);
    CHECK(fit.peaks.size() == 6);
    MESSAGE("E_beta " << fit.e_beta_ev << " +- " << fit.e_beta_stderr_ev << " eV (exact-peak fit "
                      << exact_ev << ")");
    CHECK(std::abs(fit.e_beta_ev - exact_ev) < 0.03);
    CHECK(std::abs(fit.e_beta_ev - e_beta_input_ev) < 0.03);
}

TEST_CASE("arrhenius: the local fit locates a noisy 1 Hz peak within 1 K") {
    const Sweep s = make_sweep({1}, 0.02, 0.0, 9);
    const TanDeltaPeak peak = locate_beta_peak(s.temperature_k, s.tan_delta, 1.0);
    REQUIRE(peak.summary.usable);
    std::size_t raw_max = 0;
    for (std::size_t i = 0; i < s.tan_delta.size(); ++i) {
        raw_max = s.tan_delta[i] > s.tan_delta[raw_max] ? i : raw_max;
    }
    const double exact_k = exact_peak_k(1.0);
    MESSAGE("local fit " << peak.temperature_k << " +- " << peak.temperature_stderr_k
                         << " K, raw maximum " << s.temperature_k[raw_max] << " K, exact "
                         << exact_k << " K");
    CHECK(std::abs(peak.temperature_k - exact_k) < 1.0);
    CHECK(std::abs(peak.temperature_k - exact_k) < 3 * peak.temperature_stderr_k + 0.3);
}

TEST_CASE("arrhenius: two frequencies give E_beta with propagated errors and a message") {
    const Sweep s = make_sweep({1, 8}, 0.02, 0.0, 4);
    const ArrheniusFit fit = fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta);
    REQUIRE(fit.summary.usable);
    CHECK(fit.summary.message.find("2 frequencies") != std::string::npos);
    CHECK(std::isfinite(fit.e_beta_stderr_ev));
    CHECK(std::isfinite(fit.ln_f0_stderr));
    CHECK(std::abs(fit.e_beta_ev - e_beta_input_ev) < 0.05);
}

TEST_CASE("arrhenius: bad input is refused without throwing") {
    const Sweep one = make_sweep({1}, 0.02, 0.0, 6);
    const ArrheniusFit single = fit_arrhenius(one.temperature_k, one.frequency_hz, one.tan_delta);
    CHECK_FALSE(single.summary.usable);
    CHECK(single.summary.message.find("found 1") != std::string::npos);

    Sweep s = make_sweep({1, 2, 4}, 0.02, 0.0, 6);
    s.tan_delta[10] = std::nan("");
    const ArrheniusFit nan = fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta);
    CHECK_FALSE(nan.summary.usable);
    CHECK(nan.summary.message.find("row") != std::string::npos);

    s.tan_delta.pop_back();
    CHECK_FALSE(fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta).summary.usable);
    CHECK_FALSE(fit_arrhenius({}, {}, {}).summary.usable);

    s = make_sweep({1, 2, 4}, 0.02, 0.0, 6);
    s.frequency_hz[0] = -1;
    CHECK_FALSE(fit_arrhenius(s.temperature_k, s.frequency_hz, s.tan_delta).summary.usable);

    // A monotonic curve has no β peak.
    std::vector<double> t, y;
    for (int i = 0; i < 50; ++i) {
        t.push_back(300 + i);
        y.push_back(0.001 * i);
    }
    const TanDeltaPeak none = locate_beta_peak(t, y, 1.0);
    CHECK_FALSE(none.summary.usable);
    CHECK_FALSE(none.summary.message.empty());
}
