#include "dmacycle/sim/frame_session.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace dmacycle::sim {

// A row of the command table: header in SCPI notation (upper case = short form), whether it
// is the query form, how many numeric arguments it takes, and its handler.
struct FrameSession::Command {
    std::string_view header;
    bool query;
    std::size_t args;
    FrameReply (FrameSession::*handler)(std::vector<double>);
};

namespace {

constexpr std::size_t error_queue_size = 16;
// Q800 film clamp: gauge length 5-30 mm; width and thickness generous upper bounds.
constexpr double max_width_m = 15e-3;
constexpr double max_thickness_m = 2e-3;
constexpr double min_length_m = 5e-3;
constexpr double max_length_m = 30e-3;
// A stress program of a week of 1 s cycles still fits; beyond that a client is misbehaving.
constexpr std::size_t max_program_segments = 1'000'000;
// The stress program ends at most this far ahead (11.6 days), so that a jump of simulated time
// to its end (*OPC? at max speed) stays a bounded amount of physics.
constexpr double max_program_span_s = 1e6;
// Slower ramps or streams are not experiments, only ways to push time to absurd values.
constexpr double min_stress_rate_pa_s = 1.0;
constexpr double min_stream_rate_hz = 1e-3;
// The link drops at most a day after SIMulate:FAULt:DROP.
constexpr double max_drop_after_s = 86400;
// Replies at most a minute late (SIMulate:FAULt:DELay, SIMulate:FURNace:DELay).
constexpr double max_reply_delay_s = 60;
// SIMulate:DMTA:BETA: metallic glasses' β energies lie well inside this (0.7-1.2 eV); beyond
// it the peaks would leave any scan range.
constexpr double min_beta_energy_ev = 0.3;
constexpr double max_beta_energy_ev = 2.0;
// libmodbus sends exception codes 1-11 only (modbus_reply_exception refuses larger ones).
constexpr double max_furnace_exception = 11;

// A double needs at most 309 integer digits, a sign, a point and the decimals: never cut.
std::string to_text(double value, std::chars_format format, int precision) {
    std::array<char, 512> buffer{};
    const auto result =
        std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format, precision);
    return std::string(buffer.data(), result.ptr);
}

std::string number(double value, int digits = 9) {
    return to_text(value, std::chars_format::general, digits);
}

std::string fixed(double value, int decimals) {
    return to_text(value, std::chars_format::fixed, decimals);
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

// One header node against one pattern node: the short form (its upper-case letters) or the
// long form, case-insensitively.
bool node_matches(std::string_view pattern, std::string_view given) {
    std::string short_form, long_form, upper;
    for (const char c : pattern) {
        if (!std::islower(static_cast<unsigned char>(c))) {
            short_form += c;
        }
        long_form += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const char c : given) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return upper == short_form || upper == long_form;
}

bool header_matches(std::string_view pattern, std::string_view given) {
    if (given.starts_with(':')) {
        given.remove_prefix(1);
    }
    // A leading optional node, "[SOURce:]PROGram:RAMP", may be given or left out.
    if (pattern.starts_with('[')) {
        const auto close = pattern.find(']');
        std::string full(pattern.substr(1, close - 1));
        full += pattern.substr(close + 1);
        return header_matches(full, given) || header_matches(pattern.substr(close + 1), given);
    }
    while (true) {
        const auto p_end = pattern.find(':');
        const auto g_end = given.find(':');
        if (!node_matches(pattern.substr(0, p_end), given.substr(0, g_end))) {
            return false;
        }
        if (p_end == std::string_view::npos || g_end == std::string_view::npos) {
            return p_end == g_end;
        }
        pattern.remove_prefix(p_end + 1);
        given.remove_prefix(g_end + 1);
    }
}

}  // namespace

FrameSession::FrameSession(Instrument& instrument) : instrument_(instrument) {}

std::span<const FrameSession::Command> FrameSession::table() {
    using C = Command;
    using S = FrameSession;
    // clang-format off
    static const std::array rows{
        C{"*IDN", true, 0, &S::idn},
        C{"*RST", false, 0, &S::rst},
        C{"*CLS", false, 0, &S::cls},
        C{"*OPC", true, 0, &S::opc},
        C{"SYSTem:ERRor", true, 0, &S::error_query},
        C{"SYSTem:TIME", true, 0, &S::time_query},
        C{"SAMPle:WIDTh", false, 1, &S::set_width},
        C{"SAMPle:WIDTh", true, 0, &S::width},
        C{"SAMPle:THICkness", false, 1, &S::set_thickness},
        C{"SAMPle:THICkness", true, 0, &S::thickness},
        C{"SAMPle:LENGth", false, 1, &S::set_length},
        C{"SAMPle:LENGth", true, 0, &S::length},
        C{"[SOURce:]STRess:RAMP", false, 2, &S::stress_ramp},
        C{"[SOURce:]FORCe:RAMP", false, 2, &S::force_ramp},
        C{"[SOURce:]PROGram:RAMP", false, 2, &S::program_ramp},
        C{"[SOURce:]PROGram:DWELl", false, 1, &S::program_dwell},
        C{"[SOURce:]PROGram:CYCLe", false, 4, &S::program_cycle},
        C{"[SOURce:]PROGram:CUT", false, 1, &S::program_cut},
        C{"[SOURce:]HOLD", false, 0, &S::hold},
        C{"[SOURce:]PRETension", false, 1, &S::pretension},
        C{"[SOURce:]STATe", true, 0, &S::state},
        C{"MEASure", true, 0, &S::measure},
        C{"STReam:RATE", false, 1, &S::set_stream_rate},
        C{"STReam:RATE", true, 0, &S::stream_rate},
        C{"STReam:STARt", false, 0, &S::stream_start},
        C{"STReam:STOP", false, 0, &S::stream_stop},
        C{"DMTA:FREQuency", false, 1, &S::set_frequency},
        C{"DMTA:FREQuency", true, 0, &S::frequency},
        C{"DMTA:MEASure", true, 0, &S::dmta_measure},
        C{"DMTA:AMPLitude", false, 1, &S::set_amplitude},
        C{"DMTA:AMPLitude", true, 0, &S::amplitude},
        C{"SIMulate:FAULt:DROP", false, 1, &S::fault_drop},
        C{"SIMulate:FAULt:MUTE", false, 0, &S::fault_mute},
        C{"SIMulate:FAULt:DELay", false, 1, &S::fault_delay},
        C{"SIMulate:FAULt:HALF", false, 0, &S::fault_half},
        C{"SIMulate:FAULt:GARBle", false, 0, &S::fault_garble},
        C{"SIMulate:FAULt:TRIP", false, 0, &S::fault_trip},
        C{"SIMulate:FAULt:CLEar", false, 0, &S::fault_clear},
        C{"SIMulate:PEER:DROP", false, 1, &S::peer_drop},
        C{"SIMulate:PEER:MUTE", false, 0, &S::peer_mute},
        C{"SIMulate:PEER:DELay", false, 1, &S::peer_delay},
        C{"SIMulate:PEER:HALF", false, 0, &S::peer_half},
        C{"SIMulate:PEER:GARBle", false, 0, &S::peer_garble},
        C{"SIMulate:PEER:TRIP", false, 0, &S::peer_trip},
        C{"SIMulate:PEER:CLEar", false, 0, &S::peer_clear},
        C{"SIMulate:FURNace:SBReak", false, 1, &S::sensor_break},
        C{"SIMulate:FURNace:DROP", false, 1, &S::furnace_drop},
        C{"SIMulate:FURNace:DELay", false, 1, &S::furnace_delay},
        C{"SIMulate:FURNace:GARBle", false, 0, &S::furnace_garble},
        C{"SIMulate:SAMPle:COUNt", true, 0, &S::delivered_samples},
        C{"SIMulate:FURNace:EXCeption", false, 1, &S::furnace_exception},
        C{"SIMulate:SAMPle:NEW", false, 0, &S::new_sample},
        C{"SIMulate:DMTA:BETA", false, 1, &S::set_beta_energy},
        C{"SIMulate:DMTA:BETA", true, 0, &S::beta_energy},
    };
    return rows;
    // clang-format on
}

void FrameSession::push_error(int code, std::string_view message) {
    if (errors_.size() >= error_queue_size) {
        errors_.back() = "-350,\"Queue overflow\"";
        return;
    }
    errors_.push_back(std::to_string(code) + ",\"" + std::string(message) + "\"");
}

FrameReply FrameSession::handle(std::string_view line) {
    line = trim(line);
    if (line.empty()) {
        return {};
    }
    const auto space = line.find_first_of(" \t");
    std::string_view header = line.substr(0, space);
    const std::string_view args =
        space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));
    const bool query = header.ends_with('?');
    if (query) {
        header.remove_suffix(1);
    }
    return dispatch(header, query, args);
}

FrameReply FrameSession::dispatch(std::string_view header, bool query, std::string_view args) {
    const auto commands = table();
    const auto row = std::find_if(commands.begin(), commands.end(), [&](const Command& c) {
        return c.query == query && header_matches(c.header, header);
    });
    if (row == commands.end()) {
        push_error(-113, "Undefined header");
        return {};
    }
    std::vector<double> values;
    while (!args.empty()) {
        const auto comma = args.find(',');
        std::string_view token = trim(args.substr(0, comma));
        // SCPI allows an explicit plus sign, from_chars does not; "+-1" stays an error.
        if (token.size() > 1 && token.front() == '+' && token[1] != '-' && token[1] != '+') {
            token.remove_prefix(1);
        }
        double value = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
        if (token.empty() || ec != std::errc{} || end != token.data() + token.size() ||
            !std::isfinite(value)) {
            push_error(-104, "Data type error");
            return {};
        }
        values.push_back(value);
        args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
        if (comma != std::string_view::npos && args.empty()) {
            push_error(-104, "Data type error");  // trailing comma
            return {};
        }
    }
    if (values.size() < row->args) {
        push_error(-109, "Missing parameter");
        return {};
    }
    if (values.size() > row->args) {
        push_error(-108, "Parameter not allowed");
        return {};
    }
    return (this->*(row->handler))(std::move(values));
}

FrameReply FrameSession::out_of_range() {
    push_error(-222, "Data out of range");
    return {};
}

FrameReply FrameSession::idn(std::vector<double>) {
    const auto& id = instrument_.profile().identity;
    return {{id.maker + "," + id.model + "," + id.serial + "," + id.firmware}, {}};
}

FrameReply FrameSession::rst(std::vector<double>) {
    instrument_.reset_frame();
    streaming_ = false;
    stream_rate_hz_ = 10.0;
    dmta_frequency_hz_ = 1.0;
    dmta_amplitude_m_ = default_dmta_amplitude_m;
    tripped_ = false;
    return {};
}

FrameReply FrameSession::cls(std::vector<double>) {
    errors_.clear();
    return {};
}

FrameReply FrameSession::opc(std::vector<double>) {
    return {{"1"}, instrument_.ramp_end_s()};
}

FrameReply FrameSession::error_query(std::vector<double>) {
    if (errors_.empty()) {
        return {{"0,\"No error\""}, {}};
    }
    std::string next = std::move(errors_.front());
    errors_.pop_front();
    return {{std::move(next)}, {}};
}

FrameReply FrameSession::time_query(std::vector<double>) {
    return {{fixed(instrument_.now_s(), 6)}, {}};
}

FrameReply FrameSession::set_width(std::vector<double> v) {
    if (!(v[0] > 0 && v[0] <= max_width_m)) {
        return out_of_range();
    }
    auto g = instrument_.geometry();
    g.width_m = v[0];
    instrument_.set_geometry(g);
    return {};
}

FrameReply FrameSession::set_thickness(std::vector<double> v) {
    if (!(v[0] > 0 && v[0] <= max_thickness_m)) {
        return out_of_range();
    }
    auto g = instrument_.geometry();
    g.thickness_m = v[0];
    instrument_.set_geometry(g);
    return {};
}

FrameReply FrameSession::set_length(std::vector<double> v) {
    if (!(v[0] >= min_length_m && v[0] <= max_length_m)) {
        return out_of_range();
    }
    auto g = instrument_.geometry();
    g.gauge_length_m = v[0];
    instrument_.set_geometry(g);
    return {};
}

FrameReply FrameSession::width(std::vector<double>) {
    return {{number(instrument_.geometry().width_m)}, {}};
}

FrameReply FrameSession::thickness(std::vector<double>) {
    return {{number(instrument_.geometry().thickness_m)}, {}};
}

FrameReply FrameSession::length(std::vector<double>) {
    return {{number(instrument_.geometry().gauge_length_m)}, {}};
}

FrameReply FrameSession::ramp_to_force(double target_n, double rate_n_s) {
    const double area = instrument_.geometry().area_m2();
    const double target_pa = target_n / area, rate_pa_s = rate_n_s / area;
    if (!(target_n >= 0 && target_n <= instrument_.profile().frame.force_max_n &&
          rate_pa_s >= min_stress_rate_pa_s) ||
        std::abs(target_pa - instrument_.commanded_stress_pa()) / rate_pa_s > max_program_span_s) {
        return out_of_range();
    }
    if (tripped_) {
        push_error(-221, "Settings conflict");  // cleared by *RST
        return {};
    }
    instrument_.ramp_stress(target_pa, rate_pa_s);
    return {};
}

FrameReply FrameSession::stress_ramp(std::vector<double> v) {
    const double area = instrument_.geometry().area_m2();
    return ramp_to_force(v[0] * area, v[1] * area);
}

FrameReply FrameSession::force_ramp(std::vector<double> v) {
    return ramp_to_force(v[0], v[1]);
}

bool FrameSession::stress_allowed(double stress_pa) const {
    const double force_n = stress_pa * instrument_.geometry().area_m2();
    return force_n >= 0 && force_n <= instrument_.profile().frame.force_max_n;
}

bool FrameSession::program_fits(std::size_t more, double more_s) const {
    return instrument_.program_segments() + more <= max_program_segments &&
           instrument_.ramp_end_s() - instrument_.now_s() + more_s <= max_program_span_s;
}

FrameReply FrameSession::program_ramp(std::vector<double> v) {
    if (!stress_allowed(v[0]) || !(v[1] >= min_stress_rate_pa_s) ||
        !program_fits(1, std::abs(v[0] - instrument_.ramp_target_pa()) / v[1])) {
        return out_of_range();
    }
    if (tripped_) {
        push_error(-221, "Settings conflict");
        return {};
    }
    instrument_.append_ramp(v[0], v[1]);
    return {};
}

FrameReply FrameSession::program_dwell(std::vector<double> v) {
    if (!(v[0] >= 0) || !program_fits(1, v[0])) {
        return out_of_range();
    }
    instrument_.append_dwell(v[0]);
    return {};
}

FrameReply FrameSession::program_cycle(std::vector<double> v) {
    const double min_pa = v[0], max_pa = v[1], rate = v[2], count = v[3];
    if (!stress_allowed(min_pa) || !stress_allowed(max_pa) || !(min_pa <= max_pa) ||
        !(rate >= min_stress_rate_pa_s) || !(count >= 1 && count == std::floor(count))) {
        return out_of_range();
    }
    const double span_s =
        (std::abs(min_pa - instrument_.ramp_target_pa()) + 2 * count * (max_pa - min_pa)) / rate;
    if (!program_fits(2 * static_cast<std::size_t>(std::min(count, 1e7)) + 1, span_s)) {
        return out_of_range();
    }
    if (tripped_) {
        push_error(-221, "Settings conflict");
        return {};
    }
    instrument_.append_ramp(min_pa, rate);
    for (long k = 0; k < static_cast<long>(count); ++k) {
        instrument_.append_ramp(max_pa, rate);
        instrument_.append_ramp(min_pa, rate);
    }
    return {};
}

FrameReply FrameSession::program_cut(std::vector<double> v) {
    // A hold up to t_s counts against the span like a dwell; a t_s in the past is refused by
    // the instrument, under its lock, so a clock moving meanwhile cannot slip past the check.
    if (!(v[0] - instrument_.now_s() <= max_program_span_s) || !instrument_.cut_program(v[0])) {
        return out_of_range();
    }
    return {};
}

FrameReply FrameSession::hold(std::vector<double>) {
    instrument_.hold();
    return {};
}

FrameReply FrameSession::pretension(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= instrument_.profile().frame.force_max_n)) {
        return out_of_range();
    }
    if (tripped_) {
        push_error(-221, "Settings conflict");
        return {};
    }
    instrument_.step_stress(v[0] / instrument_.geometry().area_m2());
    return {};
}

FrameReply FrameSession::state(std::vector<double>) {
    const char* mode = tripped_ ? "TRIP" : instrument_.ramping() ? "RAMP" : "HOLD";
    return {{std::string(mode) + "," + number(instrument_.commanded_stress_pa()) + "," +
             number(instrument_.ramp_target_pa())},
            {}};
}

FrameReply FrameSession::measure(std::vector<double>) {
    const auto m = instrument_.measure();
    return {{fixed(m.t_s, 6) + "," + number(m.force_n, 7) + "," + number(m.displacement_m, 9) +
             "," + fixed(m.temperature_k, 3)},
            {}};
}

FrameReply FrameSession::set_stream_rate(std::vector<double> v) {
    if (!(v[0] >= min_stream_rate_hz && v[0] <= instrument_.profile().frame.stream_rate_max_hz)) {
        return out_of_range();
    }
    stream_rate_hz_ = v[0];
    return {};
}

FrameReply FrameSession::stream_rate(std::vector<double>) {
    return {{number(stream_rate_hz_)}, {}};
}

FrameReply FrameSession::stream_start(std::vector<double>) {
    if (!streaming_) {
        streaming_ = true;
        next_sample_s_ = instrument_.now_s();
    }
    return {};
}

FrameReply FrameSession::stream_stop(std::vector<double>) {
    streaming_ = false;
    return {};
}

void FrameSession::skip_sample() {
    next_sample_s_ += 1.0 / stream_rate_hz_;
    ++sequence_;
}

std::string FrameSession::take_sample() {
    const auto m = instrument_.measure_at(next_sample_s_);
    next_sample_s_ += 1.0 / stream_rate_hz_;
    return "S," + std::to_string(sequence_++) + "," + fixed(m.t_s, 6) + "," + number(m.force_n, 7) +
           "," + number(m.displacement_m, 9) + "," + fixed(m.temperature_k, 3);
}

FrameReply FrameSession::set_frequency(std::vector<double> v) {
    const auto& frame = instrument_.profile().frame;
    if (!(v[0] >= frame.frequency_min_hz && v[0] <= frame.frequency_max_hz)) {
        return out_of_range();
    }
    dmta_frequency_hz_ = v[0];
    return {};
}

FrameReply FrameSession::frequency(std::vector<double>) {
    return {{number(dmta_frequency_hz_)}, {}};
}

FrameReply FrameSession::dmta_measure(std::vector<double>) {
    const double t = instrument_.now_s();
    const auto temperature = instrument_.true_state().sample_temperature_k;
    const auto m = instrument_.dynamic_modulus_at(dmta_frequency_hz_);
    return {{fixed(t, 6) + "," + number(dmta_frequency_hz_) + "," + fixed(temperature, 3) + "," +
             number(m.storage_pa, 7) + "," + number(m.loss_pa, 7) + "," + number(m.tan_delta, 7)},
            {}};
}

FrameReply FrameSession::set_amplitude(std::vector<double> v) {
    const auto& frame = instrument_.profile().frame;
    if (!(v[0] >= frame.amplitude_min_m && v[0] <= frame.amplitude_max_m)) {
        return out_of_range();
    }
    // The modulus model is linear: the amplitude is checked and kept, and changes nothing.
    dmta_amplitude_m_ = v[0];
    return {};
}

FrameReply FrameSession::amplitude(std::vector<double>) {
    return {{number(dmta_amplitude_m_)}, {}};
}

FrameReply FrameSession::set_beta_energy(std::vector<double> v) {
    if (!(v[0] >= min_beta_energy_ev && v[0] <= max_beta_energy_ev)) {
        return out_of_range();
    }
    instrument_.set_beta_energy_ev(v[0]);
    return {};
}

FrameReply FrameSession::beta_energy(std::vector<double>) {
    return {{number(instrument_.beta_energy_ev(), 6)}, {}};
}

FrameReply FrameSession::fault_drop(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_drop_after_s)) {
        return out_of_range();
    }
    faults_.drop_after_s = v[0];
    ++faults_.drop_changes;
    return {};
}

FrameReply FrameSession::fault_mute(std::vector<double>) {
    faults_.mute = true;
    return {};
}

FrameReply FrameSession::fault_delay(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_reply_delay_s)) {
        return out_of_range();
    }
    faults_.delay_s = v[0];
    return {};
}

FrameReply FrameSession::fault_half(std::vector<double>) {
    faults_.half_line = true;
    return {};
}

FrameReply FrameSession::fault_garble(std::vector<double>) {
    faults_.garble = true;
    return {};
}

FrameReply FrameSession::fault_trip(std::vector<double>) {
    tripped_ = true;
    instrument_.step_stress(0);  // the frame unloads when its force limit trips
    return {};
}

FrameReply FrameSession::fault_clear(std::vector<double>) {
    FrameFaults cleared;
    cleared.drop_changes = faults_.drop_changes + 1;  // the transport cancels a DROP
    faults_ = cleared;
    return {};
}

FrameReply FrameSession::peer_drop(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_drop_after_s)) {
        return out_of_range();
    }
    peer_fault_ = "SIMulate:FAULt:DROP " + number(v[0]);
    return {};
}

FrameReply FrameSession::peer_mute(std::vector<double>) {
    peer_fault_ = "SIMulate:FAULt:MUTE";
    return {};
}

FrameReply FrameSession::peer_delay(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_reply_delay_s)) {
        return out_of_range();
    }
    peer_fault_ = "SIMulate:FAULt:DELay " + number(v[0]);
    return {};
}

FrameReply FrameSession::peer_half(std::vector<double>) {
    peer_fault_ = "SIMulate:FAULt:HALF";
    return {};
}

FrameReply FrameSession::peer_garble(std::vector<double>) {
    peer_fault_ = "SIMulate:FAULt:GARBle";
    return {};
}

FrameReply FrameSession::peer_trip(std::vector<double>) {
    peer_fault_ = "SIMulate:FAULt:TRIP";
    return {};
}

FrameReply FrameSession::peer_clear(std::vector<double>) {
    peer_fault_ = "SIMulate:FAULt:CLEar";
    return {};
}

FrameReply FrameSession::furnace_drop(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_drop_after_s)) {
        return out_of_range();
    }
    instrument_.drop_furnace_links(v[0]);
    return {};
}

FrameReply FrameSession::furnace_delay(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_reply_delay_s)) {
        return out_of_range();
    }
    instrument_.set_furnace_reply_delay(v[0]);
    return {};
}

FrameReply FrameSession::furnace_garble(std::vector<double>) {
    instrument_.garble_next_furnace_reply();
    return {};
}

FrameReply FrameSession::delivered_samples(std::vector<double>) {
    return {{std::to_string(instrument_.delivered_samples())}, {}};
}

FrameReply FrameSession::sensor_break(std::vector<double> v) {
    if (v[0] != 0 && v[0] != 1) {
        return out_of_range();
    }
    instrument_.set_furnace_sensor_break(v[0] == 1);
    return {};
}

FrameReply FrameSession::furnace_exception(std::vector<double> v) {
    if (!(v[0] >= 0 && v[0] <= max_furnace_exception && v[0] == std::floor(v[0]))) {
        return out_of_range();
    }
    instrument_.set_furnace_forced_exception(static_cast<int>(v[0]));
    return {};
}

FrameReply FrameSession::new_sample(std::vector<double>) {
    instrument_.new_sample();
    return {};
}

}  // namespace dmacycle::sim
