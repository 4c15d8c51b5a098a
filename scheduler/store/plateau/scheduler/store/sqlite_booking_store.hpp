// The SQLite BookingStore: one database file (DATA/plateau.db) in WAL mode with a busy timeout, a
// versioned schema migrated in order at open.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plateau/scheduler/store/booking_store.hpp"
#include "plateau/scheduler/store/sqlite.hpp"

namespace plateau::scheduler::store {

// One schema step. Versions are 1, 2, 3, ... with no gaps; each is applied in its own transaction
// together with its row in schema_version, so a failed step leaves the previous version intact.
struct Migration {
  int version = 0;
  std::string description;
  std::string sql;
};

// The schema of this build, oldest first.
const std::vector<Migration>& BookingStoreMigrations();

// Creates schema_version when missing and applies every migration newer than the database's
// version. Refuses a database newer than the newest migration given (a downgrade).
Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations);
// The highest applied version (0 for an empty database).
Result<int> SchemaVersion(Database& db);

struct SqliteOptions {
  int busy_timeout_ms = 5000;
};

class SqliteBookingStore final : public BookingStore {
 public:
  // Opens or creates the file, switches to WAL, sets the busy timeout and foreign keys, applies
  // `migrations`.
  static Result<std::unique_ptr<SqliteBookingStore>> Open(
      const std::string& path, const std::vector<Migration>& migrations = BookingStoreMigrations(),
      SqliteOptions options = {});

  Status InTransaction(const std::function<Status()>& body) override;
  Result<BookingId> NextBookingId() override;
  Status Insert(const BookingRecord& record) override;
  Status Update(const BookingRecord& record) override;
  Result<std::optional<BookingRecord>> Get(BookingId id) override;
  Result<std::vector<BookingRecord>> Find(const BookingQuery& query) override;
  Result<int64_t> AppendEvent(const Event& event) override;
  Result<std::vector<Event>> Events(const EventQuery& query) override;
  Status PutVenueCredential(const VenueCredential& credential) override;
  Result<std::optional<VenueCredential>> GetVenueCredential(const std::string& venue) override;

  Database& database() { return db_; }

 private:
  explicit SqliteBookingStore(Database db) : db_(std::move(db)) {}
  Status Atomically(const std::function<Status()>& write);
  Status InsertRow(const BookingRecord& record);
  Status UpdateRow(const BookingRecord& record);
  Status WriteChildren(const BookingRecord& record);
  Result<std::vector<BookingRecord>> Load(const std::string& selection,
                                          const std::function<void(Statement&)>& bind);
  Database db_;
};

}  // namespace plateau::scheduler::store
