#include "dmacycle/sim/profile.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace dmacycle::sim {
namespace {

// One YAML mapping being read: remembers which keys were consumed so that a misspelt key is
// an error instead of a silently ignored default.
class Section {
  public:
    Section(const YAML::Node& node, std::string path, const std::string& source)
        : node_(node.IsDefined() && !node.IsNull() ? node : YAML::Node(YAML::NodeType::Undefined)),
          path_(std::move(path)),
          source_(source) {
        if (node_.IsDefined() && !node_.IsMap()) {
            fail(node_, "expected a mapping");
        }
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& what,
                           const std::string& key = {}) const {
        std::ostringstream out;
        out << source_;
        if (at.IsDefined() && at.Mark().line >= 0) {
            out << ':' << at.Mark().line + 1;
        } else if (node_.IsDefined() && node_.Mark().line >= 0) {
            out << ':' << node_.Mark().line + 1;
        }
        out << ": " << field(key) << ": " << what;
        throw ProfileError(out.str());
    }

    std::string field(const std::string& key) const {
        if (key.empty()) {
            return path_.empty() ? "<root>" : path_;
        }
        return path_.empty() ? key : path_ + "." + key;
    }

    YAML::Node get(const std::string& key) {
        used_.insert(key);
        // Through a const reference: a missing key must not be created.
        const YAML::Node& node = node_;
        return node_.IsDefined() ? node[key] : YAML::Node(YAML::NodeType::Undefined);
    }

    Section section(const std::string& key) { return Section(get(key), field(key), source_); }

    // A finite number satisfying ok(); the default when absent.
    void number(const std::string& key, double& value, const std::function<bool(double)>& ok,
                const char* requirement) {
        const YAML::Node n = get(key);
        if (!n) {
            return;
        }
        double parsed = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, parsed) || !std::isfinite(parsed)) {
            fail(n, "expected a number, got '" + (n.IsScalar() ? n.Scalar() : "<non-scalar>") + "'",
                 key);
        }
        if (!ok(parsed)) {
            fail(n, std::string("must be ") + requirement, key);
        }
        value = parsed;
    }
    void positive(const std::string& key, double& value) {
        number(
            key, value, [](double v) { return v > 0; }, "> 0");
    }
    void non_negative(const std::string& key, double& value) {
        number(
            key, value, [](double v) { return v >= 0; }, ">= 0");
    }
    void any(const std::string& key, double& value) {
        number(
            key, value, [](double) { return true; }, "finite");
    }
    void integer(const std::string& key, int& value, int lo, int hi) {
        double v = value;
        number(
            key, v, [&](double x) { return x == std::floor(x) && x >= lo && x <= hi; },
            ("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]").c_str());
        value = static_cast<int>(v);
    }
    void boolean(const std::string& key, bool& value) {
        const YAML::Node n = get(key);
        if (n && (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))) {
            fail(n, "expected true or false", key);
        }
    }
    void text(const std::string& key, std::string& value) {
        const YAML::Node n = get(key);
        if (n && !n.IsScalar()) {
            fail(n, "expected a string", key);
        }
        if (n) {
            value = n.Scalar();
        }
    }

    // Call after reading every key of this mapping.
    void finish() const {
        if (!node_.IsDefined()) {
            return;
        }
        for (const auto& entry : node_) {
            const auto key = entry.first.as<std::string>();
            if (!used_.contains(key)) {
                fail(entry.first, "unknown field", key);
            }
        }
    }

    const YAML::Node& node() const { return node_; }

  private:
    YAML::Node node_;
    std::string path_;
    const std::string& source_;
    std::set<std::string> used_;
};

void derive(Profile& p) {
    p.sample.elements = log_normal_elements(p.spectrum.peaks, p.spectrum.total_compliance_per_pa,
                                            p.spectrum.log10_tau_min_s, p.spectrum.log10_tau_max_s,
                                            p.spectrum.per_decade);
    p.sample.viscoplastic_prefactor_per_s = viscoplastic_prefactor(
        p.spectrum.viscoplastic_rate_per_s, p.spectrum.viscoplastic_reference_stress_pa,
        p.sample.viscoplastic_volume_m3, p.sample.reference_temperature_k);
}

void read_peaks(Section& anelastic, std::vector<LogNormalPeak>& peaks, const std::string& source) {
    const YAML::Node list = anelastic.get("peaks");
    if (!list) {
        return;
    }
    if (!list.IsSequence() || list.size() == 0) {
        anelastic.fail(list, "expected a non-empty list", "peaks");
    }
    peaks.clear();
    for (std::size_t i = 0; i < list.size(); ++i) {
        Section peak(list[i], anelastic.field("peaks") + "[" + std::to_string(i) + "]", source);
        LogNormalPeak parsed{2.0, 0.25, 1.0};
        peak.any("log10_tau_s", parsed.log10_tau_center);
        peak.positive("width_decades", parsed.width_decades);
        peak.positive("weight", parsed.weight);
        peak.finish();
        peaks.push_back(parsed);
    }
}

void read_identity(Section& top, Identity& identity) {
    Section id = top.section("identity");
    id.text("maker", identity.maker);
    id.text("model", identity.model);
    id.text("serial", identity.serial);
    id.text("firmware", identity.firmware);
    id.finish();
}

void read_frame(Section& top, FrameLimits& limits) {
    Section frame = top.section("frame");
    frame.positive("force_max_n", limits.force_max_n);
    frame.positive("stream_rate_max_hz", limits.stream_rate_max_hz);
    frame.positive("frequency_min_hz", limits.frequency_min_hz);
    frame.positive("frequency_max_hz", limits.frequency_max_hz);
    frame.positive("amplitude_min_m", limits.amplitude_min_m);
    frame.positive("amplitude_max_m", limits.amplitude_max_m);
    frame.finish();
    if (limits.frequency_min_hz > limits.frequency_max_hz) {
        frame.fail(frame.node()["frequency_min_hz"], "must not exceed frequency_max_hz",
                   "frequency_min_hz");
    }
    if (limits.amplitude_min_m > limits.amplitude_max_m) {
        frame.fail(frame.node()["amplitude_min_m"], "must not exceed amplitude_max_m",
                   "amplitude_min_m");
    }
}

void read_geometry(Section& top, Geometry& geometry) {
    Section section = top.section("geometry");
    section.positive("width_m", geometry.width_m);
    section.positive("thickness_m", geometry.thickness_m);
    section.positive("gauge_length_m", geometry.gauge_length_m);
    section.finish();
}

void read_anelastic(Section& sample, Profile& p, const std::string& source) {
    Section anelastic = sample.section("anelastic");
    anelastic.non_negative("total_compliance_per_pa", p.spectrum.total_compliance_per_pa);
    anelastic.any("log10_tau_min_s", p.spectrum.log10_tau_min_s);
    anelastic.any("log10_tau_max_s", p.spectrum.log10_tau_max_s);
    anelastic.integer("per_decade", p.spectrum.per_decade, 1, 100);
    read_peaks(anelastic, p.spectrum.peaks, source);
    anelastic.boolean("stress_activation", p.sample.stress_activation);
    anelastic.positive("activation_volume_m3", p.sample.activation_volume_m3);
    anelastic.non_negative("rejuvenation_energy_j_m3", p.sample.rejuvenation_energy_j_m3);
    anelastic.positive("rejuvenation_max_growth", p.sample.rejuvenation_max_growth);
    anelastic.finish();
    if (!(p.spectrum.log10_tau_max_s > p.spectrum.log10_tau_min_s)) {
        anelastic.fail(anelastic.node()["log10_tau_max_s"], "must exceed log10_tau_min_s",
                       "log10_tau_max_s");
    }
}

void read_sample(Section& top, Profile& p, const std::string& source) {
    Section sample = top.section("sample");
    sample.positive("youngs_modulus_pa", p.sample.youngs_modulus_pa);
    sample.positive("reference_temperature_k", p.sample.reference_temperature_k);
    sample.any("thermal_expansion_per_k", p.sample.thermal_expansion_per_k);
    sample.positive("attempt_time_s", p.sample.attempt_time_s);
    read_anelastic(sample, p, source);
    Section vp = sample.section("viscoplastic");
    vp.non_negative("rate_per_s", p.spectrum.viscoplastic_rate_per_s);
    vp.positive("reference_stress_pa", p.spectrum.viscoplastic_reference_stress_pa);
    vp.positive("volume_m3", p.sample.viscoplastic_volume_m3);
    vp.non_negative("activation_energy_ev", p.sample.viscoplastic_energy_ev);
    vp.finish();
    sample.finish();
}

void read_dmta(Section& top, DmtaParams& params) {
    Section dmta = top.section("dmta");
    dmta.positive("beta_energy_ev", params.beta_energy_ev);
    dmta.positive("beta_energy_width_ev", params.beta_energy_width_ev);
    dmta.positive("beta_attempt_time_s", params.beta_attempt_time_s);
    dmta.positive("beta_compensation_k", params.beta_compensation_k);
    dmta.positive("beta_energy_after_cycling_ev", params.beta_energy_after_cycling_ev);
    dmta.positive("beta_energy_recovered_ev", params.beta_energy_recovered_ev);
    dmta.positive("beta_recovery_time_s", params.beta_recovery_time_s);
    dmta.positive("beta_loaded_stress_pa", params.beta_loaded_stress_pa);
    dmta.non_negative("beta_strength", params.beta_strength);
    dmta.positive("alpha_tau_at_tg_s", params.alpha_tau_at_tg_s);
    dmta.positive("alpha_energy_ev", params.alpha_energy_ev);
    dmta.positive("glass_transition_k", params.glass_transition_k);
    dmta.non_negative("alpha_strength", params.alpha_strength);
    dmta.number(
        "alpha_exponent", params.alpha_exponent, [](double v) { return v > 0 && v <= 1; },
        "in (0, 1]");
    dmta.finish();
    if (params.beta_strength + params.alpha_strength > 1) {
        dmta.fail(dmta.node(), "beta_strength + alpha_strength must not exceed 1");
    }
}

void read_noise(Section& top, Noise& noise) {
    Section section = top.section("noise");
    double seed = static_cast<double>(noise.seed);
    section.number(
        "seed", seed, [](double v) { return v >= 0 && v == std::floor(v) && v < 9.0e15; },
        "a non-negative integer");
    noise.seed = static_cast<std::uint64_t>(seed);
    section.non_negative("force_n", noise.force_n);
    section.non_negative("displacement_quantum_m", noise.displacement_quantum_m);
    section.non_negative("displacement_m", noise.displacement_m);
    section.non_negative("temperature_k", noise.temperature_k);
    section.any("strain_drift_per_hour", noise.strain_drift_per_hour);
    section.number(
        "dmta_relative", noise.dmta_relative, [](double v) { return v >= 0 && v < 0.5; },
        "in [0, 0.5)");
    section.finish();
}

void read_furnace(Section& top, FurnaceParams& params) {
    Section furnace = top.section("furnace");
    furnace.positive("ambient_k", params.ambient_k);
    furnace.positive("initial_k", params.initial_k);
    furnace.positive("time_constant_s", params.time_constant_s);
    furnace.positive("heating_k_per_percent", params.heating_k_per_percent);
    furnace.positive("sample_lag_s", params.sample_lag_s);
    furnace.positive("proportional_band_k", params.proportional_band_k);
    furnace.non_negative("integral_time_s", params.integral_time_s);
    furnace.non_negative("derivative_time_s", params.derivative_time_s);
    furnace.positive("control_period_s", params.control_period_s);
    furnace.integer("modbus_unit_id", params.modbus_unit_id, 1, 247);
    std::string units = params.kelvin_display ? "kelvin" : "celsius";
    furnace.text("display_units", units);
    if (units != "celsius" && units != "kelvin") {
        furnace.fail(furnace.node()["display_units"], "expected celsius or kelvin",
                     "display_units");
    }
    params.kelvin_display = units == "kelvin";
    furnace.finish();
    if (params.initial_k < params.ambient_k) {
        furnace.fail(furnace.node()["initial_k"], "must not be below ambient_k", "initial_k");
    }
}

// The sections in a fixed order; the first problem throws ProfileError.
Profile parse_root(const YAML::Node& root, const std::string& source, ProfileUse use) {
    Profile p;
    p.source = source;
    Section top(root, "", source);
    // Instrument profiles name their driver; only driver: sim can be simulated.
    top.text("driver", p.driver);
    if (use == ProfileUse::simulate && p.driver != "sim") {
        top.fail(top.node()["driver"], "a simulator profile needs driver: sim", "driver");
    }
    read_identity(top, p.identity);
    read_frame(top, p.frame);
    read_geometry(top, p.geometry);
    read_sample(top, p, source);
    read_dmta(top, p.dmta);
    read_noise(top, p.noise);
    read_furnace(top, p.furnace);
    Section simulation = top.section("simulation");
    simulation.number(
        "max_step_s", p.max_step_s, [](double v) { return v > 0 && v <= 10; }, "in (0, 10]");
    simulation.finish();
    top.finish();
    derive(p);
    return p;
}

}  // namespace

Profile default_profile() {
    Profile p;
    derive(p);
    return p;
}

Profile parse_profile(const std::string& yaml_text, const std::string& source_name,
                      ProfileUse use) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ProfileError(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return parse_root(root, source_name, use);
}

Profile load_profile(const std::filesystem::path& path, ProfileUse use) {
    std::ifstream in(path);
    if (!in) {
        throw ProfileError(path.string() + ": cannot open instrument profile");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), path.string(), use);
}

}  // namespace dmacycle::sim
