#include "plateau/scheduler/store/sqlite_booking_store.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

namespace plateau::scheduler::store {
namespace {

// Enum text as stored. Kept here (not the domain's ToString) so the on-disk spelling cannot change
// by accident when a display name does.
const char* StoredPriority(Priority p) {
  return p == Priority::kProvincial ? "provincial" : "regional";
}
const char* StoredCascade(CascadeMode c) {
  return c == CascadeMode::kOff ? "off" : "auto";
}
const char* StoredState(BookingState s) {
  switch (s) {
    case BookingState::kConfirmed:
      return "confirmed";
    case BookingState::kBumped:
      return "bumped";
    case BookingState::kCancelled:
      return "cancelled";
  }
  return "confirmed";
}
const char* StoredFrequency(Recurrence::Frequency f) {
  return f == Recurrence::Frequency::kDaily ? "daily" : "weekly";
}
int StateBit(BookingState s) {
  switch (s) {
    case BookingState::kConfirmed:
      return 1;
    case BookingState::kBumped:
      return 2;
    case BookingState::kCancelled:
      return 4;
  }
  return 0;
}

Error Corrupt(const std::string& what) {
  return Error{"storage_corrupt", "stored booking has an unreadable " + what};
}

constexpr const char* kBookingColumns =
    "id, conference_number, title, organiser, region, start_at, end_at, setup_seconds, "
    "recurrence_frequency, recurrence_interval, recurrence_count, recurrence_until, main_venue, "
    "profile, layout, priority, cascade, preempt, state, bumped_reason, bumped_by, root_mcu, "
    "busy_from, busy_to, created_at, updated_at";

// The 25 values after id, bound from parameter `first` on, in kBookingColumns order.
void BindBookingValues(Statement& s, int first, const BookingRecord& r) {
  const Booking& b = r.booking;
  const BookingRequest& q = b.request;
  int i = first;
  s.Bind(i++, b.conference_number);
  s.Bind(i++, q.title);
  s.Bind(i++, q.organiser);
  s.Bind(i++, q.region);
  s.Bind(i++, q.start);
  s.Bind(i++, q.end);
  s.Bind(i++, q.setup_seconds);
  if (q.recurrence) {
    s.Bind(i++, std::string_view(StoredFrequency(q.recurrence->frequency)));
    s.Bind(i++, static_cast<int64_t>(q.recurrence->interval));
    s.Bind(i++, static_cast<int64_t>(q.recurrence->count));
    s.Bind(i++, q.recurrence->until);
  } else {
    for (int k = 0; k < 4; ++k) s.BindNull(i++);
  }
  s.Bind(i++, q.main_venue);
  s.Bind(i++, q.profile);
  s.Bind(i++, q.layout);
  s.Bind(i++, std::string_view(StoredPriority(q.priority)));
  s.Bind(i++, std::string_view(StoredCascade(q.cascade)));
  s.Bind(i++, static_cast<int64_t>(q.preempt ? 1 : 0));
  s.Bind(i++, std::string_view(StoredState(b.state)));
  s.Bind(i++, b.bumped_reason);
  s.Bind(i++, b.bumped_by);
  s.Bind(i++, b.plan.root_mcu);
  s.Bind(i++, r.busy_from);
  s.Bind(i++, r.busy_to);
  s.Bind(i++, r.created_at);
  s.Bind(i++, r.updated_at);
}

Result<BookingRecord> ReadBookingRow(const Statement& s) {
  BookingRecord r;
  Booking& b = r.booking;
  BookingRequest& q = b.request;
  b.id = s.Int(0);
  b.conference_number = s.Text(1);
  q.title = s.Text(2);
  q.organiser = s.Text(3);
  q.region = s.Text(4);
  q.start = s.Int(5);
  q.end = s.Int(6);
  q.setup_seconds = s.Int(7);
  if (!s.IsNull(8)) {
    Recurrence rec;
    const std::string f = s.Text(8);
    if (f == "daily")
      rec.frequency = Recurrence::Frequency::kDaily;
    else if (f == "weekly")
      rec.frequency = Recurrence::Frequency::kWeekly;
    else
      return Corrupt("recurrence frequency \"" + f + "\"");
    rec.interval = static_cast<int>(s.Int(9));
    rec.count = static_cast<int>(s.Int(10));
    rec.until = s.Int(11);
    q.recurrence = std::move(rec);
  }
  q.main_venue = s.Text(12);
  q.profile = s.Text(13);
  q.layout = s.Text(14);
  const std::string priority = s.Text(15);
  if (priority == "provincial")
    q.priority = Priority::kProvincial;
  else if (priority == "regional")
    q.priority = Priority::kRegional;
  else
    return Corrupt("priority \"" + priority + "\"");
  const std::string cascade = s.Text(16);
  if (cascade == "auto")
    q.cascade = CascadeMode::kAuto;
  else if (cascade == "off")
    q.cascade = CascadeMode::kOff;
  else
    return Corrupt("cascade \"" + cascade + "\"");
  q.preempt = s.Int(17) != 0;
  const std::string state = s.Text(18);
  if (state == "confirmed")
    b.state = BookingState::kConfirmed;
  else if (state == "bumped")
    b.state = BookingState::kBumped;
  else if (state == "cancelled")
    b.state = BookingState::kCancelled;
  else
    return Corrupt("state \"" + state + "\"");
  b.bumped_reason = s.Text(19);
  b.bumped_by = s.Int(20);
  b.plan.root_mcu = s.Text(21);
  r.busy_from = s.Int(22);
  r.busy_to = s.Int(23);
  r.created_at = s.Int(24);
  r.updated_at = s.Int(25);
  return r;
}

// Version 1: bookings with their request and plan in plain columns and child tables (no JSON
// blobs, so a PostgreSQL port is a translation), and the event log.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE bookings (
  id INTEGER PRIMARY KEY,
  conference_number TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  organiser TEXT NOT NULL,
  region TEXT NOT NULL,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  setup_seconds INTEGER NOT NULL,
  recurrence_frequency TEXT CHECK (recurrence_frequency IN ('daily', 'weekly')),
  recurrence_interval INTEGER,
  recurrence_count INTEGER,
  recurrence_until INTEGER,
  main_venue TEXT NOT NULL,
  profile TEXT NOT NULL,
  layout TEXT NOT NULL,
  priority TEXT NOT NULL CHECK (priority IN ('regional', 'provincial')),
  cascade TEXT NOT NULL CHECK (cascade IN ('auto', 'off')),
  preempt INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('confirmed', 'bumped', 'cancelled')),
  bumped_reason TEXT NOT NULL DEFAULT '',
  bumped_by INTEGER NOT NULL DEFAULT 0,
  root_mcu TEXT NOT NULL,
  busy_from INTEGER NOT NULL,
  busy_to INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX bookings_busy_to ON bookings (busy_to);
CREATE TABLE booking_venues (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  venue TEXT NOT NULL,
  PRIMARY KEY (booking_id, position)
);
CREATE INDEX booking_venues_venue ON booking_venues (venue, booking_id);
CREATE TABLE occurrence_cancellations (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  start_at INTEGER NOT NULL,
  PRIMARY KEY (booking_id, start_at)
);
CREATE TABLE plan_hosts (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  venue TEXT NOT NULL,
  mcu TEXT NOT NULL,
  PRIMARY KEY (booking_id, position)
);
CREATE TABLE plan_cascades (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  from_mcu TEXT NOT NULL,
  to_mcu TEXT NOT NULL,
  link TEXT NOT NULL,
  PRIMARY KEY (booking_id, position)
);
CREATE TABLE plan_links (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  link TEXT NOT NULL,
  up_kbps INTEGER NOT NULL,
  down_kbps INTEGER NOT NULL,
  PRIMARY KEY (booking_id, position)
);
CREATE TABLE plan_mcus (
  booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  mcu TEXT NOT NULL,
  ports INTEGER NOT NULL,
  PRIMARY KEY (booking_id, position)
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  booking_id INTEGER NOT NULL,
  by_booking INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL
);
CREATE INDEX events_booking ON events (booking_id, id);
)sql";

// Version 2: venue credentials for the signaling channel (hashes only).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE venue_credentials (
  venue TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  issued_at INTEGER NOT NULL
);
)sql";

}  // namespace

const std::vector<Migration>& BookingStoreMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "bookings, plans, occurrence cancellations, events", kSchemaV1},
      {2, "venue credentials", kSchemaV2},
  };
  return migrations;
}

Result<int> SchemaVersion(Database& db) {
  auto exists = db.QueryText(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists) return exists.error();
  if (*exists == "0") return 0;
  auto v = db.QueryText("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v) return v.error();
  return std::stoi(*v);
}

Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return Error{"storage_error", "migrations must be numbered 1, 2, 3, ... in order"};
  if (auto st = db.Exec("CREATE TABLE IF NOT EXISTS schema_version ("
                        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                        "applied_at INTEGER NOT NULL)");
      !st)
    return st;
  for (const Migration& m : migrations) {
    auto tx = Transaction::Begin(db);
    if (!tx) return tx.error();
    // Read the version inside the write transaction: another process may have migrated meanwhile.
    auto current = SchemaVersion(db);
    if (!current) return current.error();
    if (*current > static_cast<int>(migrations.size()))
      return Error{"storage_newer_schema",
                   "the database has schema version " + std::to_string(*current) +
                       " but this build knows only up to " + std::to_string(migrations.size())};
    if (m.version <= *current) continue;
    if (auto st = db.Exec(m.sql); !st)
      return Error{st.error().code, "migration " + std::to_string(m.version) + " (" +
                                        m.description + "): " + st.error().message};
    auto ins = db.Prepare(
        "INSERT INTO schema_version (version, description, applied_at) "
        "VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))");
    if (!ins) return ins.error();
    ins->Bind(1, static_cast<int64_t>(m.version)).Bind(2, m.description);
    if (auto st = ins->Run(); !st) return st;
    if (auto st = tx->Commit(); !st) return st;
  }
  // An empty migration list still refuses a newer database.
  auto current = SchemaVersion(db);
  if (!current) return current.error();
  if (*current > static_cast<int>(migrations.size()))
    return Error{"storage_newer_schema",
                 "the database has schema version " + std::to_string(*current) +
                     " but this build knows only up to " + std::to_string(migrations.size())};
  return Status::Ok();
}

Result<std::unique_ptr<SqliteBookingStore>> SqliteBookingStore::Open(
    const std::string& path, const std::vector<Migration>& migrations, SqliteOptions options) {
  auto db = Database::Open(path);
  if (!db) return db.error();
  if (auto st = db->Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms)); !st)
    return st.error();
  // Switching a fresh file to WAL takes an exclusive lock. Two processes opening the same new
  // database at once (`plateau venue-token` while `plateau serve` starts) can meet in SQLite's
  // deadlock avoidance, which returns SQLITE_BUSY without calling the busy handler: retry it
  // within the same busy timeout.
  auto mode = db->QueryText("PRAGMA journal_mode = WAL");
  const auto give_up = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(std::max(options.busy_timeout_ms, 0));
  while (!mode && mode.error().code == "storage_busy" &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    mode = db->QueryText("PRAGMA journal_mode = WAL");
  }
  if (!mode) return mode.error();
  if (*mode != "wal" && path != ":memory:")
    return Error{"storage_error",
                 path + ": could not switch to WAL (journal_mode is " + *mode + ")"};
  // FULL: a booking the API confirmed survives a power cut, not only a process crash.
  if (auto st = db->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); !st)
    return st.error();
  if (auto st = ApplyMigrations(*db, migrations); !st)
    return Error{st.error().code, path + ": " + st.error().message};
  return std::unique_ptr<SqliteBookingStore>(new SqliteBookingStore(std::move(db).value()));
}

Status SqliteBookingStore::InTransaction(const std::function<Status()>& body) {
  auto tx = Transaction::Begin(db_);
  if (!tx) return tx.error();
  Status st = body();
  if (!st) return st;  // the Transaction rolls back
  return tx->Commit();
}

Result<BookingId> SqliteBookingStore::NextBookingId() {
  auto v = db_.QueryText("SELECT coalesce(max(id), 0) + 1 FROM bookings");
  if (!v) return v.error();
  return static_cast<BookingId>(std::stoll(*v));
}

Status SqliteBookingStore::WriteChildren(const BookingRecord& r) {
  const Booking& b = r.booking;
  const BookingId id = b.id;
  for (const char* table : {"booking_venues", "occurrence_cancellations", "plan_hosts",
                            "plan_cascades", "plan_links", "plan_mcus"}) {
    auto del = db_.Cached(std::string("DELETE FROM ") + table + " WHERE booking_id = ?1");
    if (!del) return del.error();
    (*del)->Bind(1, id);
    if (auto st = (*del)->Run(); !st) return st;
  }
  auto run = [](Result<Statement*>& s) -> Status {
    if (!s) return s.error();
    return (*s)->Run();
  };
  for (size_t i = 0; i < b.request.venues.size(); ++i) {
    auto s =
        db_.Cached("INSERT INTO booking_venues (booking_id, position, venue) VALUES (?1, ?2, ?3)");
    if (s) (*s)->Bind(1, id).Bind(2, static_cast<int64_t>(i)).Bind(3, b.request.venues[i]);
    if (auto st = run(s); !st) return st;
  }
  if (b.request.recurrence) {
    for (Instant at : b.request.recurrence->cancelled) {
      auto s = db_.Cached(
          "INSERT OR IGNORE INTO occurrence_cancellations (booking_id, start_at) VALUES (?1, ?2)");
      if (s) (*s)->Bind(1, id).Bind(2, at);
      if (auto st = run(s); !st) return st;
    }
  }
  for (size_t i = 0; i < b.plan.hosts.size(); ++i) {
    auto s = db_.Cached(
        "INSERT INTO plan_hosts (booking_id, position, venue, mcu) VALUES (?1, ?2, ?3, ?4)");
    if (s)
      (*s)->Bind(1, id)
          .Bind(2, static_cast<int64_t>(i))
          .Bind(3, b.plan.hosts[i].venue)
          .Bind(4, b.plan.hosts[i].mcu);
    if (auto st = run(s); !st) return st;
  }
  for (size_t i = 0; i < b.plan.cascades.size(); ++i) {
    const CascadeLeg& c = b.plan.cascades[i];
    auto s = db_.Cached(
        "INSERT INTO plan_cascades (booking_id, position, from_mcu, to_mcu, link) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (s)
      (*s)->Bind(1, id)
          .Bind(2, static_cast<int64_t>(i))
          .Bind(3, c.from_mcu)
          .Bind(4, c.to_mcu)
          .Bind(5, c.link);
    if (auto st = run(s); !st) return st;
  }
  for (size_t i = 0; i < b.plan.links.size(); ++i) {
    const LinkLoad& l = b.plan.links[i];
    auto s = db_.Cached(
        "INSERT INTO plan_links (booking_id, position, link, up_kbps, down_kbps) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (s)
      (*s)->Bind(1, id)
          .Bind(2, static_cast<int64_t>(i))
          .Bind(3, l.link)
          .Bind(4, l.up_kbps)
          .Bind(5, l.down_kbps);
    if (auto st = run(s); !st) return st;
  }
  for (size_t i = 0; i < b.plan.mcus.size(); ++i) {
    const McuLoad& m = b.plan.mcus[i];
    auto s = db_.Cached(
        "INSERT INTO plan_mcus (booking_id, position, mcu, ports) VALUES (?1, ?2, ?3, ?4)");
    if (s)
      (*s)->Bind(1, id)
          .Bind(2, static_cast<int64_t>(i))
          .Bind(3, m.mcu)
          .Bind(4, static_cast<int64_t>(m.ports));
    if (auto st = run(s); !st) return st;
  }
  return Status::Ok();
}

// Runs `write` atomically: inside the caller's transaction as a savepoint, or on its own.
Status SqliteBookingStore::Atomically(const std::function<Status()>& write) {
  if (auto st = db_.Exec("SAVEPOINT booking_write"); !st) return st;
  Status st = write();
  if (!st) {
    (void)db_.Exec("ROLLBACK TO booking_write");
    (void)db_.Exec("RELEASE booking_write");
    return st;
  }
  return db_.Exec("RELEASE booking_write");
}

Status SqliteBookingStore::Insert(const BookingRecord& r) {
  return Atomically([&] { return InsertRow(r); });
}

Status SqliteBookingStore::Update(const BookingRecord& r) {
  return Atomically([&] { return UpdateRow(r); });
}

Status SqliteBookingStore::InsertRow(const BookingRecord& r) {
  auto s = db_.Cached(std::string("INSERT INTO bookings (") + kBookingColumns +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                      "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)");
  if (!s) return s.error();
  (*s)->Bind(1, r.booking.id);
  BindBookingValues(**s, 2, r);
  if (auto st = (*s)->Run(); !st) return st;
  return WriteChildren(r);
}

Status SqliteBookingStore::UpdateRow(const BookingRecord& r) {
  auto s = db_.Cached(
      "UPDATE bookings SET conference_number = ?2, title = ?3, organiser = ?4, region = ?5, "
      "start_at = ?6, end_at = ?7, setup_seconds = ?8, recurrence_frequency = ?9, "
      "recurrence_interval = ?10, recurrence_count = ?11, recurrence_until = ?12, "
      "main_venue = ?13, profile = ?14, layout = ?15, priority = ?16, cascade = ?17, "
      "preempt = ?18, state = ?19, bumped_reason = ?20, bumped_by = ?21, root_mcu = ?22, "
      "busy_from = ?23, busy_to = ?24, created_at = ?25, updated_at = ?26 WHERE id = ?1");
  if (!s) return s.error();
  (*s)->Bind(1, r.booking.id);
  BindBookingValues(**s, 2, r);
  if (auto st = (*s)->Run(); !st) return st;
  if (db_.Changes() != 1)
    return Error{"not_found", "booking " + std::to_string(r.booking.id) + " is not stored"};
  return WriteChildren(r);
}

// The bookings the parameters of `selection` pick, in its order, each with its venues,
// cancellations and plan: one query per table, whatever the number of bookings.
Result<std::vector<BookingRecord>> SqliteBookingStore::Load(
    const std::string& selection, const std::function<void(Statement&)>& bind) {
  std::vector<BookingRecord> out;
  std::map<BookingId, size_t> index;
  {
    auto s = db_.Cached(std::string("SELECT ") + kBookingColumns + " FROM bookings WHERE id IN (" +
                        selection + ") ORDER BY start_at, id");
    if (!s) return s.error();
    bind(**s);
    for (;;) {
      auto row = (*s)->Step();
      if (!row) return row.error();
      if (!*row) break;
      auto rec = ReadBookingRow(**s);
      if (!rec) return rec.error();
      index[rec->booking.id] = out.size();
      out.push_back(std::move(rec).value());
    }
  }
  if (out.empty()) return out;
  // Child rows of the selected bookings, in booking then position order.
  auto each = [&](const char* columns, const char* table, const char* order,
                  const std::function<void(BookingRecord&, const Statement&)>& fn) -> Status {
    auto s = db_.Cached(std::string("SELECT booking_id, ") + columns + " FROM " + table +
                        " WHERE booking_id IN (" + selection + ") ORDER BY booking_id, " + order);
    if (!s) return s.error();
    bind(**s);
    for (;;) {
      auto row = (*s)->Step();
      if (!row) return row.error();
      if (!*row) break;
      auto it = index.find((*s)->Int(0));
      if (it != index.end()) fn(out[it->second], **s);
    }
    return Status::Ok();
  };
  Status st = each("venue", "booking_venues", "position", [](BookingRecord& r, const Statement& s) {
    r.booking.request.venues.push_back(s.Text(1));
  });
  if (st.ok())
    st = each("start_at", "occurrence_cancellations", "start_at",
              [](BookingRecord& r, const Statement& s) {
                if (r.booking.request.recurrence)
                  r.booking.request.recurrence->cancelled.push_back(s.Int(1));
              });
  if (st.ok())
    st = each("venue, mcu", "plan_hosts", "position", [](BookingRecord& r, const Statement& s) {
      r.booking.plan.hosts.push_back(VenueHost{s.Text(1), s.Text(2)});
    });
  if (st.ok())
    st = each("from_mcu, to_mcu, link", "plan_cascades", "position",
              [](BookingRecord& r, const Statement& s) {
                r.booking.plan.cascades.push_back(CascadeLeg{s.Text(1), s.Text(2), s.Text(3)});
              });
  if (st.ok())
    st = each("link, up_kbps, down_kbps", "plan_links", "position",
              [](BookingRecord& r, const Statement& s) {
                r.booking.plan.links.push_back(LinkLoad{s.Text(1), s.Int(2), s.Int(3)});
              });
  if (st.ok())
    st = each("mcu, ports", "plan_mcus", "position", [](BookingRecord& r, const Statement& s) {
      r.booking.plan.mcus.push_back(McuLoad{s.Text(1), static_cast<int>(s.Int(2))});
    });
  if (!st) return st.error();
  return out;
}

Result<std::optional<BookingRecord>> SqliteBookingStore::Get(BookingId id) {
  auto found = Load("SELECT ?1", [id](Statement& s) { s.Bind(1, id); });
  if (!found) return found.error();
  if (found->empty()) return std::optional<BookingRecord>();
  return std::optional<BookingRecord>(std::move(found->front()));
}

Result<std::vector<BookingRecord>> SqliteBookingStore::Find(const BookingQuery& q) {
  int states = 0;
  for (BookingState st : q.states) states |= StateBit(st);
  if (q.states.empty()) states = 7;
  return Load(
      "SELECT id FROM bookings WHERE (?1 IS NULL OR busy_to > ?1) AND (?2 IS NULL OR busy_from < "
      "?2) "
      "AND (?3 = '' OR id IN (SELECT booking_id FROM booking_venues WHERE venue = ?3)) "
      "AND (?4 & (CASE state WHEN 'confirmed' THEN 1 WHEN 'bumped' THEN 2 ELSE 4 END)) != 0 "
      "ORDER BY start_at, id LIMIT ?5",
      [&](Statement& s) {
        s.Bind(1, q.from).Bind(2, q.to).Bind(3, q.venue).Bind(4, static_cast<int64_t>(states));
        s.Bind(5, q.limit == 0 ? int64_t{-1} : static_cast<int64_t>(q.limit));
      });
}

Result<int64_t> SqliteBookingStore::AppendEvent(const Event& e) {
  auto s = db_.Cached(
      "INSERT INTO events (at, kind, booking_id, by_booking, message) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!s) return s.error();
  (*s)->Bind(1, e.at).Bind(2, e.kind).Bind(3, e.booking).Bind(4, e.by_booking).Bind(5, e.message);
  if (auto st = (*s)->Run(); !st) return st.error();
  return db_.LastInsertRowId();
}

Result<std::vector<Event>> SqliteBookingStore::Events(const EventQuery& q) {
  auto s = db_.Cached(
      "SELECT id, at, kind, booking_id, by_booking, message FROM events "
      "WHERE id > ?1 AND (?2 = 0 OR booking_id = ?2 OR by_booking = ?2) ORDER BY id LIMIT ?3");
  if (!s) return s.error();
  (*s)->Bind(1, q.after_id).Bind(2, q.booking);
  (*s)->Bind(3, q.limit == 0 ? int64_t{-1} : static_cast<int64_t>(q.limit));
  std::vector<Event> out;
  for (;;) {
    auto row = (*s)->Step();
    if (!row) return row.error();
    if (!*row) break;
    const Statement& r = **s;
    out.push_back(Event{r.Int(0), r.Int(1), r.Text(2), r.Int(3), r.Int(4), r.Text(5)});
  }
  (*s)->Reset();
  return out;
}

Status SqliteBookingStore::PutVenueCredential(const VenueCredential& c) {
  auto s = db_.Cached(
      "INSERT INTO venue_credentials (venue, hash, issued_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (venue) DO UPDATE SET hash = excluded.hash, issued_at = excluded.issued_at");
  if (!s) return s.error();
  (*s)->Bind(1, c.venue).Bind(2, c.hash).Bind(3, c.issued_at);
  return (*s)->Run();
}

Result<std::optional<VenueCredential>> SqliteBookingStore::GetVenueCredential(
    const std::string& venue) {
  auto s = db_.Cached("SELECT venue, hash, issued_at FROM venue_credentials WHERE venue = ?1");
  if (!s) return s.error();
  (*s)->Bind(1, venue);
  auto row = (*s)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<VenueCredential>();
  VenueCredential c{(*s)->Text(0), (*s)->Text(1), (*s)->Int(2)};
  (*s)->Reset();
  return std::optional<VenueCredential>(std::move(c));
}

}  // namespace plateau::scheduler::store
