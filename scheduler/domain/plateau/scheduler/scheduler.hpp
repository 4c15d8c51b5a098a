// The scheduler's decisions. CONTRACT (see booking.hpp): pure functions of their inputs.
#pragma once

#include <map>
#include <vector>

#include "plateau/scheduler/booking.hpp"

namespace plateau::scheduler {

// The network plus its profiles: everything a decision depends on besides the bookings.
class Network {
 public:
  Network(Topology topology, std::vector<Profile> profiles);
  const Topology& topology() const { return topology_; }
  const std::vector<Profile>& profiles() const { return profiles_; }
  const Profile* FindProfile(std::string_view id) const;

 private:
  Topology topology_;
  std::vector<Profile> profiles_;
};

// Field-level checks: venues known and not the hub, no duplicates, non-empty, main venue listed,
// end after start, setup >= 0, profile known, layout known, recurrence sane (interval >= 1, count
// or until, at most 366 occurrences), region is the hub or a sub-centre, and a sub-centre's
// booking stays inside its own subtree; preempt only with provincial priority.
std::vector<FieldError> ValidateRequest(const Network& net, const BookingRequest& req);

// Busy intervals of every (non-cancelled) occurrence: [start - setup, end), recurrence expanded.
std::vector<Interval> Occurrences(const BookingRequest& req);

// Which MCU hosts each venue and what each link and MCU carries (see the cascade rules).
// Precondition: ValidateRequest returned no errors.
CascadePlan PlanCascade(const Network& net, const BookingRequest& req);

// Admission against `existing` (all states; only kConfirmed ones count). `replacing` is the id of
// the booking being edited (ignored in `existing`), 0 for a new one. Checks every instant where
// bookings overlap (sweep over interval end points). On refusal, names every violated constraint
// and proposes alternatives: a cheaper profile or cascade on, and the earliest start within
// 7 days at which the same meeting fits.
AdmissionDecision Admit(const Network& net, const BookingRequest& req,
                        const std::vector<Booking>& existing, BookingId replacing = 0);

// Reserved kbit/s on one link over [from, to): a step function, one point per change.
struct LinkSample {
  Instant at = 0;
  int64_t up_kbps = 0;
  int64_t down_kbps = 0;
};
std::vector<LinkSample> LinkTimeline(const Network& net, const std::string& link, Instant from,
                                     Instant to, const std::vector<Booking>& existing);

// Free slots of `duration` for the venues at the profile, starting at or after `from`, within
// `horizon` seconds; at most `limit` slots, earliest first.
struct Slot {
  Instant start = 0;
  Instant end = 0;
};
std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit, const std::vector<Booking>& existing);

}  // namespace plateau::scheduler
