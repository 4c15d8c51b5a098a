// The interval sweep: does a demand fit, over a set of busy intervals, next to a calendar?
//
// For each busy interval of the request, the bookings overlapping it come from the Agenda's time
// index; their loads on the resources the request uses become +/- events at the clipped
// interval end points, sorted and swept in time order. A constraint can only become violated at
// the request's own start or where some load rises, so only those points are checked. Cost per
// interval: O(k log k) for k overlapping occurrences, independent of the calendar's size.
#include <algorithm>

#include "internal.hpp"

namespace plateau::scheduler::detail {

Violation Describe(const Network& net, const Hit& h) {
  const Topology& topo = net.topology();
  Violation v;
  v.at = h.at;
  switch (h.kind) {
    case Hit::Kind::kVenue:
      v.code = "venue_busy";
      v.venue = topo.sites()[h.venue].id;
      v.other_booking = h.other->id;
      v.other_title = h.other->title;
      v.message = "venue " + v.venue + " is already in \"" + v.other_title + "\" (booking " +
                  std::to_string(v.other_booking) + ") at " + FormatUtc(v.at);
      break;
    case Hit::Kind::kLink:
      v.code = "link_capacity";
      v.link = topo.links()[h.resource].id;
      v.direction = h.direction == 0 ? "up" : "down";
      v.needed = h.needed;
      v.available = h.available;
      v.message = "link " + v.link + " " + v.direction + " needs " + std::to_string(v.needed) +
                  " kbit/s at " + FormatUtc(v.at) + "; " + std::to_string(v.available) +
                  " kbit/s usable";
      break;
    case Hit::Kind::kMcu:
      v.code = "mcu_capacity";
      v.mcu = topo.mcus()[h.resource - net.link_count()].id;
      v.needed = h.needed;
      v.available = h.available;
      v.message = "MCU " + v.mcu + " needs " + std::to_string(v.needed) + " ports at " +
                  FormatUtc(v.at) + "; it has " + std::to_string(v.available);
      break;
  }
  return v;
}

SweepResult Sweep(const Network& net, const Demand& demand, const std::vector<Interval>& busy,
                  int64_t shift, const AgendaIndex* agenda, const Skip& skip, bool first_only,
                  SweepScratch* scratch) {
  SweepResult res;
  SweepScratch local;
  SweepScratch& s = scratch ? *scratch : local;
  using Event = SweepScratch::Event;

  const size_t slots = demand.loads.size();
  s.slot_of.assign(net.resource_count(), -1);
  for (size_t i = 0; i < slots; ++i) s.slot_of[demand.loads[i].resource] = static_cast<int>(i);
  s.venue_mark.assign(net.site_count(), 0);
  for (int v : demand.venues) s.venue_mark[v] = 1;
  // Found so far: per slot and direction; venue hits per (venue, booking).
  std::vector<char>& recorded = s.recorded;
  recorded.assign(2 * slots, 0);
  std::vector<Hit>& venue_hits = s.venue_hits;
  std::vector<Hit>& link_hits = s.link_hits;
  std::vector<Hit>& mcu_hits = s.mcu_hits;
  venue_hits.clear();
  link_hits.clear();
  mcu_hits.clear();
  std::vector<int64_t>& cur_up = s.cur_up;
  std::vector<int64_t>& cur_down = s.cur_down;
  cur_up.resize(slots);
  cur_down.resize(slots);

  auto check = [&](size_t slot, Instant t, const Interval& o) {
    const ResourceLoad& l = demand.loads[slot];
    const bool is_link = static_cast<size_t>(l.resource) < net.link_count();
    for (int dir = 0; dir < (is_link ? 2 : 1); ++dir) {
      const int64_t value = dir == 0 ? cur_up[slot] : cur_down[slot];
      const int64_t cap = dir == 0 ? net.capacity_up(l.resource) : net.capacity_down(l.resource);
      if (value <= cap || recorded[2 * slot + dir]) continue;
      recorded[2 * slot + dir] = 1;
      Hit h;
      h.kind = is_link ? Hit::Kind::kLink : Hit::Kind::kMcu;
      h.resource = l.resource;
      h.direction = dir;
      h.at = t;
      h.needed = value;
      h.available = cap;
      res.must_advance = std::max(res.must_advance, t - o.from);
      (is_link ? link_hits : mcu_hits).push_back(h);
    }
  };

  for (const Interval& b : busy) {
    const Interval o{b.from + shift, b.to + shift};
    const size_t hits_before = venue_hits.size() + link_hits.size() + mcu_hits.size();
    s.refs.clear();
    if (agenda) {
      agenda->ForEachOverlapping(o.from, o.to, [&](const OccurrenceRef& r) {
        if (!skip(agenda->entry(r.entry).id)) s.refs.push_back(r);
      });
    }

    // A venue is in at most one meeting at any instant.
    for (const OccurrenceRef& r : s.refs) {
      const AgendaEntry& e = agenda->entry(r.entry);
      for (int v : e.demand.venues) {
        if (!s.venue_mark[v]) continue;
        const bool known = std::any_of(venue_hits.begin(), venue_hits.end(),
                                       [&](const Hit& h) { return h.venue == v && h.other == &e; });
        if (known) continue;
        Hit h;
        h.kind = Hit::Kind::kVenue;
        h.venue = v;
        h.other = &e;
        h.at = std::max(o.from, r.from);
        res.must_advance = std::max(res.must_advance, h.at - o.from);
        venue_hits.push_back(h);
      }
    }

    // Links and MCUs: sweep the end points of the overlapping occurrences.
    if (slots > 0) {
      s.events.clear();
      for (const OccurrenceRef& r : s.refs) {
        const AgendaEntry& e = agenda->entry(r.entry);
        for (const ResourceLoad& l : e.demand.loads) {
          const int slot = s.slot_of[l.resource];
          if (slot < 0) continue;
          s.events.push_back(Event{std::max(o.from, r.from), slot, l.up, l.down});
          s.events.push_back(Event{std::min(o.to, r.to), slot, -l.up, -l.down});
        }
      }
      std::sort(s.events.begin(), s.events.end(),
                [](const Event& x, const Event& y) { return x.at < y.at; });
      for (size_t i = 0; i < slots; ++i) {
        cur_up[i] = demand.loads[i].up;
        cur_down[i] = demand.loads[i].down;
      }
      const std::vector<Event>& ev = s.events;
      size_t i = 0;
      for (; i < ev.size() && ev[i].at == o.from; ++i) {
        cur_up[ev[i].slot] += ev[i].up;
        cur_down[ev[i].slot] += ev[i].down;
      }
      for (size_t slot = 0; slot < slots; ++slot) check(slot, o.from, o);
      while (i < ev.size() && ev[i].at < o.to) {
        const Instant t = ev[i].at;
        const size_t group = i;
        for (; i < ev.size() && ev[i].at == t; ++i) {
          cur_up[ev[i].slot] += ev[i].up;
          cur_down[ev[i].slot] += ev[i].down;
        }
        for (size_t j = group; j < i; ++j)
          if (ev[j].up > 0 || ev[j].down > 0) check(ev[j].slot, t, o);
      }
    }
    if (first_only && venue_hits.size() + link_hits.size() + mcu_hits.size() > hits_before) break;
  }

  // Link and MCU hits come out of the sweep in time order already.
  std::stable_sort(venue_hits.begin(), venue_hits.end(),
                   [](const Hit& x, const Hit& y) { return x.at < y.at; });
  res.hits.reserve(venue_hits.size() + link_hits.size() + mcu_hits.size());
  res.hits.insert(res.hits.end(), venue_hits.begin(), venue_hits.end());
  res.hits.insert(res.hits.end(), link_hits.begin(), link_hits.end());
  res.hits.insert(res.hits.end(), mcu_hits.begin(), mcu_hits.end());
  return res;
}

int64_t EarliestFittingShift(const Network& net, const Demand& demand,
                             const std::vector<Interval>& busy, const AgendaIndex& agenda,
                             const Skip& skip, int64_t after, int64_t max_shift) {
  if (max_shift < 0 || after >= max_shift) return -1;
  SweepScratch scratch;
  int64_t must_exceed = after;
  if (after < 0) {
    SweepResult first = Sweep(net, demand, busy, 0, &agenda, skip, true, &scratch);
    if (first.ok()) return 0;
    must_exceed = first.must_advance;
  }

  // The earliest fitting shift is one at which some request interval starts exactly where an
  // existing busy interval ends: between such points the set of overlaps only grows, and a
  // violated instant stays covered until the request starts after it. Only bookings sharing a
  // venue or a resource with the request matter.
  std::vector<char> resource_mark(net.resource_count(), 0);
  for (const ResourceLoad& l : demand.loads) resource_mark[l.resource] = 1;
  std::vector<char> venue_mark(net.site_count(), 0);
  for (int v : demand.venues) venue_mark[v] = 1;
  auto relevant = [&](const AgendaEntry& e) {
    for (int v : e.demand.venues)
      if (venue_mark[v]) return true;
    for (const ResourceLoad& l : e.demand.loads)
      if (resource_mark[l.resource]) return true;
    return false;
  };
  // Candidates are gathered a window at a time (a day, then doubling), since the answer is
  // usually close.
  std::vector<int64_t> candidates;
  int64_t searched = std::max<int64_t>(after, 0);
  for (int64_t width = kDay; searched < max_shift; width *= 2) {
    const int64_t upto = std::min(max_shift, searched + width);
    candidates.clear();
    for (const Interval& b : busy) {
      agenda.ForEachOverlapping(b.from + searched, b.to + upto, [&](const OccurrenceRef& r) {
        const int64_t d = r.to - b.from;
        if (d <= searched || d <= must_exceed || d > upto) return;
        const AgendaEntry& e = agenda.entry(r.entry);
        if (!skip(e.id) && relevant(e)) candidates.push_back(d);
      });
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (int64_t d : candidates) {
      if (d <= must_exceed) continue;
      SweepResult r = Sweep(net, demand, busy, d, &agenda, skip, true, &scratch);
      if (r.ok()) return d;
      must_exceed = std::max(must_exceed, d + r.must_advance);
    }
    searched = upto;
  }
  return -1;
}

}  // namespace plateau::scheduler::detail
