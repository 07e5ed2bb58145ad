// Statement: a prepared SQLite statement with typed binds and reads (jobs layer, SQLite backend only).
// Errors become Status values with SQLite's message; the statement is finalized on destruction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/status.h"

namespace frugal::jobs {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
      error_ = unavailable(std::string("sqlite prepare: ") + sqlite3_errmsg(db) + " in: " + sql);
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as SQLite's.
  Statement& bind(int index, const std::string& value) {
    if (stmt_) sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    if (stmt_) sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value) {
    if (stmt_) sqlite3_bind_double(stmt_, index, value);
    return *this;
  }

  // Next row: true while rows come; false at the end or on error (then status() says which).
  bool step() {
    if (!stmt_) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) error_ = unavailable(std::string("sqlite step: ") + sqlite3_errmsg(db_));
    return false;
  }
  // Runs a statement without rows.
  Status run() {
    step();
    return error_;
  }
  const Status& status() const { return error_; }

  int64_t int64_at(int column) const { return sqlite3_column_int64(stmt_, column); }
  double double_at(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text_at(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status error_;
};

}  // namespace frugal::jobs
