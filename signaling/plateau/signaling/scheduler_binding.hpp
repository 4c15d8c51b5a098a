// The signaling seams bound to the scheduler: venue tokens and bookings from BookingService.
// Kept out of plateau_signaling (library plateau_signaling_scheduler) so the listener itself does
// not depend on the scheduler.
#pragma once

#include "plateau/signaling/seams.hpp"

namespace plateau::scheduler {
struct Booking;
struct CascadePlan;
namespace app {
class BookingService;
}  // namespace app
}  // namespace plateau::scheduler

namespace plateau::signaling {

// Tokens from `plateau venue-token` (BookingService::VerifyVenueToken: salted hash, constant-time
// compare); the venue's display name from the topology.
class BookingVenueAuthenticator final : public VenueAuthenticator {
 public:
  explicit BookingVenueAuthenticator(scheduler::app::BookingService& service) : service_(service) {}
  Result<VenueIdentity> Verify(const std::string& venue, const std::string& token) override;
  // The stored hash of the venue's current token (it changes when `plateau venue-token` issues a
  // new one).
  Result<std::optional<std::string>> CurrentCredential(const std::string& venue) override;

 private:
  scheduler::app::BookingService& service_;
};

// Conferences are bookings: the conference number and booking id resolve through
// BookingService; recurring bookings are expanded to the occurrence open at (or next after, or
// last before) `now`. Cancelled and bumped bookings read as cancelled.
class BookingConferenceDirectory final : public ConferenceDirectory {
 public:
  explicit BookingConferenceDirectory(scheduler::app::BookingService& service)
      : service_(service) {}
  Result<std::optional<Meeting>> FindByNumber(const std::string& conference, int64_t now) override;
  Result<std::optional<Meeting>> FindByBooking(int64_t booking, int64_t now) override;
  Result<std::vector<Meeting>> OpenAt(int64_t now) override;

  // The occurrence of `booking` as a Meeting, chosen for `now` as above.
  Meeting ToMeeting(const scheduler::Booking& booking, int64_t now) const;

 private:
  // The booking's plan as the media side follows and measures it.
  void FillPlan(const scheduler::CascadePlan& plan, MediaPlan& out) const;
  scheduler::app::BookingService& service_;
};

}  // namespace plateau::signaling
