#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "dmacycle/sim/dmta.hpp"
#include "dmacycle/sim/frame_session.hpp"
#include "dmacycle/sim/instrument.hpp"
#include "dmacycle/sim/profile.hpp"
#include "dmacycle/sim/sample.hpp"

using namespace dmacycle::sim;

TEST_SUITE_BEGIN("drivers");

namespace {

constexpr double mpa = 1e6;

// activation off: also no rejuvenation, i.e. the linear solid of eq. (2).
SampleParams defaults(bool activation, double rejuvenation_j_m3 = -1) {
    auto params = default_profile().sample;
    params.stress_activation = activation;
    if (!activation) {
        params.rejuvenation_energy_j_m3 = 0;
    }
    if (rejuvenation_j_m3 >= 0) {
        params.rejuvenation_energy_j_m3 = rejuvenation_j_m3;
    }
    return params;
}

struct Trace {
    std::vector<double> t_s, stress_pa, strain;
};

// Stress-controlled run as in domain.md §1: from zero, ramp to σ_min at the rate, then a
// triangle σ_min → σ_max → σ_min for the duration (a hold when σ_min = σ_max), sampled every
// dt_s.
Trace run_cycling(Sample& sample, double min_pa, double max_pa, double rate_pa_s, double duration_s,
                  double dt_s) {
    Trace trace;
    const auto record = [&](double t) {
        trace.t_s.push_back(t);
        trace.stress_pa.push_back(sample.stress_pa());
        trace.strain.push_back(sample.strain());
    };
    double t = 0;
    while (sample.stress_pa() < min_pa) {
        const double next = std::min(min_pa, sample.stress_pa() + rate_pa_s * dt_s);
        sample.advance((next - sample.stress_pa()) / rate_pa_s, next);
    }
    const double half_period_s = (max_pa - min_pa) / rate_pa_s;
    record(t);
    const auto steps = static_cast<long>(std::lround(duration_s / dt_s));
    for (long k = 1; k <= steps; ++k) {
        t = static_cast<double>(k) * dt_s;
        double stress = min_pa;
        if (half_period_s > 0) {
            const double phase = std::fmod(t, 2 * half_period_s);
            stress = phase < half_period_s ? min_pa + rate_pa_s * phase
                                           : max_pa - rate_pa_s * (phase - half_period_s);
        }
        sample.advance(dt_s, stress);
        record(t);
    }
    return trace;
}

double shoelace(const std::vector<double>& x, const std::vector<double>& y) {
    double twice = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t j = (i + 1) % x.size();
        twice += x[i] * y[j] - x[j] * y[i];
    }
    return std::abs(twice) / 2;
}

}  // namespace

TEST_CASE("default spectrum: 61 elements from 1 s to 1e6 s summing to J_an") {
    const auto params = defaults(true);
    REQUIRE(params.elements.size() == 61);
    CHECK(params.elements.front().tau_s == doctest::Approx(1.0));
    CHECK(params.elements.back().tau_s == doctest::Approx(1e6));
    double total = 0;
    for (const auto& e : params.elements) {
        total += e.compliance_per_pa;
    }
    CHECK(total == doctest::Approx(2.2e-11));
    const Sample sample(params);
    CHECK(sample.viscoplastic_rate_per_s(100 * mpa) == doctest::Approx(5e-8));
}

TEST_CASE("without stress activation / 1 h of 100 MPa creep matches eq. (2) within 1e-6") {
    Sample sample(defaults(false));
    const double stress = 100 * mpa;
    sample.set_stress(stress);
    const auto closed_form = [&](double t) {
        double strain =
            stress / sample.params().youngs_modulus_pa + sample.viscoplastic_rate_per_s(stress) * t;
        for (const auto& e : sample.params().elements) {
            strain += e.compliance_per_pa * stress * -std::expm1(-t / e.tau_s);
        }
        return strain;
    };
    // Uneven steps: the update is exact for any step, not only for small ones.
    double t = 0;
    double worst = 0;
    for (int k = 0; t < 3600; ++k) {
        const double h = std::min(0.37 + 3.1 * (k % 5), 3600 - t);
        sample.advance(h, stress);
        t += h;
        worst = std::max(worst, std::abs(sample.strain() - closed_form(t)));
    }
    CHECK(t == doctest::Approx(3600));
    CHECK(worst < 1e-6);
    CHECK(worst < 1e-12);                     // in fact exact to rounding
    CHECK(sample.anelastic_strain() > 1e-3);  // and the check is not vacuous
    // Each element on its own, as the true spectrum a fit is compared with.
    const auto strains = sample.element_strains();
    for (std::size_t i = 0; i < strains.size(); ++i) {
        const auto& e = sample.params().elements[i];
        CHECK(strains[i] ==
              doctest::Approx(e.compliance_per_pa * stress * -std::expm1(-3600 / e.tau_s))
                  .epsilon(1e-12));
    }
}

TEST_CASE("a linear ramp matches the exact Kelvin response to a ramp") {
    Sample sample(defaults(false));
    const double rate = 50 * mpa / 60;
    sample.advance(120, rate * 120);  // one step of 2 min
    double expected = rate * 120 / sample.params().youngs_modulus_pa;
    for (const auto& e : sample.params().elements) {
        const double t = 120;
        expected += e.compliance_per_pa * rate * (t - e.tau_s * -std::expm1(-t / e.tau_s));
    }
    const double vp_rate_integral = sample.viscoplastic_strain();
    CHECK(sample.strain() - vp_rate_integral == doctest::Approx(expected).epsilon(1e-12));
    // ∫ A sinh(c σ(t)) dt over the ramp, by fine midpoint sums.
    Sample probe(defaults(false));
    double integral = 0;
    for (int k = 0; k < 12000; ++k) {
        integral += probe.viscoplastic_rate_per_s(rate * (k + 0.5) * 0.01) * 0.01;
    }
    CHECK(vp_rate_integral == doctest::Approx(integral).epsilon(1e-6));
}

TEST_CASE("recovery after unloading decays monotonically and plateaus at the viscoplastic strain") {
    Sample sample(defaults(true));
    run_cycling(sample, 100 * mpa, 100 * mpa, 50 * mpa / 60, 3600, 0.1);
    const double vp = sample.viscoplastic_strain();
    REQUIRE(vp > 1e-4);
    sample.set_stress(0);
    double previous = sample.strain();
    const double at_unload = previous;
    bool monotonic = true;
    double t = 0;
    while (t < 2e7) {
        const double h = std::max(0.1, 0.01 * t);
        sample.advance(h, 0);
        t += h;
        monotonic = monotonic && sample.strain() <= previous;
        previous = sample.strain();
    }
    CHECK(monotonic);
    CHECK(at_unload - vp > 1e-3);               // there was anelastic strain to recover
    CHECK(sample.viscoplastic_strain() == vp);  // no flow at zero stress
    CHECK(sample.strain() == doctest::Approx(vp).epsilon(1e-6));
}

TEST_CASE("temperature shifts τ by the Arrhenius factor and adds thermal strain") {
    Sample sample(defaults(false));
    const auto hot = sample.spectrum_at(375);
    const auto& ref = sample.params().elements;
    const double t_ref = sample.params().reference_temperature_k;
    for (std::size_t i = 0; i < ref.size(); i += 10) {
        const double q_over_kb = t_ref * std::log(ref[i].tau_s / 1e-13);
        CHECK(hot[i].tau_s ==
              doctest::Approx(ref[i].tau_s * std::exp(q_over_kb * (1 / 375.0 - 1 / t_ref))));
        CHECK(hot[i].tau_s < ref[i].tau_s);
    }
    sample.set_temperature(375);
    CHECK(sample.thermal_strain() == doctest::Approx(10 * 1e-5));
    CHECK(sample.strain() == doctest::Approx(1e-4));
}

TEST_CASE("8 h of 0-200 MPa at 50 MPa/min: 60 cycles and a work done of 2-8e-2 kJ/mol") {
    // The instrument's own stress program, as a client would send it, sampled at 4 Hz.
    Instrument instrument(default_profile(), SimClock::max_speed());
    FrameSession session(instrument);
    session.handle("PROG:CYCL 0,200e6,833333.333333,60");
    REQUIRE(session.handle("SYST:ERR?").lines.at(0) == "0,\"No error\"");
    CHECK(instrument.ramp_end_s() == doctest::Approx(8 * 3600).epsilon(1e-9));
    const double area = instrument.geometry().area_m2();
    Trace trace;
    int cycles = 0;
    bool loaded = false;  // hysteresis on the measured stress: noise cannot add cycles
    for (long k = 0; k <= 8 * 3600 * 4; ++k) {
        const auto m = instrument.measure_at(0.25 * static_cast<double>(k));
        const double measured_pa = m.force_n / area;
        if (!loaded && measured_pa > 190 * mpa) {
            loaded = true;
        } else if (loaded && measured_pa < 10 * mpa) {
            loaded = false;
            ++cycles;
        }
        const auto truth = instrument.true_state();
        trace.t_s.push_back(truth.t_s);
        trace.stress_pa.push_back(truth.stress_pa);
        trace.strain.push_back(truth.strain);
    }
    CHECK(cycles == 60);
    CHECK_FALSE(loaded);

    // Cycles: σ_min → σ_max → σ_min, split at the stress minima.
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < trace.t_s.size(); ++i) {
        if (trace.stress_pa[i] < 1e-3 * mpa) {
            starts.push_back(i);
        }
    }
    REQUIRE(starts.size() == 61);
    double loops_j_m3 = 0;
    double last_min = 0, last_max = 0;
    for (std::size_t c = 0; c + 1 < starts.size(); ++c) {
        const std::size_t a = starts[c], b = starts[c + 1];
        const double drift = (trace.strain[b] - trace.strain[a]) / (trace.t_s[b] - trace.t_s[a]);
        std::vector<double> eps, sig;
        for (std::size_t i = a; i < b; ++i) {
            eps.push_back(trace.strain[i] - drift * (trace.t_s[i] - trace.t_s[a]));
            sig.push_back(trace.stress_pa[i]);
        }
        loops_j_m3 += shoelace(eps, sig);
        last_min = *std::min_element(trace.strain.begin() + static_cast<long>(a),
                                     trace.strain.begin() + static_cast<long>(b));
        last_max = *std::max_element(trace.strain.begin() + static_cast<long>(a),
                                     trace.strain.begin() + static_cast<long>(b));
    }
    const double v_total = 100 * mpa * (last_min + last_max) / 2 + loops_j_m3 / 2;
    const double molar_volume_m3_mol = 100.87 / 6.3 * 1e-6;
    const double work_done_kj_mol = v_total * molar_volume_m3_mol / 1000;
    MESSAGE("work done ", work_done_kj_mol, " kJ/mol; loops ", loops_j_m3, " J/m3");
    CHECK(work_done_kj_mol > 2e-2);
    CHECK(work_done_kj_mol < 8e-2);
}

// Stress activation alone only speeds up the approach to J_i σ_mean; rejuvenation is what makes
// the stored anelastic strain grow with amplitude (paper Fig. 1e).
TEST_CASE("larger cycling amplitude leaves more anelastic strain at unloading") {
    const double rate = 50 * mpa / 60;
    std::vector<double> anelastic;
    for (const double amplitude : {0.0, 50 * mpa, 100 * mpa}) {
        Sample sample(defaults(true));
        run_cycling(sample, 100 * mpa - amplitude, 100 * mpa + amplitude, rate, 8 * 3600, 0.25);
        anelastic.push_back(sample.anelastic_strain());
    }
    MESSAGE("anelastic at unloading: ", anelastic[0], " ", anelastic[1], " ", anelastic[2]);
    CHECK(anelastic[1] > 1.05 * anelastic[0]);
    CHECK(anelastic[2] > 1.05 * anelastic[1]);
}

TEST_CASE("DMTA model puts the as-cast 1 Hz β peak of tan δ near 355 K") {
    const auto profile = default_profile();
    double best_t = 0, best = 0;
    for (double t = 300; t <= 400; t += 0.5) {
        const auto m = dynamic_modulus(profile.dmta, profile.dmta.beta_energy_ev,
                                       profile.sample.youngs_modulus_pa, 1.0, t);
        CHECK(m.storage_pa > 0);
        CHECK(m.tan_delta == doctest::Approx(m.loss_pa / m.storage_pa));
        if (m.tan_delta > best) {
            best = m.tan_delta;
            best_t = t;
        }
    }
    MESSAGE("1 Hz tan δ peak at ", best_t, " K");
    CHECK(best_t > 345);
    CHECK(best_t < 365);
}

TEST_CASE("viscoplastic flow speeds up when heated (Arrhenius prefactor)") {
    Sample sample(defaults(false));
    const double at_ref = sample.viscoplastic_rate_per_s(100 * mpa);
    sample.set_temperature(375);
    const double hot = sample.viscoplastic_rate_per_s(100 * mpa);
    // A(T)/A = exp[(Q/k_B)(1/T_ref − 1/T)] with Q = 1.2 eV, times sinh(c_v σ) at the new c_v.
    const double q_over_kb = 1.2 * 1.602176634e-19 / boltzmann_j_k;
    const double c_ref = sample.params().viscoplastic_volume_m3 / (2 * boltzmann_j_k * 365);
    const double c_hot = sample.params().viscoplastic_volume_m3 / (2 * boltzmann_j_k * 375);
    CHECK(hot > 2 * at_ref);
    CHECK(hot / at_ref ==
          doctest::Approx(std::exp(q_over_kb * (1 / 365.0 - 1 / 375.0)) *
                          std::sinh(c_hot * 100 * mpa) / std::sinh(c_ref * 100 * mpa)));
}

TEST_CASE("rejuvenation grows J_i linearly at first and saturates at (1 + m) J_i0") {
    auto params = defaults(true);
    params.rejuvenation_max_growth = 3.0;
    Sample sample(params);
    CHECK(sample.compliance_scale() == 1.0);
    double previous = 1.0;
    bool growing = true;
    for (int cycle = 0; cycle < 200; ++cycle) {  // 0-600 MPa, 10 s per half cycle: fast work
        run_cycling(sample, 0, 600 * mpa, 60 * mpa, 20, 0.05);
        growing = growing && sample.compliance_scale() >= previous;
        previous = sample.compliance_scale();
    }
    MESSAGE("dissipated ", sample.dissipated_j_m3(), " J/m3, J/J0 ", sample.compliance_scale());
    CHECK(growing);
    CHECK(sample.compliance_scale() > 2.0);
    CHECK(sample.compliance_scale() < 4.0);
    const double u = sample.dissipated_j_m3() / params.rejuvenation_energy_j_m3;
    CHECK(sample.compliance_scale() == doctest::Approx(1 + u / (1 + u / 3.0)));
}

TEST_SUITE_END();
