// The seams' own small implementations (seams.hpp): the admitted-venue set, a
// meeting's venue check and the MediaNegotiator used until media is wired. The seams bound to the
// scheduler are in scheduler_binding.cpp; the one bound to the MCU is negotiation/conference.
#include "plateau/signaling/seams.hpp"

#include <algorithm>

namespace plateau::signaling {

namespace p = protocol;

const std::string& MediaPlan::HostOf(const std::string& venue) const {
  auto it = hosts.find(venue);
  return it != hosts.end() ? it->second : root_mcu;
}

bool Meeting::HasVenue(const std::string& venue) const {
  return std::find(venues.begin(), venues.end(), venue) != venues.end();
}

void AdmittedVenues::Admit(int64_t booking, const std::string& venue) {
  MutexLock lock(mu_);
  admitted_[booking].insert(venue);
}

void AdmittedVenues::Revoke(int64_t booking, const std::string& venue) {
  MutexLock lock(mu_);
  auto it = admitted_.find(booking);
  if (it == admitted_.end()) return;
  it->second.erase(venue);
  if (it->second.empty()) admitted_.erase(it);
}

bool AdmittedVenues::IsAdmitted(int64_t booking, const std::string& venue) const {
  MutexLock lock(mu_);
  auto it = admitted_.find(booking);
  return it != admitted_.end() && it->second.count(venue) > 0;
}

std::vector<std::string> AdmittedVenues::Venues(int64_t booking) const {
  MutexLock lock(mu_);
  auto it = admitted_.find(booking);
  if (it == admitted_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

namespace {
Error MediaUnavailable() {
  return Error{"media_unavailable",
               "media is not available on this server yet: the conference engine is not wired; "
               "presence and invites work, audio and video do not"};
}
}  // namespace

void UnavailableMedia::Offer(const MediaSeat&, std::string, AnswerCallback done) {
  done(MediaUnavailable());
}
Status UnavailableMedia::Answer(const MediaSeat&, std::string) {
  return MediaUnavailable();
}
Status UnavailableMedia::Candidate(const MediaSeat&, std::optional<p::IceCandidate>) {
  return MediaUnavailable();
}

}  // namespace plateau::signaling
