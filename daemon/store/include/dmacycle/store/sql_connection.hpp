#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

// One SQLite connection of the service beside the SampleStore's own (docs/store-schema.md):
// WAL, busy_timeout, prepared statements kept per SQL text. Not thread-safe: the owner locks.
// Errors throw StoreError naming the statement.
namespace dmacycle::store {

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class SqlRow {
  public:
    explicit SqlRow(sqlite3_stmt* statement) : statement_(statement) {}
    bool null(int column) const;
    std::int64_t integer(int column) const;
    double real(int column) const;
    std::string text(int column) const;  // "" for NULL

  private:
    sqlite3_stmt* statement_;
};

class SqlConnection {
  public:
    enum class Access { read_write, read_only };
    // read_only opens without creating, changing the journal mode or writing anything.
    explicit SqlConnection(const std::filesystem::path& path, Access access = Access::read_write);
    ~SqlConnection();
    SqlConnection(const SqlConnection&) = delete;
    SqlConnection& operator=(const SqlConnection&) = delete;

    void exec(const std::string& sql);  // one or more statements, no parameters
    // Runs one statement with `params` bound in order; `row` is called for each result row.
    template <class Row>
    void query(const std::string& sql, const std::vector<SqlValue>& params, Row&& row) {
        sqlite3_stmt* statement = prepare(sql, params);
        while (step(statement, sql)) {
            row(SqlRow(statement));
        }
    }
    // A statement without result rows; returns the number of rows it changed.
    int run(const std::string& sql, const std::vector<SqlValue>& params = {});
    std::int64_t last_insert_id() const;

  private:
    sqlite3_stmt* prepare(const std::string& sql, const std::vector<SqlValue>& params);
    bool step(sqlite3_stmt* statement, const std::string& sql);  // false when done (and reset)
    [[noreturn]] void fail(std::string_view what) const;

    sqlite3* db_ = nullptr;
    std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace dmacycle::store
