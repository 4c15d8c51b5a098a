// Admission: fit, preemption, refusal with alternatives.
#include <algorithm>

#include "internal.hpp"

namespace plateau::scheduler {
namespace {

using detail::AgendaEntry;
using detail::AgendaIndex;
using detail::Hit;
using detail::OccurrenceRef;
using detail::PlannedRequest;
using detail::Skip;
using detail::SweepResult;

constexpr int64_t kStartSearchWindow = 7 * kDay;

bool HasVenueHit(const SweepResult& r) {
  return std::any_of(r.hits.begin(), r.hits.end(),
                     [](const Hit& h) { return h.kind == Hit::Kind::kVenue; });
}

// Regional bookings a provincial request bumps, chosen greedily: every regional booking holding
// one of the request's venues, then, while a link or MCU is still over budget, the latest-created
// (highest id) regional booking active on that resource at the first instant it is over. A final
// pass restores, earliest-created first, any bumped booking the request fits without, so the set
// is minimal. Empty optional: even bumping every regional booking in the way would not do.
std::optional<std::vector<BookingId>> ChooseBumps(const Network& net, const PlannedRequest& planned,
                                                  const std::vector<Interval>& busy,
                                                  const AgendaIndex& agenda, BookingId replacing) {
  Skip skip{replacing, {}};
  detail::SweepScratch scratch;
  for (;;) {
    SweepResult r = detail::Sweep(net, planned.demand, busy, 0, &agenda, skip, false, &scratch);
    if (r.ok()) break;
    bool bumped_venue_holder = false;
    for (const Hit& h : r.hits) {
      if (h.kind != Hit::Kind::kVenue) continue;
      if (h.other->priority == Priority::kProvincial) return std::nullopt;
      if (!skip(h.other->id)) {
        skip.bumped.push_back(h.other->id);
        bumped_venue_holder = true;
      }
    }
    if (bumped_venue_holder) continue;

    const Hit& h = r.hits.front();  // a capacity hit: venue hits were all cleared above
    BookingId latest = 0;
    agenda.ForEachOverlapping(h.at, h.at + 1, [&](const OccurrenceRef& ref) {
      const AgendaEntry& e = agenda.entry(ref.entry);
      if (e.priority != Priority::kRegional || skip(e.id) || e.id <= latest) return;
      for (const detail::ResourceLoad& l : e.demand.loads) {
        if (l.resource == h.resource && (h.direction == 0 ? l.up : l.down) > 0) {
          latest = e.id;
          return;
        }
      }
    });
    if (latest == 0) return std::nullopt;  // only provincial meetings (or the request) load it
    skip.bumped.push_back(latest);
  }

  std::vector<BookingId> chosen = skip.bumped;
  std::sort(chosen.begin(), chosen.end());
  for (BookingId id : std::vector<BookingId>(chosen)) {
    Skip without{replacing, {}};
    for (BookingId other : chosen)
      if (other != id) without.bumped.push_back(other);
    if (detail::Sweep(net, planned.demand, busy, 0, &agenda, without, true, &scratch).ok())
      chosen = std::move(without.bumped);
  }
  return chosen;
}

// The lowest-cost change that fits at the same times: picture quality matters most, so
// profiles go best first; at each profile, keeping the requested cascade mode comes before
// switching cascading on.
std::vector<Alternative> ChangeAlternatives(const Network& net, const BookingRequest& req,
                                            const std::vector<Interval>& busy,
                                            const AgendaIndex& agenda, BookingId replacing) {
  const Profile* requested = net.FindProfile(req.profile);
  std::vector<const Profile*> lower;
  for (const Profile& p : net.profiles())
    if (requested && p.stream_kbps() < requested->stream_kbps()) lower.push_back(&p);
  std::stable_sort(lower.begin(), lower.end(), [](const Profile* a, const Profile* b) {
    return a->stream_kbps() > b->stream_kbps();
  });

  struct Option {
    const Profile* profile;
    CascadeMode cascade;
  };
  std::vector<Option> options;
  if (req.cascade == CascadeMode::kOff) options.push_back({requested, CascadeMode::kAuto});
  for (const Profile* p : lower) {
    options.push_back({p, req.cascade});
    if (req.cascade == CascadeMode::kOff) options.push_back({p, CascadeMode::kAuto});
  }

  const Skip skip{replacing, {}};
  detail::SweepScratch scratch;
  for (const Option& o : options) {
    BookingRequest alt = req;
    alt.profile = o.profile ? o.profile->id : req.profile;
    alt.cascade = o.cascade;
    const PlannedRequest planned = detail::Plan(net, alt);
    if (!detail::Sweep(net, planned.demand, busy, 0, &agenda, skip, true, &scratch).ok()) continue;
    Alternative a;
    a.cascade = o.cascade;
    if (o.profile == requested) {
      a.kind = "cascade";
      a.message = "fits with cascade \"auto\" (sub-centre MCUs host their own venues)";
    } else {
      a.kind = "profile";
      a.profile = o.profile->id;
      a.message = "fits at profile " + o.profile->id + " (" +
                  std::to_string(o.profile->stream_kbps()) + " kbit/s per stream)";
      if (o.cascade != req.cascade) a.message += " with cascade \"auto\"";
    }
    return {a};
  }
  return {};
}

// `earliest(demand, busy, skip)` is the smallest shift in (0, 7 days] at which the same meeting
// fits, or -1.
template <typename EarliestShift>
AdmissionDecision Decide(const Network& net, const BookingRequest& req, const AgendaIndex& near,
                         EarliestShift&& earliest, BookingId replacing) {
  AdmissionDecision decision;
  PlannedRequest planned = detail::Plan(net, req);
  const std::vector<Interval> busy = Occurrences(req);
  const Skip skip{replacing, {}};
  SweepResult result = detail::Sweep(net, planned.demand, busy, 0, &near, skip, false);
  if (result.ok()) {
    decision.admitted = Admission{std::move(planned.plan), {}};
    return decision;
  }

  if (req.preempt && req.priority == Priority::kProvincial) {
    if (auto bumps = ChooseBumps(net, planned, busy, near, replacing)) {
      Admission a{std::move(planned.plan), {}};
      const std::string reason = "preempted by the provincial meeting \"" + req.title +
                                 "\" starting " + FormatUtc(req.start);
      for (BookingId id : *bumps) a.bumped.push_back(Bump{id, reason});
      decision.admitted = std::move(a);
      return decision;
    }
  }

  Refusal refusal;
  for (const Hit& h : result.hits) refusal.violations.push_back(detail::Describe(net, h));
  // A lower profile or cascading frees bandwidth and ports, never a venue.
  if (!HasVenueHit(result))
    refusal.alternatives = ChangeAlternatives(net, req, busy, near, replacing);
  // A later start can only help if the meeting fits an empty calendar.
  if (detail::Sweep(net, planned.demand, busy, 0, nullptr, skip, true).ok()) {
    const int64_t shift = earliest(planned.demand, busy, skip);
    if (shift > 0) {
      Alternative a;
      a.kind = "start";
      a.start = req.start + shift;
      a.cascade = req.cascade;
      a.message = "the same meeting fits starting " + FormatUtc(a.start);
      refusal.alternatives.push_back(std::move(a));
    }
  }
  decision.refused = std::move(refusal);
  return decision;
}

std::vector<Interval> Widened(const std::vector<Interval>& busy, int64_t by) {
  std::vector<Interval> out = busy;
  for (Interval& i : out) i.to += by;
  return detail::MergeWindows(std::move(out));
}

}  // namespace

AdmissionDecision Admit(const Network& net, const BookingRequest& req,
                        const std::vector<Booking>& existing, BookingId replacing) {
  // One pass over the calendar picks the bookings that may matter at all; the index is then
  // built from those near the request's own occurrences, and widened only if a later start has
  // to be searched (one day first, then 2, 4 and 7).
  const Interval env = detail::OccurrenceEnvelope(req);
  const std::vector<const Booking*> pool =
      detail::BookingsNear(existing, replacing, env.from, env.to + kStartSearchWindow);
  const std::vector<Interval> busy = Occurrences(req);
  const AgendaIndex near = detail::IndexWithin(net, pool, detail::MergeWindows(busy));
  auto earliest = [&](const detail::Demand& demand, const std::vector<Interval>& b,
                      const Skip& skip) -> int64_t {
    int64_t searched = -1;
    for (int64_t days : {1, 2, 4, 7}) {
      const int64_t upto = days * kDay;
      const AgendaIndex wide = detail::IndexWithin(net, pool, Widened(b, upto));
      const int64_t shift =
          detail::EarliestFittingShift(net, demand, b, wide, skip, searched, upto);
      if (shift >= 0) return shift;
      searched = upto;
    }
    return -1;
  };
  return Decide(net, req, near, earliest, replacing);
}

AdmissionDecision Admit(const Network& net, const BookingRequest& req, const Agenda& agenda,
                        BookingId replacing) {
  const AgendaIndex& index = agenda.index();
  auto earliest = [&](const detail::Demand& demand, const std::vector<Interval>& b,
                      const Skip& skip) {
    return detail::EarliestFittingShift(net, demand, b, index, skip, -1, kStartSearchWindow);
  };
  return Decide(net, req, index, earliest, replacing);
}

}  // namespace plateau::scheduler
