// Where bookings, their plans, the event log and venue credentials are kept. An interface, so
// scheduler/app never sees SQL and a PostgreSQL backend can sit beside the SQLite one.
//
// Thread ownership: not thread-safe; the caller serialises every call (BookingService holds one
// mutex around each use case). Several processes may share one database (SQLite: WAL + busy
// timeout); a write transaction excludes every other writer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/scheduler/booking.hpp"

namespace plateau::scheduler::store {

// A booking as stored: the domain booking plus bookkeeping.
struct BookingRecord {
  Booking booking;
  Instant created_at = 0;
  Instant updated_at = 0;
  // Span of every busy interval of the booking, [first start - setup, last end); the caller
  // computes it (Occurrences) and the store indexes it for window queries.
  Instant busy_from = 0;
  Instant busy_to = 0;
};

// What happened to a booking. Refused and invalid requests leave no event (nothing is stored on
// an error); the counters in /metrics count them.
struct Event {
  int64_t id = 0;  // assigned by the store, increasing
  Instant at = 0;
  std::string kind;  // created | updated | cancelled | occurrence_cancelled | bumped
  BookingId booking = 0;
  BookingId by_booking = 0;  // bumped: the booking that displaced it
  std::string message;
};

struct BookingQuery {
  std::optional<Instant> from;       // busy span ends after `from`
  std::optional<Instant> to;         // busy span starts before `to`
  std::string venue;                 // takes part (empty = any)
  std::vector<BookingState> states;  // empty = every state
  size_t limit = 0;                  // 0 = no limit
};

struct EventQuery {
  int64_t after_id = 0;   // events with id > after_id
  BookingId booking = 0;  // 0 = every booking
  size_t limit = 1000;
};

// A venue's signaling credential: only a hash of the token is kept.
struct VenueCredential {
  std::string venue;
  std::string hash;  // self-describing text (algorithm, salt, digest)
  Instant issued_at = 0;
};

class BookingStore {
 public:
  virtual ~BookingStore() = default;

  // Runs `body` in one write transaction that excludes every other writer (also in other
  // processes); commits when it returns ok, rolls back otherwise (and on storage failure).
  virtual Status InTransaction(const std::function<Status()>& body) = 0;

  // The id the next inserted booking should take (inside a transaction: stable until it commits).
  virtual Result<BookingId> NextBookingId() = 0;
  // Inserts with the id and conference number already set; fails on a duplicate of either.
  virtual Status Insert(const BookingRecord& record) = 0;
  // Replaces everything stored for record.booking.id (request, plan, state); not-found is an error.
  virtual Status Update(const BookingRecord& record) = 0;
  virtual Result<std::optional<BookingRecord>> Get(BookingId id) = 0;
  // Ordered by start, then id.
  virtual Result<std::vector<BookingRecord>> Find(const BookingQuery& query) = 0;

  // Returns the event's id.
  virtual Result<int64_t> AppendEvent(const Event& event) = 0;
  // Ordered by id.
  virtual Result<std::vector<Event>> Events(const EventQuery& query) = 0;

  // Replaces the venue's credential (issuing a new token revokes the old one).
  virtual Status PutVenueCredential(const VenueCredential& credential) = 0;
  virtual Result<std::optional<VenueCredential>> GetVenueCredential(const std::string& venue) = 0;
};

}  // namespace plateau::scheduler::store
