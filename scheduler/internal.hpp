// Internal to the domain (scheduler/): the compiled form of bookings that admission sweeps over,
// the time index behind Agenda, and the sweep itself. Not part of the contract; nothing outside the
// domain's own files (scheduler/*.cpp) includes this.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler::detail {

constexpr Instant kMinInstant = std::numeric_limits<Instant>::min() / 4;
constexpr Instant kMaxInstant = std::numeric_limits<Instant>::max() / 4;

// Seconds between occurrences (fixed-length days: the domain works in UTC seconds and the
// province's zone, Asia/Shanghai, has no daylight-saving shifts). 0 when not recurring.
int64_t RecurrencePeriod(const BookingRequest& req);
// Conservative envelope of every occurrence's busy interval (cancellations ignored); computed
// in O(1) so that a calendar of bookings can be filtered without expanding recurrences.
Interval OccurrenceEnvelope(const BookingRequest& req);
// Busy intervals of occurrences that intersect [from, to).
std::vector<Interval> OccurrencesWithin(const BookingRequest& req, Instant from, Instant to);

// What one booking takes from the network: venue sites and resource loads.
struct ResourceLoad {
  int resource = 0;
  int64_t up = 0;    // kbit/s child -> parent, or ports for an MCU
  int64_t down = 0;  // kbit/s parent -> child (0 for an MCU)
};
struct Demand {
  std::vector<int> venues;  // site indices
  std::vector<ResourceLoad> loads;
};

// A plan with its compiled demand.
struct PlannedRequest {
  CascadePlan plan;
  Demand demand;
};
PlannedRequest Plan(const Network& net, const BookingRequest& req);
// The demand of a stored booking, from its own venues and plan (unknown ids are skipped).
Demand DemandOf(const Network& net, const Booking& booking);

struct AgendaEntry {
  BookingId id = 0;
  std::string title;
  Priority priority = Priority::kRegional;
  Demand demand;
  std::vector<Interval> occurrences;
  bool live = false;
};

struct OccurrenceRef {
  uint32_t entry = 0;
  Instant from = 0;
  Instant to = 0;
};

// Occurrences hashed into fixed-width time buckets; an occurrence is listed in every bucket it
// touches and a query reports it once (from the bucket holding the start of the overlap).
class AgendaIndex {
 public:
  static constexpr int64_t kBucketSeconds = 4 * kHour;

  explicit AgendaIndex(const Network& net) : net_(&net) {}

  // Adds a confirmed booking (replacing one with the same id); other states just remove it.
  void Add(const Booking& booking);
  // Adds only the occurrences that intersect one of `windows` (sorted, disjoint), if any.
  void AddWithin(const Booking& booking, const std::vector<Interval>& windows);
  void Remove(BookingId id);
  bool Contains(BookingId id) const { return slot_of_.count(id) != 0; }
  size_t size() const { return slot_of_.size(); }
  const Network& network() const { return *net_; }
  const AgendaEntry& entry(uint32_t slot) const { return entries_[slot]; }

  // Calls f(const OccurrenceRef&) once for every stored occurrence overlapping [from, to).
  template <typename F>
  void ForEachOverlapping(Instant from, Instant to, F&& f) const;

 private:
  void Insert(const Booking& booking, std::vector<Interval> occurrences);
  static int64_t BucketOf(Instant t) {
    return t >= 0 ? t / kBucketSeconds : -((-t + kBucketSeconds - 1) / kBucketSeconds);
  }

  const Network* net_;
  std::vector<AgendaEntry> entries_;
  std::vector<uint32_t> free_;
  std::unordered_map<BookingId, uint32_t> slot_of_;
  std::unordered_map<int64_t, std::vector<OccurrenceRef>> buckets_;
};

template <typename F>
void AgendaIndex::ForEachOverlapping(Instant from, Instant to, F&& f) const {
  if (from >= to || buckets_.empty()) return;
  const int64_t first = BucketOf(from);
  const int64_t last = BucketOf(to - 1);
  auto visit = [&](int64_t b, const std::vector<OccurrenceRef>& refs) {
    for (const OccurrenceRef& r : refs) {
      if (r.from >= to || r.to <= from) continue;
      if (BucketOf(r.from > from ? r.from : from) != b) continue;  // reported by another bucket
      f(r);
    }
  };
  if (static_cast<uint64_t>(last - first) < buckets_.size()) {
    for (int64_t b = first; b <= last; ++b) {
      auto it = buckets_.find(b);
      if (it != buckets_.end()) visit(b, it->second);
    }
  } else {
    for (const auto& [b, refs] : buckets_)
      if (b >= first && b <= last) visit(b, refs);
  }
}

// Sorts and merges intervals into disjoint windows; OverlapsAny tests one interval against them.
std::vector<Interval> MergeWindows(std::vector<Interval> windows);
bool OverlapsAny(const std::vector<Interval>& windows, const Interval& iv);

// An index of just the confirmed bookings in `pool` (not `replacing`) that touch `windows`.
AgendaIndex IndexWithin(const Network& net, const std::vector<const Booking*>& pool,
                        const std::vector<Interval>& windows);
// The confirmed bookings, other than `replacing`, whose occurrences may touch [from, to).
std::vector<const Booking*> BookingsNear(const std::vector<Booking>& existing, BookingId replacing,
                                         Instant from, Instant to);

// Bookings the sweep leaves out: the one being edited and the ones a preemption would bump.
struct Skip {
  BookingId replacing = 0;
  std::vector<BookingId> bumped;
  bool operator()(BookingId id) const;
};

// One violated constraint as the sweep found it (messages are written only for refusals).
struct Hit {
  enum class Kind { kVenue, kLink, kMcu } kind = Kind::kVenue;
  int venue = -1;     // kVenue: site index
  int resource = -1;  // kLink / kMcu
  int direction = 0;  // 0 up (or ports), 1 down
  Instant at = 0;
  int64_t needed = 0;
  int64_t available = 0;
  const AgendaEntry* other = nullptr;  // kVenue: the booking holding the venue
};
Violation Describe(const Network& net, const Hit& hit);

struct SweepResult {
  std::vector<Hit> hits;  // venue_busy, then link_capacity, then mcu_capacity; each by time
  // Every shift that could clear the violations found must move the request later by more than
  // this many seconds (each hit's instant stays covered until the request starts after it).
  int64_t must_advance = 0;
  bool ok() const { return hits.empty(); }
};

// Buffers reused across sweeps (the start search runs many).
struct SweepScratch {
  std::vector<int> slot_of;
  std::vector<char> venue_mark;
  std::vector<OccurrenceRef> refs;
  struct Event {
    Instant at;
    int slot;
    int64_t up;
    int64_t down;
  };
  std::vector<Event> events;
  std::vector<char> recorded;
  std::vector<int64_t> cur_up, cur_down;
  std::vector<Hit> venue_hits, link_hits, mcu_hits;
};

// Checks the demand over the given busy intervals (shifted by `shift`) against the agenda
// (null = an empty calendar). With `first_only` it stops after the first occurrence that fails.
SweepResult Sweep(const Network& net, const Demand& demand, const std::vector<Interval>& busy,
                  int64_t shift, const AgendaIndex* agenda, const Skip& skip, bool first_only,
                  SweepScratch* scratch = nullptr);

// The smallest shift in (after, max_shift] (or [0, max_shift] when after < 0) at which the
// demand fits; exact: candidate shifts are those at which some busy interval of the request
// starts where an existing one ends. -1 when none.
int64_t EarliestFittingShift(const Network& net, const Demand& demand,
                             const std::vector<Interval>& busy, const AgendaIndex& agenda,
                             const Skip& skip, int64_t after, int64_t max_shift);

}  // namespace plateau::scheduler::detail
