// Booking meetings through the real REST API in tests: one place for the request shape, so every
// suite that needs "a meeting with these venues, starting soon" books it the same way.
// Header-only (the including test links nlohmann_json; support/process.hpp provides Http).
#pragma once

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace plateau::testing {

// RFC 3339 in UTC ("2026-11-26T01:02:03Z").
inline std::string Utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct MeetingRequest {
  std::vector<std::string> venues;  // the first is the main venue
  int64_t start_in = 60;            // seconds from now
  int64_t end_in = 3600;
  int setup_minutes = 15;
  std::string profile = "hd-2m";
  // "auto": sub-centre MCUs host their own venues when two or more take part, and only their
  // speaker goes up the cascade leg (docs/cascade.md); "off": every venue on the root MCU.
  std::string cascade = "auto";
};

// POST /api/v1/bookings; returns the parsed reply (the booking on 201). The status is checked
// with EXPECT so a refused booking fails the calling test with the server's explanation.
inline nlohmann::json BookMeeting(int port, const MeetingRequest& m) {
  const std::time_t now = std::time(nullptr);
  const nlohmann::json body = {{"title", "全省防汛工作视频会议"},
                               {"organiser", "省政府办公厅"},
                               {"region", "hub"},
                               {"start", Utc(now + m.start_in)},
                               {"end", Utc(now + m.end_in)},
                               {"setup_minutes", m.setup_minutes},
                               {"venues", m.venues},
                               {"main_venue", m.venues.front()},
                               {"profile", m.profile},
                               {"cascade", m.cascade}};
  HttpReply r = Http(port, "POST", "/api/v1/bookings", body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// Every venue of the served topology (all sites but the hub itself), in topology order.
inline std::vector<std::string> AllVenues(int port) {
  std::vector<std::string> venues;
  HttpReply topo = Http(port, "GET", "/api/v1/topology");
  EXPECT_EQ(topo.status, 200) << topo.body;
  const nlohmann::json topology = nlohmann::json::parse(topo.body, nullptr, false);
  if (!topology.is_object() || !topology.contains("sites")) return venues;
  for (const nlohmann::json& site : topology["sites"])
    if (site["kind"] != "hub") venues.push_back(site["id"]);
  return venues;
}

}  // namespace plateau::testing
