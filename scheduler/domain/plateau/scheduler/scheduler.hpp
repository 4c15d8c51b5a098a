// The scheduler's decisions. CONTRACT (see booking.hpp): pure functions of their inputs.
#pragma once

#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plateau/scheduler/booking.hpp"

namespace plateau::scheduler {

namespace detail {
class AgendaIndex;  // agenda_index.hpp (internal to scheduler/domain)
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
}  // namespace detail

// The network plus its profiles: everything a decision depends on besides the bookings.
class Network {
 public:
  Network(Topology topology, std::vector<Profile> profiles);
  const Topology& topology() const { return topology_; }
  const std::vector<Profile>& profiles() const { return profiles_; }
  const Profile* FindProfile(std::string_view id) const;

  // Dense indices, built once here so that admission does no string work per booking.
  // Sites are numbered as in topology().sites(); "resources" are the links (0..links-1, in
  // topology().links() order) followed by the MCUs (in topology().mcus() order).
  int SiteIndex(std::string_view id) const;     // -1 when unknown
  int LinkResource(std::string_view id) const;  // -1 when unknown
  int McuResource(std::string_view id) const;   // -1 when unknown
  size_t site_count() const { return site_parent_.size(); }
  size_t resource_count() const { return capacity_up_.size(); }
  size_t link_count() const { return topology_.links().size(); }
  // Usable capacity of a resource: kbit/s per direction for a link; ports (up) for an MCU.
  int64_t capacity_up(int resource) const { return capacity_up_[resource]; }
  int64_t capacity_down(int resource) const { return capacity_down_[resource]; }
  // Per site: parent (-1 for the hub), uplink resource, sub-centre and MCU resource (-1: none).
  int site_parent(int site) const { return site_parent_[site]; }
  int site_uplink(int site) const { return site_uplink_[site]; }
  int site_subcentre(int site) const { return site_subcentre_[site]; }
  int site_mcu(int site) const { return site_mcu_[site]; }
  int hub_site() const { return hub_site_; }
  int mcu_site(int resource) const { return mcu_site_[resource - link_count()]; }

 private:
  void BuildIndices();

  Topology topology_;
  std::vector<Profile> profiles_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> site_index_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> link_index_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> mcu_index_;
  std::vector<int> site_parent_, site_uplink_, site_subcentre_, site_mcu_, mcu_site_;
  std::vector<int64_t> capacity_up_, capacity_down_;
  int hub_site_ = 0;
};

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

// "2024-05-01T02:00:00Z": how decisions write instants into messages (the API adds offsets).
std::string FormatUtc(Instant t);

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
// The same decision against an Agenda (built from the same bookings) without rescanning them.
AdmissionDecision Admit(const Network& net, const BookingRequest& req, const Agenda& agenda,
                        BookingId replacing = 0);

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
                                int64_t horizon, size_t limit, const std::vector<Booking>& existing);
std::vector<Slot> FindFreeSlots(const Network& net, const BookingRequest& shape, Instant from,
                                int64_t horizon, size_t limit, const Agenda& agenda);

}  // namespace plateau::scheduler
