#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle/analysis/work_done.hpp"

using namespace dmacycle::analysis;

namespace {

// Burgers-type linear viscoelastic solid: spring E, Kelvin elements (τ_i, J_i) and a dashpot η,
// driven by a stress triangle σ_min → σ_max → σ_min. Integrated with the exact update for a
// stress linear over each step (domain.md §4), so the fine record is the model itself.
struct Record {
    std::vector<double> time_s, stress_pa, strain;
};

struct Burgers {
    double modulus_pa = 36e9;
    std::vector<double> tau_s{10.0, 100.0, 1000.0, 1e4};
    std::vector<double> compliance_1_pa{4e-12, 5e-12, 6e-12, 5e-12};
    double viscosity_pa_s = 2e15;  // 5e-8 1/s at 100 MPa
};

struct Triangle {
    double min_mpa = 0, max_mpa = 200, rate_mpa_min = 50;
    double period_s() const { return 2 * (max_mpa - min_mpa) / rate_mpa_min * 60; }
    double at(double t_s) const {
        if (max_mpa == min_mpa) {
            return min_mpa;  // pure creep
        }
        const double phase = t_s / period_s() - std::floor(t_s / period_s());
        const double up = phase < 0.5 ? 2 * phase : 2 * (1 - phase);
        return min_mpa + (max_mpa - min_mpa) * up;
    }
};

// A loading ramp at rate_mpa_min into a creep hold.
struct RampHold {
    double hold_mpa = 100, rate_mpa_min = 50;
    double at(double t_s) const { return std::min(hold_mpa, rate_mpa_min / 60 * t_s); }
};

template <class Wave>
Record simulate(const Burgers& model, const Wave& wave, double duration_s, double step_s) {
    Record r;
    std::vector<double> kelvin(model.tau_s.size(), 0.0);
    double viscous = 0.0;
    const auto steps = static_cast<std::size_t>(std::llround(duration_s / step_s));
    double sigma_prev_pa = wave.at(0) * 1e6;
    for (std::size_t n = 0; n <= steps; ++n) {
        const double t = static_cast<double>(n) * step_s;
        const double sigma_pa = wave.at(t) * 1e6;
        if (n > 0) {
            const double rate = (sigma_pa - sigma_prev_pa) / step_s;
            for (std::size_t i = 0; i < kelvin.size(); ++i) {
                const double a = std::exp(-step_s / model.tau_s[i]);
                kelvin[i] = a * kelvin[i] +
                            model.compliance_1_pa[i] *
                                (sigma_pa - a * sigma_prev_pa - rate * model.tau_s[i] * (1 - a));
            }
            viscous += step_s * 0.5 * (sigma_pa + sigma_prev_pa) / model.viscosity_pa_s;
        }
        double strain = sigma_pa / model.modulus_pa + viscous;
        for (const double e : kelvin) {
            strain += e;
        }
        r.time_s.push_back(t);
        r.stress_pa.push_back(sigma_pa);
        r.strain.push_back(strain);
        sigma_prev_pa = sigma_pa;
    }
    return r;
}

// Every stride-th row of [first, last].
Record sample(const Record& fine, std::size_t stride, std::size_t first = 0,
              std::size_t last = std::numeric_limits<std::size_t>::max()) {
    Record r;
    for (std::size_t i = first; i < fine.time_s.size() && i <= last; i += stride) {
        r.time_s.push_back(fine.time_s[i]);
        r.stress_pa.push_back(fine.stress_pa[i]);
        r.strain.push_back(fine.strain[i]);
    }
    return r;
}

// Force noise 1e-4 N on the paper's ribbon (0.003 MPa), strain noise 1e-6 and a few stress
// spikes (electrical glitches).
void add_measurement_noise(Record& r, std::uint64_t seed) {
    synthetic::add_noise(r.stress_pa, 0.003e6, seed);
    synthetic::add_noise(r.strain, 1e-6, seed + 1);
    std::mt19937_64 rng(seed + 2);
    std::uniform_int_distribution<std::size_t> row(0, r.stress_pa.size() - 1);
    for (int k = 0; k < 20; ++k) {
        r.stress_pa[row(rng)] += (k % 2 == 0 ? 30e6 : -30e6);
    }
}

// The exact cycle quantities from the fine model, with the definitions of eqs. (4)-(5).
struct ExactCycle {
    double area_j_m3, area_raw_j_m3, strain_creep;
};

ExactCycle exact_cycle(const Record& fine, std::size_t first, std::size_t last) {
    const double period_s = fine.time_s[last] - fine.time_s[first];
    const double drift = (fine.strain[last] - fine.strain[first]) / period_s;
    double area = 0, area_raw = 0;
    double strain_min = fine.strain[first], strain_max = fine.strain[first];
    for (std::size_t i = first; i <= last; ++i) {
        const std::size_t j = i == last ? first : i + 1;  // closing edge back to the start
        const double d_raw = fine.strain[j] - fine.strain[i];
        const double d = d_raw - drift * (fine.time_s[j] - fine.time_s[i]);
        const double mean_pa = 0.5 * (fine.stress_pa[i] + fine.stress_pa[j]);
        area += mean_pa * d;
        area_raw += mean_pa * d_raw;
        strain_min = std::min(strain_min, fine.strain[i]);
        strain_max = std::max(strain_max, fine.strain[i]);
    }
    return {area, area_raw, 0.5 * (strain_min + strain_max)};
}

double rel_err(double value, double reference) {
    return std::abs(value - reference) / std::abs(reference);
}

constexpr double fine_step_s = 0.02;
constexpr double molar_mass_g_mol = 100.87;
constexpr double density_g_cm3 = 6.3;

}  // namespace

TEST_CASE("cycling: loop areas, v_total and WD of a Burgers model within 3 %") {
    const Triangle wave;  // 0-200 MPa at 50 MPa/min: 480 s period
    const int full_cycles = 10;
    const double duration_s = full_cycles * wave.period_s() + 200;  // plus a partial cycle
    const Record fine = simulate(Burgers{}, wave, duration_s, fine_step_s);
    Record data = sample(fine, 25);  // 2 Hz
    add_measurement_noise(data, 42);

    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    REQUIRE(wd.summary.usable);
    REQUIRE(wd.cycles.size() == full_cycles);

    const auto per_cycle = static_cast<std::size_t>(std::llround(wave.period_s() / fine_step_s));
    double exact_cycling = 0, worst_area = 0, worst_raw = 0;
    ExactCycle last{};
    for (std::size_t k = 0; k < wd.cycles.size(); ++k) {
        last = exact_cycle(fine, k * per_cycle, (k + 1) * per_cycle);
        exact_cycling += last.area_j_m3;
        const CycleRecord& c = wd.cycles[k];
        CHECK(std::abs(c.t_start_s - static_cast<double>(k) * wave.period_s()) <
              0.05);  // the interpolated corner
        CHECK(c.stress_max_pa == doctest::Approx(200e6).epsilon(0.001));
        worst_area = std::max(worst_area, rel_err(c.loop_area_j_m3, last.area_j_m3));
        worst_raw = std::max(worst_raw, rel_err(c.loop_area_raw_j_m3, last.area_raw_j_m3));
        CHECK(c.loop_area_j_m3 > 0);
        CHECK(c.loop_area_raw_j_m3 > c.loop_area_j_m3);  // the creep drift inflates the raw loop
    }
    const double exact_total = 100e6 * last.strain_creep + exact_cycling / 2;
    const double exact_wd = exact_total * molar_mass_g_mol / density_g_cm3 * 1e-6 / 1000;
    MESSAGE("worst loop-area error " << worst_area << ", raw " << worst_raw << ", v_total "
                                     << rel_err(wd.v_total_j_m3, exact_total) << ", WD "
                                     << rel_err(*wd.work_done_kj_mol, exact_wd) << " ("
                                     << *wd.work_done_kj_mol << " kJ/mol)");
    CHECK(worst_area < 0.03);
    CHECK(worst_raw < 0.03);
    CHECK(wd.stress_creep_pa == doctest::Approx(100e6).epsilon(0.001));
    CHECK(rel_err(wd.v_cycling_j_m3, exact_cycling) < 0.03);
    CHECK(rel_err(wd.v_total_j_m3, exact_total) < 0.03);
    REQUIRE(wd.work_done_kj_mol.has_value());
    CHECK(rel_err(*wd.work_done_kj_mol, exact_wd) < 0.03);
    CHECK(wd.v_total_over_time_j_m3.size() == full_cycles);
    CHECK(wd.v_total_over_time_j_m3.back() == doctest::Approx(wd.v_total_j_m3));
    REQUIRE(wd.v_creep_over_time_j_m3.size() == full_cycles);
    REQUIRE(wd.v_cycling_over_time_j_m3.size() == full_cycles);
    CHECK(wd.v_creep_over_time_j_m3.back() == doctest::Approx(wd.v_creep_j_m3));
    CHECK(wd.v_cycling_over_time_j_m3.back() == doctest::Approx(wd.v_cycling_j_m3));
    for (std::size_t k = 0; k < full_cycles; ++k) {
        CHECK(wd.v_total_over_time_j_m3[k] ==
              doctest::Approx(wd.v_creep_over_time_j_m3[k] + wd.v_cycling_over_time_j_m3[k] / 2));
    }
}

namespace {

// Exact loop areas, v_total and WD of the cycles the analysis found, matched to the model's
// periods by their start time; the corners must be found to within `corner_s`.
void check_against_model(const Record& fine, const Triangle& wave, const WorkDone& wd,
                         double corner_s) {
    const auto per_cycle = static_cast<std::size_t>(std::llround(wave.period_s() / fine_step_s));
    double exact_cycling = 0, worst_area = 0;
    ExactCycle last{};
    for (const CycleRecord& c : wd.cycles) {
        const auto k = static_cast<std::size_t>(std::llround(c.t_start_s / wave.period_s()));
        CHECK(std::abs(c.t_start_s - static_cast<double>(k) * wave.period_s()) < corner_s);
        CHECK(std::abs(c.t_end_s - static_cast<double>(k + 1) * wave.period_s()) < corner_s);
        last = exact_cycle(fine, k * per_cycle, (k + 1) * per_cycle);
        exact_cycling += last.area_j_m3;
        worst_area = std::max(worst_area, rel_err(c.loop_area_j_m3, last.area_j_m3));
    }
    REQUIRE(wd.work_done_kj_mol.has_value());
    const double mean_mpa = (wave.min_mpa + wave.max_mpa) / 2;
    const double exact_total = mean_mpa * 1e6 * last.strain_creep + exact_cycling / 2;
    const double exact_wd = exact_total * molar_mass_g_mol / density_g_cm3 * 1e-6 / 1000;
    MESSAGE("worst loop-area error " << worst_area << ", v_total "
                                     << rel_err(wd.v_total_j_m3, exact_total) << ", WD "
                                     << rel_err(*wd.work_done_kj_mol, exact_wd));
    CHECK(worst_area < 0.03);
    CHECK(rel_err(wd.v_cycling_j_m3, exact_cycling) < 0.03);
    CHECK(rel_err(wd.v_total_j_m3, exact_total) < 0.03);
    CHECK(rel_err(*wd.work_done_kj_mol, exact_wd) < 0.03);
}

}  // namespace

TEST_CASE("cycling: sampling off the corners (0.2 Hz and 1 Hz, phase offsets) stays within 3 %") {
    const Triangle wave;
    const Record fine = simulate(Burgers{}, wave, 10 * wave.period_s() + 200, fine_step_s);
    struct Case {
        std::size_t stride, offset_rows;
    };
    // 0.2 Hz sampled 2.5 s (half a sample) and 1 s off the valleys; 1 Hz 0.5 s and 0.3 s off.
    for (const Case sampling : {Case{250, 125}, Case{250, 50}, Case{50, 25}, Case{50, 15}}) {
        CAPTURE(sampling.stride);
        CAPTURE(sampling.offset_rows);
        Record data = sample(fine, sampling.stride, sampling.offset_rows);
        add_measurement_noise(data, 5);
        const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                            {molar_mass_g_mol, density_g_cm3});
        REQUIRE(wd.summary.usable);
        CHECK(wd.cycles.size() == 9);  // the record starts just after the first valley
        check_against_model(fine, wave, wd, 0.05);
        for (const CycleRecord& c : wd.cycles) {
            CHECK(c.stress_min_pa == doctest::Approx(0).epsilon(0.05e6));
            CHECK(c.stress_max_pa == doctest::Approx(200e6).epsilon(0.001));
        }
    }
}

TEST_CASE("cycling: a record ending one sample before a valley drops that partial cycle") {
    const Triangle wave;
    const Record fine = simulate(Burgers{}, wave, 10 * wave.period_s() - 1, fine_step_s);
    Record data = sample(fine, 50);  // 1 Hz: the last row is 1 s (0.83 MPa) short of the valley
    add_measurement_noise(data, 9);
    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    REQUIRE(wd.summary.usable);
    CHECK(wd.cycles.size() == 9);
    check_against_model(fine, wave, wd, 0.05);

    // Purely elastic: every loop has zero area; the drift of a partial last cycle would give it
    // a large negative one.
    std::vector<double> t, s, e;
    for (int i = 0; i < 1000; ++i) {
        t.push_back(i);
        const int phase = i % 100;
        s.push_back(4e6 * (phase <= 50 ? phase : 100 - phase));  // 0-200 MPa
        e.push_back(s.back() * 1e-11);
    }
    const WorkDone elastic = analyze_cycling(t, s, e);
    REQUIRE(elastic.summary.usable);
    CHECK(elastic.cycles.size() == 9);
    for (const CycleRecord& c : elastic.cycles) {
        CHECK(std::abs(c.loop_area_j_m3) < 1e-6);
    }
    CHECK(elastic.v_total_j_m3 == doctest::Approx(100e6 * 1e-3));
}

TEST_CASE("cycling: small-amplitude cycling (0-0.8 MPa) is cycling, not creep") {
    const Triangle wave{0, 0.8, 0.2};  // 480 s period
    const Record fine = simulate(Burgers{}, wave, 10 * wave.period_s() + 100, fine_step_s);
    Record data = sample(fine, 25);
    synthetic::add_noise(data.stress_pa, 0.003e6, 21);
    synthetic::add_noise(data.strain, 1e-9, 22);
    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    REQUIRE(wd.summary.usable);
    CHECK(wd.cycles.size() == 10);
    CHECK(wd.stress_creep_pa == doctest::Approx(0.4e6).epsilon(0.01));
    check_against_model(fine, wave, wd, 1.0);  // the noise is 1 s of stress ramp
}

TEST_CASE("cycling: partial first and last cycles are excluded") {
    const Triangle wave;
    const double duration_s = 10 * wave.period_s() + 300;
    const Record fine = simulate(Burgers{}, wave, duration_s, fine_step_s);
    // Records that start mid-ramp, rising (100 s, 33 MPa) or falling (300 s, 150 MPa), and end
    // mid-ramp falling (last 60 s of the tenth period on cut off: 50 MPa).
    const auto row_at = [&](double t_s) {
        return static_cast<std::size_t>(std::llround(t_s / fine_step_s));
    };
    for (const double start_s : {100.0, 300.0}) {
        CAPTURE(start_s);
        Record data = sample(fine, 50, row_at(start_s), row_at(10 * wave.period_s() - 60));
        add_measurement_noise(data, 7);
        const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain);
        REQUIRE(wd.summary.usable);
        CHECK(wd.cycles.size() == 8);
        CHECK(wd.cycles.front().t_start_s == doctest::Approx(wave.period_s()));
        CHECK(wd.cycles.back().t_end_s == doctest::Approx(9 * wave.period_s()));
        CHECK_FALSE(wd.work_done_kj_mol.has_value());
    }
}

TEST_CASE("cycling: pure creep has no cycles and v_total = sigma * strain at the end") {
    const Triangle hold{100, 100, 50};
    const Record fine = simulate(Burgers{}, hold, 3600, 0.1);
    Record data = sample(fine, 10);
    add_measurement_noise(data, 3);
    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    REQUIRE(wd.summary.usable);
    CHECK(wd.cycles.empty());
    CHECK(wd.v_cycling_j_m3 == 0);
    const double exact_total = 100e6 * fine.strain.back();
    CHECK(rel_err(wd.v_total_j_m3, exact_total) < 0.002);
    CHECK(wd.v_total_over_time_j_m3.size() == 1);
    CHECK(wd.work_done_kj_mol.has_value());
}

TEST_CASE("cycling: creep with its loading ramp is pure creep at the hold stress") {
    const RampHold ramp;  // 0 → 100 MPa at 50 MPa/min, then held for an hour
    const Record fine = simulate(Burgers{}, ramp, 120 + 3600, 0.1);
    Record data = sample(fine, 10);
    add_measurement_noise(data, 13);
    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    REQUIRE(wd.summary.usable);
    CHECK(wd.cycles.empty());
    CHECK(wd.stress_creep_pa == doctest::Approx(100e6).epsilon(1e-4));
    CHECK(rel_err(wd.v_total_j_m3, 100e6 * fine.strain.back()) < 0.002);
    CHECK(wd.v_creep_over_time_j_m3 == std::vector{wd.v_total_j_m3});
    CHECK(wd.v_cycling_over_time_j_m3 == std::vector{0.0});
}

TEST_CASE("cycling: noisy creep (0.5 MPa stress noise) has no cycles") {
    const Triangle hold{100, 100, 50};
    const Record fine = simulate(Burgers{}, hold, 3000, 0.1);
    for (const std::uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        Record data = sample(fine, 10);
        synthetic::add_noise(data.stress_pa, 0.5e6, seed);
        synthetic::add_noise(data.strain, 1e-6, seed + 10);
        const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain);
        REQUIRE(wd.summary.usable);
        CHECK(wd.cycles.empty());
        CHECK(wd.stress_creep_pa == doctest::Approx(100e6).epsilon(3e-4));
        CHECK(rel_err(wd.v_total_j_m3, 100e6 * fine.strain.back()) < 0.002);
    }
}

TEST_CASE("cycling: huge values that overflow the results are refused") {
    std::vector<double> t, s;
    for (int i = 0; i < 1000; ++i) {
        t.push_back(i);
        const int phase = i % 100;
        s.push_back(2e298 * (phase <= 50 ? phase : 100 - phase));
    }
    const WorkDone wd = analyze_cycling(t, s, s, {molar_mass_g_mol, density_g_cm3});
    CHECK_FALSE(wd.summary.usable);
    CHECK(wd.summary.message.find("not finite") != std::string::npos);
}

TEST_CASE("cycling: bad input is refused without throwing") {
    const std::vector<double> t{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    std::vector<double> s(t.size(), 100.0), e(t.size(), 1e-3);
    CHECK_FALSE(analyze_cycling(t, s, std::vector<double>(5, 0.0)).summary.usable);
    CHECK_FALSE(analyze_cycling(std::vector<double>{0, 1, 2}, std::vector<double>{1, 2, 3},
                                std::vector<double>{0, 0, 0})
                    .summary.usable);
    CHECK_FALSE(analyze_cycling({}, {}, {}).summary.usable);
    s[4] = std::nan("");
    const WorkDone nan = analyze_cycling(t, s, e);
    CHECK_FALSE(nan.summary.usable);
    CHECK(nan.summary.message.find("row 4") != std::string::npos);
    s[4] = 100.0;
    std::vector<double> backwards = t;
    backwards[6] = 2;
    CHECK_FALSE(analyze_cycling(backwards, s, e).summary.usable);
    // A single rise and fall that starts and ends mid-ramp (50 → 200 → 40 MPa) holds no
    // complete cycle.
    std::vector<double> ramp_t, ramp_pa;
    for (int i = 0; i <= 310; ++i) {
        ramp_t.push_back(i);
        ramp_pa.push_back(1e6 * (i <= 150 ? 50.0 + i : 200.0 - (i - 150)));
    }
    const WorkDone partial =
        analyze_cycling(ramp_t, ramp_pa, std::vector<double>(ramp_t.size(), 1e-3));
    CHECK_FALSE(partial.summary.usable);
    CHECK(partial.cycles.empty());
}

TEST_CASE("cycling: 8 h at 10 Hz (288,000 rows) is analysed quickly") {
    const Triangle wave;
    const Record fine = simulate(Burgers{}, wave, 8 * 3600 - 0.1, 0.1);
    Record data = fine;
    add_measurement_noise(data, 11);
    REQUIRE(data.time_s.size() == 288000);
    const auto start = std::chrono::steady_clock::now();
    const WorkDone wd = analyze_cycling(data.time_s, data.stress_pa, data.strain,
                                        {molar_mass_g_mol, density_g_cm3});
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("288,000 rows analysed in " << ms << " ms; WD " << *wd.work_done_kj_mol << " kJ/mol");
    REQUIRE(wd.summary.usable);
    // The record ends 0.1 s (0.08 MPa, 27 times the noise) short of the 60th valley: that
    // partial cycle is not counted.
    CHECK(wd.cycles.size() == 59);
}

TEST_CASE("composition: molar mass of La30Ce30Ni10Al20Co10 and friends") {
    const MolarMass lace = molar_mass_from_composition("La30Ce30Ni10Al20Co10");
    REQUIRE(lace.ok);
    CHECK(std::abs(lace.g_mol - 100.87) < 0.01);
    // Any scale, decimals and bare symbols (amount 1).
    CHECK(molar_mass_from_composition("La0.3Ce0.3Ni0.1Al0.2Co0.1").g_mol ==
          doctest::Approx(lace.g_mol));
    const MolarMass cuzr = molar_mass_from_composition("Cu46Zr46.5Al7.5");
    REQUIRE(cuzr.ok);
    CHECK(cuzr.g_mol == doctest::Approx((46 * 63.546 + 46.5 * 91.224 + 7.5 * 26.9815385) / 100));
    CHECK(molar_mass_from_composition("CuZr").g_mol == doctest::Approx((63.546 + 91.224) / 2));
    CHECK(molar_mass_from_composition("Bi").g_mol == doctest::Approx(208.9804));
}

TEST_CASE("composition: malformed formulas are refused with a precise message") {
    const auto error_of = [](const char* formula) {
        const MolarMass m = molar_mass_from_composition(formula);
        CHECK_FALSE(m.ok);
        return m.error;
    };
    CHECK(error_of("La30Xx10").find("'Xx'") != std::string::npos);
    CHECK(error_of("la30Ce70").find("position 0") != std::string::npos);
    CHECK(error_of("La30(Ce)70").find("'('") != std::string::npos);
    CHECK(error_of("La3.0.5Ce1").find("'3.0.5'") != std::string::npos);
    CHECK(error_of("La30Ce-5").find("'-'") != std::string::npos);
    CHECK(error_of("La0Ce0").find("zero") != std::string::npos);
    CHECK(error_of("").find("empty") != std::string::npos);
    CHECK_FALSE(error_of("Cu50Zr50.").empty());
}

TEST_CASE("a record cut at the valleys of a clipped triangle keeps its edge cycles when told so") {
    // 0-200 MPa at 50 MPa/min clipped at the 0.28 MPa pre-tension, as a runner commands it:
    // the interior valleys' interpolated corners lie near 0 MPa, the record's edges at 0.28.
    constexpr double period_s = 480, floor_pa = 0.28e6, modulus_pa = 36e9;
    std::vector<double> time_s, stress_pa, strain;
    for (int i = 0; i <= 10 * 480 * 2; ++i) {
        const double t = 0.5 * i;
        const double phase = std::fmod(t, period_s) / period_s;
        const double triangle = 400e6 * (phase < 0.5 ? phase : 1 - phase);
        const double stress = std::max(triangle, floor_pa);
        time_s.push_back(t);
        stress_pa.push_back(stress);
        strain.push_back(stress / modulus_pa);
    }
    const auto guessed = analyze_cycling(time_s, stress_pa, strain);
    WorkDoneOptions told;
    told.edges_are_valleys = true;
    const auto kept = analyze_cycling(time_s, stress_pa, strain, told);
    REQUIRE(kept.summary.usable);
    CHECK(guessed.cycles.size() < 10);  // unsure edges are dropped without the hint
    CHECK(kept.cycles.size() == 10);
    CHECK(kept.cycles.front().t_start_s == doctest::Approx(0.0).epsilon(1e-9));
    CHECK(kept.cycles.back().t_end_s == doctest::Approx(4800.0));
}
