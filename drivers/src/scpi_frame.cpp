#include "dmacycle/drivers/scpi_frame.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace dmacycle::drivers {
namespace {

// The dmacycle frame contract (docs/frame-protocol.md) in long forms, which every SCPI parser
// accepts and which do not collide (STReam vs STRess share the short form STR).
constexpr std::array<FrameCommandSet, 1> frame_models{{
    {.model = "dmacycle-scpi",
     .identify = "*IDN?",
     .width = "SAMPle:WIDTh {}",
     .thickness = "SAMPle:THICkness {}",
     .gauge_length = "SAMPle:LENGth {}",
     .stress_ramp = "SOURce:STRess:RAMP {},{}",
     .force_ramp = "SOURce:FORCe:RAMP {},{}",
     .hold = "SOURce:HOLD",
     .pretension = "SOURce:PRETension {}",
     .state = "SOURce:STATe?",
     .measure = "MEASure?",
     .program_ramp = "SOURce:PROGram:RAMP {},{}",
     .program_dwell = "SOURce:PROGram:DWELl {}",
     .program_cycle = "SOURce:PROGram:CYCLe {},{},{},{}",
     .program_cut = "SOURce:PROGram:CUT {}",
     .stream_rate = "STReam:RATE {}",
     .stream_rate_max_hz = 1000,  // `STReam:RATE`: 1e-3 ≤ f ≤ 1000 Hz
     .stream_start = "STReam:STARt",
     .stream_stop = "STReam:STOP",
     .oscillation_frequency = "DMTA:FREQuency {}",
     .oscillation_amplitude = "DMTA:AMPLitude {}",
     .dynamic_measure = "DMTA:MEASure?"},
}};

}  // namespace

const FrameCommandSet* find_frame_commands(std::string_view model) {
    for (const auto& row : frame_models) {
        if (row.model == model) {
            return &row;
        }
    }
    return nullptr;
}

std::vector<std::string_view> frame_command_models() {
    std::vector<std::string_view> out;
    for (const auto& row : frame_models) {
        out.push_back(row.model);
    }
    return out;
}

std::string fill_command(std::string_view pattern, std::initializer_list<double> values) {
    std::string out;
    auto value = values.begin();
    std::size_t at = 0;
    while (true) {
        const auto slot = pattern.find("{}", at);
        out += pattern.substr(at, slot == std::string_view::npos ? slot : slot - at);
        if (slot == std::string_view::npos) {
            break;
        }
        if (value == values.end()) {
            throw DriverError(ErrorKind::config,
                              "command '" + std::string(pattern) + "' has more {} than values");
        }
        std::array<char, 32> text{};
        const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), *value++);
        out.append(text.data(), end);
        at = slot + 2;
    }
    return out;
}

ScpiFrame::ScpiFrame(const ConnectionUri& uri, const FrameCommandSet& commands,
                     ScpiFrameOptions options)
    : ScpiFrame(make_transport(uri), commands, std::move(options)) {}

ScpiFrame::ScpiFrame(std::unique_ptr<Transport> transport, const FrameCommandSet& commands,
                     ScpiFrameOptions options)
    : commands_(commands),
      options_(std::move(options)),
      channel_(std::move(transport), options_.line),
      scpi_(channel_, options_.scpi) {}

void ScpiFrame::connect(Deadline deadline) {
    channel_.open(deadline);
    // Anything still held is from the previous link; its owner took what it wanted
    // (take_pending_samples) and must not see it as this link's.
    scpi_.take_stream_lines();
}

void ScpiFrame::disconnect() noexcept {
    channel_.close();
}

std::string ScpiFrame::identify() {
    const std::string idn = scpi_.query(commands_.identify);
    // maker,model,serial,firmware: anything else (a garbled or half line) is not an identity.
    if (std::count(idn.begin(), idn.end(), ',') != 3 ||
        !std::all_of(idn.begin(), idn.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
        throw DriverError(ErrorKind::protocol, channel_.name() + ": " +
                                                   std::string(commands_.identify) +
                                                   " reply is not maker,model,serial,firmware");
    }
    return idn;
}

void ScpiFrame::configure_geometry(const FrameGeometry& geometry) {
    scpi_.command(fill_command(commands_.width, {geometry.width_m}));
    scpi_.command(fill_command(commands_.thickness, {geometry.thickness_m}));
    scpi_.command(fill_command(commands_.gauge_length, {geometry.gauge_length_m}));
}

void ScpiFrame::ramp_stress(double target_pa, double rate_pa_s) {
    scpi_.command(fill_command(commands_.stress_ramp, {target_pa, rate_pa_s}));
}

void ScpiFrame::ramp_force(double target_n, double rate_n_s) {
    scpi_.command(fill_command(commands_.force_ramp, {target_n, rate_n_s}));
}

void ScpiFrame::hold() {
    scpi_.command(commands_.hold);
}

void ScpiFrame::pretension(double force_n) {
    scpi_.command(fill_command(commands_.pretension, {force_n}));
}

FrameState ScpiFrame::state() {
    const std::string reply = scpi_.query(commands_.state);
    const auto comma = reply.find(',');
    const std::string where = channel_.name() + ": " + std::string(commands_.state);
    FrameState state;
    state.mode = reply.substr(0, comma);
    if (comma == std::string::npos ||
        (state.mode != "RAMP" && state.mode != "HOLD" && state.mode != "TRIP")) {
        throw DriverError(ErrorKind::protocol, where + ": expected RAMP|HOLD|TRIP,stress,target");
    }
    const auto values = parse_numbers(std::string_view(reply).substr(comma + 1), 2, where);
    state.stress_pa = values[0];
    state.target_pa = values[1];
    return state;
}

FrameMeasurement ScpiFrame::measure() {
    const auto values = parse_numbers(scpi_.query(commands_.measure), 4,
                                      channel_.name() + ": " + std::string(commands_.measure));
    return {values[0], values[1], values[2], values[3]};
}

void ScpiFrame::require(std::string_view command, const char* what) const {
    if (command.empty()) {
        throw DriverError(ErrorKind::config,
                          "frame model " + std::string(commands_.model) + " has no " + what);
    }
}

StressProgram* ScpiFrame::program() {
    return commands_.program_cycle.empty() ? nullptr : this;
}
SampleStream* ScpiFrame::stream() {
    return commands_.stream_start.empty() ? nullptr : this;
}
Oscillation* ScpiFrame::oscillation() {
    return commands_.dynamic_measure.empty() ? nullptr : this;
}

void ScpiFrame::program_ramp(double target_pa, double rate_pa_s) {
    require(commands_.program_ramp, "stress program");
    scpi_.command(fill_command(commands_.program_ramp, {target_pa, rate_pa_s}));
}

void ScpiFrame::program_dwell(double duration_s) {
    require(commands_.program_dwell, "stress program");
    scpi_.command(fill_command(commands_.program_dwell, {duration_s}));
}

void ScpiFrame::program_cycle(double min_pa, double max_pa, double rate_pa_s, int count) {
    require(commands_.program_cycle, "stress program");
    scpi_.command(fill_command(commands_.program_cycle,
                               {min_pa, max_pa, rate_pa_s, static_cast<double>(count)}));
}

bool ScpiFrame::program_cut(double t_s) {
    require(commands_.program_cut, "program cut");
    return scpi_.command_unless(fill_command(commands_.program_cut, {t_s}), -222);
}

void ScpiFrame::set_stream_rate(double rate_hz) {
    require(commands_.stream_rate, "sample stream");
    scpi_.command(fill_command(commands_.stream_rate, {rate_hz}));
}

void ScpiFrame::start_stream() {
    require(commands_.stream_start, "sample stream");
    scpi_.command(commands_.stream_start);
}

void ScpiFrame::stop_stream() {
    require(commands_.stream_stop, "sample stream");
    // Samples already on their way when the stream stopped stay set aside for read_samples:
    // the instrument sent them, so the owner must be able to store them.
    scpi_.command(commands_.stream_stop);
}

std::vector<RawSample> ScpiFrame::take_pending_samples() {
    return parse_samples(scpi_.take_stream_lines());
}

std::vector<RawSample> ScpiFrame::read_samples(Deadline deadline) {
    return parse_samples(scpi_.read_stream(deadline));
}

std::vector<RawSample> ScpiFrame::parse_samples(const std::vector<std::string>& lines) {
    std::vector<RawSample> samples;
    samples.reserve(lines.size());
    for (const auto& line : lines) {
        // S,seq,t_s,force_n,displacement_m,temperature_k
        std::vector<double> v;
        try {
            v = parse_numbers(std::string_view(line).substr(2), 5, "sample");
        } catch (const DriverError&) {
            ++malformed_;
            continue;
        }
        // A whole number that a double holds exactly; anything else is a garbled line (and
        // casting an out-of-range double to an integer is undefined).
        constexpr double max_link_seq = 9007199254740992.0;  // 2^53
        if (!(v[0] >= 0 && v[0] <= max_link_seq) || std::floor(v[0]) != v[0]) {
            ++malformed_;
            continue;
        }
        samples.push_back({static_cast<std::uint64_t>(v[0]), {v[1], v[2], v[3], v[4]}});
    }
    return samples;
}

void ScpiFrame::set_oscillation_frequency(double frequency_hz) {
    require(commands_.oscillation_frequency, "oscillation");
    scpi_.command(fill_command(commands_.oscillation_frequency, {frequency_hz}));
}

void ScpiFrame::set_oscillation_amplitude(double amplitude_m) {
    require(commands_.oscillation_amplitude, "oscillation amplitude");
    scpi_.command(fill_command(commands_.oscillation_amplitude, {amplitude_m}));
}

DmtaMeasurement ScpiFrame::measure_dynamic() {
    require(commands_.dynamic_measure, "oscillation");
    const auto v = parse_numbers(scpi_.query(commands_.dynamic_measure), 6,
                                 channel_.name() + ": " + std::string(commands_.dynamic_measure));
    return {v[0], v[1], v[2], v[3], v[4], v[5]};
}

}  // namespace dmacycle::drivers
