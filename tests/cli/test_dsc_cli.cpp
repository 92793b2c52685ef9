// `dmacycle analyze dsc` run as users run it, on a synthetic scan pair written as CSV, as a TA
// Universal Analysis export and as a Netzsch Proteus export, and on a store `dmacycle run` made.
#include <doctest/doctest.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/analysis/synthetic.hpp"
#include "dmacycle/io/ta_text.hpp"
#include "dmacycle_run.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace synthetic = dmacycle::analysis::synthetic;
using dmacycle::analysis::DscScan;
using Json = nlohmann::json;

namespace {

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.10g", value);
    return buffer;
}

// The same scan in each format, one string per line (without line ends).
std::vector<std::string> csv_lines(const DscScan& scan, double sign = 1) {
    std::vector<std::string> lines{"time_s,temperature_k,heat_flow_w_g"};
    for (std::size_t i = 0; i < scan.time_s.size(); ++i) {
        lines.push_back(number(scan.time_s[i]) + "," + number(scan.temperature_k[i]) + "," +
                        number(sign * scan.heat_flow_w_g[i]));
    }
    return lines;
}

// Universal Analysis layout: min, °C and mW of a 10 mg sample, exothermic up (TA's convention).
std::vector<std::string> ta_lines(const DscScan& scan) {
    std::vector<std::string> lines{"Instrument\tDSC Q2000 V24.11 Build 124",
                                   "Sample\tLa30Ce30Ni10Al20Co10 0-200 MPa",
                                   "Size\t10.0000\tmg",
                                   "Method\tRamp 20.00 °C/min",
                                   "Nsig\t3",
                                   "Sig1\tTime (min)",
                                   "Sig2\tTemperature (°C)",
                                   "Sig3\tHeat Flow (mW)",
                                   "StartOfData"};
    for (std::size_t i = 0; i < scan.time_s.size(); ++i) {
        lines.push_back(number(scan.time_s[i] / 60) + "\t" +
                        number(scan.temperature_k[i] - 273.15) + "\t" +
                        number(scan.heat_flow_w_g[i] * 10.0));
    }
    return lines;
}

std::string decimal_comma(std::string text) {
    for (auto& c : text) {
        c = c == '.' ? ',' : c;
    }
    return text;
}

// Proteus "DATA SINGLE" export in Windows-1252 (°: byte 0xB0), ';' and decimal comma, exothermic
// down as its #EXO line says, with a column the analysis does not use.
std::vector<std::string> netzsch_lines(const DscScan& scan) {
    std::vector<std::string> lines{"#EXPORTTYPE:;DATA SINGLE",
                                   "#FORMAT:;NETZSCH5",
                                   "#FTYPE:;ANSI",
                                   "#IDENTITY:;LCNAC 0-200",
                                   "#DECIMAL:;COMMA",
                                   "#SEPARATOR:;SEMICOLON",
                                   "#MTYPE:;DSC",
                                   "#INSTRUMENT:;NETZSCH DSC 404F3",
                                   "#SAMPLE MASS /mg:;10,0",
                                   "#EXO:;-1",
                                   "#RANGE:;27\xB0"
                                   "C/20,0(K/min)/327\xB0"
                                   "C",
                                   "##Temp./\xB0"
                                   "C;Time/min;DSC/(mW/mg);Sensit./(uV/mW)"};
    for (std::size_t i = 0; i < scan.time_s.size(); ++i) {
        lines.push_back(decimal_comma(number(scan.temperature_k[i] - 273.15) + ";" +
                                      number(scan.time_s[i] / 60) + ";" +
                                      number(-scan.heat_flow_w_g[i]) + ";3.42446"));
    }
    return lines;
}

std::string join(const std::vector<std::string>& lines, const std::string& end = "\n") {
    std::string text;
    for (const auto& line : lines) {
        text += line + end;
    }
    return text;
}

std::string utf16le(const std::string& utf8) {
    std::string bytes = "\xFF\xFE";
    dmacycle::io::append_utf16le(bytes, utf8);
    return bytes;
}

class Workspace {
  public:
    std::string write(const std::string& name, const std::string& content) const {
        const auto path = dir_.path / name;
        std::ofstream(path, std::ios::binary) << content;
        return path.string();
    }

    test_support::DmacycleRun dmacycle(const std::string& args) const {
        auto run = test_support::run_dmacycle(dir_.path, args);
        REQUIRE(run.exit_code >= 0);
        return run;
    }
    const fs::path& path() const { return dir_.path; }

  private:
    test_support::TempDir dir_{"dmacycle-dsc"};
};

synthetic::DscPair noisy_pair() {
    synthetic::DscTruth truth;
    truth.noise_w_g = 5.6e-4;
    truth.seed = 7;
    return synthetic::dsc_pair(truth);
}

Json analyze_json(const Workspace& ws, const std::string& sample, const std::string& baseline,
                  const std::string& extra = "") {
    const auto run = ws.dmacycle("analyze dsc " + sample + " " + baseline +
                                 " --composition La30Ce30Ni10Al20Co10 --json " + extra);
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    return Json::parse(run.out);
}

const std::string composition = " --composition La30Ce30Ni10Al20Co10";

}  // namespace

TEST_CASE("analyze dsc: CSV and TA and Netzsch exports of one scan pair give the same enthalpy") {
    const Workspace ws;
    const auto pair = noisy_pair();
    const double truth_j_g = synthetic::DscTruth().delta_h_j_g;

    const auto csv = analyze_json(ws, ws.write("s.csv", join(csv_lines(pair.sample))),
                                  ws.write("b.csv", join(csv_lines(pair.baseline))));
    CHECK(csv["sample"]["format"] == "csv");
    const double delta_h = csv["delta_h_j_g"].get<double>();
    CHECK(std::abs(delta_h - truth_j_g) / truth_j_g < 0.02);
    CHECK(csv["delta_h_kj_mol"].get<double>() ==
          doctest::Approx(delta_h * 100.87 / 1000).epsilon(1e-4));
    CHECK(csv["molar_mass_g_mol"].get<double>() == doctest::Approx(100.87).epsilon(1e-4));
    CHECK(csv["delta_h_stderr_j_g"].get<double>() > 0);
    CHECK(csv["range_given"] == false);
    CHECK(csv["onset_k"].get<double>() < csv["peak_k"].get<double>());
    CHECK(csv["peak_k"].get<double>() < csv["end_k"].get<double>());
    CHECK(csv["work_done_kj_mol"].is_null());
    CHECK(csv["delta_h_over_work_done"].is_null());

    // TA's own encoding (UTF-16LE, CRLF), in mW of the header's 10 mg; the file names say nothing.
    const auto ta =
        analyze_json(ws, ws.write("s.txt", utf16le(join(ta_lines(pair.sample), "\r\n"))),
                     ws.write("b.txt", utf16le(join(ta_lines(pair.baseline), "\r\n"))));
    CHECK(ta["sample"]["format"] == "ta");
    CHECK(ta["sample"]["mass_mg"].get<double>() == 10.0);
    CHECK(ta["delta_h_j_g"].get<double>() == doctest::Approx(delta_h).epsilon(1e-6));

    const auto netzsch =
        analyze_json(ws, ws.write("s.dat", join(netzsch_lines(pair.sample), "\r\n")),
                     ws.write("b.dat", join(netzsch_lines(pair.baseline), "\r\n")));
    CHECK(netzsch["sample"]["format"] == "netzsch");
    CHECK(netzsch["sample"]["exo_convention"] == "exothermic negative (header: #EXO: -1)");
    CHECK(netzsch["delta_h_j_g"].get<double>() == doctest::Approx(delta_h).epsilon(1e-6));

    // A Netzsch sample against a CSV baseline, and a given range.
    const auto mixed = analyze_json(ws, ws.path().string() + "/s.dat",
                                    ws.path().string() + "/b.csv", "--range 320:500");
    CHECK(mixed["range_given"] == true);
    CHECK(mixed["range_lo_k"].get<double>() == 320);
    CHECK(std::abs(mixed["delta_h_j_g"].get<double>() - truth_j_g) / truth_j_g < 0.02);

    const auto text = ws.dmacycle("analyze dsc " + ws.path().string() + "/s.csv " +
                                  ws.path().string() + "/b.csv" + composition);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("delta H ") != std::string::npos);
    CHECK(text.out.find("kJ/mol (M 100.8") != std::string::npos);
}

TEST_CASE(
    "analyze dsc: --exo-down reads an exothermic-negative file and may not contradict a header") {
    const Workspace ws;
    const auto pair = noisy_pair();
    const auto sample = ws.write("s.csv", join(csv_lines(pair.sample, -1)));
    const auto baseline = ws.write("b.csv", join(csv_lines(pair.baseline, -1)));
    const auto up = analyze_json(ws, ws.write("up.csv", join(csv_lines(pair.sample))),
                                 ws.write("upb.csv", join(csv_lines(pair.baseline))));
    const auto down = analyze_json(ws, sample, baseline, "--exo-down");
    CHECK(down["sample"]["exo_convention"] == "exothermic negative (--exo-down)");
    CHECK(down["delta_h_j_g"].get<double>() == doctest::Approx(up["delta_h_j_g"].get<double>()));

    // Read as exothermic positive, the same file has no exotherm: exit 1, named on stderr.
    const auto wrong = ws.dmacycle("analyze dsc " + sample + " " + baseline + composition);
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("no exotherm") != std::string::npos);

    // A TA export whose header says Exo Down is read so without --exo-down.
    const auto ta_down = [](const DscScan& scan) {
        auto negated = scan;
        for (auto& flow : negated.heat_flow_w_g) {
            flow = -flow;
        }
        auto lines = ta_lines(negated);
        lines.insert(lines.begin() + 1, "Comment\tplotted Exo Down");
        return join(lines);
    };
    const auto ta = analyze_json(ws, ws.write("down.txt", ta_down(pair.sample)),
                                 ws.write("downb.txt", ta_down(pair.baseline)));
    CHECK(ta["sample"]["exo_convention"] ==
          "exothermic negative (header: Comment plotted Exo Down)");
    CHECK(ta["delta_h_j_g"].get<double>() == doctest::Approx(up["delta_h_j_g"].get<double>()));

    auto lines = netzsch_lines(pair.sample);
    lines[9] = "#EXO:;+1";
    const auto contradicted = ws.dmacycle("analyze dsc " + ws.write("n.dat", join(lines)) + " " +
                                          baseline + composition + " --exo-down");
    CHECK(contradicted.exit_code == 2);
    CHECK(contradicted.err.find("n.dat:10: the header says exothermic up (#EXO: +1), but "
                                "--exo-down was given") != std::string::npos);
}

TEST_CASE("analyze dsc: malformed exports of each format are refused with file and line") {
    const Workspace ws;
    const auto pair = noisy_pair();
    const auto baseline = ws.write("b.csv", join(csv_lines(pair.baseline)));
    struct Case {
        std::string name, content, expected;
    };
    std::vector<Case> cases;
    const auto corrupt = [](std::vector<std::string> lines, std::size_t index,
                            const std::string& line) {
        lines[index] = line;
        return join(lines);
    };
    const auto drop_header = [](std::vector<std::string> lines, std::size_t count) {
        lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(count));
        return join(lines);
    };
    const auto csv = csv_lines(pair.sample);
    cases.push_back(
        {"missing-header.csv", drop_header(csv, 1), "missing-header.csv:1: wrong header"});
    cases.push_back({"columns.csv", corrupt(csv, 5, "2,300,0.05,7"),
                     "columns.csv:6: 4 cells, but the header has 3"});
    cases.push_back({"text.csv", corrupt(csv, 5, "2,300,abc"),
                     "text.csv:6: column 'heat_flow_w_g': not a number 'abc'"});
    cases.push_back({"time.csv", corrupt(csv, 5, "1," + csv[5].substr(csv[5].find(',') + 1)),
                     "time.csv:6: time_s 1 does not increase"});
    cases.push_back(
        {"binary.csv", corrupt(csv, 5, std::string("2,\0\x01,3", 6)), "binary.csv:6: binary data"});
    cases.push_back({"cooling.csv", corrupt(csv, 5, "2,300,0.05"),
                     "cooling.csv:6: temperature_k 300 does not increase"});
    cases.push_back({"empty.csv", "", "empty.csv: empty file"});

    const auto ta = ta_lines(pair.sample);  // StartOfData is line 9, the first row line 10
    auto signalless = ta;
    signalless.erase(signalless.begin() + 5, signalless.begin() + 8);
    cases.push_back({"missing-header.txt", join(signalless),
                     "missing-header.txt:6: StartOfData before any SigN line"});
    cases.push_back(
        {"columns.txt", corrupt(ta, 12, "0.1\t30"), "columns.txt:13: 2 cells, but 3 signals"});
    cases.push_back({"text.txt", corrupt(ta, 12, "0.1\t30\tabc"),
                     "text.txt:13: Sig3 (Heat Flow): 'abc' is not a finite number"});
    cases.push_back({"time.txt", corrupt(ta, 12, "0\t" + ta[12].substr(ta[12].find('\t') + 1)),
                     "time.txt:13: time_s 0 does not increase"});
    cases.push_back({"binary.txt", corrupt(ta, 12, "0.1\t30\x01\t0.5"),
                     "binary.txt:13: binary data (control byte 1)"});
    cases.push_back({"empty.txt", "", "empty.txt: empty file"});

    const auto netzsch = netzsch_lines(pair.sample);  // ## is line 12, the first row line 13
    auto headless = netzsch;
    headless.erase(headless.begin() + 11);
    cases.push_back({"missing-header.dat", join(headless),
                     "missing-header.dat:12: data before the ## column line"});
    cases.push_back({"columns.dat", corrupt(netzsch, 15, "30,1;0,1;0,05"),
                     "columns.dat:16: 3 cells, but the ## column line (line 12) has 4"});
    cases.push_back({"text.dat", corrupt(netzsch, 15, "30,1;0,1;abc;3,4"),
                     "text.dat:16: column 'DSC/(mW/mg)': 'abc' is not a finite number"});
    cases.push_back(
        {"time.dat",
         corrupt(netzsch, 15, netzsch[15].substr(0, netzsch[15].find(';')) + ";0;0,05;3,4"),
         "time.dat:16: time_s 0 does not increase"});
    cases.push_back({"binary.dat", corrupt(netzsch, 15, std::string("30,1;\0;0,05;3,4", 15)),
                     "binary.dat:16: binary data (control byte 0)"});
    cases.push_back({"unit.dat",
                     corrupt(netzsch, 11,
                             "##Temp./\xB0"
                             "C;Time/min;DSC/(uV/mg);S/x"),
                     "unit.dat: heat flow in 'uV/mg'"});

    for (const auto& c : cases) {
        CAPTURE(c.name);
        const auto path = ws.write(c.name, c.content);
        const auto run =
            ws.dmacycle("analyze dsc " + path + " " + baseline + composition + " --json");
        CAPTURE(run.err);
        CHECK(run.exit_code == 2);
        CHECK(run.out.empty());
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK(run.err.find(c.expected) != std::string::npos);
    }
}

TEST_CASE("analyze dsc: scans that do not overlap and bad arguments exit 2") {
    const Workspace ws;
    const auto pair = noisy_pair();
    auto shifted = pair.baseline;
    for (auto& k : shifted.temperature_k) {
        k += 400;
    }
    const auto sample = ws.write("s.csv", join(csv_lines(pair.sample)));
    const auto far = ws.dmacycle("analyze dsc " + sample + " " +
                                 ws.write("far.csv", join(csv_lines(shifted))) + composition);
    CHECK(far.exit_code == 2);
    CHECK(far.err.find("do not overlap in temperature") != std::string::npos);

    const auto baseline = ws.write("b.csv", join(csv_lines(pair.baseline)));
    const std::vector<std::string> bad_arguments{
        "",
        " --composition Xx30",
        composition + " --range 500:320",
        composition + " --work-done-kj-mol 0.044 --run 1 --db x.db",
        composition + " --run 1",
        composition + " --mass-mg -3"};
    for (const auto& args : bad_arguments) {
        CAPTURE(args);
        const auto run = ws.dmacycle("analyze dsc " + sample + " " + baseline + args);
        CHECK(run.exit_code == 2);
        CHECK(run.out.empty());
    }
}

TEST_CASE("analyze dsc: the ratio to the work done given or stored for a run") {
    const Workspace ws;
    const auto pair = noisy_pair();
    const auto sample = ws.write("s.csv", join(csv_lines(pair.sample)));
    const auto baseline = ws.write("b.csv", join(csv_lines(pair.baseline)));

    // The paper: 0.79 kJ/mol after cycling, 0.34 as cast, WD 4.4e-2: Δ(ΔH)/WD ≈ 10.
    const auto given =
        analyze_json(ws, sample, baseline, "--work-done-kj-mol 0.044 --reference-kj-mol 0.34");
    const double delta_h = given["delta_h_kj_mol"].get<double>();
    CHECK(given["work_done_source"] == "--work-done-kj-mol");
    CHECK(given["delta_h_over_work_done"].get<double>() == doctest::Approx(delta_h / 0.044));
    CHECK(given["delta_delta_h_kj_mol"].get<double>() == doctest::Approx(delta_h - 0.34));
    CHECK(given["delta_delta_h_over_work_done"].get<double>() ==
          doctest::Approx((delta_h - 0.34) / 0.044));
    CHECK(given["delta_delta_h_over_work_done"].get<double>() ==
          doctest::Approx(10.2).epsilon(0.03));

    // A short simulated 0-200 MPa run (3 cycles, 5 min of recovery) stores its work done.
    std::string job =
        test_support::slurp(fs::path(DMACYCLE_SOURCE_DIR) / "config" / "jobs" / "mode1-0-200.yaml");
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"duration: 8 h", "duration: 24 min"}, {"recovery: 8 h", "recovery: 5 min"}}) {
        job.replace(job.find(from), from.size(), to);
    }
    const auto db = (ws.path() / "run.db").string();
    const auto made =
        ws.dmacycle("run " + ws.write("short.yaml", job) + " --db " + db + " --speed max --json");
    CAPTURE(made.err);
    REQUIRE((made.exit_code == 0 || made.exit_code == 1));  // 1: a recovery fit flagged unusable
    const double stored =
        Json::parse(made.out)["runs"][0]["results"]["work_done"]["work_done_kj_mol"].get<double>();
    CHECK(stored > 0);

    const auto from_run = analyze_json(ws, sample, baseline, "--run 1 --db " + db);
    CHECK(from_run["work_done_kj_mol"].get<double>() == stored);
    CHECK(from_run["work_done_source"] == "run 1 in " + db);
    CHECK(from_run["delta_h_over_work_done"].get<double>() ==
          doctest::Approx(from_run["delta_h_kj_mol"].get<double>() / stored));

    const auto unknown =
        ws.dmacycle("analyze dsc " + sample + " " + baseline + composition + " --run 9 --db " + db);
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("no run 9") != std::string::npos);
}
