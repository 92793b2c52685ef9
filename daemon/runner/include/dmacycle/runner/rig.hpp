#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/rig_profile.hpp"
#include "dmacycle/sim/clock.hpp"
#include "dmacycle/sim/loopback.hpp"
#include "dmacycle/sim/profile.hpp"

// What a run drives (docs/drivers.md, "Rig profiles"): a rig's frame and furnace on their wires,
// or the simulated instrument (`driver: sim`) brought up in-process on loopback ports, which the
// same production drivers then talk to. bring_up is the one bring-up of the simulator, for
// `dmacycle run`, `dmacycle probe` and the service alike.
namespace dmacycle::runner {

// The simulated instrument of a rig, checked: its profile loaded, its clock's speed read.
struct SimulatorSpec {
    sim::Profile profile;
    sim::SimClock clock;
};

// A rig checked and ready to bring up: both devices named.
struct RigSpec {
    std::optional<SimulatorSpec> simulator;  // set: the devices are the simulator's
    // For a simulator only the timeouts are the rig's; driver, model and uri are the simulator's.
    drivers::DeviceSpec frame, furnace;
};

// A rig file (drivers::load_rig_profile) checked for a run: both devices named and, for
// `driver: sim`, the profile loaded and the speed read. Throws drivers::DriverError(config)
// "file:line: field: problem".
RigSpec load_rig(const std::filesystem::path& path);
RigSpec check_rig(const drivers::RigProfile& rig);
// The fastest stream the rig's frame sends, and what sets it (its driver's model, or a
// simulator's profile when lower).
struct StreamLimit {
    double max_hz = 0;
    std::string by;
};
StreamLimit stream_rate_limit(const RigSpec& rig);

// Why the rig's frame cannot stream `sample_rate_hz` ("" when it can): above the fastest
// stream its driver's model sends, the simulator's profile's, or below the protocol's 1e-3 Hz.
std::string sample_rate_problem(const RigSpec& rig, double sample_rate_hz);
// The simulator alone: `dmacycle run` without --rig, dmacycled's `instrument: simulate:`.
RigSpec simulated_rig(sim::Profile profile, sim::SimClock clock);

// A rig brought up: the devices the runner drives, and the simulator that serves them (for as
// long as this lives) when the rig is simulated.
struct Rig {
    std::unique_ptr<sim::Loopback> simulator;  // null: real devices
    drivers::DeviceSpec frame, furnace;

    // For RunnerOptions::hold_at: the simulator's stream waits where the runner has a step due
    // (sim::ConsumerPace); empty for real devices, whose time is their own.
    std::function<void(std::optional<double> t_s)> hold_at() const;
    // For RunnerOptions::frame_starved: how long the simulator's frame server could not run,
    // which the frame's stale age and exchange deadlines leave out; empty for real devices.
    drivers::PeerStarvation frame_starved() const;
};

// Starts a simulated rig's simulator on loopback ports and points the devices at it, with the
// driver and model that speak what it serves (a Kelvin furnace's register map included); real
// devices are passed on as they are, nothing opened. Throws std::runtime_error when the
// simulator cannot listen.
Rig bring_up(const RigSpec& spec);

}  // namespace dmacycle::runner
