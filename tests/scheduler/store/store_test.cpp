// The SQLite BookingStore: migrations, round trips, transactions, restarts, two connections.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "plateau/scheduler/app/booking_json.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "support/process.hpp"

namespace plateau::scheduler::store {
namespace {

using plateau::testing::TempDir;

BookingRecord SampleRecord(BookingId id) {
  BookingRecord r;
  Booking& b = r.booking;
  b.id = id;
  b.conference_number = "8" + std::to_string(1000000 + id);
  BookingRequest& q = b.request;
  q.title = "全省安全生产视频会议, \"第" + std::to_string(id) + "次\"";
  q.organiser = "省政府办公厅";
  q.region = "hub";
  q.start = 1898816400 + id * kDay;  // 2030-03-04T09:00:00+08:00 + id days
  q.end = q.start + 2 * kHour;
  q.setup_seconds = 20 * kMinute;
  Recurrence rec;
  rec.frequency = Recurrence::Frequency::kWeekly;
  rec.interval = 2;
  rec.count = 4;
  rec.cancelled = {q.start + 14 * kDay};
  q.recurrence = rec;
  q.venues = {"hall-1", "minhe", "ledu"};
  q.main_venue = "hall-1";
  q.profile = "hd-2m";
  q.layout = "1+5";
  q.priority = Priority::kProvincial;
  q.cascade = CascadeMode::kAuto;
  q.preempt = true;
  b.plan.root_mcu = "mcu-hub";
  b.plan.hosts = {{"hall-1", "mcu-hub"}, {"minhe", "mcu-haidong"}, {"ledu", "mcu-haidong"}};
  b.plan.cascades = {{"mcu-haidong", "mcu-hub", "hub-haidong"}};
  b.plan.links = {{"hub-hall-1", 1229, 1229}, {"hub-haidong", 1229, 2412}};
  b.plan.mcus = {{"mcu-hub", 2}, {"mcu-haidong", 3}};
  r.created_at = 1898000000;
  r.updated_at = 1898000100;
  r.busy_from = q.start - q.setup_seconds;
  r.busy_to = q.start + 6 * 7 * kDay + 2 * kHour;
  return r;
}

// Everything a client can see of a record, plus the stored span.
void ExpectSame(const BookingRecord& a, const BookingRecord& b) {
  EXPECT_EQ(app::BookingToJson(a, 480), app::BookingToJson(b, 480));
  EXPECT_EQ(a.booking.request.preempt, b.booking.request.preempt);
  EXPECT_EQ(a.booking.bumped_reason, b.booking.bumped_reason);
  EXPECT_EQ(a.booking.bumped_by, b.booking.bumped_by);
  EXPECT_EQ(a.busy_from, b.busy_from);
  EXPECT_EQ(a.busy_to, b.busy_to);
}

std::unique_ptr<SqliteBookingStore> OpenOrDie(
    const std::string& path, const std::vector<Migration>& m = BookingStoreMigrations(),
    SqliteOptions options = {}) {
  auto s = SqliteBookingStore::Open(path, m, options);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : nullptr;
}

int64_t CountRows(Database& db, const std::string& table) {
  auto v = db.QueryText("SELECT count(*) FROM " + table);
  return v.ok() ? std::stoll(*v) : -1;
}

class Store : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.path() + "/plateau.db"; }
  TempDir dir_;
};

TEST_F(Store, FreshDatabaseIsInWalModeAtTheNewestSchemaVersion) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  auto v = SchemaVersion(s->database());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, static_cast<int>(BookingStoreMigrations().size()));
  EXPECT_EQ(*s->database().QueryText("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(*s->database().QueryText("PRAGMA foreign_keys"), "1");
}

TEST_F(Store, ReopeningAppliesNoMigrationTwice) {
  OpenOrDie(Path()).reset();
  OpenOrDie(Path()).reset();
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  EXPECT_EQ(CountRows(s->database(), "schema_version"),
            static_cast<int64_t>(BookingStoreMigrations().size()));
}

TEST_F(Store, OldDatabaseIsMigratedInOrderAndKeepsItsBookings) {
  const std::vector<Migration> v1_only(BookingStoreMigrations().begin(),
                                       BookingStoreMigrations().begin() + 1);
  {
    auto old = OpenOrDie(Path(), v1_only);
    ASSERT_TRUE(old);
    EXPECT_EQ(*SchemaVersion(old->database()), 1);
    ASSERT_TRUE(old->Insert(SampleRecord(1)).ok());
    // Version 1 has no venue credentials yet.
    EXPECT_FALSE(old->GetVenueCredential("minhe").ok());
  }
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  EXPECT_EQ(*SchemaVersion(s->database()), 2);
  auto got = s->Get(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSame(**got, SampleRecord(1));
  EXPECT_TRUE(s->PutVenueCredential({"minhe", "blake2b$x$y", 5}).ok());
}

TEST_F(Store, FailedMigrationLeavesThePreviousVersionIntact) {
  std::vector<Migration> broken(BookingStoreMigrations().begin(),
                                BookingStoreMigrations().begin() + 1);
  broken.push_back({2, "half a migration", "CREATE TABLE partial (a INTEGER); CREATE TABLE ("});
  auto s = SqliteBookingStore::Open(Path(), broken);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("migration 2"), std::string::npos) << s.error().message;
  auto db = Database::Open(Path());
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*SchemaVersion(*db), 1);
  EXPECT_EQ(*db->QueryText("SELECT count(*) FROM sqlite_master WHERE name = 'partial'"), "0");
}

TEST_F(Store, DatabaseFromANewerBuildIsRefused) {
  OpenOrDie(Path()).reset();
  const std::vector<Migration> v1_only(BookingStoreMigrations().begin(),
                                       BookingStoreMigrations().begin() + 1);
  auto s = SqliteBookingStore::Open(Path(), v1_only);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "storage_newer_schema");
}

TEST_F(Store, MigrationsOutOfOrderAreAProgrammingError) {
  std::vector<Migration> gap = {{1, "one", "CREATE TABLE a (x)"},
                                {3, "three", "CREATE TABLE b (x)"}};
  EXPECT_FALSE(SqliteBookingStore::Open(Path(), gap).ok());
}

TEST_F(Store, BookingRoundTripsWithRequestRecurrencePlanAndState) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  BookingRecord r = SampleRecord(7);
  r.booking.state = BookingState::kBumped;
  r.booking.bumped_reason = "provincial meeting 9 preempted it";
  r.booking.bumped_by = 9;
  ASSERT_TRUE(s->Insert(r).ok());
  auto got = s->Get(7);
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSame(**got, r);
  EXPECT_FALSE(s->Get(8)->has_value());
}

TEST_F(Store, BookingsAndEventsSurviveReopening) {
  {
    auto s = OpenOrDie(Path());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->Insert(SampleRecord(1)).ok());
    ASSERT_TRUE(s->AppendEvent({0, 10, "created", 1, 0, "created"}).ok());
  }
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  auto got = s->Get(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSame(**got, SampleRecord(1));
  auto events = s->Events({});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "created");
  EXPECT_EQ(*s->NextBookingId(), 2);
}

TEST_F(Store, UpdateReplacesVenuesPlanAndState) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Insert(SampleRecord(1)).ok());
  BookingRecord r = SampleRecord(1);
  r.booking.request.venues = {"hall-2"};
  r.booking.request.main_venue = "hall-2";
  r.booking.request.recurrence.reset();
  r.booking.plan.hosts = {{"hall-2", "mcu-hub"}};
  r.booking.plan.cascades.clear();
  r.booking.plan.links = {{"hub-hall-2", 1229, 1229}};
  r.booking.plan.mcus = {{"mcu-hub", 1}};
  r.booking.state = BookingState::kCancelled;
  ASSERT_TRUE(s->Update(r).ok());
  ExpectSame(**s->Get(1), r);
  EXPECT_EQ(CountRows(s->database(), "booking_venues"), 1);
  EXPECT_EQ(CountRows(s->database(), "occurrence_cancellations"), 0);
  BookingRecord missing = SampleRecord(2);
  EXPECT_EQ(s->Update(missing).error().code, "not_found");
}

TEST_F(Store, FindFiltersByBusyWindowVenueAndState) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  BookingRecord a = SampleRecord(1), b = SampleRecord(2), c = SampleRecord(3);
  for (BookingRecord* r : {&a, &b, &c}) {
    r->booking.request.recurrence.reset();
    r->busy_from = r->booking.request.start - r->booking.request.setup_seconds;
    r->busy_to = r->booking.request.end;
  }
  b.booking.request.venues = {"hall-2"};
  c.booking.state = BookingState::kCancelled;
  for (BookingRecord* r : {&a, &b, &c}) ASSERT_TRUE(s->Insert(*r).ok());

  auto ids = [&](const BookingQuery& q) {
    std::vector<BookingId> out;
    auto found = s->Find(q);
    EXPECT_TRUE(found.ok());
    if (found.ok())
      for (const BookingRecord& r : *found) out.push_back(r.booking.id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<BookingId>{1, 2, 3}));
  BookingQuery window;
  window.from = b.busy_from;
  window.to = b.busy_to;
  EXPECT_EQ(ids(window), (std::vector<BookingId>{2}));
  window.to = b.busy_from;  // touching, not overlapping
  window.from = a.busy_to;
  EXPECT_TRUE(ids(window).empty());
  BookingQuery venue;
  venue.venue = "minhe";
  EXPECT_EQ(ids(venue), (std::vector<BookingId>{1, 3}));
  BookingQuery confirmed;
  confirmed.states = {BookingState::kConfirmed};
  EXPECT_EQ(ids(confirmed), (std::vector<BookingId>{1, 2}));
  BookingQuery limited;
  limited.limit = 2;
  EXPECT_EQ(ids(limited), (std::vector<BookingId>{1, 2}));
}

TEST_F(Store, RolledBackTransactionLeavesNothing) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  Status st = s->InTransaction([&]() -> Status {
    EXPECT_TRUE(s->Insert(SampleRecord(1)).ok());
    EXPECT_TRUE(s->AppendEvent({0, 10, "created", 1, 0, "created"}).ok());
    return Error{"refused", "the use case said no"};
  });
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(s->Get(1)->has_value());
  EXPECT_TRUE(s->Events({})->empty());
  EXPECT_FALSE(s->database().InTransaction());
}

TEST_F(Store, CommittedTransactionKeepsEverything) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->InTransaction([&]() -> Status {
                 if (auto st = s->Insert(SampleRecord(1)); !st) return st;
                 return s->AppendEvent({0, 10, "created", 1, 0, "created"}).ok()
                            ? Status::Ok()
                            : Status(Error{"x", "event"});
               }).ok());
  EXPECT_TRUE(s->Get(1)->has_value());
  EXPECT_EQ(s->Events({})->size(), 1u);
}

TEST_F(Store, DuplicateIdOrConferenceNumberIsRefused) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Insert(SampleRecord(1)).ok());
  EXPECT_FALSE(s->Insert(SampleRecord(1)).ok());
  BookingRecord same_number = SampleRecord(2);
  same_number.booking.conference_number = SampleRecord(1).booking.conference_number;
  EXPECT_FALSE(s->InTransaction([&] { return s->Insert(same_number); }).ok());
  EXPECT_FALSE(s->Get(2)->has_value());
}

TEST_F(Store, EventsAreOrderedAndFilteredByBookingAndCursor) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->AppendEvent({0, 10, "created", 1, 0, "a"}).ok());
  ASSERT_TRUE(s->AppendEvent({0, 11, "created", 2, 0, "b"}).ok());
  ASSERT_TRUE(s->AppendEvent({0, 12, "bumped", 1, 2, "c"}).ok());
  auto all = *s->Events({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_LT(all[0].id, all[1].id);
  EXPECT_LT(all[1].id, all[2].id);
  EXPECT_EQ(all[2].by_booking, 2);
  EventQuery of1;
  of1.booking = 1;
  EXPECT_EQ(s->Events(of1)->size(), 2u);
  EventQuery after;
  after.after_id = all[1].id;
  ASSERT_EQ(s->Events(after)->size(), 1u);
  EXPECT_EQ(s->Events(after)->front().message, "c");
}

TEST_F(Store, NewVenueCredentialReplacesTheOldOne) {
  auto s = OpenOrDie(Path());
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->GetVenueCredential("minhe")->has_value());
  ASSERT_TRUE(s->PutVenueCredential({"minhe", "h1", 1}).ok());
  ASSERT_TRUE(s->PutVenueCredential({"minhe", "h2", 2}).ok());
  auto c = *s->GetVenueCredential("minhe");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->hash, "h2");
  EXPECT_EQ(c->issued_at, 2);
}

// `plateau venue-token` run while `plateau serve` starts: several connections open the same new
// file at the same moment (switch to WAL, create the schema). Every one of them must succeed.
TEST_F(Store, ConnectionsOpeningTheSameNewFileAtOnceAllSucceed) {
  constexpr int kRounds = 20;
  constexpr int kConnections = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir_.path() + "/fresh-" + std::to_string(round) + ".db";
    std::atomic<int> ready{0};
    std::vector<std::string> failures(kConnections);
    std::vector<std::thread> threads;
    for (int i = 0; i < kConnections; ++i)
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kConnections) std::this_thread::yield();
        auto s = SqliteBookingStore::Open(path, BookingStoreMigrations(), {});
        if (!s.ok()) failures[i] = s.error().code + ": " + s.error().message;
      });
    for (auto& t : threads) t.join();
    for (int i = 0; i < kConnections; ++i)
      EXPECT_EQ(failures[i], "") << "round " << round << ", connection " << i;
    auto s = OpenOrDie(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s->database().QueryText("PRAGMA journal_mode"), "wal");
  }
}

TEST_F(Store, SecondConnectionSeesCommitsAndWaitsForTheWriteLock) {
  SqliteOptions quick;
  quick.busy_timeout_ms = 50;
  auto a = OpenOrDie(Path(), BookingStoreMigrations(), quick);
  auto b = OpenOrDie(Path(), BookingStoreMigrations(), quick);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Insert(SampleRecord(1)).ok());
  EXPECT_TRUE(b->Get(1)->has_value());
  // While `a` holds a write transaction, `b` cannot start one (BEGIN IMMEDIATE): admission in
  // two processes is serialised too.
  Status inner;
  ASSERT_TRUE(a->InTransaction([&]() -> Status {
                 inner = b->InTransaction([&] { return b->Insert(SampleRecord(2)); });
                 return a->Insert(SampleRecord(3));
               }).ok());
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, "storage_busy");
  EXPECT_FALSE(a->Get(2)->has_value());
  EXPECT_TRUE(b->Get(3)->has_value());
}

}  // namespace
}  // namespace plateau::scheduler::store
