// Agenda: confirmed bookings indexed by time.
#include <algorithm>

#include "internal.hpp"

namespace plateau::scheduler {
namespace detail {

void AgendaIndex::Add(const Booking& booking) {
  Remove(booking.id);
  if (booking.state != BookingState::kConfirmed) return;
  Insert(booking, Occurrences(booking.request));
}

void AgendaIndex::AddWithin(const Booking& booking, const std::vector<Interval>& windows) {
  Remove(booking.id);
  if (booking.state != BookingState::kConfirmed || windows.empty()) return;
  std::vector<Interval> occurrences =
      OccurrencesWithin(booking.request, windows.front().from, windows.back().to);
  occurrences.erase(std::remove_if(occurrences.begin(), occurrences.end(),
                                   [&](const Interval& o) { return !OverlapsAny(windows, o); }),
                    occurrences.end());
  Insert(booking, std::move(occurrences));
}

void AgendaIndex::Insert(const Booking& booking, std::vector<Interval> occurrences) {
  if (occurrences.empty()) return;
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  AgendaEntry& e = entries_[slot];
  e.id = booking.id;
  e.title = booking.request.title;
  e.priority = booking.request.priority;
  e.demand = DemandOf(*net_, booking);
  e.occurrences = std::move(occurrences);
  e.live = true;
  slot_of_[booking.id] = slot;
  for (const Interval& o : e.occurrences) {
    for (int64_t b = BucketOf(o.from); b <= BucketOf(o.to - 1); ++b)
      buckets_[b].push_back(OccurrenceRef{slot, o.from, o.to});
  }
}

void AgendaIndex::Remove(BookingId id) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return;
  const uint32_t slot = it->second;
  slot_of_.erase(it);
  AgendaEntry& e = entries_[slot];
  for (const Interval& o : e.occurrences) {
    for (int64_t b = BucketOf(o.from); b <= BucketOf(o.to - 1); ++b) {
      auto bucket = buckets_.find(b);
      if (bucket == buckets_.end()) continue;
      auto& refs = bucket->second;
      refs.erase(std::remove_if(refs.begin(), refs.end(),
                                [&](const OccurrenceRef& r) { return r.entry == slot; }),
                 refs.end());
      if (refs.empty()) buckets_.erase(bucket);
    }
  }
  e = AgendaEntry{};
  free_.push_back(slot);
}

std::vector<Interval> MergeWindows(std::vector<Interval> windows) {
  std::sort(windows.begin(), windows.end(),
            [](const Interval& a, const Interval& b) { return a.from < b.from; });
  std::vector<Interval> out;
  for (const Interval& w : windows) {
    if (w.from >= w.to) continue;
    if (!out.empty() && w.from <= out.back().to)
      out.back().to = std::max(out.back().to, w.to);
    else
      out.push_back(w);
  }
  return out;
}

bool OverlapsAny(const std::vector<Interval>& windows, const Interval& iv) {
  // Windows are disjoint and sorted, so their ends increase too.
  auto it = std::upper_bound(windows.begin(), windows.end(), iv.from,
                             [](Instant t, const Interval& w) { return t < w.to; });
  return it != windows.end() && it->from < iv.to;
}

AgendaIndex IndexWithin(const Network& net, const std::vector<const Booking*>& pool,
                        const std::vector<Interval>& windows) {
  AgendaIndex index(net);
  for (const Booking* b : pool)
    if (OverlapsAny(windows, OccurrenceEnvelope(b->request))) index.AddWithin(*b, windows);
  return index;
}

std::vector<const Booking*> BookingsNear(const std::vector<Booking>& existing, BookingId replacing,
                                         Instant from, Instant to) {
  std::vector<const Booking*> out;
  for (const Booking& b : existing) {
    if (b.state != BookingState::kConfirmed || (replacing != 0 && b.id == replacing)) continue;
    const Interval env = OccurrenceEnvelope(b.request);
    if (env.from < to && env.to > from) out.push_back(&b);
  }
  return out;
}

bool Skip::operator()(BookingId id) const {
  if (id == replacing && replacing != 0) return true;
  return std::find(bumped.begin(), bumped.end(), id) != bumped.end();
}

}  // namespace detail

Agenda::Agenda(const Network& net) : index_(std::make_unique<detail::AgendaIndex>(net)) {}

Agenda::Agenda(const Network& net, const std::vector<Booking>& bookings) : Agenda(net) {
  for (const Booking& b : bookings) Add(b);
}

Agenda::~Agenda() = default;
Agenda::Agenda(Agenda&&) noexcept = default;
Agenda& Agenda::operator=(Agenda&&) noexcept = default;

void Agenda::Add(const Booking& booking) {
  index_->Add(booking);
}
void Agenda::Remove(BookingId id) {
  index_->Remove(id);
}
bool Agenda::Contains(BookingId id) const {
  return index_->Contains(id);
}
size_t Agenda::size() const {
  return index_->size();
}
const Network& Agenda::network() const {
  return index_->network();
}

}  // namespace plateau::scheduler
