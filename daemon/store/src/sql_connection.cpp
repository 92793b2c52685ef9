#include "dmacycle/store/sql_connection.hpp"

#include <sqlite3.h>

#include "dmacycle/store/sample_store.hpp"

namespace dmacycle::store {

bool SqlRow::null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t SqlRow::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

double SqlRow::real(int column) const {
    return sqlite3_column_double(statement_, column);
}

std::string SqlRow::text(int column) const {
    const auto* text = sqlite3_column_text(statement_, column);
    return text == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(text),
                             static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}

SqlConnection::SqlConnection(const std::filesystem::path& path, Access access) {
    const int open_mode =
        access == Access::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path.c_str(), &db_, open_mode | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError(path.string() + ": " + message);
    }
    // The SampleStore's writer commits every half second; waiting for it beats failing.
    sqlite3_busy_timeout(db_, 5000);
    if (access == Access::read_only) {
        return;
    }
    exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL");
}

SqlConnection::~SqlConnection() {
    for (auto& [sql, statement] : statements_) {
        sqlite3_finalize(statement);
    }
    sqlite3_close(db_);
}

void SqlConnection::exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw StoreError(text + " (in: " + sql.substr(0, 60) + ")");
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
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            fail(sql);
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
        fail(sql);
    }
    return false;
}

void SqlConnection::fail(std::string_view what) const {
    throw StoreError(std::string(sqlite3_errmsg(db_)) + " (in: " + std::string(what.substr(0, 60)) +
                     ")");
}

}  // namespace dmacycle::store
