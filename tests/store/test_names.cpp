// The names table (store/names.hpp) against its human copy, docs/names.md, and against the schema
// a new store creates: a column added, renamed or given another unit in one place and not the
// other fails here.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "dmacycle/store/names.hpp"
#include "dmacycle/store/sample_store.hpp"
#include "temp_dir.hpp"

namespace names = dmacycle::store::names;

namespace {

std::string names_doc() {
    std::ifstream file(std::filesystem::path(DMACYCLE_SOURCE_DIR) / "docs" / "names.md");
    REQUIRE(file);
    return {std::istreambuf_iterator<char>(file), {}};
}

std::string cell(const std::string& row, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= index; ++i) {
        start = row.find('|', start);
        REQUIRE_MESSAGE(start != std::string::npos, row);
        ++start;
    }
    const auto end = row.find('|', start);
    std::string text = row.substr(start, end - start);
    text.erase(0, text.find_first_not_of(' '));
    text.erase(text.find_last_not_of(' ') + 1);
    return text;
}

// The first two cells of each row of the table under the heading `heading` whose first cell is
// in backticks: name (without them) -> unit ("—" read as none).
std::map<std::string, std::string> documented(const std::string& doc, const std::string& heading) {
    const auto at = doc.find("\n" + heading + "\n");
    REQUIRE_MESSAGE(at != std::string::npos, "docs/names.md has no heading '" << heading << "'");
    std::istringstream section(doc.substr(at + 1, doc.find("\n#", at + 1) - at - 1));
    std::map<std::string, std::string> rows;
    for (std::string line; std::getline(section, line);) {
        if (line.rfind("| `", 0) != 0) {
            continue;
        }
        const std::string name = cell(line, 0);
        const std::string unit = cell(line, 1);
        CHECK_MESSAGE(rows.count(name.substr(1, name.size() - 2)) == 0, name << " twice");
        rows[name.substr(1, name.size() - 2)] = unit == "—" ? "" : unit;
    }
    return rows;
}

void check_documented(std::span<const names::Column> table, const std::string& heading) {
    const auto rows = documented(names_doc(), heading);
    for (const auto& column : table) {
        CAPTURE(column.name);
        const auto found = rows.find(std::string(column.name));
        CHECK_MESSAGE(found != rows.end(), "missing from docs/names.md " << heading);
        if (found != rows.end()) {
            CHECK(found->second == column.unit);
        }
    }
    for (const auto& row : rows) {
        const std::string& name =
            row.first;  // not a structured binding: clang 14 cannot capture one
        CHECK_MESSAGE(std::ranges::any_of(table, [&](const auto& c) { return c.name == name; }),
                      "docs/names.md " << heading << " has " << name << ", the table has not");
    }
}

// The columns of a table of the store's schema after run_id, with their SQL types.
std::vector<std::pair<std::string, std::string>> stored_columns(sqlite3* db,
                                                                const std::string& table) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &statement,
                               nullptr) == SQLITE_OK);
    std::vector<std::pair<std::string, std::string>> columns;
    while (sqlite3_step(statement) == SQLITE_ROW) {
        columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 1)),
                             reinterpret_cast<const char*>(sqlite3_column_text(statement, 2)));
    }
    sqlite3_finalize(statement);
    REQUIRE(!columns.empty());
    CHECK(columns.front().first == "run_id");
    columns.erase(columns.begin());
    return columns;
}

std::vector<std::pair<std::string, std::string>> expected(std::span<const names::Column> table) {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& column : table) {
        columns.emplace_back(column.name, column.type == names::Type::integer ? "INTEGER"
                                          : column.type == names::Type::real  ? "REAL"
                                                                              : "TEXT");
    }
    return columns;
}

// `samples` is a view, whose columns have no declared type: the names of its columns, each with
// the SQL type of its value in the first row.
std::vector<std::pair<std::string, std::string>> sample_columns(sqlite3* db) {
    auto columns = stored_columns(db, "samples");
    for (auto& [name, type] : columns) {
        sqlite3_stmt* statement = nullptr;
        const std::string sql = "SELECT upper(typeof(" + name + ")) FROM samples LIMIT 1";
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
        type = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        sqlite3_finalize(statement);
    }
    return columns;
}

}  // namespace

TEST_CASE("docs/names.md documents every column of the names table with its unit") {
    check_documented(names::samples, "## Samples");
    check_documented(names::cycles, "## Cycles");
    check_documented(names::dmta, "## DMTA measurements");
}

TEST_CASE("docs/names.md documents every unit suffix with its unit") {
    const auto rows = documented(names_doc(), "## Units of result keys");
    CHECK(rows.size() == names::unit_suffixes.size());
    for (const auto& entry : names::unit_suffixes) {
        const auto suffix = entry.suffix;  // not a structured binding: clang 14 cannot capture one
        const auto unit = entry.unit;
        CAPTURE(suffix);
        REQUIRE(rows.count(std::string(suffix)) == 1);
        CHECK(rows.at(std::string(suffix)) == unit);
    }
}

TEST_CASE("a unit is read from a name's suffix, longest first") {
    CHECK(names::unit_of("work_done_kj_mol") == "kJ/mol");
    CHECK(names::unit_of("stress_creep_mpa") == "MPa");
    CHECK(names::unit_of("storage_pa") == "Pa");
    CHECK(names::unit_of("temperature_stderr_k") == "K");
    CHECK(names::unit_of("strain_rate_vp") == "1/s");
    CHECK(names::unit_of("beta") == "1");
    CHECK(names::unit_of("_s") == "1");  // a suffix alone names nothing
}

TEST_CASE("a new store's tables have the names table's columns, types and order") {
    test_support::TempDir dir("dmacycle-names");
    const auto path = (dir.path / "store.db").string();
    {
        dmacycle::store::SampleStore store(path);
        dmacycle::store::SampleRow row;
        row.segment = "cycle";
        store.append(store.create_run({}), row);
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    CHECK(sample_columns(db) == expected(names::samples));
    CHECK(stored_columns(db, "cycles") == expected(names::cycles));
    CHECK(stored_columns(db, "dmta") == expected(names::dmta));
    sqlite3_close(db);
    CHECK(names::joined(names::dmta, ",") ==
          "seq,t_s,t_wall_utc,frequency_hz,temperature_k,storage_pa,loss_pa,tan_delta");
}
