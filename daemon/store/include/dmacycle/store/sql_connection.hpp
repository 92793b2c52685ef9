#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dmacycle/store/sample_store.hpp"

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_context;
struct sqlite3_value;

// The one SQLite wrapper (docs/store-schema.md): the SampleStore's writer, the service's queue
// and queries and the read-only RunArchive each hold a connection of their own. WAL,
// busy_timeout, prepared statements kept per SQL text. Not thread-safe: the owner locks.
// Errors throw SqliteError naming the statement.
namespace dmacycle::store {

// A failed SQLite call with its primary result code, so the writer can tell a condition that
// passes (another connection's lock, a full disk, an I/O error) from one that will not.
class SqliteError : public StoreError {
  public:
    SqliteError(const std::string& what, int code) : StoreError(what), code_(code & 0xff) {}
    bool passes() const;

  private:
    int code_;
};

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class SqlRow {
  public:
    explicit SqlRow(sqlite3_stmt* statement) : statement_(statement) {}
    bool null(int column) const;
    bool integral(int column) const;  // an INTEGER value (not REAL, text or NULL)
    std::int64_t integer(int column) const;
    double real(int column) const;
    std::string text(int column) const;  // "" for NULL
    // The same without a copy: valid until the statement steps on.
    std::string_view text_view(int column) const;

  private:
    sqlite3_stmt* statement_;
};

// A statement prepared once and bound by type, for rows written by the hundred thousand: no
// allocation per row. Reset after each run.
class SqlStatement {
  public:
    SqlStatement(sqlite3* db, const std::string& sql);
    ~SqlStatement();
    SqlStatement(const SqlStatement&) = delete;
    SqlStatement& operator=(const SqlStatement&) = delete;

    SqlStatement& bind(int index, std::int64_t value);
    SqlStatement& bind(int index, double value);
    SqlStatement& bind(int index, std::string_view text);
    SqlStatement& bind(int index, std::nullptr_t);  // NULL
    // Runs to completion; the first column of the first row when there is one.
    std::optional<std::int64_t> run();

  private:
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

class SqlConnection {
  public:
    enum class Access { read_write, read_only };
    struct Options {
        Access access = Access::read_write;
        bool create = false;  // read_write: create the file when there is none
        std::chrono::milliseconds busy_timeout{5000};
        bool synchronous_full = true;      // else NORMAL (WAL: durable at each checkpoint)
        std::uint32_t max_page_count = 0;  // 0: SQLite's default
    };
    // read_only opens without creating, changing the journal mode or writing anything;
    // read_write turns WAL on (refusing a file system without it) and foreign keys.
    explicit SqlConnection(const std::filesystem::path& path, Access access = Access::read_write);
    SqlConnection(const std::filesystem::path& path, const Options& options);
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
    // The first column of the first row as text ("" when there is none).
    std::string text(const std::string& sql);
    // A statement without result rows; returns the number of rows it changed.
    int run(const std::string& sql, const std::vector<SqlValue>& params = {});
    std::int64_t last_insert_id() const;
    SqlStatement statement(const std::string& sql) { return SqlStatement(db_, sql); }
    // An SQL function of `arguments` for this connection's statements (nullptr removes it).
    using Function = void (*)(sqlite3_context*, int, sqlite3_value**);
    void define_function(const char* name, int arguments, Function function);

  private:
    sqlite3_stmt* prepare(const std::string& sql, const std::vector<SqlValue>& params);
    bool step(sqlite3_stmt* statement, const std::string& sql);  // false when done (and reset)
    [[noreturn]] void fail(std::string_view what, int code) const;

    sqlite3* db_ = nullptr;
    std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace dmacycle::store
