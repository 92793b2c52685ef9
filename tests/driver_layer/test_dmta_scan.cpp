// A DMTA temperature scan through the production drivers (SCPI frame, Modbus furnace) against
// the simulator: the Arrhenius fit of its tan δ peaks gives back the β energy the simulator
// was set to, before and after cycling.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "dmacycle/analysis/arrhenius.hpp"
#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/scpi_frame.hpp"
#include "sim_fixture.hpp"

using namespace dmacycle::drivers;
using std::chrono::milliseconds;
using test_support::SimRig;

namespace {

struct ScanRows {
    std::vector<double> temperature_k, frequency_hz, tan_delta;
};

// Simulated time passes only when asked at max speed: a dwell and *OPC? (docs/frame-protocol.md
// "Clock").
void let_pass(ScpiFrame& frame, double seconds) {
    frame.program()->program_dwell(seconds);
    REQUIRE(frame.query("*OPC?") == "1");
}

// docs/job-files.md "DMTA scans": equilibrate at from_k, ramp the furnace at rate, and measure
// each frequency in turn every interval_s until the sample reaches to_k.
ScanRows scan(ScpiFrame& frame, FurnaceDriver& furnace, double from_k, double to_k,
              double rate_k_per_min, const std::vector<double>& frequencies_hz, double interval_s) {
    furnace.set_rate_limit_k_per_min(0);
    furnace.write_setpoint_k(from_k);
    int waited = 0;
    while (std::abs(frame.measure().temperature_k - from_k) > 0.3 && waited++ < 400) {
        let_pass(frame, 30);
    }
    REQUIRE(std::abs(frame.measure().temperature_k - from_k) <= 1);  // 0.1 K ripple
    let_pass(frame, 300);  // settled: the sample lags the furnace by a minute
    furnace.set_rate_limit_k_per_min(rate_k_per_min);
    furnace.write_setpoint_k(to_k);
    auto* oscillation = frame.oscillation();
    REQUIRE(oscillation != nullptr);
    oscillation->set_oscillation_amplitude(5e-6);
    ScanRows rows;
    const double longest_s = 2 * (to_k - from_k) / rate_k_per_min * 60;
    for (double t_s = 0; t_s < longest_s;) {
        for (const double f : frequencies_hz) {
            oscillation->set_oscillation_frequency(f);
            let_pass(frame, interval_s);
            t_s += interval_s;
            const auto m = oscillation->measure_dynamic();
            rows.temperature_k.push_back(m.temperature_k);
            rows.frequency_hz.push_back(m.frequency_hz);
            rows.tan_delta.push_back(m.tan_delta);
        }
        if (rows.temperature_k.back() >= to_k - 1) {
            break;
        }
    }
    REQUIRE(rows.temperature_k.back() >= to_k - 1);
    return rows;
}

dmacycle::analysis::ArrheniusFit fit(const ScanRows& rows) {
    return dmacycle::analysis::fit_arrhenius(rows.temperature_k, rows.frequency_hz, rows.tan_delta);
}

struct Rig {
    Rig() {
        ScpiFrameOptions options;
        frame = std::make_unique<ScpiFrame>(parse_connection_uri(sim.start_frame_tcp()),
                                            *find_frame_commands("dmacycle-scpi"), options);
        frame->connect(deadline_in(milliseconds(1000)));
        furnace = make_furnace(
            {"modbus-furnace", "eurotherm-2400", sim.start_furnace_tcp(), milliseconds(1000)});
        furnace->connect();
        frame->pretension(0.01);
    }
    SimRig sim;
    std::unique_ptr<ScpiFrame> frame;
    std::unique_ptr<FurnaceDriver> furnace;
};

const std::vector<double> paper_frequencies_hz{1, 2, 4, 8};

}  // namespace

TEST_CASE("frame driver: DMTA amplitude and frequency over the wire - refusals name the command") {
    Rig rig;
    auto* oscillation = rig.frame->oscillation();
    REQUIRE(oscillation != nullptr);
    oscillation->set_oscillation_amplitude(10e-6);
    CHECK(rig.frame->query("DMTA:AMPL?") == "1e-05");
    oscillation->set_oscillation_frequency(8);
    const auto m = oscillation->measure_dynamic();
    CHECK(m.frequency_hz == 8.0);
    CHECK(m.temperature_k == doctest::Approx(365).epsilon(0.002));
    CHECK(m.tan_delta == doctest::Approx(m.loss_pa / m.storage_pa).epsilon(1e-5));
    try {
        oscillation->set_oscillation_amplitude(1e-3);
        FAIL("a 1 mm amplitude was accepted");
    } catch (const DriverError& error) {
        CHECK(error.kind() == ErrorKind::device);
        CHECK(std::string(error.what()).find("'DMTA:AMPLitude 0.001' refused: -222") !=
              std::string::npos);
    }
}

TEST_CASE(
    "DMTA scan 300-450 K at 2 K/min and 1-8 Hz recovers the set beta energy before and "
    "after cycling") {
    Rig rig;
    auto& frame = *rig.frame;
    // Each frequency every 10 s, 0.33 K: enough points for the local peak fits under 0.5 % noise.
    const double interval_s = 2.5;
    frame.command("SIM:DMTA:BETA 0.92");
    const auto as_cast =
        fit(scan(frame, *rig.furnace, 300, 450, 2, paper_frequencies_hz, interval_s));
    REQUIRE(as_cast.summary.usable);
    // Cycling at 365 K sets the after-cycling energy (0.73 eV); the test then sets its own.
    rig.furnace->set_rate_limit_k_per_min(0);
    rig.furnace->write_setpoint_k(365);
    frame.program()->program_cycle(0, 200e6, 833333.333, 3);
    frame.program()->program_ramp(277778, 833333.333);
    REQUIRE(frame.query("*OPC?") == "1");
    CHECK(std::stod(frame.query("SIM:DMTA:BETA?")) == doctest::Approx(0.73).epsilon(0.002));
    frame.command("SIM:DMTA:BETA 0.75");
    const auto cycled =
        fit(scan(frame, *rig.furnace, 300, 450, 2, paper_frequencies_hz, interval_s));
    REQUIRE(cycled.summary.usable);
    MESSAGE("E_beta set 0.92 eV: fitted " << as_cast.e_beta_ev << " ± " << as_cast.e_beta_stderr_ev
                                          << " eV; set 0.75 eV: fitted " << cycled.e_beta_ev
                                          << " ± " << cycled.e_beta_stderr_ev << " eV");
    for (const auto& peak : as_cast.peaks) {
        MESSAGE("as cast: " << peak.frequency_hz << " Hz peak at " << peak.temperature_k << " K");
    }
    for (const auto& peak : cycled.peaks) {
        MESSAGE("cycled: " << peak.frequency_hz << " Hz peak at " << peak.temperature_k << " K");
    }
    CHECK(as_cast.peaks.size() == 4);
    CHECK(cycled.peaks.size() == 4);
    CHECK(std::abs(as_cast.e_beta_ev - 0.92) < 0.03);
    CHECK(std::abs(cycled.e_beta_ev - 0.75) < 0.03);
}
