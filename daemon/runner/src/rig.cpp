#include "dmacycle/runner/rig.hpp"

#include <cstdio>

namespace dmacycle::runner {
namespace {

[[noreturn]] void fail(const drivers::RigProfile& rig, int line, const std::string& field,
                       const std::string& problem) {
    throw drivers::DriverError(drivers::ErrorKind::config, rig.source + ":" + std::to_string(line) +
                                                               ": " + field + ": " + problem);
}

void point_at(drivers::DeviceSpec& device, const sim::Endpoint& endpoint) {
    device.driver = endpoint.driver;
    device.model = endpoint.model;
    device.uri = endpoint.uri;
}

}  // namespace

RigSpec check_rig(const drivers::RigProfile& rig) {
    if (!rig.frame || !rig.furnace) {
        throw drivers::DriverError(drivers::ErrorKind::config,
                                   rig.source + ": must name both a frame and a furnace");
    }
    RigSpec spec{std::nullopt, *rig.frame, *rig.furnace};
    if (const auto& row = rig.simulator) {
        const auto clock = sim::SimClock::parse(row->speed);
        if (!clock) {
            fail(rig, row->speed_line, "frame.speed",
                 "'" + row->speed + "': expected a positive number or max");
        }
        try {
            spec.simulator = SimulatorSpec{sim::load_profile(row->profile), *clock};
        } catch (const sim::ProfileError& error) {
            fail(rig, row->profile_line, "frame.profile", error.what());
        }
    }
    return spec;
}

StreamLimit stream_rate_limit(const RigSpec& rig) {
    // The simulator speaks the default frame driver's default model.
    StreamLimit limit{
        drivers::frame_stream_rate_max_hz(rig.simulator ? drivers::DeviceSpec{} : rig.frame),
        "its driver, docs/frame-protocol.md"};
    if (rig.simulator && rig.simulator->profile.frame.stream_rate_max_hz < limit.max_hz) {
        limit = {rig.simulator->profile.frame.stream_rate_max_hz,
                 "the simulator's profile, frame.stream_rate_max_hz"};
    }
    return limit;
}

std::string sample_rate_problem(const RigSpec& rig, double sample_rate_hz) {
    constexpr double min_hz = 1e-3;  // STReam:RATE's floor (docs/frame-protocol.md)
    const auto [max_hz, whose] = stream_rate_limit(rig);
    char text[160];
    if (!(sample_rate_hz <= max_hz)) {
        std::snprintf(text, sizeof text, "%g Hz is above the %g Hz the frame can stream (%s)",
                      sample_rate_hz, max_hz, whose.c_str());
        return text;
    }
    if (!(sample_rate_hz >= min_hz)) {
        std::snprintf(text, sizeof text, "%g Hz is below the frame's slowest stream, %g Hz",
                      sample_rate_hz, min_hz);
        return text;
    }
    return "";
}

RigSpec load_rig(const std::filesystem::path& path) {
    return check_rig(drivers::load_rig_profile(path));
}

RigSpec simulated_rig(sim::Profile profile, sim::SimClock clock) {
    drivers::DeviceSpec device;
    device.driver = drivers::simulator_driver;
    return {SimulatorSpec{std::move(profile), clock}, device, device};
}

std::function<void(std::optional<double>)> Rig::hold_at() const {
    if (!simulator) {
        return {};
    }
    return [instrument = &simulator->instrument()](std::optional<double> t_s) {
        instrument->pace().hold_at(t_s);
    };
}

drivers::PeerStarvation Rig::frame_starved() const {
    if (!simulator) {
        return {};
    }
    return [simulator = simulator.get()] { return simulator->frame_starved(); };
}

Rig bring_up(const RigSpec& spec) {
    Rig rig{nullptr, spec.frame, spec.furnace};
    if (spec.simulator) {
        rig.simulator =
            std::make_unique<sim::Loopback>(spec.simulator->profile, spec.simulator->clock);
        point_at(rig.frame, rig.simulator->frame());
        point_at(rig.furnace, rig.simulator->furnace());
    }
    return rig;
}

}  // namespace dmacycle::runner
