// `dmacycle validate` and `dmacycle plan`: job files checked and turned into segment plans
// without touching an instrument.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "dmacycle/cli/commands.hpp"
#include "dmacycle/cli/help.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/profiles.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"
#include "dmacycle/protocols/units.hpp"

namespace dmacycle::cli {
namespace {

namespace protocols = dmacycle::protocols;
using protocols::Dimension;

// Parses FILE, with the frame limit of its instrument profile; prints each problem as one
// "FILE:LINE:COLUMN: field: problem" line on `err`.
std::optional<protocols::JobFile> load_job(const std::string& path, std::ostream& err) {
    auto file = protocols::parse_job(io::read_job_text(path), [&](const std::string& profile) {
        return io::find_profile_limit(profile, path);
    });
    for (const auto& problem : file.errors) {
        err << problem.to_string(path) << "\n";
    }
    if (!file.ok()) {
        return std::nullopt;
    }
    return file;
}

std::string clock_time(double seconds) {
    const auto total = static_cast<long long>(std::llround(seconds));
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                  total % 60);
    return buffer;
}

std::string mpa(double pa) {
    return protocols::format_quantity(pa, "MPa", Dimension::stress);
}

std::string target_text(const protocols::Segment& segment) {
    using protocols::SegmentKind;
    const std::string rate =
        protocols::format_quantity(segment.stress_rate_pa_s, "MPa/min", Dimension::stress_rate);
    switch (segment.kind) {
        case SegmentKind::equilibrate:
            return protocols::format_quantity(segment.temperature_k, "K", Dimension::temperature) +
                   " ± " +
                   protocols::format_quantity(segment.tolerance_k, "K",
                                              Dimension::temperature_difference) +
                   ", timeout " + clock_time(segment.timeout_s);
        case SegmentKind::hold:
            return protocols::format_quantity(segment.temperature_k, "K", Dimension::temperature) +
                   ", no load";
        case SegmentKind::pre_tension:
        case SegmentKind::recovery:
            return protocols::format_quantity(segment.force_n, "N", Dimension::force) + " (" +
                   mpa(segment.stress_start_pa) + ")";
        case SegmentKind::load:
        case SegmentKind::unload:
            return mpa(segment.stress_start_pa) + " → " + mpa(segment.stress_end_pa) + " at " +
                   rate;
        case SegmentKind::cycle:
            return mpa(segment.stress_min_pa) + " ↔ " + mpa(segment.stress_max_pa) + " at " + rate +
                   ", " + std::to_string(segment.cycles) + " cycles of " +
                   protocols::format_quantity(segment.period_s, "min", Dimension::time);
        case SegmentKind::creep:
            return mpa(segment.stress_start_pa) + " constant";
        case SegmentKind::dmta_scan: {
            std::string frequencies;
            for (const double hz : segment.frequencies_hz) {
                frequencies += (frequencies.empty() ? "" : ", ") +
                               protocols::format_quantity(hz, "Hz", Dimension::frequency);
            }
            return protocols::format_quantity(segment.temperature_k, "K", Dimension::temperature) +
                   " → " +
                   protocols::format_quantity(segment.temperature_end_k, "K",
                                              Dimension::temperature) +
                   " at " +
                   protocols::format_quantity(segment.temperature_rate_k_s, "K/min",
                                              Dimension::temperature_rate) +
                   ", " + frequencies;
        }
    }
    return "";
}

void print_plan(std::ostream& out, const protocols::Job& job, const protocols::Plan& plan) {
    out << "run " << job.name << ": sample " << job.sample.id << ", profile " << job.profile;
    if (job.kind == protocols::JobKind::dmta) {
        out << ", DMTA scan as cast";  // no cycling: a mode would say nothing
    } else {
        out << ", mode " << protocols::to_string(job.cycling.mode);
        if (job.kind == protocols::JobKind::cycling_dmta) {
            out << ", then a DMTA scan";
        }
    }
    if (!job.sweep_point.empty()) {
        out << " (" << job.sweep_point << ")";
    }
    out << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-3s %-12s %-10s %-10s %s\n", "#", "segment", "start",
                  "duration", "target");
    out << line;
    for (std::size_t i = 0; i < plan.segments.size(); ++i) {
        const auto& segment = plan.segments[i];
        const bool open_ended = segment.kind == protocols::SegmentKind::equilibrate;
        std::snprintf(line, sizeof line, "  %-3zu %-12s %-10s %-10s ", i + 1,
                      std::string(protocols::to_string(segment.kind)).c_str(),
                      clock_time(segment.start_s).c_str(),
                      open_ended ? "-" : clock_time(segment.duration_s).c_str());
        out << line << target_text(segment) << "\n";
    }
    if (plan.cycles > 0) {
        out << "cycles: " << plan.cycles << " of "
            << protocols::format_quantity(plan.period_s, "min", Dimension::time);
        if (plan.cycling_unused_s > 0) {
            out << " (the last "
                << protocols::format_quantity(plan.cycling_unused_s, "s", Dimension::time)
                << " of the requested duration hold no whole cycle and are not run)";
        }
        out << "\n";
    } else if (job.kind != protocols::JobKind::dmta) {
        out << "cycles: 0 (pure creep)\n";
    }
    if (job.dmta) {
        const auto& scan = *job.dmta;
        std::snprintf(line, sizeof line,
                      "DMTA scan: %.4g-%.4g K at %.4g K/min, %zu frequencies, one measurement "
                      "every %.4g s (%.0f measurements)\n",
                      scan.from_k, scan.to_k, scan.rate_k_s * 60, scan.frequencies_hz.size(),
                      scan.interval_s, std::floor(scan.duration_s() / scan.interval_s));
        out << line;
    }
    std::snprintf(line, sizeof line,
                  "predicted duration: %s (%.4g h) after equilibration, at most %s with its "
                  "timeout\n",
                  clock_time(plan.duration_s).c_str(), plan.duration_s / 3600,
                  clock_time(plan.max_duration_s).c_str());
    out << line;
    std::snprintf(line, sizeof line,
                  "peak force: %.4g N (%s on %.4g mm × %.4g µm) against the limit %.4g N "
                  "(frame %.4g N): %.0f%%\n",
                  plan.peak_force_n, mpa(plan.peak_stress_pa).c_str(), job.sample.width_m * 1e3,
                  job.sample.thickness_m * 1e6, plan.force_limit_n, plan.frame_force_limit_n,
                  100 * plan.peak_force_n / plan.force_limit_n);
    out << line;
}

nlohmann::json plan_json(const protocols::Job& job, const protocols::Plan& plan) {
    auto segments = nlohmann::json::array();
    for (const auto& segment : plan.segments) {
        nlohmann::json item{
            {"kind", protocols::to_string(segment.kind)}, {"start_s", segment.start_s},
            {"duration_s", segment.duration_s},           {"temperature_k", segment.temperature_k},
            {"stress_start_pa", segment.stress_start_pa}, {"stress_end_pa", segment.stress_end_pa}};
        switch (segment.kind) {
            case protocols::SegmentKind::equilibrate:
                item["tolerance_k"] = segment.tolerance_k;
                item["timeout_s"] = segment.timeout_s;
                break;
            case protocols::SegmentKind::pre_tension:
            case protocols::SegmentKind::recovery:
                item["force_n"] = segment.force_n;
                break;
            case protocols::SegmentKind::cycle:
                item["stress_min_pa"] = segment.stress_min_pa;
                item["stress_max_pa"] = segment.stress_max_pa;
                item["cycles"] = segment.cycles;
                item["period_s"] = segment.period_s;
                [[fallthrough]];
            case protocols::SegmentKind::load:
            case protocols::SegmentKind::unload:
                item["stress_rate_pa_s"] = segment.stress_rate_pa_s;
                break;
            case protocols::SegmentKind::dmta_scan:
                item["temperature_end_k"] = segment.temperature_end_k;
                item["temperature_rate_k_s"] = segment.temperature_rate_k_s;
                item["frequencies_hz"] = segment.frequencies_hz;
                item["amplitude_m"] = segment.amplitude_m;
                item["interval_s"] = segment.interval_s;
                break;
            case protocols::SegmentKind::hold:
            case protocols::SegmentKind::creep:
                break;
        }
        segments.push_back(std::move(item));
    }
    return {{"name", job.name},
            {"sample_id", job.sample.id},
            {"profile", job.profile},
            {"kind", protocols::to_string(job.kind)},
            {"mode", protocols::to_string(job.cycling.mode)},
            {"sweep_point", job.sweep_point},
            {"segments", std::move(segments)},
            {"cycles", plan.cycles},
            {"period_s", plan.period_s},
            {"duration_s", plan.duration_s},
            {"max_duration_s", plan.max_duration_s},
            {"peak_stress_pa", plan.peak_stress_pa},
            {"peak_force_n", plan.peak_force_n},
            {"force_limit_n", plan.force_limit_n},
            {"frame_force_limit_n", plan.frame_force_limit_n}};
}

std::string single_file(const io::Arguments& arguments) {
    const auto& files = arguments.positionals();
    if (files.size() != 1) {
        throw io::UsageError(files.empty()
                                 ? "missing JOB.yaml"
                                 : "expected one JOB.yaml, got " + std::to_string(files.size()));
    }
    return files.front();
}

}  // namespace

int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    try {
        const io::Arguments arguments(args, {}, {});
        const auto& files = arguments.positionals();
        if (files.empty()) {
            throw io::UsageError("missing JOB.yaml");
        }
        int code = exit_ok;
        for (const auto& path : files) {
            if (const auto job = load_job(path, err)) {
                out << path << ": ok, " << job->runs.size()
                    << (job->runs.size() == 1 ? " run\n" : " runs (sweep)\n");
            } else {
                code = exit_bad_input;
            }
        }
        return code;
    } catch (const io::InputError& error) {
        err << error.what() << "\n";
    } catch (const io::UsageError& error) {
        err << "dmacycle validate: " << error.what() << " (" << usage_of("validate") << ")\n";
    }
    return exit_bad_input;
}

int run_plan(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    try {
        const io::Arguments arguments(args, {}, {"json"});
        const auto path = single_file(arguments);
        const auto job = load_job(path, err);
        if (!job) {
            return exit_bad_input;
        }
        auto runs = nlohmann::json::array();
        for (std::size_t i = 0; i < job->runs.size(); ++i) {
            const auto& run = job->runs[i];
            const auto plan = protocols::make_plan(run, job->frame_force_limit_n);
            if (arguments.flag("json")) {
                runs.push_back(plan_json(run, plan));
            } else {
                out << (i > 0 ? "\n" : "");
                print_plan(out, run, plan);
            }
        }
        if (arguments.flag("json")) {
            out << nlohmann::json{{"file", path}, {"sweep", job->sweep}, {"runs", runs}}.dump(2)
                << "\n";
        }
        return exit_ok;
    } catch (const io::InputError& error) {
        err << error.what() << "\n";
    } catch (const io::UsageError& error) {
        err << "dmacycle plan: " << error.what() << " (" << usage_of("plan") << ")\n";
    }
    return exit_bad_input;
}

}  // namespace dmacycle::cli
