// Job type dmta (docs/job-files.md "DMTA scans"): the shipped jobs, defaults, units, the
// profile's DMTA limits and the plan of the new segments. Refusals: tests/protocols/invalid/dmta-*.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::protocols;

namespace {

const fs::path jobs_dir = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs";

// As `dmacycle validate` reads a job: with its profile found beside it.
JobFile shipped(const std::string& name) {
    const fs::path path = jobs_dir / name;
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    auto file = parse_job(
        text.str(), [&](const std::string& profile) { return find_profile_limit(profile, path); });
    for (const auto& error : file.errors) {
        FAIL_CHECK(error.to_string(name));
    }
    REQUIRE(file.ok());
    return file;
}

const std::string as_cast = R"(profile: sim-la30
sample:
  id: R1
  composition: La30Ce30Ni10Al20Co10
  density: 6.3 g/cm3
  width: 1.2 mm
  thickness: 30 µm
  gauge_length: 10 mm
dmta: {}
)";

std::vector<SegmentKind> kinds(const Plan& plan) {
    std::vector<SegmentKind> out;
    for (const auto& segment : plan.segments) {
        out.push_back(segment.kind);
    }
    return out;
}

}  // namespace

TEST_CASE("the shipped as-cast DMTA job: 300 to 450 K at 2 K/min at 1 2 4 8 Hz") {
    const auto file = shipped("dmta.yaml");
    CHECK(file.kind == JobKind::dmta);
    CHECK_FALSE(file.sweep);
    REQUIRE(file.runs.size() == 1);
    const Job& job = file.runs.front();
    CHECK(job.kind == JobKind::dmta);
    CHECK(job.temperature_k == 300.0);  // equilibrated at the scan's start
    REQUIRE(job.dmta.has_value());
    const DmtaScan& scan = *job.dmta;
    CHECK(scan.from_k == 300.0);
    CHECK(scan.to_k == 450.0);
    CHECK(scan.rate_k_s == doctest::Approx(2.0 / 60));
    CHECK(scan.frequencies_hz == std::vector<double>{1, 2, 4, 8});
    CHECK(scan.amplitude_m == doctest::Approx(5e-6));
    CHECK(scan.interval_s == 5.0);

    const Plan plan = make_plan(job, file.frame_force_limit_n);
    CHECK(kinds(plan) == std::vector<SegmentKind>{SegmentKind::equilibrate, SegmentKind::hold,
                                                  SegmentKind::pre_tension,
                                                  SegmentKind::dmta_scan});
    const Segment& segment = plan.segments.back();
    CHECK(segment.start_s == 600.0);      // after the 10 min hold
    CHECK(segment.duration_s == 4500.0);  // 150 K at 2 K/min = 75 min
    CHECK(segment.temperature_k == 300.0);
    CHECK(segment.temperature_end_k == 450.0);
    CHECK(segment.temperature_rate_k_s == doctest::Approx(2.0 / 60));
    CHECK(segment.frequencies_hz == std::vector<double>{1, 2, 4, 8});
    CHECK(segment.interval_s == 5.0);
    CHECK(segment.force_n == 0.01);
    CHECK(segment.stress_start_pa == doctest::Approx(0.01 / 36e-9));
    CHECK(plan.duration_s == 5100.0);
    CHECK(plan.max_duration_s == 8700.0);  // plus the 1 h equilibration timeout
    CHECK(plan.peak_force_n == 0.01);
    CHECK(plan.stress_setpoint_pa(3000) == doctest::Approx(plan.pre_tension_stress_pa));
}

TEST_CASE("the chained job: a scan after 0 h and after 8 h of recovery each on its own sample") {
    const auto file = shipped("mode1-0-200-dmta.yaml");
    CHECK(file.kind == JobKind::cycling_dmta);
    CHECK(file.sweep);
    REQUIRE(file.runs.size() == 2);
    CHECK(file.runs[0].sample.id == "LCNAC-0-200-dmta-r0h");
    CHECK(file.runs[1].sample.id == "LCNAC-0-200-dmta-r8h");
    CHECK(file.runs[0].name == "mode1-0-200-dmta-r0h");
    CHECK(file.runs[1].sweep_point == "recovery 8 h");
    CHECK(file.runs[0].recovery_s == 0.0);
    CHECK(file.runs[1].recovery_s == 28800.0);
    for (const Job& run : file.runs) {
        CHECK(run.kind == JobKind::cycling_dmta);
        CHECK(run.temperature_k == 365.0);
        CHECK(run.cycling.stress_max_pa == 200e6);
        REQUIRE(run.dmta.has_value());
        CHECK(run.dmta->from_k == 300.0);
    }

    // 0 h: the scan follows the cycling; the furnace's cooling to 300 K is its only recovery.
    const Plan now = make_plan(file.runs[0], file.frame_force_limit_n);
    CHECK(kinds(now) == std::vector<SegmentKind>{SegmentKind::equilibrate, SegmentKind::hold,
                                                 SegmentKind::pre_tension, SegmentKind::cycle,
                                                 SegmentKind::equilibrate, SegmentKind::dmta_scan});
    const Segment& cool = now.segments[4];
    CHECK(cool.start_s == 29400.0);  // 10 min hold + 60 cycles of 8 min
    CHECK(cool.temperature_k == 300.0);
    CHECK(cool.timeout_s == 3600.0);
    CHECK(cool.tolerance_k == 0.5);
    CHECK(cool.force_n == 0.01);
    CHECK(now.segments[5].start_s == 29400.0);
    CHECK(now.segments[5].duration_s == 4500.0);
    CHECK(now.duration_s == 33900.0);
    CHECK(now.max_duration_s == 33900.0 + 2 * 3600.0);  // two equilibrations
    CHECK(now.cycles == 60);

    const Plan later = make_plan(file.runs[1], file.frame_force_limit_n);
    CHECK(kinds(later) == std::vector<SegmentKind>{SegmentKind::equilibrate, SegmentKind::hold,
                                                   SegmentKind::pre_tension, SegmentKind::cycle,
                                                   SegmentKind::recovery, SegmentKind::equilibrate,
                                                   SegmentKind::dmta_scan});
    CHECK(later.segments[4].duration_s == 28800.0);
    CHECK(later.segments[6].start_s == 58200.0);
    CHECK(later.duration_s == 62700.0);
}

TEST_CASE("DMTA defaults: the paper's scan and recovery times 0 h and 8 h") {
    const auto file = parse_job(as_cast);
    REQUIRE(file.ok());
    const DmtaScan& scan = file.runs.front().dmta.value();
    CHECK(scan.from_k == 300.0);
    CHECK(scan.to_k == 450.0);
    CHECK(scan.rate_k_s == doctest::Approx(2.0 / 60));
    CHECK(scan.frequencies_hz == std::vector<double>{1, 2, 4, 8});
    CHECK(scan.amplitude_m == 5e-6);
    CHECK(scan.interval_s == 5.0);
    CHECK(file.runs.front().hold_s == 600.0);

    std::string chained = as_cast;
    chained.replace(chained.find("dmta: {}"), 8,
                    "temperature: 365 K\ncycling:\n  mode: amplitude\n  amplitude: 100 MPa\n"
                    "dmta: {}");
    const auto pair = parse_job(chained);
    REQUIRE(pair.ok());
    REQUIRE(pair.runs.size() == 2);
    CHECK(pair.runs[0].recovery_s == 0.0);
    CHECK(pair.runs[1].recovery_s == 28800.0);
}

TEST_CASE("DMTA units: degrees Celsius and K/s and kHz and a single frequency") {
    std::string text = as_cast;
    text.replace(text.find("dmta: {}"), 8,
                 "dmta:\n  from: 30 °C\n  to: 180 °C\n  rate: 0.05 K/s\n  frequencies: 0.001 kHz\n"
                 "  amplitude: 0.01 mm\n  interval: 0.5 min\n");
    const auto file = parse_job(text);
    for (const auto& error : file.errors) {
        FAIL_CHECK(error.to_string("job.yaml"));
    }
    REQUIRE(file.ok());
    const DmtaScan& scan = file.runs.front().dmta.value();
    CHECK(scan.from_k == doctest::Approx(303.15));
    CHECK(scan.to_k == doctest::Approx(453.15));
    CHECK(scan.rate_k_s == doctest::Approx(0.05));
    CHECK(scan.frequencies_hz == std::vector<double>{1.0});
    CHECK(scan.amplitude_m == doctest::Approx(10e-6));
    CHECK(scan.interval_s == 30.0);
    CHECK(make_plan(file.runs.front()).segments.back().duration_s == doctest::Approx(3000));
}

TEST_CASE("the profile narrows the DMTA ranges only where it states them") {
    std::string text = as_cast;
    text.replace(text.find("dmta: {}"), 8, "dmta:\n  amplitude: 80 µm\n  from: 290 K\n");
    const auto silent = parse_job(text, [](const std::string&) { return ProfileLimit{18.0, {}}; });
    CHECK(silent.ok());
    const auto narrow = parse_job(text, [](const std::string&) {
        ProfileLimit limit{18.0, {}};
        limit.amplitude_min_m = 0.5e-6;
        limit.amplitude_max_m = 50e-6;
        limit.ambient_k = 298.15;
        return limit;
    });
    REQUIRE(narrow.errors.size() == 2);
    CHECK(narrow.errors[0].to_string("job.yaml") ==
          "job.yaml:10:14: dmta.amplitude: 80 µm is outside the frame's range (allowed range "
          "0.5 µm … 50 µm, profile frame.amplitude_min_m/max_m)");
    CHECK(narrow.errors[1].field == "dmta.from");
    CHECK(narrow.errors[1].line == 11);
}

TEST_CASE("read_profile_limit reads the DMTA keys of sim-la30 and refuses a bad one") {
    const auto limit =
        read_profile_limit(fs::path(DMACYCLE_SOURCE_DIR) / "config/instruments/sim-la30.yaml");
    REQUIRE(limit.force_max_n.has_value());
    CHECK(*limit.force_max_n == 18.0);
    CHECK(limit.frequency_min_hz == 0.1);
    CHECK(limit.frequency_max_hz == 200.0);
    CHECK(limit.amplitude_min_m == 0.5e-6);
    CHECK(limit.amplitude_max_m == 50e-6);
    CHECK(limit.ambient_k == 298.15);

    const fs::path bad = fs::temp_directory_path() / "dmacycle-test-bad-dmta-profile.yaml";
    std::ofstream(bad) << "frame:\n  force_max_n: 18\n  amplitude_max_m: lots\n";
    const auto refused = read_profile_limit(bad);
    fs::remove(bad);
    CHECK_FALSE(refused.force_max_n.has_value());
    CHECK(refused.problem.find("frame.amplitude_max_m 'lots' is not a positive number") !=
          std::string::npos);
}
