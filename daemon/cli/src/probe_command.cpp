#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/drivers/registry.hpp"
#include "dmacycle/drivers/rig_profile.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/runner/rig.hpp"

namespace dmacycle::cli {
namespace {

namespace drv = dmacycle::drivers;
using nlohmann::json;

// A device that failed shows why, and nothing read before the failure (an identity from a
// link that then faulted would vouch for a device that was never read).
void fault(json& out, const char* kind, std::string_view message) {
    json failed{{"uri", out.at("uri")}, {"link", "fault"}, {"error_kind", kind}};
    failed["error"] = drv::printable(message, 400);
    out = std::move(failed);
}

// One connect, one read of everything, one disconnect: what an engineer wiring a new
// instrument wants to see. Failures are reported per device, with the driver's message.
json probe_frame(const drv::DeviceSpec& spec) {
    json out{{"uri", spec.uri}};
    try {
        auto frame = drv::make_frame(spec);
        frame->connect(drv::deadline_in(spec.timeout));
        out["idn"] = frame->identify();
        const auto m = frame->measure();
        const auto state = frame->state();
        frame->disconnect();
        out["link"] = "connected";
        out["t_s"] = m.t_s;
        out["force_n"] = m.force_n;
        out["displacement_m"] = m.displacement_m;
        out["temperature_k"] = m.temperature_k;
        out["mode"] = state.mode;
        out["stress_pa"] = state.stress_pa;
    } catch (const drv::DriverError& error) {
        fault(out, drv::to_string(error.kind()), error.what());
    } catch (const std::exception& error) {
        fault(out, "internal", error.what());
    }
    return out;
}

json probe_furnace(const drv::DeviceSpec& spec) {
    json out{{"uri", spec.uri}};
    try {
        auto furnace = drv::make_furnace(spec);
        furnace->connect_by(drv::deadline_in(spec.timeout));
        out["identity"] = furnace->identify();
        const auto r = furnace->read();
        furnace->disconnect();
        out["link"] = "connected";
        out["temperature_k"] = r.temperature_k;
        out["setpoint_k"] = r.target_setpoint_k;
        out["working_setpoint_k"] = r.working_setpoint_k;
        out["status"] = {{"bits", r.status.bits},
                         {"sensor_break", r.status.sensor_break},
                         {"loop_break", r.status.loop_break},
                         {"ramp_running", r.status.ramp_running},
                         {"remote_setpoint_fail", r.status.remote_setpoint_fail}};
    } catch (const drv::DriverError& error) {
        fault(out, drv::to_string(error.kind()), error.what());
    } catch (const std::exception& error) {
        fault(out, "internal", error.what());
    }
    return out;
}

std::string status_text(const json& status) {
    std::string flags;
    for (const char* name :
         {"sensor_break", "loop_break", "ramp_running", "remote_setpoint_fail"}) {
        if (status.at(name).get<bool>()) {
            flags += (flags.empty() ? "" : ", ") + std::string(name);
        }
    }
    char bits[16];
    std::snprintf(bits, sizeof bits, "0x%04x", status.at("bits").get<unsigned>());
    return std::string(bits) + " (" + (flags.empty() ? "ok" : flags) + ")";
}

void print_text(const json& result, std::ostream& out) {
    for (const char* device : {"frame", "furnace"}) {
        if (!result.contains(device)) {
            continue;
        }
        const json& d = result.at(device);
        out << device << "  " << d.at("uri").get<std::string>() << "  "
            << d.at("link").get<std::string>() << "\n";
        if (d.at("link") != "connected") {
            out << "  error  " << d.at("error").get<std::string>() << "\n";
            continue;
        }
        for (const auto& [key, value] : d.items()) {
            if (key == "uri" || key == "link") {
                continue;
            }
            out << "  " << key << "  "
                << (key == "status"     ? status_text(value)
                    : value.is_string() ? value.get<std::string>()
                                        : value.dump())
                << "\n";
        }
    }
}

}  // namespace

int run_probe(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    drv::DeviceSpec frame, furnace;
    runner::Rig simulated;  // a `driver: sim` rig's simulator, serving while it is probed
    bool as_json = false;
    try {
        const io::Arguments arguments(
            args, {"rig", "frame", "furnace", "frame-model", "furnace-model", "timeout-ms"},
            {"json"});
        if (!arguments.positionals().empty()) {
            throw io::UsageError("unexpected argument '" + arguments.positionals().front() + "'");
        }
        // The rig profile first; what the command line gives overrides it.
        if (const auto rig_path = arguments.text("rig")) {
            auto rig = drv::load_rig_profile(*rig_path);
            if (rig.simulator) {
                simulated = runner::bring_up(runner::check_rig(rig));
                rig.frame = simulated.frame;
                rig.furnace = simulated.furnace;
            }
            frame = rig.frame.value_or(frame);
            furnace = rig.furnace.value_or(furnace);
        }
        frame.uri = arguments.text("frame").value_or(frame.uri);
        furnace.uri = arguments.text("furnace").value_or(furnace.uri);
        if (frame.uri.empty() && furnace.uri.empty()) {
            throw io::UsageError("give --rig FILE, --frame URI, --furnace URI or both");
        }
        frame.model = arguments.text("frame-model").value_or(frame.model);
        furnace.model = arguments.text("furnace-model").value_or(furnace.model);
        if (const auto timeout_ms = arguments.integer("timeout-ms")) {
            if (*timeout_ms <= 0) {
                throw io::UsageError("--timeout-ms must be positive");
            }
            frame.timeout = furnace.timeout = std::chrono::milliseconds(*timeout_ms);
        }
        as_json = arguments.flag("json");
        // Bad connection strings and unknown models are usage errors, before any I/O.
        if (!frame.uri.empty()) {
            drv::make_frame(frame);
        }
        if (!furnace.uri.empty()) {
            drv::make_furnace(furnace);
        }
    } catch (const io::UsageError& error) {
        err << "dmacycle probe: " << error.what() << " (" << usage_of("probe") << ")\n";
        return exit_bad_input;
    } catch (const std::exception& error) {  // DriverError: a bad connection string or model
        err << "dmacycle probe: " << drv::printable(error.what(), 400) << "\n";
        return exit_bad_input;
    }

    bool all_ok = true;
    try {
        json result = json::object();
        if (!frame.uri.empty()) {
            result["frame"] = probe_frame(frame);
            all_ok = all_ok && result["frame"]["link"] == "connected";
        }
        if (!furnace.uri.empty()) {
            result["furnace"] = probe_furnace(furnace);
            all_ok = all_ok && result["furnace"]["link"] == "connected";
        }
        if (as_json) {
            // Messages are sanitised already; replace is the guard that keeps dump() from throwing.
            out << result.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        } else {
            print_text(result, out);
        }
    } catch (const std::exception& error) {  // one line and a status, never an abort
        err << "dmacycle probe: " << drv::printable(error.what(), 400) << "\n";
        return exit_device_error;
    }
    return all_ok ? exit_ok : exit_device_error;
}

}  // namespace dmacycle::cli
