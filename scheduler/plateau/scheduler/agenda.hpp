// The calendar of confirmed bookings, indexed by time, and the questions asked of it: a link's
// reservations over time, free slots. CONTRACT: pure functions of their inputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plateau/scheduler/booking.hpp"
#include "plateau/scheduler/network.hpp"

namespace plateau::scheduler {

namespace detail {
class AgendaIndex;  // internal.hpp (internal to the domain)
}  // namespace detail

// Confirmed bookings indexed by time (occurrences in fixed-width time buckets), kept up to date
// by whoever owns the bookings (Add on create/edit, Remove on delete/bump). Admission against an
// Agenda touches only the bookings that overlap the request, so its cost does not grow with the
// size of the calendar. The vector overloads below build a temporary Agenda of just the
// bookings near the request. The Network must outlive the Agenda.
class Agenda {
 public:
  explicit Agenda(const Network& net);
  Agenda(const Network& net, const std::vector<Booking>& bookings);
  ~Agenda();
  Agenda(Agenda&&) noexcept;
  Agenda& operator=(Agenda&&) noexcept;

  // Keeps only confirmed bookings (others are removed); replaces a booking with the same id.
  void Add(const Booking& booking);
  void Remove(BookingId id);
  bool Contains(BookingId id) const;
  size_t size() const;

  const Network& network() const;
  const detail::AgendaIndex& index() const { return *index_; }

 private:
  std::unique_ptr<detail::AgendaIndex> index_;
};

// Reserved kbit/s on one link over [from, to): a step function, one point per change.
struct LinkSample {
  Instant at = 0;
  int64_t up_kbps = 0;
  int64_t down_kbps = 0;
};
std::vector<LinkSample> LinkTimeline(const Network& net, const std::string& link, Instant from,
                                     Instant to, const std::vector<Booking>& existing);
std::vector<LinkSample> LinkTimeline(const Network& net, const std::string& link, Instant from,
                                     Instant to, const Agenda& agenda);

// Free slots of `duration` for the venues at the profile, starting at or after `from`, within
// `horizon` seconds; at most `limit` slots, earliest first.
struct Slot {
  Instant start = 0;
  Instant end = 0;
};
// The shape gives venues, profile, cascade, set-up buffer and duration (end - start); its start
// and recurrence are ignored. Slots are back to back: each next one is searched from the end of
// the previous one; a slot lies within [from, from + horizon].
std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit,
                                const std::vector<Booking>& existing);
std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit, const Agenda& agenda);

}  // namespace plateau::scheduler
