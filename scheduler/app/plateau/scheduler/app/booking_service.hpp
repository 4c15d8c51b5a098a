// The scheduler's use cases, shared by the REST API, the CLI and (later) signaling: create, edit
// (re-admitted as a whole), cancel, read, the event log, link timelines, free slots, a venue's
// calendar, venue credentials.
//
// Admission is serialised: one mutex is held around read-existing + Admit + write, and those run
// in one store transaction, so two concurrent requests can never both take the last capacity.
// Every error leaves the store as it was (the transaction rolls back).
//
// Thread ownership: every public method may be called from any thread; the service holds
// `mu_` around each use of the store (the store itself is not thread-safe).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/app/service_error.hpp"
#include "plateau/scheduler/booking.hpp"
#include "plateau/scheduler/store/booking_store.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler::app {

using store::BookingQuery;
using store::BookingRecord;
using store::Event;
using store::EventQuery;

struct ServiceSettings {
  int utc_offset_minutes = 480;  // how times are written; config [server].utc_offset_minutes
  std::string timezone = "Asia/Shanghai";  // TZID in calendars
};

// The wall clock is the process's one plateau::Clock (common/plateau/common/clock.hpp), injected:
// the edge (serve, CLI) passes SystemClock::Instance(), tests a ManualClock. The service reads
// whole Unix seconds (Instant) from it.

struct AvailabilityQuery {
  std::vector<std::string> venues;  // the first is the main venue
  std::string profile;
  int64_t duration = 0;  // seconds, > 0
  Instant from = 0;
  int64_t horizon = 7 * kDay;  // search [from, from + horizon)
  size_t limit = 10;
  std::string region;  // empty: the hub (provincial)
  CascadeMode cascade = CascadeMode::kAuto;
  int64_t setup_seconds = 15 * kMinute;
};

class BookingService {
 public:
  // `metrics` (where booking requests are counted by outcome) must outlive the service.
  BookingService(const Network& network, store::BookingStore& store, const Clock& clock,
                 metrics::Registry& metrics, ServiceSettings settings = {});
  BookingService(const BookingService&) = delete;
  BookingService& operator=(const BookingService&) = delete;

  const Network& network() const { return network_; }
  const ServiceSettings& settings() const { return settings_; }
  Instant Now() const { return clock_.UnixSeconds(); }

  // Validates, admits and stores a new booking (id and conference number assigned here), records
  // a "created" event and, for a preempting provincial request, bumps the displaced bookings
  // (state bumped + a "bumped" event each). Invalid -> kInvalid; does not fit -> kRefused.
  Outcome<BookingRecord> Create(const BookingRequest& request);

  // Edits a stored booking: `edit` gets the current record under the admission lock and returns
  // the complete new request, which is validated and re-admitted as a whole (the booking's own
  // old reservation does not count against it). A bumped booking that fits again is confirmed.
  using Editor = std::function<Outcome<BookingRequest>(const BookingRecord& current)>;
  Outcome<BookingRecord> Modify(BookingId id, const Editor& edit);
  Outcome<BookingRecord> Replace(BookingId id, const BookingRequest& request);

  // Cancels the booking (idempotent: cancelling a cancelled booking changes nothing).
  Outcome<BookingRecord> Cancel(BookingId id);
  // Cancels one occurrence of a recurring booking, given the occurrence's start.
  Outcome<BookingRecord> CancelOccurrence(BookingId id, Instant occurrence_start);

  Outcome<BookingRecord> Get(BookingId id);
  Outcome<std::vector<BookingRecord>> List(const BookingQuery& query);
  Outcome<std::vector<Event>> Events(const EventQuery& query);

  // Reserved kbit/s on a link over [from, to) (at most 366 days), confirmed bookings only.
  Outcome<std::vector<LinkSample>> LinkTimeline(const std::string& link, Instant from, Instant to);
  // Free slots for a meeting of this shape.
  Outcome<std::vector<Slot>> Availability(const AvailabilityQuery& query);
  // RFC 5545 calendar of every booking a venue takes part in.
  Outcome<std::string> VenueCalendar(const std::string& venue);

  // A new signaling token for the venue, returned once; only its hash is stored, and it replaces
  // (revokes) the venue's previous token.
  Outcome<std::string> IssueVenueToken(const std::string& venue);
  // True when `token` is the venue's current token. False for unknown venues, venues without a
  // token, wrong tokens and storage failures (logged).
  bool VerifyVenueToken(const std::string& venue, std::string_view token);
  // The same check, returning which issued token matched (its stored hash: an opaque id that
  // changes whenever a token is issued), or nullopt.
  std::optional<std::string> MatchVenueToken(const std::string& venue, std::string_view token);
  // The id (as MatchVenueToken returns it) of the venue's current token; nullopt when it has none.
  // Signaling compares it with what a session proved, so a re-issued token ends older sessions.
  Result<std::optional<std::string>> CurrentVenueCredential(const std::string& venue);

  // The busy intervals of a request (recurrence expanded, cancelled occurrences left out).
  std::vector<Interval> OccurrencesOf(const BookingRequest& request) const;

  // Conference numbers: "8" + the id zero-padded to 7 digits ("80000042"); venue numbers start
  // with "0", so the two never collide.
  static std::string ConferenceNumberFor(BookingId id);

 private:
  Outcome<BookingRecord> Admitted(BookingId replacing, const BookingRecord* current,
                                  const BookingRequest& request);
  Result<std::vector<BookingRecord>> ConfirmedAround(const BookingRequest& request);
  void SetBusySpan(BookingRecord* record) const;

  const Network& network_;
  store::BookingStore& store_;
  const Clock& clock_;          // outlives the service
  metrics::Registry& metrics_;  // outlives the service
  ServiceSettings settings_;
  std::mutex mu_;  // guards every use of store_
};

}  // namespace plateau::scheduler::app
