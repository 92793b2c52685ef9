#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dmacycle/io/profiles.hpp"
#include "dmacycle/io/shipped_config.hpp"
#include "dmacycle/protocols/job.hpp"
#include "dmacycle/protocols/plan.hpp"

namespace fs = std::filesystem;
using namespace dmacycle::protocols;
using dmacycle::io::find_profile_limit;
using dmacycle::io::read_profile_limit;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

const fs::path jobs_dir = fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs";

// As `dmacycle validate` reads a shipped job: with its profile found beside it.
JobFile shipped(const std::string& name) {
    const fs::path path = jobs_dir / name;
    auto file = parse_job(
        slurp(path), [&](const std::string& profile) { return find_profile_limit(profile, path); });
    for (const auto& error : file.errors) {
        FAIL_CHECK(error.to_string(name));
    }
    REQUIRE(file.ok());
    return file;
}

// The minimal valid job; tests change one thing at a time.
const std::string minimal = R"(profile: sim-la30
sample:
  id: R1
  composition: La30Ce30Ni10Al20Co10
  density: 6.3 g/cm3
  width: 1.2 mm
  thickness: 30 µm
  gauge_length: 10 mm
temperature: 92 °C
cycling:
  mode: custom
  stress_min: 0 MPa
  stress_max: 200 MPa
  stress_rate: 50 MPa/min
)";

}  // namespace

TEST_CASE("every shipped job file validates") {
    int files = 0;
    for (const auto& entry : fs::directory_iterator(jobs_dir)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        CAPTURE(entry.path());
        const auto file = parse_job(slurp(entry.path()));
        for (const auto& error : file.errors) {
            FAIL_CHECK(error.to_string(entry.path().string()));
        }
        CHECK_FALSE(file.runs.empty());
        ++files;
    }
    CHECK(files >= 7);
}

TEST_CASE("the main job: 365 K, 0-200 MPa at 50 MPa/min, 60 cycles, 7.2 N") {
    const auto file = shipped("mode1-0-200.yaml");
    REQUIRE(file.runs.size() == 1);
    CHECK_FALSE(file.sweep);
    const Job& job = file.runs.front();
    CHECK(job.sample.id == "LCNAC-0-200");
    CHECK(job.profile == "sim-la30");
    CHECK(job.temperature_k == 365.0);
    CHECK(job.sample.width_m == doctest::Approx(1.2e-3));
    CHECK(job.sample.thickness_m == doctest::Approx(30e-6));
    CHECK(job.sample.density_kg_m3 == doctest::Approx(6300));
    CHECK(job.cycling.stress_min_pa == 0.0);
    CHECK(job.cycling.stress_max_pa == doctest::Approx(200e6));
    CHECK(job.cycling.stress_rate_pa_s == doctest::Approx(50e6 / 60));
    CHECK(job.limits.max_strain == doctest::Approx(0.05));
    CHECK_FALSE(job.analysis.lambda);

    const Plan plan = make_plan(job);
    CHECK(plan.period_s == doctest::Approx(480));
    CHECK(plan.cycles == 60);
    CHECK(plan.cycling_unused_s == doctest::Approx(0).epsilon(1e-9));
    CHECK(plan.peak_force_n == doctest::Approx(7.2));
    CHECK(plan.force_limit_n == 18.0);
    // hold 10 min + 8 h cycling + 8 h recovery; σ_min = 0 needs no load or unload ramp.
    CHECK(plan.duration_s == doctest::Approx(600 + 2 * 28800));
    CHECK(plan.max_duration_s == doctest::Approx(plan.duration_s + 3600));
    REQUIRE(plan.segments.size() == 5);
    CHECK(plan.segments[0].kind == SegmentKind::equilibrate);
    CHECK(plan.segments[0].tolerance_k == 0.5);
    CHECK(plan.segments[1].kind == SegmentKind::hold);
    CHECK(plan.segments[1].duration_s == 600);
    CHECK(plan.segments[2].kind == SegmentKind::pre_tension);
    CHECK(plan.segments[2].force_n == 0.01);
    CHECK(plan.segments[3].kind == SegmentKind::cycle);
    CHECK(plan.segments[3].start_s == 600);
    CHECK(plan.segments[3].duration_s == doctest::Approx(28800));
    CHECK(plan.segments[4].kind == SegmentKind::recovery);
    CHECK(plan.segments[4].start_s == doctest::Approx(600 + 28800));
    CHECK(plan.segments[4].duration_s == 28800);
}

TEST_CASE("the stress setpoint follows the triangle and never drops below the pre-tension") {
    const Plan plan = make_plan(shipped("mode1-0-200.yaml").runs.front());
    const double cycle_start_s = 600, pre_pa = 0.01 / 3.6e-8;
    CHECK(plan.pre_tension_stress_pa == doctest::Approx(pre_pa));
    CHECK(plan.stress_setpoint_pa(300) == doctest::Approx(pre_pa));  // hold
    CHECK(plan.stress_setpoint_pa(cycle_start_s) == doctest::Approx(pre_pa));
    CHECK(plan.stress_setpoint_pa(cycle_start_s + 120) == doctest::Approx(100e6));
    CHECK(plan.stress_setpoint_pa(cycle_start_s + 240) == doctest::Approx(200e6));
    CHECK(plan.stress_setpoint_pa(cycle_start_s + 360) == doctest::Approx(100e6));
    CHECK(plan.stress_setpoint_pa(cycle_start_s + 59 * 480 + 240) == doctest::Approx(200e6));
    CHECK(plan.stress_setpoint_pa(cycle_start_s + 28800 + 10) == doctest::Approx(pre_pa));
}

TEST_CASE("creep (100-100): load ramp, constant stress, unload ramp, no cycles") {
    const Job job = shipped("mode1-100-100.yaml").runs.front();
    CHECK(job.cycling.creep());
    const Plan plan = make_plan(job);
    CHECK(plan.cycles == 0);
    REQUIRE(plan.segments.size() == 7);
    const double pre_pa = 0.01 / 3.6e-8, ramp_s = (100e6 - pre_pa) / (50e6 / 60);
    CHECK(plan.segments[3].kind == SegmentKind::load);
    CHECK(plan.segments[3].duration_s == doctest::Approx(ramp_s));
    CHECK(plan.segments[4].kind == SegmentKind::creep);
    CHECK(plan.segments[4].duration_s == 28800);
    CHECK(plan.stress_setpoint_pa(plan.segments[4].start_s + 1000) == doctest::Approx(100e6));
    CHECK(plan.segments[5].kind == SegmentKind::unload);
    CHECK(plan.segments[5].duration_s == doctest::Approx(ramp_s));
    CHECK(plan.segments[6].kind == SegmentKind::recovery);
    CHECK(plan.duration_s == doctest::Approx(600 + 2 * ramp_s + 2 * 28800));
    CHECK(plan.peak_force_n == doctest::Approx(3.6));
}

TEST_CASE("one job per mode: the mode's parameters resolve to σ_min, σ_max and rate") {
    const Job rate = shipped("mode2-rate-50.yaml").runs.front();
    CHECK(rate.cycling.mode == Mode::stress_rate);
    CHECK(rate.cycling.stress_min_pa == 0.0);
    CHECK(rate.cycling.stress_max_pa == doctest::Approx(200e6));
    CHECK(make_plan(rate).cycles == 60);

    const Job mean = shipped("mode3-0-400.yaml").runs.front();
    CHECK(mean.cycling.mode == Mode::mean_stress);
    CHECK(mean.cycling.stress_min_pa == 0.0);
    CHECK(mean.cycling.stress_max_pa == doctest::Approx(400e6));
    const Plan plan = make_plan(mean);
    CHECK(plan.period_s == doctest::Approx(960));
    CHECK(plan.cycles == 30);
    CHECK(plan.peak_force_n == doctest::Approx(14.4));
    CHECK(plan.force_limit_n == 16.0);  // the job's own, lower limit
}

TEST_CASE("sweeps expand into one run per point, each on its own sample") {
    const auto amplitude = shipped("mode1-sweep.yaml");
    CHECK(amplitude.sweep);
    REQUIRE(amplitude.runs.size() == 3);
    CHECK(amplitude.runs[0].sample.id == "LCNAC-m1-100-100");
    CHECK(amplitude.runs[1].sample.id == "LCNAC-m1-50-150");
    CHECK(amplitude.runs[2].sample.id == "LCNAC-m1-0-200");
    CHECK(make_plan(amplitude.runs[0]).cycles == 0);
    CHECK(make_plan(amplitude.runs[1]).cycles == 120);
    CHECK(make_plan(amplitude.runs[2]).cycles == 60);

    const auto rate = shipped("mode2-sweep.yaml");
    REQUIRE(rate.runs.size() == 5);
    const int expected_cycles[] = {15, 30, 60, 120, 240};  // 12.5 … 200 MPa/min, 0-200 MPa
    for (std::size_t i = 0; i < rate.runs.size(); ++i) {
        CHECK(rate.runs[i].cycling.stress_max_pa == doctest::Approx(200e6));
        CHECK(make_plan(rate.runs[i]).cycles == expected_cycles[i]);
    }
    CHECK(rate.runs[0].sample.id == "LCNAC-m2-0-200-r12.5");

    const auto mean = shipped("mode3-sweep.yaml");
    REQUIRE(mean.runs.size() == 4);
    const double expected_max_mpa[] = {50, 100, 200, 400};
    for (std::size_t i = 0; i < mean.runs.size(); ++i) {
        CHECK(mean.runs[i].cycling.stress_min_pa == 0.0);
        CHECK(mean.runs[i].cycling.stress_max_pa == doctest::Approx(expected_max_mpa[i] * 1e6));
    }
    CHECK(mean.runs[3].sample.id == "LCNAC-m3-0-400");
}

TEST_CASE("defaults: hold 600 s, pre-tension 0.01 N, cycling and recovery 8 h, frame 18 N") {
    const auto file = parse_job(minimal);
    REQUIRE(file.ok());
    const Job& job = file.runs.front();
    CHECK(job.temperature_k == doctest::Approx(365.15));
    CHECK(job.hold_s == 600);
    CHECK(job.pre_tension_n == 0.01);
    CHECK(job.cycling.duration_s == 28800);
    CHECK(job.recovery_s == 28800);
    CHECK(job.limits.max_force_n == 18.0);
    CHECK(job.name == "R1");
}

TEST_CASE("a duration that is not a whole number of cycles runs whole cycles only") {
    const auto file = parse_job(minimal + "  duration: 20 min\n");
    REQUIRE(file.ok());
    const Plan plan = make_plan(file.runs.front());
    CHECK(plan.cycles == 2);
    CHECK(plan.cycling_unused_s == doctest::Approx(240));
}

TEST_CASE("the frame limit is exact at the boundary and lowered by the profile's frame") {
    // 500 MPa on 1.2 mm × 30 µm is exactly 18 N.
    std::string at_limit = minimal;
    at_limit.replace(at_limit.find("200 MPa"), 7, "500 MPa");
    CHECK(parse_job(at_limit).ok());
    const auto weaker_frame = parse_job(minimal, 5.0);
    REQUIRE_FALSE(weaker_frame.ok());
    CHECK(weaker_frame.errors.front().field == "cycling.stress_max");
    CHECK(weaker_frame.errors.front().message.find("frame limit 5 N") != std::string::npos);
}

TEST_CASE("all problems are collected, in file order, each with line and column") {
    const auto file = parse_job(R"(profile: sim la30
sample:
  id: R1
  composition: La30Ce30Ni10Al20Co10
  density: 6.3
  width: 1.2 mm
  thickness: 30 µm
  gauge_length: 10 mm
temperature: 365
cycling:
  mode: custom
  stress_min: 0 MPa
  stress_max: 200 MPa
  stress_rate: 50 MPa/min
  colour: red
)");
    REQUIRE(file.errors.size() == 4);
    CHECK(file.errors[0].line == 1);
    CHECK(file.errors[0].field == "profile");
    CHECK(file.errors[1].line == 5);
    CHECK(file.errors[1].column == 12);
    CHECK(file.errors[1].field == "sample.density");
    CHECK(file.errors[2].field == "temperature");
    CHECK(file.errors[3].line == 15);
    CHECK(file.errors[3].column == 3);
    CHECK(file.errors[3].field == "cycling.colour");
    CHECK(file.errors[3].to_string("job.yaml") ==
          "job.yaml:15:3: cycling.colour: unknown key 'colour' (allowed: mode, stress_min, "
          "stress_max, stress_rate, duration)");
    CHECK(file.runs.empty());
}

TEST_CASE("every prefix of the shipped jobs is parsed without throwing, each problem located") {
    // Truncated files are what an interrupted copy or an editor crash leaves behind.
    for (const auto& entry : fs::directory_iterator(jobs_dir)) {
        const std::string text = slurp(entry.path());
        CAPTURE(entry.path());
        for (std::size_t length = 0; length < text.size(); ++length) {
            CAPTURE(length);
            JobFile file;
            REQUIRE_NOTHROW(file = parse_job(std::string_view(text).substr(0, length)));
            CHECK(file.ok() != file.runs.empty());
            for (const auto& error : file.errors) {
                CHECK(error.line >= 1);
                CHECK(error.to_string("f").find('\n') == std::string::npos);
            }
        }
    }
}

namespace {

std::string with(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

const Diagnostic& only_error(const JobFile& file) {
    if (file.errors.size() != 1) {
        for (const auto& error : file.errors) {
            MESSAGE(error.to_string("job.yaml"));
        }
    }
    REQUIRE(file.errors.size() == 1);
    return file.errors.front();
}

}  // namespace

TEST_CASE("a triangle too fast for 10 Hz sampling is refused where it is set, not planned") {
    const std::string amplitude_job = with(minimal, R"(  mode: custom
  stress_min: 0 MPa
  stress_max: 200 MPa
  stress_rate: 50 MPa/min
)",
                                           R"(  mode: amplitude
  mean: 100 MPa
  amplitude: 100 MPa
  stress_rate: 50 MPa/min
)");
    // 1 Pa at 999 MPa/min planned −2147483648 cycles; 1e-300 MPa an infinite count; 0.01 MPa
    // 600,000 cycles of 0.048 s.
    for (const auto& point : {std::pair{"1 Pa", "999 MPa/min"},
                              {"1e-300 MPa", "50 MPa/min"},
                              {"0.01 MPa", "50 MPa/min"}}) {
        const auto [amplitude, rate] = point;
        const char* const shown = amplitude;  // clang 14 cannot capture a structured binding
        CAPTURE(shown);
        const auto file = parse_job(
            with(with(amplitude_job, "amplitude: 100 MPa", std::string("amplitude: ") + amplitude),
                 "stress_rate: 50 MPa/min", std::string("stress_rate: ") + rate));
        const auto& error = only_error(file);
        CHECK(error.line == 13);
        CHECK(error.column == 14);
        CHECK(error.field == "cycling.amplitude");
        CHECK(error.message.find("shorter than the 10 s") != std::string::npos);
        CHECK(error.message.find("allowed range") != std::string::npos);
    }
    // The shortest allowed period: 2 × 2·A / rate = 10 s at 50 MPa/min needs A ≥ 2.0833 MPa.
    const auto shortest =
        parse_job(with(amplitude_job, "amplitude: 100 MPa", "amplitude: 2.1 MPa"));
    REQUIRE(shortest.ok());
    const auto plan = make_plan(shortest.runs.front());
    CHECK(plan.period_s == doctest::Approx(10.08));
    CHECK(plan.cycles == 2857);
    // A rate sweep points at the offending rate.
    const auto rate_sweep =
        parse_job(with(with(with(amplitude_job, "mode: amplitude", "mode: stress_rate"),
                            "amplitude: 100 MPa", "amplitude: 5 MPa"),
                       "stress_rate: 50 MPa/min", "stress_rate: [50 MPa/min, 999 MPa/min]"));
    CHECK(only_error(rate_sweep).field == "cycling.stress_rate[1]");
    // make_plan refuses a hand-built job it cannot plan instead of overflowing.
    Job job = shortest.runs.front();
    job.cycling.stress_max_pa = job.cycling.stress_min_pa + 1;
    CHECK_THROWS_AS(make_plan(job), std::invalid_argument);
}

TEST_CASE("the equilibration tolerance must fit the default band too") {
    const auto file = parse_job(with(minimal, "temperature: 92 °C\n",
                                     "temperature: 92 °C\nequilibrate:\n  tolerance: 5 K\n"));
    const auto& error = only_error(file);
    CHECK(error.field == "equilibrate.tolerance");
    CHECK(error.line == 11);
    CHECK(error.message.find("± 1 K") != std::string::npos);
    CHECK(parse_job(with(minimal, "temperature: 92 °C\n",
                         "temperature: 92 °C\nequilibrate:\n  tolerance: 1 K\n"))
              .ok());
}

TEST_CASE("equilibration settles over a minute unless the job says otherwise") {
    CHECK(parse_job(minimal).runs.front().equilibrate_settle_s == 60.0);
    const auto set = parse_job(with(minimal, "temperature: 92 °C\n",
                                    "temperature: 92 °C\nequilibrate:\n  settle: 2 min\n"));
    REQUIRE(set.ok());
    CHECK(set.runs.front().equilibrate_settle_s == 120.0);
    const auto one_reading = parse_job(
        with(minimal, "temperature: 92 °C\n", "temperature: 92 °C\nequilibrate:\n  settle: 0 s\n"));
    REQUIRE(one_reading.ok());
    CHECK(one_reading.runs.front().equilibrate_settle_s == 0.0);
    const auto too_long = parse_job(
        with(minimal, "temperature: 92 °C\n", "temperature: 92 °C\nequilibrate:\n  settle: 2 h\n"));
    const auto& error = only_error(too_long);
    CHECK(error.field == "equilibrate.settle");
    CHECK(error.line == 11);
    CHECK(error.message.find("30 min") != std::string::npos);
}

TEST_CASE("bounds written in another unit than the range's are allowed") {
    CHECK(parse_job(with(minimal, "temperature: 92 °C", "temperature: -150 °C")).ok());
    CHECK(parse_job(with(minimal, "temperature: 92 °C", "temperature: 600 °C")).ok());
    CHECK(parse_job(with(minimal, "stress_rate: 50 MPa/min", "stress_rate: 1000 MPa/min")).ok());
    CHECK(parse_job(with(minimal, "density: 6.3 g/cm3", "density: 1 g/cm3")).ok());
    CHECK_FALSE(parse_job(with(minimal, "temperature: 92 °C", "temperature: -150.001 °C")).ok());
    CHECK_FALSE(
        parse_job(with(minimal, "stress_rate: 50 MPa/min", "stress_rate: 1000.001 MPa/min")).ok());
}

TEST_CASE("names and sample ids: 1 to 64 plain characters starting with a letter or digit") {
    for (const std::string& bad : std::vector<std::string>{
             "..", ".", ".hidden", "-R1", "_R1", std::string(65, 'a'), "R 1", "R/1", "\"\""}) {
        CAPTURE(bad);
        const auto file = parse_job(with(minimal, "id: R1", "id: " + bad));
        CHECK(only_error(file).field == "sample.id");
        CHECK_FALSE(parse_job("name: " + bad + "\n" + minimal).ok());
    }
    for (const std::string& good :
         std::vector<std::string>{"R1", "1", "LCNAC-0-200", "a.b_c-d", std::string(64, 'a')}) {
        CAPTURE(good);
        CHECK(parse_job("name: " + good + "\n" + with(minimal, "id: R1", "id: " + good)).ok());
    }
}

TEST_CASE("sweep points that would share a sample id are refused") {
    const std::string sweep = with(minimal, R"(  mode: custom
  stress_min: 0 MPa
  stress_max: 200 MPa
  stress_rate: 50 MPa/min
)",
                                   R"(  mode: amplitude
  amplitude: [50 MPa, 50 MPa, 50.0000001 MPa]
)");
    const auto file = parse_job(sweep);
    REQUIRE(file.errors.size() == 2);
    CHECK(file.errors[0].field == "cycling.amplitude[1]");
    CHECK(file.errors[1].field == "cycling.amplitude[2]");
    CHECK(file.errors[0].message.find("repeats the sweep point 50-150") != std::string::npos);
    // A long id that fits alone but not with the point's label.
    const auto long_id =
        parse_job(with(with(sweep, "[50 MPa, 50 MPa, 50.0000001 MPa]", "[50 MPa, 60 MPa]"),
                       "id: R1", "id: " + std::string(60, 'a')));
    REQUIRE(long_id.errors.size() == 2);
    CHECK(long_id.errors[0].message.find("exceeds 64 characters") != std::string::npos);
}

TEST_CASE("a second YAML document is refused at its start") {
    const auto file = parse_job(minimal + "---\nfoo: bar\n");
    const auto& error = only_error(file);
    CHECK(error.line == 16);
    CHECK(error.message.find("second YAML document") != std::string::npos);
}

TEST_CASE("the frame limit comes from the job's instrument profile") {
    const fs::path dir = fs::temp_directory_path() / "dmacycle-profile-test";
    fs::remove_all(dir);
    fs::create_directories(dir / "jobs");
    fs::create_directories(dir / "instruments");
    std::ofstream(dir / "instruments" / "weak.yaml") << "identity:\n  model: X\nframe:\n"
                                                        "  force_max_n: 5.0\n";
    std::ofstream(dir / "instruments" / "broken.yaml") << "frame:\n  force_max_n: lots\n";
    const fs::path job_path = dir / "jobs" / "job.yaml";
    const ProfileResolver resolve = [&](const std::string& name) {
        return find_profile_limit(name, job_path);
    };
    // Beside the job: 5 N, so 200 MPa on 1.2 mm × 30 µm (7.2 N) is too much.
    const auto weak = parse_job(with(minimal, "profile: sim-la30", "profile: weak"), resolve);
    CHECK(only_error(weak).message.find("frame limit 5 N") != std::string::npos);
    const auto light = parse_job(
        with(with(minimal, "profile: sim-la30", "profile: weak"), "200 MPa", "100 MPa"), resolve);
    REQUIRE(light.ok());
    CHECK(light.frame_force_limit_n == 5.0);
    CHECK(make_plan(light.runs.front(), light.frame_force_limit_n).force_limit_n == 5.0);
    // The source tree's shipped profile when none is beside the job.
    const auto shipped = parse_job(minimal, resolve);
    REQUIRE(shipped.ok());
    CHECK(shipped.frame_force_limit_n == 18.0);
    // Unknown or unreadable: an error at the profile line.
    const auto unknown = parse_job(with(minimal, "profile: sim-la30", "profile: nosuch"), resolve);
    const auto& error = only_error(unknown);
    CHECK(error.line == 1);
    CHECK(error.column == 10);
    CHECK(error.field == "profile");
    CHECK(error.message.find("unknown instrument profile 'nosuch'") != std::string::npos);
    const auto broken = parse_job(with(minimal, "profile: sim-la30", "profile: broken"), resolve);
    CHECK(only_error(broken).message.find("broken.yaml:2: frame.force_max_n: expected a number, "
                                          "got 'lots'") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("a stray comma outside brackets is a syntax error and not a hang") {
    // yaml-cpp 0.7's LoadAll loops forever on it (found by tests/fuzz/job_file).
    const auto file = parse_job("# a job\n,# stray\nname: x\n");
    const auto& error = only_error(file);
    CHECK(error.line == 2);
    CHECK(error.message.find("YAML syntax error: unexpected ','") != std::string::npos);
    const auto later = parse_job(minimal + ",\n");
    CHECK_FALSE(later.ok());
}

// Job type dmta (docs/job-files.md "DMTA scans"). Refusals: tests/protocols/invalid/dmta-*.
namespace {

// The minimal job's sample with a scan in place of temperature and cycling.
const std::string as_cast = minimal.substr(0, minimal.find("temperature:")) + "dmta: {}\n";

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
    // Within the job file's own ranges, outside sim-la30's: 0.05 Hz (from 0.1 Hz), 80 µm (up to
    // 50 µm) and 290 K (its furnace cannot cool below 298.15 K).
    std::string text = as_cast;
    text.replace(text.find("dmta: {}"), 8,
                 "dmta:\n  frequencies: [0.05 Hz]\n  interval: 40 s\n  amplitude: 80 µm\n"
                 "  from: 290 K\n");
    const auto silent = parse_job(text, [](const std::string&) { return ProfileLimit{18.0, {}}; });
    CHECK(silent.ok());
    const fs::path job_path = jobs_dir / "job.yaml";
    const auto narrow = parse_job(
        text, [&](const std::string& profile) { return find_profile_limit(profile, job_path); });
    REQUIRE(narrow.errors.size() == 3);
    CHECK(narrow.errors[0].to_string("job.yaml") ==
          "job.yaml:10:17: dmta.frequencies[0]: 0.05 Hz is outside the frame's range (allowed "
          "range 0.1 Hz … 200 Hz, profile frame.frequency_min_hz/max_hz)");
    CHECK(narrow.errors[1].to_string("job.yaml") ==
          "job.yaml:12:14: dmta.amplitude: 80 µm is outside the frame's range (allowed range "
          "0.5 µm … 50 µm, profile frame.amplitude_min_m/max_m)");
    CHECK(narrow.errors[2].to_string("job.yaml") ==
          "job.yaml:13:9: dmta.from: 290 K is not above the furnace's ambient 298.15 K (profile "
          "furnace.ambient_k): the furnace only heats (allowed range 299.15 K … 873.15 K)");
}

TEST_CASE("a job's sample_rate: in Hz, within 1 kHz and the rate the profile's frame streams") {
    CHECK_FALSE(parse_job(minimal).runs.front().sample_rate_hz.has_value());
    const auto fast =
        parse_job(with(minimal, "temperature:", "sample_rate: 0.2 kHz\ntemperature:"));
    REQUIRE(fast.ok());
    CHECK(fast.runs.front().sample_rate_hz == 200.0);

    const auto too_fast =
        parse_job(with(minimal, "temperature:", "sample_rate: 2 kHz\ntemperature:"));
    CHECK(only_error(too_fast).to_string("job.yaml") ==
          "job.yaml:9:14: sample_rate: 2 kHz is out of range (allowed range 0.001 Hz … 1000 Hz)");
    const auto garbage =
        parse_job(with(minimal, "temperature:", "sample_rate: often\ntemperature:"));
    CHECK(only_error(garbage).field == "sample_rate");

    // A profile whose frame streams at most 100 Hz refuses 200 Hz, naming the limit.
    const auto slow_frame = [](const std::string&) {
        ProfileLimit limit{18.0, {}};
        limit.stream_rate_max_hz = 100.0;
        limit.stream_rate_limit_by = "profile frame.stream_rate_max_hz";
        return limit;
    };
    const auto text = with(minimal, "temperature:", "sample_rate: 200 Hz\ntemperature:");
    CHECK(only_error(parse_job(text, slow_frame)).to_string("job.yaml") ==
          "job.yaml:9:14: sample_rate: 200 Hz is faster than the frame can stream (allowed range "
          "0.001 Hz … 100 Hz, profile frame.stream_rate_max_hz)");
    CHECK(parse_job(with(minimal, "temperature:", "sample_rate: 100 Hz\ntemperature:"), slow_frame)
              .ok());
}

TEST_CASE("read_profile_limit reads the limits of sim-la30, of any driver, and refuses a bad one") {
    const auto limit =
        read_profile_limit(fs::path(DMACYCLE_SOURCE_DIR) / "config/instruments/sim-la30.yaml");
    REQUIRE(limit.force_max_n.has_value());
    CHECK(*limit.force_max_n == 18.0);
    CHECK(limit.frequency_min_hz == 0.1);
    CHECK(limit.frequency_max_hz == 200.0);
    CHECK(limit.amplitude_min_m == 0.5e-6);
    CHECK(limit.amplitude_max_m == 50e-6);
    CHECK(limit.ambient_k == 298.15);
    CHECK(limit.stream_rate_max_hz == 1000.0);

    const fs::path bad = fs::temp_directory_path() / "dmacycle-test-bad-dmta-profile.yaml";
    std::ofstream(bad) << "frame:\n  force_max_n: 18\n  amplitude_max_m: lots\n";
    const auto refused = read_profile_limit(bad);
    fs::remove(bad);
    CHECK_FALSE(refused.force_max_n.has_value());
    CHECK(refused.problem ==
          bad.string() + ":3: frame.amplitude_max_m: expected a number, got 'lots'");

    // The same reader as the simulator's, for a real instrument's profile too: its limits, what
    // it leaves out at the simulator's defaults; a misspelt key is refused, not skipped.
    const fs::path real = fs::temp_directory_path() / "dmacycle-test-real-profile.yaml";
    std::ofstream(real) << "driver: scpi-frame\nframe:\n  force_max_n: 50\n";
    const auto limits = read_profile_limit(real);
    CHECK(limits.force_max_n == 50.0);
    CHECK(limits.frequency_max_hz == 200.0);
    std::ofstream(real) << "driver: scpi-frame\nframe:\n  force_max_N: 50\n";
    CHECK(read_profile_limit(real).problem.find("frame.force_max_N: unknown field") !=
          std::string::npos);
    fs::remove(real);
}

// Installed programs never look into the checkout they were built from: the shipped profiles are
// at ../share/dmacycle beside bin/, which in the build tree links to config/.
TEST_CASE("a profile is looked for beside the job's folder, then in the shipped configuration") {
    const auto shipped = dmacycle::io::shipped_config_dir();
    CHECK(shipped == fs::path(DMACYCLE_BIN_DIR).parent_path() / "share" / "dmacycle");
    CHECK(fs::equivalent(shipped / "instruments",
                         fs::path(DMACYCLE_SOURCE_DIR) / "config" / "instruments"));
    const auto missing = find_profile_limit("retired", "/nowhere/jobs/job.yaml");
    CHECK_FALSE(missing.force_max_n.has_value());
    CHECK(missing.problem ==
          "unknown instrument profile 'retired' (looked for "
          "/nowhere/instruments/retired.yaml and " +
              (shipped / "instruments" / "retired.yaml").string() + ")");
    CHECK(find_profile_limit("sim-la30", "/nowhere/jobs/job.yaml").force_max_n == 18.0);
}

TEST_CASE("lambda is a number or auto (the discrepancy principle) or evidence and nothing else") {
    const std::string text = slurp(jobs_dir / "mode1-0-200.yaml");
    const auto by_evidence = parse_job(with(text, "lambda: auto", "lambda: evidence"));
    REQUIRE(by_evidence.errors.empty());
    CHECK(by_evidence.runs.front().analysis.lambda_by_evidence);
    CHECK_FALSE(by_evidence.runs.front().analysis.lambda);
    const auto by_default = parse_job(text);
    REQUIRE(by_default.errors.empty());
    CHECK_FALSE(by_default.runs.front().analysis.lambda_by_evidence);
    const auto given = parse_job(with(text, "lambda: auto", "lambda: 3.5e-6"));
    REQUIRE(given.errors.empty());
    CHECK(given.runs.front().analysis.lambda == doctest::Approx(3.5e-6));

    const auto misspelt = parse_job(with(text, "lambda: auto", "lambda: bayes"));
    CHECK(only_error(misspelt)
              .to_string("job.yaml")
              .find("analysis.lambda: expected a number (the dimensionless regularization), 'auto' "
                    "or 'evidence', got 'bayes'") != std::string::npos);
}
