#include "plateau/scheduler/app/booking_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/app/calendar_ics.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/app/venue_token.hpp"

namespace plateau::scheduler::app {
namespace {

// Bookings that could matter to a request: its own busy span widened by a day before and eight
// days after, which covers the domain's "earliest start within 7 days" search.
constexpr int64_t kWindowBefore = kDay;
constexpr int64_t kWindowAfter = 8 * kDay;
constexpr int64_t kMaxTimelineWindow = 366 * kDay;
constexpr int64_t kMaxHorizon = 31 * kDay;
constexpr size_t kMaxSlots = 100;

metrics::Counter* RequestCounter(metrics::Registry& m, const char* outcome) {
  return m.GetCounter("plateau_booking_requests_total",
                      "Booking create/edit requests by outcome (admitted, refused, invalid, error)",
                      {{"outcome", outcome}});
}

void Count(metrics::Registry& m, const Outcome<BookingRecord>& out) {
  if (out.ok()) return RequestCounter(m, "admitted")->Inc();
  switch (out.error().kind) {
    case ServiceError::Kind::kRefused:
      return RequestCounter(m, "refused")->Inc();
    case ServiceError::Kind::kInvalid:
      return RequestCounter(m, "invalid")->Inc();
    default:
      return RequestCounter(m, "error")->Inc();
  }
}

// The domain names the set-up buffer in seconds; the API reads and writes it in minutes.
ServiceError InvalidRequest(std::vector<FieldError> errors) {
  for (FieldError& e : errors)
    if (e.field == "setup_seconds") e.field = "setup_minutes";
  return ServiceError::Invalid(std::move(errors));
}

// Runs `body` in one store transaction; any error from the body rolls back and is returned as it
// is, a storage failure becomes kStorage.
template <typename T, typename Body>
Outcome<T> Transactional(store::BookingStore& store, Body&& body) {
  std::optional<Outcome<T>> result;
  Status st = store.InTransaction([&]() -> Status {
    result.emplace(body());
    if (!result->ok()) return Error{"rolled_back", "the use case failed"};
    return Status::Ok();
  });
  if (result && !result->ok()) return std::move(*result);
  if (!st) {
    log::Error("scheduler.storage_failed", {{"error", st.error().message}});
    return ServiceError::Storage(st.error());
  }
  return std::move(*result);
}

template <typename T>
Outcome<T> FromResult(Result<T> r) {
  if (!r) {
    log::Error("scheduler.storage_failed", {{"error", r.error().message}});
    return ServiceError::Storage(r.error());
  }
  return std::move(r).value();
}

}  // namespace

BookingService::BookingService(const Network& network, store::BookingStore& store,
                               const Clock& clock, metrics::Registry& metrics,
                               ServiceSettings settings)
    : network_(network),
      store_(store),
      clock_(clock),
      metrics_(metrics),
      settings_(std::move(settings)) {}

std::string BookingService::ConferenceNumberFor(BookingId id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "8%07lld", static_cast<long long>(id));
  return buf;
}

std::vector<Interval> BookingService::OccurrencesOf(const BookingRequest& request) const {
  return Occurrences(request);
}

void BookingService::SetBusySpan(BookingRecord* r) const {
  const BookingRequest& q = r->booking.request;
  const std::vector<Interval> occ = Occurrences(q);
  if (occ.empty()) {
    r->busy_from = r->busy_to = q.start - q.setup_seconds;
    return;
  }
  r->busy_from = occ.front().from;
  r->busy_to = occ.front().to;
  for (const Interval& i : occ) {
    r->busy_from = std::min(r->busy_from, i.from);
    r->busy_to = std::max(r->busy_to, i.to);
  }
}

Result<std::vector<BookingRecord>> BookingService::ConfirmedAround(const BookingRequest& request) {
  BookingRecord probe;
  probe.booking.request = request;
  SetBusySpan(&probe);
  BookingQuery q;
  q.from = probe.busy_from - kWindowBefore;
  q.to = probe.busy_to + kWindowAfter;
  q.states = {BookingState::kConfirmed};
  return store_.Find(q);
}

Outcome<BookingRecord> BookingService::Admitted(BookingId replacing, const BookingRecord* current,
                                                const BookingRequest& request) {
  std::vector<FieldError> errors = ValidateRequest(network_, request);
  if (!errors.empty()) return InvalidRequest(std::move(errors));
  const Instant now = clock_.UnixSeconds();
  BookingRecord record;
  if (current) record = *current;
  record.booking.request = request;
  SetBusySpan(&record);
  if (record.busy_to <= now)
    return ServiceError::Field("end", "in_past",
                               "the meeting (its last occurrence) has already ended");

  auto existing = ConfirmedAround(request);
  if (!existing) return ServiceError::Storage(existing.error());
  std::vector<Booking> bookings;
  bookings.reserve(existing->size());
  for (const BookingRecord& r : *existing) bookings.push_back(r.booking);
  AdmissionDecision decision = Admit(network_, request, bookings, replacing);
  if (decision.refused) return ServiceError::Refused(std::move(*decision.refused));
  if (!decision.admitted)
    return ServiceError::Storage(Error{"internal", "admission returned no decision"});

  Booking& b = record.booking;
  b.plan = std::move(decision.admitted->plan);
  b.state = BookingState::kConfirmed;
  b.bumped_reason.clear();
  b.bumped_by = 0;
  record.updated_at = now;
  store::Event event;
  event.at = now;
  if (!current) {
    auto id = store_.NextBookingId();
    if (!id) return ServiceError::Storage(id.error());
    b.id = *id;
    b.conference_number = ConferenceNumberFor(b.id);
    record.created_at = now;
    if (auto st = store_.Insert(record); !st) return ServiceError::Storage(st.error());
    event.kind = "created";
    event.message = "created \"" + request.title + "\" with " +
                    std::to_string(request.venues.size()) + " venues from " +
                    FormatRfc3339(request.start, settings_.utc_offset_minutes);
  } else {
    if (auto st = store_.Update(record); !st) return ServiceError::Storage(st.error());
    event.kind = "updated";
    event.message = current->booking.state == BookingState::kBumped
                        ? "edited and admitted again after being bumped"
                        : "edited and admitted again";
  }
  event.booking = b.id;
  if (auto ev = store_.AppendEvent(event); !ev) return ServiceError::Storage(ev.error());

  for (const Bump& bump : decision.admitted->bumped) {
    if (bump.booking == b.id) continue;
    BookingRecord bumped;
    auto it = std::find_if(existing->begin(), existing->end(),
                           [&](const BookingRecord& r) { return r.booking.id == bump.booking; });
    if (it != existing->end()) {
      bumped = *it;
    } else {
      auto got = store_.Get(bump.booking);
      if (!got) return ServiceError::Storage(got.error());
      if (!*got) continue;  // the domain named a booking that is not stored: nothing to bump
      bumped = std::move(**got);
    }
    bumped.booking.state = BookingState::kBumped;
    bumped.booking.bumped_reason = bump.reason;
    bumped.booking.bumped_by = b.id;
    bumped.updated_at = now;
    if (auto st = store_.Update(bumped); !st) return ServiceError::Storage(st.error());
    store::Event e{0, now, "bumped", bump.booking, b.id, bump.reason};
    if (auto ev = store_.AppendEvent(e); !ev) return ServiceError::Storage(ev.error());
    log::Info("booking.bumped", {{"booking", bump.booking}, {"by", b.id}, {"reason", bump.reason}});
  }
  return record;
}

Outcome<BookingRecord> BookingService::Create(const BookingRequest& request) {
  std::lock_guard lock(mu_);
  auto out = Transactional<BookingRecord>(store_, [&] { return Admitted(0, nullptr, request); });
  Count(metrics_, out);
  if (out)
    log::Info("booking.created", {{"booking", out->booking.id},
                                  {"number", out->booking.conference_number},
                                  {"venues", request.venues.size()}});
  else if (out.error().kind == ServiceError::Kind::kRefused)
    log::Info("booking.refused", {{"code", out.error().code}, {"message", out.error().message}});
  return out;
}

Outcome<BookingRecord> BookingService::Modify(BookingId id, const Editor& edit) {
  std::lock_guard lock(mu_);
  auto out = Transactional<BookingRecord>(store_, [&]() -> Outcome<BookingRecord> {
    auto current = store_.Get(id);
    if (!current) return ServiceError::Storage(current.error());
    if (!*current) return ServiceError::NotFound("not_found", "no booking " + std::to_string(id));
    const BookingRecord& cur = **current;
    if (cur.booking.state == BookingState::kCancelled)
      return ServiceError::Conflict("booking_cancelled",
                                    "booking " + std::to_string(id) + " is cancelled");
    auto request = edit(cur);
    if (!request) return request.error();
    return Admitted(id, &cur, *request);
  });
  Count(metrics_, out);
  if (out) log::Info("booking.updated", {{"booking", id}});
  return out;
}

Outcome<BookingRecord> BookingService::Replace(BookingId id, const BookingRequest& request) {
  return Modify(id, [&](const BookingRecord&) -> Outcome<BookingRequest> { return request; });
}

Outcome<BookingRecord> BookingService::Cancel(BookingId id) {
  std::lock_guard lock(mu_);
  return Transactional<BookingRecord>(store_, [&]() -> Outcome<BookingRecord> {
    auto current = store_.Get(id);
    if (!current) return ServiceError::Storage(current.error());
    if (!*current) return ServiceError::NotFound("not_found", "no booking " + std::to_string(id));
    BookingRecord r = std::move(**current);
    if (r.booking.state == BookingState::kCancelled) return r;
    const Instant now = clock_.UnixSeconds();
    r.booking.state = BookingState::kCancelled;
    r.updated_at = now;
    if (auto st = store_.Update(r); !st) return ServiceError::Storage(st.error());
    store::Event e{0, now, "cancelled", id, 0, "cancelled \"" + r.booking.request.title + "\""};
    if (auto ev = store_.AppendEvent(e); !ev) return ServiceError::Storage(ev.error());
    log::Info("booking.cancelled", {{"booking", id}});
    return r;
  });
}

Outcome<BookingRecord> BookingService::CancelOccurrence(BookingId id, Instant occurrence_start) {
  std::lock_guard lock(mu_);
  return Transactional<BookingRecord>(store_, [&]() -> Outcome<BookingRecord> {
    auto current = store_.Get(id);
    if (!current) return ServiceError::Storage(current.error());
    if (!*current) return ServiceError::NotFound("not_found", "no booking " + std::to_string(id));
    BookingRecord r = std::move(**current);
    BookingRequest& q = r.booking.request;
    if (!q.recurrence)
      return ServiceError::Field(
          "occurrence", "not_recurring",
          "booking " + std::to_string(id) + " does not recur; cancel the whole booking instead");
    if (r.booking.state == BookingState::kCancelled)
      return ServiceError::Conflict("booking_cancelled",
                                    "booking " + std::to_string(id) + " is cancelled");
    Recurrence& rec = *q.recurrence;
    if (std::find(rec.cancelled.begin(), rec.cancelled.end(), occurrence_start) !=
        rec.cancelled.end())
      return r;  // already cancelled: nothing changes
    BookingRequest all = q;
    all.recurrence->cancelled.clear();
    bool found = false;
    for (const Interval& i : Occurrences(all))
      found |= i.from + q.setup_seconds == occurrence_start;
    if (!found)
      return ServiceError::Field("occurrence", "unknown_occurrence",
                                 "booking " + std::to_string(id) + " has no occurrence starting " +
                                     FormatRfc3339(occurrence_start, settings_.utc_offset_minutes));
    rec.cancelled.push_back(occurrence_start);
    std::sort(rec.cancelled.begin(), rec.cancelled.end());
    const Instant now = clock_.UnixSeconds();
    SetBusySpan(&r);
    r.updated_at = now;
    std::string message = "occurrence at " +
                          FormatRfc3339(occurrence_start, settings_.utc_offset_minutes) +
                          " cancelled";
    if (Occurrences(q).empty()) {
      r.booking.state = BookingState::kCancelled;
      message += "; no occurrence is left, so the booking is cancelled";
    }
    if (auto st = store_.Update(r); !st) return ServiceError::Storage(st.error());
    store::Event e{0, now, "occurrence_cancelled", id, 0, message};
    if (auto ev = store_.AppendEvent(e); !ev) return ServiceError::Storage(ev.error());
    return r;
  });
}

Outcome<BookingRecord> BookingService::Get(BookingId id) {
  std::lock_guard lock(mu_);
  auto got = store_.Get(id);
  if (!got) return ServiceError::Storage(got.error());
  if (!*got) return ServiceError::NotFound("not_found", "no booking " + std::to_string(id));
  return std::move(**got);
}

Outcome<std::vector<BookingRecord>> BookingService::List(const BookingQuery& query) {
  std::lock_guard lock(mu_);
  return FromResult(store_.Find(query));
}

Outcome<std::vector<Event>> BookingService::Events(const EventQuery& query) {
  std::lock_guard lock(mu_);
  return FromResult(store_.Events(query));
}

Outcome<std::vector<LinkSample>> BookingService::LinkTimeline(const std::string& link, Instant from,
                                                              Instant to) {
  if (!network_.topology().FindLink(link))
    return ServiceError::NotFound("not_found", "no link \"" + link + "\"");
  if (to <= from)
    return ServiceError::Field("to", "end_before_start", "\"to\" must be after \"from\"");
  if (to - from > kMaxTimelineWindow)
    return ServiceError::Field("to", "window_too_long", "a timeline covers at most 366 days");
  std::vector<BookingRecord> records;
  {
    std::lock_guard lock(mu_);
    BookingQuery q;
    q.from = from;
    q.to = to;
    q.states = {BookingState::kConfirmed};
    auto found = store_.Find(q);
    if (!found) return ServiceError::Storage(found.error());
    records = std::move(found).value();
  }
  std::vector<Booking> bookings;
  bookings.reserve(records.size());
  for (BookingRecord& r : records) bookings.push_back(std::move(r.booking));
  return scheduler::LinkTimeline(network_, link, from, to, bookings);
}

Outcome<std::vector<Slot>> BookingService::Availability(const AvailabilityQuery& a) {
  if (a.duration <= 0 || a.duration > 31 * kDay)
    return ServiceError::Field("duration", "bad_duration",
                               "\"duration\" must be above zero and at most 31 days");
  if (a.horizon <= 0 || a.horizon > kMaxHorizon)
    return ServiceError::Field("horizon", "out_of_range", "the search covers at most 31 days");
  if (a.limit == 0 || a.limit > kMaxSlots)
    return ServiceError::Field("limit", "out_of_range", "\"limit\" must be within 1..100");
  const std::string& hub = network_.topology().hub().id;
  BookingRequest shape;
  shape.title = "availability";
  shape.organiser = "availability";
  shape.region = a.region.empty() ? hub : a.region;
  shape.start = a.from;
  shape.end = a.from + a.duration;
  shape.setup_seconds = a.setup_seconds;
  shape.venues = a.venues;
  shape.main_venue = a.venues.empty() ? "" : a.venues.front();
  shape.profile = a.profile;
  shape.cascade = a.cascade;
  shape.priority = shape.region == hub ? Priority::kProvincial : Priority::kRegional;
  std::vector<FieldError> errors = ValidateRequest(network_, shape);
  if (!errors.empty()) return InvalidRequest(std::move(errors));
  std::vector<BookingRecord> records;
  {
    std::lock_guard lock(mu_);
    BookingQuery q;
    q.from = a.from - a.setup_seconds - kWindowBefore;
    q.to = a.from + a.horizon + a.duration + kWindowBefore;
    q.states = {BookingState::kConfirmed};
    auto found = store_.Find(q);
    if (!found) return ServiceError::Storage(found.error());
    records = std::move(found).value();
  }
  std::vector<Booking> bookings;
  bookings.reserve(records.size());
  for (BookingRecord& r : records) bookings.push_back(std::move(r.booking));
  return FindFreeSlots(network_, shape, a.from, a.horizon, a.limit, bookings);
}

Outcome<std::string> BookingService::VenueCalendar(const std::string& venue) {
  const Site* site = network_.topology().FindSite(venue);
  if (!site || site->kind == SiteKind::kHub)
    return ServiceError::Field("venue", "unknown_venue", "no venue \"" + venue + "\"");
  std::vector<BookingRecord> records;
  {
    std::lock_guard lock(mu_);
    BookingQuery q;
    q.venue = venue;
    auto found = store_.Find(q);
    if (!found) return ServiceError::Storage(found.error());
    records = std::move(found).value();
  }
  CalendarSettings cal{settings_.timezone, settings_.utc_offset_minutes};
  return app::VenueCalendar(network_.topology(), *site, records, cal, clock_.UnixSeconds());
}

Outcome<std::string> BookingService::IssueVenueToken(const std::string& venue) {
  const Site* site = network_.topology().FindSite(venue);
  if (!site || site->kind == SiteKind::kHub)
    return ServiceError::Field("venue", "unknown_venue", "no venue \"" + venue + "\"");
  std::string token = NewVenueToken();
  store::VenueCredential c{venue, HashVenueToken(token), clock_.UnixSeconds()};
  std::lock_guard lock(mu_);
  auto st = Transactional<bool>(store_, [&]() -> Outcome<bool> {
    if (auto put = store_.PutVenueCredential(c); !put) return ServiceError::Storage(put.error());
    return true;
  });
  if (!st) return st.error();
  log::Info("venue.token_issued", {{"venue", venue}});
  return token;
}

bool BookingService::VerifyVenueToken(const std::string& venue, std::string_view token) {
  return MatchVenueToken(venue, token).has_value();
}

std::optional<std::string> BookingService::MatchVenueToken(const std::string& venue,
                                                           std::string_view token) {
  Result<std::optional<store::VenueCredential>> c = Error{};
  {
    std::lock_guard lock(mu_);
    c = store_.GetVenueCredential(venue);
  }
  if (!c) {
    log::Error("venue.token_check_failed", {{"venue", venue}, {"error", c.error().message}});
    return std::nullopt;
  }
  if (!*c || !VenueTokenMatches((*c)->hash, token)) return std::nullopt;
  return (*c)->hash;
}

Result<std::optional<std::string>> BookingService::CurrentVenueCredential(
    const std::string& venue) {
  Result<std::optional<store::VenueCredential>> c = Error{};
  {
    std::lock_guard lock(mu_);
    c = store_.GetVenueCredential(venue);
  }
  if (!c) return c.error();
  if (!*c) return std::optional<std::string>{};
  return std::optional<std::string>{(*c)->hash};
}

}  // namespace plateau::scheduler::app
