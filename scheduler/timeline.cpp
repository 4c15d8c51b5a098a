// Views over the calendar: a link's reserved kbit/s over time and free slots for a meeting.
#include <algorithm>

#include "internal.hpp"

namespace plateau::scheduler {
namespace {

using detail::AgendaIndex;

AgendaIndex IndexWindow(const Network& net, const std::vector<Booking>& existing, Instant from,
                        Instant to) {
  return detail::IndexWithin(net, detail::BookingsNear(existing, 0, from, to),
                             {Interval{from, to}});
}

std::vector<LinkSample> Timeline(const Network& net, const std::string& link, Instant from,
                                 Instant to, const AgendaIndex& index) {
  std::vector<LinkSample> out;
  const int resource = net.LinkResource(link);
  if (resource < 0 || from >= to) return out;
  struct Step {
    Instant at;
    int64_t up, down;
  };
  std::vector<Step> steps;
  index.ForEachOverlapping(from, to, [&](const detail::OccurrenceRef& r) {
    for (const detail::ResourceLoad& l : index.entry(r.entry).demand.loads) {
      if (l.resource != resource) continue;
      steps.push_back(Step{std::max(from, r.from), l.up, l.down});
      steps.push_back(Step{std::min(to, r.to), -l.up, -l.down});
    }
  });
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
  LinkSample cur{from, 0, 0};
  size_t i = 0;
  for (; i < steps.size() && steps[i].at == from; ++i) {
    cur.up_kbps += steps[i].up;
    cur.down_kbps += steps[i].down;
  }
  out.push_back(cur);
  while (i < steps.size() && steps[i].at < to) {
    const Instant t = steps[i].at;
    for (; i < steps.size() && steps[i].at == t; ++i) {
      cur.up_kbps += steps[i].up;
      cur.down_kbps += steps[i].down;
    }
    if (cur.up_kbps != out.back().up_kbps || cur.down_kbps != out.back().down_kbps) {
      cur.at = t;
      out.push_back(cur);
    }
  }
  return out;
}

std::vector<Slot> FreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                            int64_t horizon, size_t limit, const AgendaIndex& index) {
  std::vector<Slot> out;
  const int64_t duration = shape.end - shape.start;
  const int64_t setup = std::max<int64_t>(shape.setup_seconds, 0);
  if (duration <= 0 || horizon <= 0 || limit == 0) return out;
  BookingRequest single = shape;
  single.recurrence.reset();
  const detail::Demand demand = detail::Plan(net, single).demand;
  const detail::Skip skip{};
  const Instant last_end = from + horizon;
  // A meeting that does not fit an empty calendar fits nowhere.
  if (!detail::Sweep(net, demand, {Interval{from - setup, from + duration}}, 0, nullptr, skip, true)
           .ok())
    return out;
  for (Instant s = from; out.size() < limit && s + duration <= last_end;) {
    const std::vector<Interval> busy{Interval{s - setup, s + duration}};
    const int64_t shift =
        detail::EarliestFittingShift(net, demand, busy, index, skip, -1, last_end - duration - s);
    if (shift < 0) break;
    out.push_back(Slot{s + shift, s + shift + duration});
    s = out.back().end;
  }
  return out;
}

}  // namespace

std::vector<LinkSample> LinkTimeline(const Network& net, const std::string& link, Instant from,
                                     Instant to, const std::vector<Booking>& existing) {
  return Timeline(net, link, from, to, IndexWindow(net, existing, from, to));
}

std::vector<LinkSample> LinkTimeline(const Network& net, const std::string& link, Instant from,
                                     Instant to, const Agenda& agenda) {
  return Timeline(net, link, from, to, agenda.index());
}

std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit,
                                const std::vector<Booking>& existing) {
  const int64_t setup = std::max<int64_t>(shape.setup_seconds, 0);
  return FreeSlots(net, shape, from, horizon, limit,
                   IndexWindow(net, existing, from - setup, from + horizon));
}

std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit, const Agenda& agenda) {
  return FreeSlots(net, shape, from, horizon, limit, agenda.index());
}

}  // namespace plateau::scheduler
