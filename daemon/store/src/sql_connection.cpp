#include "dmacycle/store/sql_connection.hpp"

#include <sqlite3.h>

#include "dmacycle/store/sample_store.hpp"

namespace dmacycle::store {

bool SqlRow::null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

bool SqlRow::integral(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_INTEGER;
}

std::int64_t SqlRow::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

double SqlRow::real(int column) const {
    return sqlite3_column_double(statement_, column);
}

std::string SqlRow::text(int column) const {
    return std::string(text_view(column));
}

std::string_view SqlRow::text_view(int column) const {
    const auto* text = sqlite3_column_text(statement_, column);
    return text == nullptr
               ? std::string_view()
               : std::string_view(
                     reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}

SqlConnection::SqlConnection(const std::filesystem::path& path, Access access)
    : SqlConnection(path, Options{.access = access}) {}

SqlConnection::SqlConnection(const std::filesystem::path& path, const Options& options) {
    const bool read_only = options.access == Access::read_only;
    const int open_mode = read_only        ? SQLITE_OPEN_READONLY
                          : options.create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                           : SQLITE_OPEN_READWRITE;
    if (const int code =
            sqlite3_open_v2(path.c_str(), &db_, open_mode | SQLITE_OPEN_NOMUTEX, nullptr);
        code != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw SqliteError(path.string() + ": " + message, code);
    }
    try {
        // The SampleStore's writer commits every half second; waiting for it beats failing.
        sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
        if (read_only) {
            return;
        }
        if (text("PRAGMA journal_mode=WAL") != "wal") {
            throw StoreError(path.string() + ": WAL mode unavailable (a network file system?)");
        }
        exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        if (options.max_page_count > 0) {
            exec("PRAGMA max_page_count=" + std::to_string(options.max_page_count));
        }
    } catch (...) {
        for (auto& [sql, statement] : statements_) {
            sqlite3_finalize(statement);
        }
        sqlite3_close(db_);
        throw;
    }
}

SqlConnection::~SqlConnection() {
    for (auto& [sql, statement] : statements_) {
        sqlite3_finalize(statement);
    }
    sqlite3_close(db_);
}

void SqlConnection::exec(const std::string& sql) {
    char* message = nullptr;
    if (const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        code != SQLITE_OK) {
        const std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw SqliteError(text + " (in: " + sql.substr(0, 60) + ")", code);
    }
}

std::string SqlConnection::text(const std::string& sql) {
    std::string first;
    bool seen = false;
    query(sql, {}, [&](const SqlRow& row) {
        if (!seen) {
            first = row.text(0);
            seen = true;
        }
    });
    return first;
}

void SqlConnection::define_function(const char* name, int arguments, Function function) {
    if (const int code =
            sqlite3_create_function(db_, name, arguments, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                    nullptr, function, nullptr, nullptr);
        code != SQLITE_OK) {
        fail(name, code);
    }
}

int SqlConnection::run(const std::string& sql, const std::vector<SqlValue>& params) {
    sqlite3_stmt* statement = prepare(sql, params);
    while (step(statement, sql)) {
    }
    return sqlite3_changes(db_);
}

std::int64_t SqlConnection::last_insert_id() const {
    return sqlite3_last_insert_rowid(db_);
}

sqlite3_stmt* SqlConnection::prepare(const std::string& sql, const std::vector<SqlValue>& params) {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
        sqlite3_stmt* statement = nullptr;
        if (const int code = sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr);
            code != SQLITE_OK) {
            fail(sql, code);
        }
        found = statements_.emplace(sql, statement).first;
    }
    sqlite3_stmt* statement = found->second;
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        const auto& value = params[i];
        if (const auto* integer = std::get_if<std::int64_t>(&value)) {
            sqlite3_bind_int64(statement, index, *integer);
        } else if (const auto* real = std::get_if<double>(&value)) {
            sqlite3_bind_double(statement, index, *real);
        } else if (const auto* text = std::get_if<std::string>(&value)) {
            sqlite3_bind_text(statement, index, text->c_str(), static_cast<int>(text->size()),
                              SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(statement, index);
        }
    }
    return statement;
}

bool SqlConnection::step(sqlite3_stmt* statement, const std::string& sql) {
    const int code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
        return true;
    }
    sqlite3_reset(statement);  // ends the read transaction, so the WAL can be checkpointed
    if (code != SQLITE_DONE) {
        fail(sql, code);
    }
    return false;
}

void SqlConnection::fail(std::string_view what, int code) const {
    throw SqliteError(
        std::string(sqlite3_errmsg(db_)) + " (in: " + std::string(what.substr(0, 60)) + ")", code);
}

bool SqliteError::passes() const {
    return code_ == SQLITE_BUSY || code_ == SQLITE_LOCKED || code_ == SQLITE_FULL ||
           code_ == SQLITE_IOERR || code_ == SQLITE_NOMEM || code_ == SQLITE_PROTOCOL;
}

SqlStatement::SqlStatement(sqlite3* db, const std::string& sql) : db_(db) {
    if (const int code = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                                            &statement_, nullptr);
        code != SQLITE_OK) {
        throw SqliteError(std::string(sqlite3_errmsg(db)) + " (in: " + sql.substr(0, 60) + ")",
                          code);
    }
}

SqlStatement::~SqlStatement() {
    sqlite3_finalize(statement_);
}

namespace {

void check_bind(sqlite3* db, int code) {
    if (code != SQLITE_OK) {
        throw SqliteError(std::string("bind: ") + sqlite3_errmsg(db), code);
    }
}

}  // namespace

SqlStatement& SqlStatement::bind(int index, std::int64_t value) {
    check_bind(db_, sqlite3_bind_int64(statement_, index, value));
    return *this;
}

SqlStatement& SqlStatement::bind(int index, double value) {
    check_bind(db_, sqlite3_bind_double(statement_, index, value));
    return *this;
}

SqlStatement& SqlStatement::bind(int index, std::string_view text) {
    check_bind(db_, sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                                      SQLITE_TRANSIENT));
    return *this;
}

SqlStatement& SqlStatement::bind(int index, std::nullptr_t) {
    check_bind(db_, sqlite3_bind_null(statement_, index));
    return *this;
}

std::optional<std::int64_t> SqlStatement::run() {
    const int code = sqlite3_step(statement_);
    std::optional<std::int64_t> value;
    if (code == SQLITE_ROW) {
        value = sqlite3_column_int64(statement_, 0);
        while (sqlite3_step(statement_) == SQLITE_ROW) {
        }
    }
    sqlite3_reset(statement_);
    if (code != SQLITE_ROW && code != SQLITE_DONE) {
        throw SqliteError(std::string(sqlite3_errmsg(db_)) +
                              " (in: " + std::string(sqlite3_sql(statement_)).substr(0, 60) + ")",
                          code);
    }
    return value;
}

}  // namespace dmacycle::store
