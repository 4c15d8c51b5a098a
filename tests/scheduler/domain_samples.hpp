// Shared set-up for the scheduler domain tests: the real Qinghai network from
// configs/qinghai.toml, meeting times in Beijing time, requests and stored bookings.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/validation.hpp"
#include "support/qinghai.hpp"

namespace plateau::scheduler::testing {

using ::plateau::testing::LoadQinghai;
using ::plateau::testing::QinghaiPath;

// Monday 2026-03-02 00:00 Beijing time (UTC+8).
constexpr Instant kMonday = 1772380800;
inline Instant At(int day, int hour, int minute = 0) {
  return kMonday + day * kDay + hour * kHour + minute * kMinute;
}

inline const std::vector<std::string> kHaidongCounties = {"pingan", "minhe",   "ledu",
                                                          "huzhu",  "hualong", "xunhua"};
inline const std::vector<std::string> kDepartments = {
    "finance",        "public-security", "education",          "civil-affairs",
    "land-resources", "agriculture",     "water-resources",    "health",
    "transport",      "commerce",        "development-reform", "letters-calls"};
inline const std::vector<std::string> kPrefectures = {"xining", "haidong", "haibei", "huangnan",
                                                      "hainan", "golog",   "yushu",  "haixi"};

inline BookingRequest Meeting(std::string title, std::vector<std::string> venues, Instant start,
                              int64_t minutes, std::string profile = "hd-2m") {
  BookingRequest r;
  r.title = std::move(title);
  r.organiser = "省政府办公厅";
  r.region = "hub";
  r.priority = Priority::kProvincial;
  r.start = start;
  r.end = start + minutes * kMinute;
  r.venues = std::move(venues);
  r.main_venue = r.venues.empty() ? "" : r.venues.front();
  r.profile = std::move(profile);
  return r;
}

inline BookingRequest Regional(BookingRequest r, std::string region) {
  r.region = std::move(region);
  r.priority = Priority::kRegional;
  return r;
}

inline Booking Stored(BookingId id, BookingRequest req, const Network& net) {
  Booking b;
  b.id = id;
  b.conference_number = "8" + std::to_string(id);
  b.plan = PlanCascade(net, req);
  b.request = std::move(req);
  return b;
}

inline std::vector<std::string> AllVenues(const Network& net) {
  std::vector<std::string> out;
  for (const Site* s : net.topology().Venues()) out.push_back(s->id);
  return out;
}

inline const LinkLoad* FindLoad(const CascadePlan& p, const std::string& link) {
  for (const LinkLoad& l : p.links)
    if (l.link == link) return &l;
  return nullptr;
}
inline int PortsOn(const CascadePlan& p, const std::string& mcu) {
  for (const McuLoad& m : p.mcus)
    if (m.mcu == mcu) return m.ports;
  return 0;
}
inline std::string HostOf(const CascadePlan& p, const std::string& venue) {
  for (const VenueHost& h : p.hosts)
    if (h.venue == venue) return h.mcu;
  return "";
}
inline const Violation* FindViolation(const Refusal& r, const std::string& code,
                                      const std::string& subject,
                                      const std::string& direction = "") {
  for (const Violation& v : r.violations) {
    if (v.code != code) continue;
    const std::string& s = code == "venue_busy"      ? v.venue
                           : code == "link_capacity" ? v.link
                                                     : v.mcu;
    if (s == subject && (direction.empty() || v.direction == direction)) return &v;
  }
  return nullptr;
}
inline const Alternative* FindAlternative(const Refusal& r, const std::string& kind) {
  for (const Alternative& a : r.alternatives)
    if (a.kind == kind) return &a;
  return nullptr;
}

// A test fixture holding the real network and a calendar of stored bookings.
class QinghaiNetwork : public ::testing::Test {
 protected:
  QinghaiNetwork() : net_(LoadQinghai()) {}

  // Admits (asserting it) and stores the request; returns the stored booking's id.
  BookingId Book(BookingRequest req) {
    AdmissionDecision d = Admit(net_, req, calendar_);
    EXPECT_TRUE(d.admitted.has_value())
        << "expected \"" << req.title << "\" to be admitted"
        << (d.refused && !d.refused->violations.empty() ? ": " + d.refused->violations[0].message
                                                        : std::string());
    if (!d.admitted) return 0;
    Booking b;
    b.id = next_id_++;
    b.request = std::move(req);
    b.plan = d.admitted->plan;
    for (const Bump& bump : d.admitted->bumped)
      for (Booking& other : calendar_)
        if (other.id == bump.booking) other.state = BookingState::kBumped;
    calendar_.push_back(std::move(b));
    return calendar_.back().id;
  }

  AdmissionDecision Try(const BookingRequest& req, BookingId replacing = 0) const {
    AdmissionDecision d = Admit(net_, req, calendar_, replacing);
    // The Agenda overload decides the same.
    AdmissionDecision again = Admit(net_, req, Agenda(net_, calendar_), replacing);
    EXPECT_EQ(d.admitted.has_value(), again.admitted.has_value());
    if (d.refused && again.refused) {
      EXPECT_EQ(d.refused->violations.size(), again.refused->violations.size());
      EXPECT_EQ(d.refused->alternatives.size(), again.refused->alternatives.size());
    }
    return d;
  }

  Network net_;
  std::vector<Booking> calendar_;
  BookingId next_id_ = 1;
};

}  // namespace plateau::scheduler::testing
