#pragma once
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "dmacycle/sim/dmta.hpp"
#include "dmacycle/sim/sample.hpp"

// The simulated instrument's profile (config/instruments/*.yaml). Every field has the
// domain.md default, so a profile only lists what it changes.
namespace dmacycle::sim {

struct Identity {
    std::string maker = "dmacycle";
    std::string model = "SIM-DMA";
    std::string serial = "SIM0001";
    std::string firmware = "0.1.0";
};

struct Geometry {
    double width_m = 1.2e-3;
    double thickness_m = 30e-6;
    double gauge_length_m = 10e-3;
    double area_m2() const { return width_m * thickness_m; }
};

struct FrameLimits {
    double force_max_n = 18.0;
    double stream_rate_max_hz = 1000.0;
    double frequency_min_hz = 0.1;  // DMTA
    double frequency_max_hz = 200.0;
    // DMTA displacement amplitude: TA Q800's lower end up to 0.5 % strain on a 10 mm ribbon,
    // the linear (anelastic) range where the modulus does not depend on it.
    double amplitude_min_m = 0.5e-6;
    double amplitude_max_m = 50e-6;
};

struct Noise {
    std::uint64_t seed = 1;
    double force_n = 1e-4;
    double displacement_quantum_m = 1e-9;
    double displacement_m = 3e-9;
    double temperature_k = 0.1;
    double strain_drift_per_hour = 0;
    double dmta_relative = 0.005;  // on E′ and E″ each, so β peaks need a local fit
};

struct FurnaceParams {
    double ambient_k = 298.15;
    double initial_k = 365.0;            // furnace, sample and setpoint start here, settled
    double time_constant_s = 300.0;      // first-order plant
    double heating_k_per_percent = 6.0;  // steady-state rise above ambient per % output
    double sample_lag_s = 60.0;          // sample follows the furnace with this lag
    double proportional_band_k = 10.0;   // Eurotherm-style PID: gain = 100 %/band
    double integral_time_s = 240.0;
    double derivative_time_s = 0.0;
    double control_period_s = 0.1;
    int modbus_unit_id = 1;
    bool kelvin_display = false;  // false: integers and floats in °C (factory default)
};

struct SampleSpectrum {
    std::vector<LogNormalPeak> peaks{{1.4, 0.25, 0.20}, {2.85, 0.25, 0.35}, {4.2, 0.25, 0.45}};
    double total_compliance_per_pa = 2.2e-11;
    double log10_tau_min_s = 0.0;
    double log10_tau_max_s = 6.0;
    int per_decade = 10;
    double viscoplastic_rate_per_s = 5e-8;  // at viscoplastic_reference_stress_pa and T_ref
    double viscoplastic_reference_stress_pa = 100e6;
};

struct Profile {
    std::string source = "<defaults>";
    std::string driver = "sim";  // the instrument's: only `sim` can be simulated
    Identity identity;
    FrameLimits frame;
    Geometry geometry;
    SampleSpectrum spectrum;
    SampleParams sample;  // derived: elements and viscoplastic prefactor filled in
    DmtaParams dmta;
    Noise noise;
    FurnaceParams furnace;
    double max_step_s = 0.1;  // physics sub-step (stress activation is explicit in τ*)
};

struct ProfileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The built-in defaults (domain.md §4), elements and prefactor derived.
Profile default_profile();
// What a profile is read for: to simulate it (its driver must be sim), or for the limits a job is
// checked against (any driver: a real instrument's profile has the same frame and furnace
// sections, and its simulation sections are not used).
enum class ProfileUse { simulate, limits };

// The one reader of instrument profiles (docs/job-files.md, "Instrument profile"): throws
// ProfileError "file:line: field: problem" for unreadable or invalid input.
Profile load_profile(const std::filesystem::path& path, ProfileUse use = ProfileUse::simulate);
Profile parse_profile(const std::string& yaml_text, const std::string& source_name,
                      ProfileUse use = ProfileUse::simulate);

}  // namespace dmacycle::sim
