// A small RAII layer over the SQLite C API: a Database owns its sqlite3*, a Statement its
// sqlite3_stmt*, a Transaction rolls back unless committed. Failures come back as values whose
// message carries SQLite's own text. SQLite is used nowhere outside scheduler/store.
//
// Thread ownership: a Database and its statements are used by one thread at a time; the caller
// serialises (BookingService holds one mutex around every store call).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plateau/common/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace plateau::scheduler::store {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. A failed bind is remembered and reported by Step/Run.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const std::optional<int64_t>& value);
  Statement& BindNull(int index);

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();
  // Back to the start with all bindings cleared, ready to be bound again.
  void Reset();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = 0;
};

class Database {
 public:
  // Opens (creating when missing) a database file.
  static Result<Database> Open(const std::string& path);

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database();

  // Runs one or more statements that return no rows of interest.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // A prepared statement kept for reuse (reset and unbound on every call). Valid until the
  // Database is destroyed; do not hold it across another Cached() call with the same SQL.
  Result<Statement*> Cached(const std::string& sql);
  // The single text value of a one-row query (e.g. "PRAGMA journal_mode=WAL").
  Result<std::string> QueryText(std::string_view sql);

  int64_t LastInsertRowId() const;
  int Changes() const;
  bool InTransaction() const;
  sqlite3* handle() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
  // Declared after db_ so the statements are finalised before the connection closes.
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
};

// BEGIN IMMEDIATE (takes the write lock up front, so two writers never both read then write);
// rolls back in the destructor unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

}  // namespace plateau::scheduler::store
