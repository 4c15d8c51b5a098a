#include "plateau/scheduler/store/sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace plateau::scheduler::store {
namespace {

Error SqlError(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "storage_busy" : "storage_error", msg};
}

}  // namespace

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    bind_error_ = other.bind_error_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Statement& Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_)
    return Error{"storage_error", std::string("bind: ") + sqlite3_errstr(bind_error_)};
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, rc, "step");
}

Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Database::Closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Database::~Database() {
  cache_.clear();
}

namespace {

// The database holds meetings and token hashes: it is created 0600, and an older one that group or
// others could read is tightened, with its -wal and -shm (SQLite gives those the database's mode).
Status MakePrivate(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return Status::Ok();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{"storage_error", "open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  const bool tighten = ::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0;
  const int rc = tighten ? ::fchmod(fd, 0600) : 0;
  ::close(fd);
  if (rc != 0) return Error{"storage_error", "chmod 0600 " + path + ": " + std::strerror(errno)};
  if (tighten)
    for (const char* suffix : {"-wal", "-shm", "-journal"}) ::chmod((path + suffix).c_str(), 0600);
  return Status::Ok();
}

}  // namespace

Result<Database> Database::Open(const std::string& path) {
  if (auto st = MakePrivate(path); !st) return st.error();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return SqlError(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 0);
  return db;
}

Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Error{rc == SQLITE_BUSY ? "storage_busy" : "storage_error", "exec: " + msg};
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqlError(db_.get(), rc, "prepare");
  }
  return Statement(db_.get(), stmt);
}

Result<Statement*> Database::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = Prepare(sql);
    if (!stmt) return stmt.error();
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(stmt).value())).first;
  }
  it->second->Reset();
  return it->second.get();
}

Result<std::string> Database::QueryText(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::string();
  return stmt->Text(0);
}

int64_t Database::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_.get());
}
int Database::Changes() const {
  return sqlite3_changes(db_.get());
}
bool Database::InTransaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

Result<Transaction> Transaction::Begin(Database& db) {
  if (db.InTransaction()) return Error{"storage_error", "a transaction is already open"};
  if (auto st = db.Exec("BEGIN IMMEDIATE"); !st) return st.error();
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ && db_->InTransaction()) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (!db_) return Error{"storage_error", "transaction already finished"};
  Status st = db_->Exec("COMMIT");
  if (st.ok()) db_ = nullptr;
  return st;
}

}  // namespace plateau::scheduler::store
