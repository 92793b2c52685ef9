// `dmacycle report` on real stores written by `dmacycle run` on the simulator: the figures are
// present and well-formed, every axis says its unit, and every number shown equals the store,
// read here independently (sqlite3 and nlohmann::json, not the report's code).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "command_output.hpp"
#include "run_store.hpp"
#include "temp_dir.hpp"
#include "xml_tree.hpp"

TEST_SUITE_BEGIN("report");

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using report_test::collect;
using report_test::parse_xml;
using Json = nlohmann::json;
using test_support::run_command;
using test_support::TempDir;

namespace {

const std::string dmacycle_bin = std::string(DMACYCLE_BIN_DIR) + "/dmacycle";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// The simulated 0-200 MPa run (config/jobs/mode1-0-200.yaml, 16 h in a few seconds at
// --speed max): made by the ctest fixture report.setup-0-200-run at DMACYCLE_REPORT_STORE, or
// here when the binary runs on its own; its report is made once per process.
// The simulated 0-200 MPa run (config/jobs/mode1-0-200.yaml, 16 h in a few seconds at
// --speed max): made by the ctest fixture report.setup-0-200-run at DMACYCLE_REPORT_STORE, or
// here when the binary runs on its own.
const fs::path& store_0_200() {
    static const fs::path db = [] {
        const fs::path path = DMACYCLE_REPORT_STORE;
        if (!fs::exists(path)) {
            fs::create_directories(path.parent_path());
            const auto run = run_command(dmacycle_bin + " run " + DMACYCLE_SOURCE_DIR +
                                         "/config/jobs/mode1-0-200.yaml --db " + path.string() +
                                         " --speed max --json > /dev/null");
            REQUIRE(run.code <= 1);  // 1: the noise left a fit flagged unusable
        }
        return path;
    }();
    return db;
}

// Its report, made once per process.
struct Shared {
    TempDir dir{"dmacycle-report"};
    fs::path db = store_0_200();
    fs::path out = dir.path / "report";
    int report_code = -1;
    std::string report_stdout;
    Shared() {
        const auto report =
            run_command(dmacycle_bin + " report 1 --db " + db.string() + " --out " + out.string());
        report_code = report.code;
        report_stdout = report.out;
    }
};

const Shared& shared() {
    static const Shared instance;
    return instance;
}

// The page as XML: it is written as XHTML-compatible HTML5, so an XML parser reads it whole
// (the DOCTYPE line is not XML's business).
pt::ptree parse_page(const std::string& html) {
    REQUIRE(html.rfind("<!DOCTYPE html>\n", 0) == 0);
    return parse_xml(html.substr(std::string("<!DOCTYPE html>\n").size()), "index.html");
}

// Checks a figure: well-formed standalone SVG, a frame per panel, each panel's two axis labels
// ending in a unit in parentheses. Returns how many panels it has.
std::size_t check_figure(const fs::path& file) {
    INFO(file.string());
    const auto text = read_file(file);
    REQUIRE(text.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0) == 0);
    const auto tree = parse_xml(text, file.string());
    const auto& root = tree.get_child("svg");
    CHECK(root.get<std::string>("<xmlattr>.xmlns") == "http://www.w3.org/2000/svg");
    std::vector<const pt::ptree*> rects, texts;
    collect(root, "rect", rects);
    collect(root, "text", texts);
    std::size_t frames = 0;
    for (const auto* rect : rects) {
        frames += rect->get<std::string>("<xmlattr>.class", "") == "frame" ? 1 : 0;
    }
    std::vector<std::string> labels;
    for (const auto* node : texts) {
        if (node->get<std::string>("<xmlattr>.class", "") == "axis-label") {
            labels.push_back(node->data());
        }
    }
    CHECK(frames >= 1);
    CHECK(labels.size() == 2 * frames);
    static const std::regex with_unit(R"(.+ \([^()]+\)$)");
    for (const auto& label : labels) {
        INFO(label);
        CHECK(std::regex_match(label, with_unit));
    }
    return frames;
}

struct DataValue {
    std::int64_t run = 0;
    std::string key, value;
};

std::vector<DataValue> data_values(const std::string& html) {
    static const std::regex attribute(
        R"re(data-run="(\d+)" data-key="([^"]+)" data-value="([^"]+)")re");
    std::vector<DataValue> values;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), attribute);
         it != std::sregex_iterator(); ++it) {
        values.push_back({std::stoll((*it)[1]), (*it)[2], (*it)[3]});
    }
    return values;
}

std::vector<std::string> split(const std::string& key) {
    std::vector<std::string> parts;
    std::istringstream in(key);
    for (std::string part; std::getline(in, part, '.');) {
        parts.push_back(part);
    }
    return parts;
}

// Per tag: the seq of its first and last sample and their count; one pass over the samples.
struct SegmentSeqs {
    std::int64_t first = 0, last = 0, count = 0;
};
std::map<std::string, SegmentSeqs> segment_seqs(daemon_test::Store& store, std::int64_t run) {
    const std::string grouped = " FROM samples WHERE run_id = ? GROUP BY segment ORDER BY segment";
    const auto names = store.column("SELECT segment" + grouped, run);
    const auto rows = store.real_rows("SELECT min(seq), max(seq), count(*)" + grouped, run);
    REQUIRE(names.size() == rows.size());
    std::map<std::string, SegmentSeqs> seqs;
    for (std::size_t i = 0; i < names.size(); ++i) {
        seqs[names[i]] = {static_cast<std::int64_t>(rows[i][0]),
                          static_cast<std::int64_t>(rows[i][1]),
                          static_cast<std::int64_t>(rows[i][2])};
    }
    return seqs;
}

// The value a data key names, read from the store with plain SQL and JSON (docs/report.md).
double stored_value(daemon_test::Store& store, std::int64_t run, const std::string& key,
                    const std::map<std::string, SegmentSeqs>& segments) {
    const auto parts = split(key);
    REQUIRE(!parts.empty());
    const auto one = [&](const std::string& sql) {
        const auto values = store.reals(sql, run);
        REQUIRE_MESSAGE(values.size() == 1, sql);
        return values.front();
    };
    const auto sample = [&](const char* column, std::int64_t seq) {
        return one(std::string("SELECT ") + column +
                   " FROM samples WHERE run_id = ? AND seq = " + std::to_string(seq));
    };
    const auto& head = parts[0];
    if (head == "run") {
        static const std::map<std::string, std::string> columns = {
            {"id", "SELECT id FROM runs WHERE id = ?"},
            {"job_id", "SELECT job_id FROM job_runs WHERE run_id = ?"},
            {"sweep_point", "SELECT point FROM job_runs WHERE run_id = ?"}};
        return one(columns.at(parts.at(1)));
    }
    if (head == "segments") {
        REQUIRE(parts.size() == 3);
        const auto& seqs = segments.at(parts[1]);
        if (parts[2] == "t_start_s") {
            return sample("t_s", seqs.first);
        }
        if (parts[2] == "t_end_s") {
            return sample("t_s", seqs.last);
        }
        REQUIRE(parts[2] == "samples");
        return static_cast<double>(seqs.count);
    }
    if (head == "cycles") {
        static const std::map<std::string, std::string> columns = {
            {"count", "count(*)"},
            {"stress_min_pa", "min(stress_min_pa)"},
            {"stress_max_pa", "max(stress_max_pa)"}};
        return one("SELECT " + columns.at(parts.at(1)) + " FROM cycles WHERE run_id = ?");
    }
    if (head == "recovery") {
        const auto& seqs = segments.at("recovery");
        const double initial = sample("strain", seqs.first);
        const double final_ = sample("strain", seqs.last);
        if (parts.at(1) == "strain_initial") {
            return initial;
        }
        if (parts.at(1) == "strain_final") {
            return final_;
        }
        REQUIRE(parts.at(1) == "strain_anelastic");
        return initial - final_;
    }
    if (head == "events") {
        const auto times =
            store.reals("SELECT t_s FROM events WHERE run_id = ? ORDER BY t_s, id", run);
        return times.at(std::stoul(parts.at(1)));
    }
    const auto texts =
        store.column("SELECT json FROM results WHERE run_id = ? AND kind = '" + head + "'", run);
    REQUIRE_MESSAGE(texts.size() == 1, "no result " << head << " for " << key);
    Json node = Json::parse(texts.front());
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const Json next = node.is_array() ? node.at(std::stoul(parts[i])) : node.at(parts[i]);
        node = next;
    }
    REQUIRE_MESSAGE(node.is_number(), key);
    return node.get<double>();
}

// Every data-value of the page equals the store's value exactly; returns the keys seen.
std::set<std::string> check_values(const fs::path& db, const std::string& html) {
    daemon_test::Store store(db);
    std::map<std::int64_t, std::map<std::string, SegmentSeqs>> segments;
    std::set<std::string> keys;
    const auto values = data_values(html);
    CHECK(!values.empty());
    for (const auto& value : values) {
        INFO("run " << value.run << " " << value.key << " = " << value.value);
        if (!segments.count(value.run)) {
            segments[value.run] = segment_seqs(store, value.run);
        }
        CHECK(std::strtod(value.value.c_str(), nullptr) ==
              stored_value(store, value.run, value.key, segments[value.run]));
        keys.insert(value.key);
    }
    return keys;
}

}  // namespace

TEST_CASE("the report of a 0-200 run") {
    const auto& s = shared();
    REQUIRE(s.report_code == 0);

    SUBCASE("every figure as a file and inline") {
        CHECK(s.report_stdout == (s.out / "index.html").string() + "\n");
        const auto html = read_file(s.out / "index.html");
        for (const char* name : {"strain", "recovery", "spectrum", "instant_kww", "work_done"}) {
            INFO(name);
            CHECK(fs::is_regular_file(s.out / "figures" / (std::string(name) + ".svg")));
            CHECK(html.find("<figure id=\"" + std::string(name) + "\">\n<svg ") !=
                  std::string::npos);
        }
        // Self-contained: nothing to fetch, no script.
        for (const char* fetching : {"<script", "<link", "src=", "href=\"http", "url(http"}) {
            INFO(fetching);
            CHECK(html.find(fetching) == std::string::npos);
        }
    }

    SUBCASE("every figure is well-formed SVG with a unit on every axis") {
        std::size_t figures = 0, panels = 0;
        for (const auto& entry : fs::directory_iterator(s.out / "figures")) {
            panels += check_figure(entry.path());
            ++figures;
        }
        CHECK(figures == 5);
        CHECK(panels == 7);  // strain and stress, recovery, spectrum, β and τ, v_total
    }

    SUBCASE("the page is well-formed with the figures inline and unique ids") {
        const auto tree = parse_page(read_file(s.out / "index.html"));
        std::vector<const pt::ptree*> svgs, clips;
        collect(tree, "svg", svgs);
        collect(tree, "clipPath", clips);
        CHECK(svgs.size() == 5);
        std::set<std::string> ids;
        for (const auto* clip : clips) {
            ids.insert(clip->get<std::string>("<xmlattr>.id"));
        }
        CHECK(ids.size() == clips.size());
    }

    SUBCASE("the spectrum carries the evidence's band and instant beta its standard errors") {
        const auto spectrum = read_file(s.out / "figures" / "spectrum.svg");
        CHECK(spectrum.find("class=\"band\"") != std::string::npos);
        CHECK(spectrum.find("band: ±1 sd over the plausible λ (evidence), within the window") !=
              std::string::npos);
        const auto instant = read_file(s.out / "figures" / "instant_kww.svg");
        CHECK(instant.find("class=\"error-bars\"") != std::string::npos);
        CHECK(instant.find("eq. (3) fit, β = ") != std::string::npos);
        CHECK(instant.find(" ± ") != std::string::npos);
    }

    SUBCASE("every number equals the store") {
        const auto keys = check_values(s.db, read_file(s.out / "index.html"));
        for (const char* key : {"run.id",
                                "segments.cycle.t_start_s",
                                "segments.recovery.t_end_s",
                                "cycles.count",
                                "recovery.strain_anelastic",
                                "work_done.work_done_kj_mol",
                                "work_done.v_creep_j_m3",
                                "work_done.v_cycling_j_m3",
                                "work_done.v_total_j_m3",
                                "spectrum.peaks.0.tau_s",
                                "spectrum.peaks.2.strain",
                                "kww.strain_an",
                                "kww.strain_an_stderr",
                                "kww.tau_s",
                                "kww.tau_s_stderr",
                                "kww.beta",
                                "kww.beta_stderr",
                                "kww.strain_vp",
                                "kww.strain_vp_stderr",
                                "single_tau.tau_s",
                                "events.0.t_s"}) {
            INFO(key);
            CHECK(keys.count(key) == 1);
        }
    }

    SUBCASE("a second report into the same directory replaces the first whole") {
        write_file(s.out / "figures" / "stale.svg", "<svg/>");
        const auto html = read_file(s.out / "index.html");
        REQUIRE(run_command(dmacycle_bin + " report 1 --db " + s.db.string() + " --out " +
                            s.out.string())
                    .code == 0);
        CHECK(!fs::exists(s.out / "figures" / "stale.svg"));
        CHECK(read_file(s.out / "index.html") == html);
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(s.dir.path)) {
            names.push_back(entry.path().filename().string());
        }
        CHECK(names == std::vector<std::string>{"report"});  // no staging or previous copy left
    }
}

TEST_CASE("a faulted run without results gets a report of its data with a note") {
    TempDir dir("dmacycle-report");
    // A strain limit the first 0-200 MPa ramp crosses: the run ends faulted, no analysis.
    write_file(dir.path / "fault.yaml",
               "name: short-fault\nprofile: sim-la30\nsample:\n  id: LCNAC-f\n"
               "  composition: La30Ce30Ni10Al20Co10\n  density: 6.3 g/cm3\n  width: 1.2 mm\n"
               "  thickness: 30 µm\n  gauge_length: 10 mm\ntemperature: 365 K\nhold: 1 min\n"
               "pre_tension: 0.01 N\ncycling:\n  mode: amplitude\n  mean: 100 MPa\n"
               "  amplitude: 100 MPa\n  stress_rate: 50 MPa/min\n  duration: 8 min\n"
               "recovery: 10 min\nlimits:\n  max_strain: 0.3 %\n");
    const auto db = dir.path / "fault.db";
    REQUIRE(run_command(dmacycle_bin + " run " + (dir.path / "fault.yaml").string() + " --db " +
                        db.string() + " --speed max --json > /dev/null")
                .code == 3);
    const auto out = dir.path / "report";
    const auto result =
        run_command(dmacycle_bin + " report 1 --db " + db.string() + " --out " + out.string());
    REQUIRE(result.code == 0);
    const auto html = read_file(out / "index.html");
    CHECK(html.find("Run 1 is faulted (interlock: strain") != std::string::npos);
    CHECK(html.find("no analysis results are stored") != std::string::npos);
    CHECK(!fs::exists(out / "figures" / "spectrum.svg"));
    CHECK(check_figure(out / "figures" / "strain.svg") == 2);
    parse_page(html);
    const auto keys = check_values(db, html);
    CHECK(keys.count("segments.safe_state.t_start_s") == 1);
}

TEST_CASE("a campaign report shows each condition of a short sweep") {
    TempDir dir("dmacycle-report");
    // Mode 1 as in config/jobs/mode1-sweep.yaml, with minutes instead of hours.
    write_file(dir.path / "sweep.yaml",
               "name: short-sweep\nprofile: sim-la30\nsample:\n  id: LCNAC-t\n"
               "  composition: La30Ce30Ni10Al20Co10\n  density: 6.3 g/cm3\n  width: 1.2 mm\n"
               "  thickness: 30 µm\n  gauge_length: 10 mm\ntemperature: 365 K\nhold: 1 min\n"
               "pre_tension: 0.01 N\ncycling:\n  mode: amplitude\n  mean: 100 MPa\n"
               "  amplitude: [0 MPa, 50 MPa, 100 MPa]\n  stress_rate: 50 MPa/min\n"
               "  duration: 8 min\nrecovery: 10 min\n");
    const auto db = dir.path / "sweep.db";
    const auto run = run_command(dmacycle_bin + " run " + (dir.path / "sweep.yaml").string() +
                                 " --db " + db.string() + " --speed max --json > /dev/null");
    REQUIRE(run.code <= 1);  // completed; a fit on minutes of recovery may be flagged
    const auto out = dir.path / "campaign";
    const auto result =
        run_command(dmacycle_bin + " report 1 2 3 --db " + db.string() + " --out " + out.string());
    REQUIRE(result.code == 0);
    for (const char* name : {"strains", "strain", "kww", "spectrum", "instant_kww", "work_done"}) {
        INFO(name);
        REQUIRE(fs::is_regular_file(out / "figures" / (std::string(name) + ".svg")));
        check_figure(out / "figures" / (std::string(name) + ".svg"));
    }
    // KWW β and τ per condition, each with its standard error as a bar.
    CHECK(read_file(out / "figures" / "kww.svg").find("class=\"error-bars\"") != std::string::npos);
    const auto html = read_file(out / "index.html");
    parse_page(html);
    for (const char* condition : {"100\u2013100 MPa", "50\u2013150 MPa", "0\u2013200 MPa"}) {
        INFO(condition);
        CHECK(html.find(condition) != std::string::npos);
    }
    const auto keys = check_values(db, html);
    CHECK(keys.count("recovery.strain_initial") == 1);
    CHECK(keys.count("recovery.strain_final") == 1);
    CHECK(keys.count("recovery.strain_anelastic") == 1);
    std::set<std::int64_t> runs;
    for (const auto& value : data_values(html)) {
        if (value.key == "recovery.strain_anelastic") {
            runs.insert(value.run);
        }
    }
    CHECK(runs == std::set<std::int64_t>{1, 2, 3});
}

TEST_CASE("refused reports exit 2 with one line and write nothing") {
    const auto& db = store_0_200();
    TempDir dir("dmacycle-report");
    const auto out = dir.path / "out";
    write_file(dir.path / "notes.txt", "not a store\n");
    const std::string redirect = " 2>" + (dir.path / "err.txt").string();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"report 7 --db " + db.string() + " --out " + out.string(), "no run 7"},
        {"report --job 1 --db " + db.string() + " --out " + out.string(), "no job 1"},
        {"report 1 --db " + (dir.path / "notes.txt").string() + " --out " + out.string(),
         "not a readable SQLite store"},
        {"report 1 --db " + (dir.path / "missing.db").string() + " --out " + out.string(),
         "no such store file"},
        {"report 1 --db " + db.string(), "missing --out DIR"},
        {"report --db " + db.string() + " --out " + out.string(), "missing RUN"},
        {"report 0 --db " + db.string() + " --out " + out.string(), "positive integer"},
        {"report 1 --db " + db.string() + " --out " + out.string() + " --colour", "--colour"},
        {"report 1 --db " + db.string() + " --out " + dir.path.string(),
         "holds other files than a report"},
        // The demo checks its --report DIR before it starts anything.
        {"demo --report " + dir.path.string(), "holds other files than a report"},
        {"demo --synthetic --report " + out.string(), "do not go with --synthetic"}};
    for (const auto& refusal : cases) {
        const auto& args = refusal.first;  // clang 14: no structured bindings in doctest macros
        const auto& expected = refusal.second;
        INFO(args);
        const auto result = run_command(dmacycle_bin + " " + args + redirect);
        CHECK(result.code == 2);
        CHECK(result.out.empty());
        const auto err = read_file(dir.path / "err.txt");
        CHECK(err.find(expected) != std::string::npos);
        CHECK(std::count(err.begin(), err.end(), '\n') == 1);
        CHECK(!fs::exists(out));
    }
    CHECK(read_file(dir.path / "notes.txt") == "not a store\n");
    CHECK(!fs::exists(dir.path / "missing.db"));
}

TEST_SUITE_END();
