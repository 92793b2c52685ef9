// `dmacycle validate` and `dmacycle plan`, called as the command-line tool calls them, on the
// shipped jobs and on the invalid-job corpus.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/cli/commands.hpp"

namespace fs = std::filesystem;
namespace cli = dmacycle::cli;

namespace {

struct Result {
    int exit_code = -1;
    std::string out, err;
};

Result call(int (*command)(std::span<const std::string_view>, std::ostream&, std::ostream&),
            std::vector<std::string> args) {
    const std::vector<std::string_view> views(args.begin(), args.end());
    std::ostringstream out, err;
    const int code = command(views, out, err);
    return {code, out.str(), err.str()};
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> result;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        result.push_back(line);
    }
    return result;
}

const fs::path source_dir(DMACYCLE_SOURCE_DIR);

}  // namespace

TEST_CASE("the invalid-job corpus: each file refused with file:line:column and the field") {
    // Each file's first line is "# expect: LINE:COLUMN: FIELD" (or the start of the message
    // when no field applies, e.g. YAML syntax errors).
    const fs::path corpus = source_dir / "tests" / "protocols" / "invalid";
    const std::regex located(R"(^.+\.yaml:[0-9]+:[0-9]+: .+)");
    int files = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        const std::string path = entry.path().string();
        CAPTURE(path);
        std::ifstream file(path);
        std::string header;
        std::getline(file, header);
        REQUIRE(header.rfind("# expect: ", 0) == 0);
        const std::string expected = path + ":" + header.substr(10);

        const auto result = call(cli::run_validate, {path});
        CAPTURE(result.err);
        CHECK(result.exit_code == cli::exit_bad_input);
        CHECK(result.out.empty());
        const auto errors = lines(result.err);
        CHECK_FALSE(errors.empty());
        for (const auto& line : errors) {
            CHECK(std::regex_match(line, located));
        }
        CHECK(std::any_of(errors.begin(), errors.end(),
                          [&](const std::string& line) { return line.rfind(expected, 0) == 0; }));
        // plan refuses the same file the same way, printing no plan.
        const auto plan = call(cli::run_plan, {path});
        CHECK(plan.exit_code == cli::exit_bad_input);
        CHECK(plan.out.empty());
        CHECK(plan.err == result.err);
        ++files;
    }
    CHECK(files >= 20);
}

TEST_CASE("validate accepts every shipped job and names the run count") {
    std::vector<std::string> paths;
    for (const auto& entry : fs::directory_iterator(source_dir / "config" / "jobs")) {
        paths.push_back(entry.path().string());
    }
    const auto result = call(cli::run_validate, paths);
    CAPTURE(result.err);
    CHECK(result.exit_code == cli::exit_ok);
    CHECK(result.err.empty());
    CHECK(lines(result.out).size() == paths.size());
    CHECK(result.out.find("mode2-sweep.yaml: ok, 5 runs (sweep)") != std::string::npos);
}

TEST_CASE("validate: a missing file and missing arguments are refused") {
    const auto missing = call(cli::run_validate, {"/nonexistent/job.yaml"});
    CHECK(missing.exit_code == cli::exit_bad_input);
    CHECK(missing.err.find("/nonexistent/job.yaml: cannot open") != std::string::npos);
    CHECK(call(cli::run_validate, {}).exit_code == cli::exit_bad_input);
    CHECK(call(cli::run_plan, {"a.yaml", "b.yaml"}).exit_code == cli::exit_bad_input);
    CHECK(call(cli::run_plan, {"--jsn", "a.yaml"}).exit_code == cli::exit_bad_input);
}

TEST_CASE("plan prints segments, cycle count, duration and peak force of the main job") {
    const auto result =
        call(cli::run_plan, {(source_dir / "config/jobs/mode1-0-200.yaml").string()});
    CAPTURE(result.out);
    CHECK(result.exit_code == cli::exit_ok);
    CHECK(result.out.find("cycle        0:10:00    8:00:00    0 MPa ↔ 200 MPa at 50 MPa/min, "
                          "60 cycles of 8 min") != std::string::npos);
    CHECK(result.out.find("recovery     8:10:00    8:00:00") != std::string::npos);
    CHECK(result.out.find("cycles: 60 of 8 min") != std::string::npos);
    CHECK(result.out.find("predicted duration: 16:10:00") != std::string::npos);
    CHECK(result.out.find("peak force: 7.2 N (200 MPa on 1.2 mm × 30 µm) against the limit 18 N") !=
          std::string::npos);
}

TEST_CASE("plan --json: one plan per sweep point") {
    const auto result =
        call(cli::run_plan, {(source_dir / "config/jobs/mode3-sweep.yaml").string(), "--json"});
    REQUIRE(result.exit_code == cli::exit_ok);
    const auto json = nlohmann::json::parse(result.out);
    CHECK(json["sweep"] == true);
    REQUIRE(json["runs"].size() == 4);
    const auto& last = json["runs"][3];
    CHECK(last["sample_id"] == "LCNAC-m3-0-400");
    CHECK(last["cycles"] == 30);
    CHECK(last["peak_force_n"].get<double>() == doctest::Approx(14.4));
    CHECK(last["frame_force_limit_n"].get<double>() == 18.0);
    const auto& cycle = last["segments"][3];
    CHECK(cycle["kind"] == "cycle");
    CHECK(cycle["stress_max_pa"].get<double>() == doctest::Approx(400e6));
    CHECK(cycle["period_s"].get<double>() == doctest::Approx(960));
    CHECK(cycle["stress_rate_pa_s"].get<double>() == doctest::Approx(50e6 / 60));
}

TEST_CASE("the dmacycle executable wires validate and plan, with their exit codes") {
    const std::string binary = std::string(DMACYCLE_BIN_DIR) + "/dmacycle";
    const auto exit_code = [&](const std::string& args) {
        const int status = std::system((binary + " " + args + " >/dev/null 2>&1").c_str());
        REQUIRE(WIFEXITED(status));
        return WEXITSTATUS(status);
    };
    const auto job = (source_dir / "config/jobs/mode1-0-200.yaml").string();
    const auto bad = (source_dir / "tests/protocols/invalid/force-beyond-frame.yaml").string();
    CHECK(exit_code("validate " + job) == cli::exit_ok);
    CHECK(exit_code("plan " + job + " --json") == cli::exit_ok);
    CHECK(exit_code("validate " + bad) == cli::exit_bad_input);
    CHECK(exit_code("plan " + bad) == cli::exit_bad_input);
}
