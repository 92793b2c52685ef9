// `dmacycle export` (docs/exports.md) on a run made by a real dmacycled (the simulated
// instrument at --speed max): the same bytes from the server and from the store file (--db),
// the CSV and TA text against the stored samples, the results CSV against the stored JSON, the
// refusals; and the TA text reader on our own export and on malformed files.
#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_process.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/ta_text.hpp"
#include "long_run.hpp"
#include "run_store.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using daemon_test::DaemonProcess;
using daemon_test::Run;
using daemon_test::slurp;
using dmacycle::io::InputError;
using dmacycle::io::read_ta_text;
using nlohmann::json;

namespace {

// The main job shortened to 2 cycles, a 1 min hold and 10 min of recovery; at 40 Hz its ≥ 70,000
// samples take two pages of the API (50,000 rows each), so paging is part of what is compared.
const std::vector<std::pair<std::string, std::string>> short_job{
    {"hold: 10 min", "hold: 1 min"},
    {"duration: 8 h", "duration: 16 min"},
    {"recovery: 8 h", "recovery: 10 min"}};

// build/bin/dmacycle ARGS without a server or token from the environment; its output kept in
// DIR/cli.out and DIR/cli.err.
Run offline_dmacycle(const fs::path& dir, const std::string& args) {
    const auto out = dir / "cli.out";
    const auto err = dir / "cli.err";
    const std::string command = "env -u DMACYCLE_TOKEN -u DMACYCLE_SERVER " +
                                std::string(DMACYCLE_BIN_DIR) + "/dmacycle " + args + " >" +
                                out.string() + " 2>" + err.string();
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// One finished run per test process, made through the daemon's API.
struct Finished {
    DaemonProcess daemon{[] {
        daemon_test::DaemonOptions options;
        options.extra_config = "sample_rate: 40\n";
        return options;
    }()};
    std::int64_t run_id = 0;
    fs::path dir = daemon.dir() / "exports";

    Finished() {
        fs::create_directories(dir);
        const auto submitted = daemon.dmacycle(
            "submit " + daemon.job("mode1-0-200.yaml", short_job).string() + " --wait --json");
        INFO(submitted.err);
        REQUIRE(submitted.exit_code == 0);
        run_id = json::parse(submitted.out).at("run_ids").at(0).get<std::int64_t>();
    }
    std::string id() const { return std::to_string(run_id); }
    fs::path store() const { return daemon.database(); }
    fs::path file(const std::string& name) const { return dir / name; }

    Run offline(const std::string& args) const { return offline_dmacycle(dir, args); }
};

const Finished& finished() {
    static const Finished run;
    return run;
}

void require_ok(const Run& run) {
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
}

double number(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    REQUIRE_MESSAGE((error == std::errc() && end == text.data() + text.size()),
                    "not a number: " << text);
    return value;
}

// The store read on its own (not through RunArchive), the run id bound to each `?`.
std::vector<std::vector<double>> stored_rows(const fs::path& store, const std::string& sql,
                                             std::int64_t run_id) {
    return daemon_test::Store(store).real_rows(sql, run_id);
}

std::string stored_text(const fs::path& store, const std::string& sql, std::int64_t run_id) {
    const auto values = daemon_test::Store(store).column(sql, run_id);
    return values.empty() ? std::string() : values.front();
}

// A CSV file as rows of cells (quoted cells with "" escapes; no line breaks inside cells).
std::vector<std::vector<std::string>> csv_rows(const fs::path& path) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(slurp(path));
    std::string line;
    while (std::getline(lines, line)) {
        auto& row = rows.emplace_back(1);
        bool quoted = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                row.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                row.emplace_back();
            } else {
                row.back() += c;
            }
        }
    }
    return rows;
}

// The stored JSON value of a scalar cell: numbers read back exactly, the rest as written.
void check_cell(const std::string& cell, const json& value) {
    CAPTURE(cell);
    CAPTURE(value.dump());
    if (value.is_number()) {
        CHECK(number(cell) == value.get<double>());
    } else if (value.is_boolean()) {
        CHECK(cell == (value.get<bool>() ? "true" : "false"));
    } else {
        CHECK(cell == value.get<std::string>());
    }
}

const char* const sample_columns =
    "seq, t_s, temperature_k, force_n, displacement_m, "
    "stress_pa, strain";

}  // namespace

TEST_SUITE("export") {
    // One run for the whole binary (each test case is a process of its own under ctest): the
    // checks are subcases of one test case.
    TEST_CASE("a finished run exported from the server and from the store file" * long_run) {
        const auto& run = finished();
        SUBCASE("the server and the store file give byte-identical exports") {
            struct Variant {
                std::string name, args;
                std::vector<std::string> files;
            };
            const std::vector<Variant> variants = {
                // Every row through both paths (the server's in two pages), then the TA text,
                // whose header comes from the run's metadata, on every 7th row.
                {"csv", "--out run.csv", {"run.csv"}},
                {"ta", "--out run.txt --every 7", {"run.txt"}},
                {"json",
                 "--out run.csv --every 1000 --results results.json",
                 {"run.csv", "results.json"}},
                {"results",
                 "--out run.csv --every 1000 --results results.csv",
                 {"results.csv", "results-spectrum.csv", "results-spectrum-peaks.csv",
                  "results-instant_kww.csv", "results-work_done-per_cycle.csv"}},
            };
            for (const auto& variant : variants) {
                CAPTURE(variant.name);
                for (const std::string source : {"server", "store"}) {
                    fs::create_directories(run.file(source));
                }
                const auto in = [&](const std::string& source, const std::string& args) {
                    std::string text = args;
                    for (const std::string flag : {"--out ", "--results "}) {
                        if (const auto at = text.find(flag); at != std::string::npos) {
                            text.insert(at + flag.size(), (run.file(source) / "").string());
                        }
                    }
                    return text;
                };
                const auto from_server =
                    run.daemon.dmacycle("export " + run.id() + " " + in("server", variant.args));
                require_ok(from_server);
                const auto from_store =
                    run.offline("export " + run.id() + " " + in("store", variant.args) + " --db " +
                                run.store().string());
                require_ok(from_store);
                for (const auto& name : variant.files) {
                    CAPTURE(name);
                    const auto server_bytes = slurp(run.file("server") / name);
                    CHECK(server_bytes.size() > 100);
                    CHECK((server_bytes == slurp(run.file("store") / name)));
                }
                fs::remove_all(run.file("server"));
                fs::remove_all(run.file("store"));
            }
        }

        SUBCASE("the CSV has every stored sample with the store's values") {
            const auto csv = run.file("samples.csv");
            require_ok(run.offline("export " + run.id() + " --db " + run.store().string() +
                                   " --out " + csv.string()));
            const auto stored = stored_rows(run.store(),
                                            std::string("SELECT ") + sample_columns +
                                                " FROM samples WHERE run_id = ? ORDER BY seq",
                                            run.run_id);
            REQUIRE(stored.size() > 50000);
            const std::vector<std::string> names = {
                "seq", "t_s", "temperature_k", "force_n", "displacement_m", "stress_pa", "strain"};
            const auto table = dmacycle::io::read_csv(csv.string(), names);
            REQUIRE(table.rows() == stored.size());
            CHECK(
                slurp(csv).rfind("seq,t_s,t_wall_utc,segment,temperature_k,force_n,displacement_m,"
                                 "stress_pa,strain\n",
                                 0) == 0);
            std::size_t differing = 0;
            for (std::size_t row = 0; row < stored.size(); ++row) {
                for (std::size_t k = 0; k < names.size(); ++k) {
                    differing += table.columns[k][row] != stored[row][k];
                }
            }
            CHECK(differing == 0);
        }

        SUBCASE("the TA text has the run's metadata and its values convert back to the store's") {
            const auto path = run.file("run.txt");
            const auto exported = run.offline("export " + run.id() + " --db " +
                                              run.store().string() + " --out " + path.string());
            require_ok(exported);
            CHECK(exported.out.find("(TA text, UTF-16)") != std::string::npos);

            const auto bytes = slurp(path);
            REQUIRE(bytes.size() > 4);
            CHECK(bytes.substr(0, 2) == "\xFF\xFE");
            std::size_t line_ends = 0, bare_line_feeds = 0;
            for (std::size_t i = 2; i + 1 < bytes.size(); i += 2) {
                if (bytes[i] == '\n' && bytes[i + 1] == '\0') {
                    ++line_ends;
                    bare_line_feeds += bytes[i - 2] != '\r' || bytes[i - 1] != '\0';
                }
            }
            CHECK(bare_line_feeds == 0);

            const auto ta = read_ta_text(path.string());
            const std::vector<std::pair<std::string, std::string>> signals = {
                {"Time", "min"},        {"Temperature", "°C"}, {"Static Force", "N"},
                {"Displacement", "µm"}, {"Stress", "MPa"},     {"Strain", "%"}};
            REQUIRE(ta.signals.size() == signals.size());
            for (std::size_t k = 0; k < signals.size(); ++k) {
                CHECK(ta.signals[k].name == signals[k].first);
                CHECK(ta.signals[k].unit == signals[k].second);
            }
            const auto header = [&](const char* key) {
                const std::string* value = ta.value(key);
                REQUIRE_MESSAGE(value != nullptr, "no header line " << key);
                return *value;
            };
            const auto stored = [&](const char* column) {
                return stored_text(run.store(),
                                   std::string("SELECT ") + column + " FROM runs WHERE id = ?",
                                   run.run_id);
            };
            CHECK(header("Sample") == "LCNAC-0-200");
            CHECK(header("Size") == "10.0000 x 1.2000 x 0.0300\tmm");
            CHECK(header("Composition") == "La30Ce30Ni10Al20Co10");
            CHECK(header("Method") == "mode1-0-200");
            CHECK(header("Instrument") == stored("instrument_identity"));
            CHECK(header("Software") == "dmacycle " + stored("software_version"));
            CHECK(header("Profile") == "sim-la30");
            CHECK(header("Started") == stored("started_utc"));
            CHECK(header("Date") + "T" + header("Time") == stored("started_utc").substr(0, 19));
            CHECK(header("Nsig") == "6");
            CHECK(header("OrgMethod") == "1: Equilibrate at 91.85 °C");

            const auto rows = stored_rows(run.store(),
                                          std::string("SELECT ") + sample_columns +
                                              " FROM samples WHERE run_id = ? ORDER BY seq",
                                          run.run_id);
            REQUIRE(ta.rows() == rows.size());
            // Header lines, StartOfData and one line per row, each ended by CR LF.
            CHECK(line_ends == ta.header.size() + signals.size() + 1 + rows.size());
            // Back to SI: 8 significant digits are printed, so each value is within half a unit of
            // the 8th digit (5e-8 of its magnitude, in TA's unit) of the stored one.
            const struct {
                std::size_t stored;
                double scale, offset;  // SI = TA value × scale + offset
            } back[] = {{1, 60, 0},   {2, 1, 273.15}, {3, 1, 0},
                        {4, 1e-6, 0}, {5, 1e6, 0},    {6, 1e-2, 0}};
            std::size_t outside = 0;
            for (std::size_t row = 0; row < rows.size(); ++row) {
                for (std::size_t k = 0; k < signals.size(); ++k) {
                    const double printed = ta.columns[k][row];
                    const double si = printed * back[k].scale + back[k].offset;
                    const double bound =
                        5.000001e-8 * std::abs(printed) * back[k].scale + 1e-13 * std::abs(si);
                    outside += !(std::abs(si - rows[row][back[k].stored]) <= bound);
                }
            }
            CHECK(outside == 0);
        }

        SUBCASE("the results CSV equals the stored results exactly") {
            const auto path = run.file("results.csv");
            require_ok(run.offline("export " + run.id() + " --db " + run.store().string() +
                                   " --out " + run.file("s.csv").string() +
                                   " --every 100000 --results " + path.string()));
            json stored = json::object();
            for (const std::string kind :
                 {"spectrum", "kww", "instant_kww", "single_tau", "work_done"}) {
                const auto text = stored_text(
                    run.store(),
                    "SELECT json FROM results WHERE run_id = ? AND kind = '" + kind + "'",
                    run.run_id);
                REQUIRE_MESSAGE(!text.empty(), "no stored " << kind);
                stored[kind] = json::parse(text);
            }

            const auto rows = csv_rows(path);
            REQUIRE(!rows.empty());
            CHECK(rows[0] ==
                  std::vector<std::string>{"kind", "quantity", "value", "stderr", "unit"});
            std::map<std::string, std::string> unit;
            for (std::size_t i = 1; i < rows.size(); ++i) {
                const auto& row = rows[i];
                REQUIRE(row.size() == 5);
                CAPTURE(row[0] + " " + row[1]);
                json::json_pointer pointer("/" + row[0]);
                std::string part;
                std::istringstream parts(row[1]);
                while (std::getline(parts, part, '.')) {
                    pointer /= part;
                }
                REQUIRE(stored.contains(pointer));
                check_cell(row[2], stored[pointer]);
                const auto key = pointer.back();
                auto error = pointer.parent_pointer();
                error /= key + "_stderr";
                if (stored.contains(error)) {
                    check_cell(row[3], stored[error]);
                } else {
                    CHECK(row[3].empty());
                }
                unit[row[0] + "," + row[1]] = row[4];
            }
            // Every numeric scalar the results hold has its row (the stderr beside its quantity).
            std::size_t scalars = 0;
            for (const auto& [kind, doc] : stored.items()) {
                const auto flat = doc.flatten();
                for (const auto& [name, value] : flat.items()) {
                    bool in_array = false;
                    for (auto up = json::json_pointer(name).parent_pointer(); !up.empty();
                         up = up.parent_pointer()) {
                        in_array = in_array || doc[up].is_array();
                    }
                    scalars +=
                        value.is_number() && !in_array && name.find("_stderr") == std::string::npos;
                }
            }
            CHECK(std::count_if(rows.begin(), rows.end(), [](const auto& row) {
                      return !row[4].empty() && row[4] != "unit";
                  }) == static_cast<std::ptrdiff_t>(scalars));
            CHECK(unit["kww,beta"] == "1");
            CHECK(unit["kww,tau_s"] == "s");
            CHECK(unit["work_done,work_done_kj_mol"] == "kJ/mol");
            CHECK(unit["work_done,v_total_j_m3"] == "J/m3");
            CHECK(unit["single_tau,strain_rate_vp"] == "1/s");

            // The arrays, each in its own file, column by column.
            const auto table = [&](const std::string& name) {
                const auto file = run.file("results-" + name + ".csv");
                REQUIRE_MESSAGE(fs::exists(file), file);
                return csv_rows(file);
            };
            const auto check_columns = [&](const std::vector<std::vector<std::string>>& cells,
                                           const json& object,
                                           const std::vector<std::string>& names) {
                REQUIRE(cells.size() == object[names.front()].size() + 1);
                CHECK(cells[0] == names);
                for (std::size_t r = 1; r < cells.size(); ++r) {
                    for (std::size_t k = 0; k < names.size(); ++k) {
                        check_cell(cells[r][k], object[names[k]][r - 1]);
                    }
                }
            };
            check_columns(table("spectrum"), stored["spectrum"]["spectrum"],
                          {"tau_s", "strain", "strain_at_unload", "strain_high", "strain_low"});
            check_columns(table("instant_kww"), stored["instant_kww"],
                          {"time_s", "tau_s", "beta", "beta_stderr"});
            const auto per_cycle = table("work_done-per_cycle");
            const auto& cycles = stored["work_done"]["per_cycle"];
            REQUIRE(per_cycle.size() == cycles.size() + 1);
            REQUIRE(per_cycle[0].size() == cycles[0].size() + 1);
            CHECK(per_cycle[0][0] == "cycle");
            for (std::size_t r = 1; r < per_cycle.size(); ++r) {
                CHECK(per_cycle[r][0] == std::to_string(r));
                for (std::size_t k = 1; k < per_cycle[0].size(); ++k) {
                    check_cell(per_cycle[r][k], cycles[r - 1][per_cycle[0][k]]);
                }
            }
            const auto peaks = table("spectrum-peaks");
            REQUIRE(peaks.size() == stored["spectrum"]["peaks"].size() + 1);
            for (std::size_t r = 1; r < peaks.size(); ++r) {
                for (std::size_t k = 0; k < peaks[0].size(); ++k) {
                    check_cell(peaks[r][k], stored["spectrum"]["peaks"][r - 1][peaks[0][k]]);
                }
            }
        }

        SUBCASE("refusals exit 2 with one line and leave no file") {
            const auto out = run.file("refused.csv");
            const auto text_file = run.file("notes.db");
            std::ofstream(text_file) << "not,a,store\n";
            const std::string store = run.store().string();
            const struct {
                std::string args;
                bool server;
                std::string message;
            } cases[] = {
                {"export 99 --db " + store, false, "dmacycle export: " + store + ": no run 99\n"},
                {"export 99", true, "dmacycle export: no run 99 (HTTP 404)\n"},
                {"export 1 --db " + text_file.string(), false,
                 "dmacycle export: " + text_file.string() + ": not a readable SQLite store"},
                {"export 1 --db " + run.file("absent.db").string(), false,
                 "dmacycle export: " + run.file("absent.db").string() + ": no such store file\n"},
                {"export 1 --format xls --db " + store, false,
                 "dmacycle export: --format must be csv or ta, not 'xls' (usage: dmacycle export"},
                {"export 1 --db " + store + " --server http://127.0.0.1:1", false,
                 "dmacycle export: --db reads the store file itself: no --server or --token-file"},
                {"export 1 --results r.xlsx --db " + store, false,
                 "dmacycle export: --results takes FILE.json (the API's answer) or FILE.csv"},
            };
            for (const auto& c : cases) {
                CAPTURE(c.args);
                const std::string args = c.args + " --out " + out.string();
                const auto result = c.server ? run.daemon.dmacycle(args) : run.offline(args);
                CHECK(result.exit_code == 2);
                CHECK(result.out.empty());
                CHECK(result.err.rfind(c.message, 0) == 0);
                CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
                CHECK(!fs::exists(out));
                CHECK(!fs::exists(out.string() + ".part"));
            }
        }
    }

    TEST_CASE("a DMTA run's measurements export alike from the server and the store file") {
        // The shipped scan shortened to 5 K/min at two frequencies, on the daemon's simulator at
        // max speed.
        DaemonProcess daemon;
        const auto job = daemon.job("dmta.yaml", {{"hold: 10 min", "hold: 0 s"},
                                                  {"rate: 2 K/min", "rate: 5 K/min"},
                                                  {"[1 Hz, 2 Hz, 4 Hz, 8 Hz]", "[1 Hz, 8 Hz]"}});
        const auto submitted = daemon.dmacycle("submit " + job.string() + " --wait --json");
        INFO(submitted.err);
        REQUIRE(submitted.exit_code == 0);
        const auto id = std::to_string(json::parse(submitted.out).at("run_ids").at(0).get<int>());
        const auto dir = daemon.dir() / "exports";
        fs::create_directories(dir);
        const auto export_args = [&](const std::string& source) {
            return "export " + id + " --out " + (dir / (source + ".csv")).string() +
                   " --every 1000 --dmta " + (dir / (source + "-dmta.csv")).string();
        };
        const auto from_server = daemon.dmacycle(export_args("server"));
        require_ok(from_server);
        const auto from_store =
            offline_dmacycle(dir, export_args("store") + " --db " + daemon.database().string());
        require_ok(from_store);
        CHECK(from_store.out.find("DMTA measurements of run " + id + ": ") != std::string::npos);

        const auto server_csv = slurp(dir / "server-dmta.csv");
        CHECK(server_csv == slurp(dir / "store-dmta.csv"));
        // Every stored measurement, in seq order, each value read back exactly.
        const auto stored =
            stored_rows(daemon.database(),
                        "SELECT seq, t_s, frequency_hz, temperature_k, storage_pa, loss_pa, "
                        "tan_delta FROM dmta WHERE run_id = ? ORDER BY seq",
                        std::stoll(id));
        CHECK(stored.size() >= 358);  // 360 planned; the simulator waits at each
        const auto cells = csv_rows(dir / "server-dmta.csv");
        REQUIRE(cells.size() == stored.size() + 1);
        CHECK(cells[0] == std::vector<std::string>{"seq", "t_s", "t_wall_utc", "frequency_hz",
                                                   "temperature_k", "storage_pa", "loss_pa",
                                                   "tan_delta"});
        for (std::size_t r = 1; r < cells.size(); ++r) {
            REQUIRE(cells[r].size() == 8);
            const auto& row = stored[r - 1];
            CHECK(number(cells[r][0]) == row[0]);
            CHECK(cells[r][2].ends_with("Z"));
            for (std::size_t k = 3; k < 8; ++k) {
                CHECK(number(cells[r][k]) == row[k - 1]);
            }
            CHECK(number(cells[r][1]) == row[1]);
        }
        const auto no_file =
            daemon.dmacycle("export " + id + " --out " + (dir / "x.csv").string() + " --dmta");
        CHECK(no_file.exit_code == 2);
        CHECK(no_file.err.find("--dmta") != std::string::npos);
        CHECK(!fs::exists(dir / "x.csv"));
        CHECK(daemon.stop() == 0);
    }
}

TEST_SUITE("export.ta_reader") {
    TEST_CASE("the TA reader takes UTF-8 and UTF-16 files with header lines and signals") {
        const test_support::TempDir temp("ta-reader");
        const auto& dir = temp.path;
        const std::string text =
            "CLOSED\r\nInstrument\tDSC Q2000 V24.11 Build 124\r\nOperator\r\nSample\tZeolite\r\n"
            "Size\t28.0000\tmg\r\nNsig\t3\r\nSig1\tTime (min)\r\nSig2\tTemperature (°C)\r\n"
            "Sig3\tHeat Flow (mW)\r\nOrgMethod\t1: Ramp 5.00 °C/min to 550.00 °C\r\n"
            "OrgMethod\t2: Isothermal for 180.00 min\r\nStartOfData\r\n"
            "4.99994E-4\t69.41475\t-5.384774\r\n0.01216666\t69.41914\t-5.344699\r\n";
        std::string utf16 = "\xFF\xFE";
        dmacycle::io::append_utf16le(utf16, text);
        for (const auto& [name, bytes] :
             {std::pair{"utf8.txt", "\xEF\xBB\xBF" + text}, std::pair{"utf16.txt", utf16}}) {
            const std::string file_name = name;  // clang 14 cannot capture a structured binding
            CAPTURE(file_name);
            std::ofstream(dir / file_name, std::ios::binary) << bytes;
            const auto ta = read_ta_text((dir / file_name).string());
            REQUIRE(ta.signals.size() == 3);
            CHECK(ta.signals[1].name == "Temperature");
            CHECK(ta.signals[1].unit == "°C");
            CHECK(ta.signals[2].name == "Heat Flow");
            CHECK(*ta.value("Size") == "28.0000\tmg");
            CHECK(*ta.value("Operator") == "");
            CHECK(*ta.value("CLOSED") == "");
            CHECK(ta.value("Comment") == nullptr);
            CHECK(std::count_if(ta.header.begin(), ta.header.end(),
                                [](const auto& line) { return line.first == "OrgMethod"; }) == 2);
            REQUIRE(ta.rows() == 2);
            CHECK(ta.column("Time")[0] == 4.99994e-4);
            CHECK(ta.column("Heat Flow")[1] == -5.344699);
            CHECK(ta.line_of_row == std::vector<std::size_t>{13, 14});
        }
        // Bytes that are not UTF-8 are read as Latin-1, as older exports were written.
        std::ofstream(dir / "latin1.txt", std::ios::binary) << "Sig1\tTemperature (\xB0"
                                                               "C)\r\nStartOfData\r\n91.85\r\n";
        const auto latin1 = read_ta_text((dir / "latin1.txt").string());
        CHECK(latin1.signals.at(0).unit == "°C");
        CHECK(latin1.column("Temperature") == std::vector<double>{91.85});
    }

    TEST_CASE("the TA reader refuses malformed files naming the file and line") {
        const test_support::TempDir temp("ta-refusals");
        const auto& dir = temp.path;
        const std::string head = "Sample\tR1\nSig1\tTime (min)\nSig2\tStrain (%)\n";
        const struct {
            const char* name;
            std::string bytes;
            std::string message;  // after "PATH"
        } cases[] = {
            {"empty", "", ": empty file"},
            {"no-start", head + "0\t1\n", ": no StartOfData line: not a TA-style text export"},
            {"short-row", head + "StartOfData\n0\t1\n2\n", ":6: 1 cells, but 2 signals"},
            {"long-row", head + "StartOfData\n0\t1\t2\n", ":5: more cells than the 2 signals"},
            {"text-cell", head + "StartOfData\n0\tx1\n",
             ":5: Sig2 (Strain): 'x1' is not a finite number"},
            {"empty-cell", head + "StartOfData\n\t1\n", ":5: Sig1 (Time): empty cell"},
            {"infinite", head + "StartOfData\n0\tinf\n",
             ":5: Sig2 (Strain): 'inf' is not a finite number"},
            {"binary", std::string("Sample\0\x01\x02\x03", 10), ": binary data (NUL bytes"},
            {"control", head + "StartOfData\n0\x01\t1\n", ":5: binary data (control byte 1)"},
            {"no-signals", "Sample\tR1\nStartOfData\n1\n", ":2: StartOfData before any SigN line"},
            {"signal-gap", "Sig1\tTime (min)\nSig3\tStrain (%)\nStartOfData\n",
             ":2: Sig3 where Sig2 was expected"},
            {"nsig", "Nsig\t3\n" + head + "StartOfData\n",
             ":1: Nsig says 3 signals, but 2 SigN lines follow"},
            {"odd-utf16", "\xFF\xFE\x41", ": truncated UTF-16 text"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.name);
            const auto path = (dir / c.name).string();
            std::ofstream(path, std::ios::binary) << c.bytes;
            CHECK_THROWS_WITH_AS(read_ta_text(path), doctest::Contains((path + c.message).c_str()),
                                 InputError);
        }
        CHECK_THROWS_WITH_AS(read_ta_text((dir / "absent").string()),
                             doctest::Contains("absent: cannot open file"), InputError);
    }
}
