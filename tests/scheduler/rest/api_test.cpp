// The scheduler's REST API as a client sees it: the real `plateau serve` over loopback, its
// SQLite data directory, restarts with SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "support/process.hpp"
#include "support/serve_fixture.hpp"

namespace plateau::testing {
namespace {

using nlohmann::json;
using scheduler::Instant;

constexpr int kShanghai = 480;

Instant NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 09:00 Xining time, `days` days from today: always in the future, whatever day the test runs.
std::string NineOClock(int days, int hour = 9) {
  scheduler::app::CivilTime c =
      scheduler::app::ToCivil(NowSeconds() + days * scheduler::kDay, kShanghai);
  c.hour = hour;
  c.minute = c.second = 0;
  return scheduler::app::FormatRfc3339(scheduler::app::FromCivil(c, kShanghai), kShanghai);
}

// For query values: RFC 3339 offsets carry '+', which a query string reads as a space.
std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// An HTTP request sent except for its last byte, so many can be released at the same instant and
// reach the server's handlers together (connecting and sending take longer than one admission).
class PrimedRequest {
 public:
  PrimedRequest(int port, const std::string& method, const std::string& target,
                const std::string& body) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    timeval tv{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string req = method + " " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    SendAll(req.substr(0, req.size() - 1));
    last_ = req.back();
  }
  ~PrimedRequest() {
    if (fd_ >= 0) close(fd_);
  }
  // Sends the last byte and reads the whole response: {status, body}.
  std::pair<int, std::string> Finish() {
    SendAll(std::string(1, last_));
    std::string raw;
    char buf[65536];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
    }
    const size_t head = raw.find("\r\n\r\n");
    if (raw.size() < 12 || head == std::string::npos) return {0, raw};
    return {std::atoi(raw.c_str() + 9), raw.substr(head + 4)};
  }

 private:
  void SendAll(const std::string& s) {
    size_t sent = 0;
    while (sent < s.size()) {
      const ssize_t n = send(fd_, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  int fd_ = -1;
  char last_ = 0;
};

struct Reply {
  int status = 0;
  json body;
  std::string raw;
  std::map<std::string, std::string> headers;
};

class Api : public ServeFixture {
 protected:
  void Start() { StartServer(); }

  void Stop() {
    server_->Signal(SIGTERM);
    ASSERT_EQ(server_->Wait(std::chrono::seconds(5)), 0);
    server_.reset();
  }

  Reply Call(const std::string& method, const std::string& target, const std::string& body = "") {
    HttpReply r = Http(port_, method, target, body);
    Reply out;
    out.status = r.status;
    out.raw = r.body;
    out.headers = r.headers;
    out.body = json::parse(r.body, nullptr, false);
    return out;
  }
  Reply Post(const json& body) { return Call("POST", "/api/v1/bookings", body.dump()); }

  json Meeting(std::vector<std::string> venues, int day, int hour = 9, int hours = 2) {
    return {{"title", "全省经济工作会议"},
            {"organiser", "省政府办公厅"},
            {"region", "hub"},
            {"start", NineOClock(day, hour)},
            {"end", NineOClock(day, hour + hours)},
            {"venues", venues},
            {"main_venue", venues.empty() ? "" : venues.front()},
            {"profile", "hd-2m"}};
  }

  std::map<std::string, json> Links() {
    std::map<std::string, json> out;
    const Reply r = Call("GET", "/api/v1/links");
    for (const json& l : r.body["links"]) out[l["id"]] = l;
    return out;
  }

  size_t BookingCount() { return Call("GET", "/api/v1/bookings").body["bookings"].size(); }
  size_t EventCount() { return Call("GET", "/api/v1/events").body["events"].size(); }
};

bool HasViolation(const json& error, const std::string& code, const std::string& key,
                  const std::string& value) {
  for (const json& v : error["violations"])
    if (v["code"] == code && v.value(key, json()) == value) return true;
  return false;
}

// (a)-(d) of the issue, in one story because each step builds on the previous one.
TEST_F(Api, ProvinceWideMeetingFitsOnlyWithCascadingAndSurvivesARestart) {
  Start();
  const std::vector<std::string> venues = AllVenues(port_);
  ASSERT_EQ(venues.size(), 65u);
  auto links = Links();

  // (a) All 65 venues at hd-2m: admitted, cascading at the 8 prefectures, every link in budget.
  Reply a = Post(Meeting(venues, 10));
  ASSERT_EQ(a.status, 201) << a.raw;
  EXPECT_EQ(a.headers["location"], "/api/v1/bookings/" + std::to_string(a.body["id"].get<int>()));
  const json plan = a.body["plan"];
  std::set<std::string> cascading;
  for (const json& c : plan["cascades"]) {
    cascading.insert(c["from_mcu"]);
    EXPECT_EQ(c["to_mcu"], "mcu-hub");
  }
  EXPECT_EQ(cascading,
            (std::set<std::string>{"mcu-xining", "mcu-haidong", "mcu-haibei", "mcu-huangnan",
                                   "mcu-hainan", "mcu-golog", "mcu-yushu", "mcu-haixi"}));
  ASSERT_FALSE(plan["links"].empty());
  for (const json& l : plan["links"]) {
    const json& link = links.at(l["link"]);
    EXPECT_LE(l["up_kbps"].get<int64_t>(), link["usable_up_kbps"].get<int64_t>()) << l;
    EXPECT_LE(l["down_kbps"].get<int64_t>(), link["usable_down_kbps"].get<int64_t>()) << l;
    EXPECT_GT(l["up_kbps"].get<int64_t>() + l["down_kbps"].get<int64_t>(), 0) << l;
  }
  // The server's own accounting agrees: the timeline of Haidong's uplink peaks at the plan's load.
  Reply t =
      Call("GET", "/api/v1/links/hub-haidong/timeline?from=" + PercentEncode(NineOClock(10, 0)) +
                      "&to=" + PercentEncode(NineOClock(11, 0)));
  ASSERT_EQ(t.status, 200) << t.raw;
  int64_t peak_up = 0;
  for (const json& s : t.body["samples"]) peak_up = std::max(peak_up, s["up_kbps"].get<int64_t>());
  int64_t planned_up = -1;
  for (const json& l : plan["links"])
    if (l["link"] == "hub-haidong") planned_up = l["up_kbps"];
  EXPECT_EQ(peak_up, planned_up);
  EXPECT_LE(peak_up, t.body["usable_up_kbps"].get<int64_t>());

  // (b) The same meeting without cascading does not fit Haidong's uplink.
  json off = Meeting(venues, 12);
  off["cascade"] = "off";
  Reply b = Post(off);
  ASSERT_EQ(b.status, 409) << b.raw;
  EXPECT_EQ(b.body["error"]["code"], "link_capacity");
  EXPECT_TRUE(HasViolation(b.body["error"], "link_capacity", "link", "hub-haidong")) << b.raw;
  bool cascade_alternative = false;
  for (const json& alt : b.body["error"]["alternatives"])
    cascade_alternative |= alt["kind"] == "cascade" && alt["cascade"] == "auto";
  EXPECT_TRUE(cascade_alternative) << b.raw;

  // (c) An overlapping meeting with a county already booked by (a).
  Reply c = Post(Meeting({"minhe"}, 10, 10));
  ASSERT_EQ(c.status, 409) << c.raw;
  EXPECT_EQ(c.body["error"]["code"], "venue_busy");
  EXPECT_TRUE(HasViolation(c.body["error"], "venue_busy", "venue", "minhe")) << c.raw;
  EXPECT_EQ(c.body["error"]["violations"][0]["other_booking"], a.body["id"]);

  // (d) Restart on the same data directory: the booking and its plan are unchanged, and the two
  // refusals left nothing behind.
  Stop();
  Start();
  Reply again = Call("GET", "/api/v1/bookings/" + std::to_string(a.body["id"].get<int>()));
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, a.body);
  Reply all = Call("GET", "/api/v1/bookings");
  ASSERT_EQ(all.body["bookings"].size(), 1u);
  EXPECT_EQ(all.body["bookings"][0], a.body);
  Reply events = Call("GET", "/api/v1/events");
  ASSERT_EQ(events.body["events"].size(), 1u);
  EXPECT_EQ(events.body["events"][0]["kind"], "created");
  EXPECT_EQ(events.body["events"][0]["booking"], a.body["id"]);
  // The refusals still hold after the restart.
  EXPECT_EQ(Post(Meeting({"minhe"}, 10, 10)).status, 409);
}

// Parallel clients race for the last capacity of Haidong's uplink: exactly as many win as fit.
TEST_F(Api, ParallelClientsCannotBothTakeTheLastCapacityOfALink) {
  Start();
  const int64_t usable = Links().at("hub-haidong")["usable_up_kbps"];
  // Each meeting: one department at the hub and one Haidong venue, so one stream each way over
  // hub-haidong. Haidong has 7 venues (its own and 6 counties); departments are distinct too.
  const std::vector<std::string> haidong = {"haidong", "pingan",  "minhe", "ledu",
                                            "huzhu",   "hualong", "xunhua"};
  const std::vector<std::string> departments = {"finance",        "public-security", "education",
                                                "civil-affairs",  "land-resources",  "agriculture",
                                                "water-resources"};
  // Daily meetings for 60 days, so each admission has real work to do (occurrences to expand
  // and check) and the racing requests overlap inside the server.
  auto daily = [&](std::vector<std::string> venues, int day, int hour) {
    json m = Meeting(std::move(venues), day, hour);
    m["recurrence"] = {{"frequency", "daily"}, {"count", 60}};
    return m;
  };
  const int day = 20;
  for (int round = 0; round < 5; ++round) {
    const int hour = 7 + 3 * round;
    // One meeting first, then six clients race for what is left.
    int64_t load = 0;
    for (int i = 0; i < 1; ++i) {
      Reply r = Post(daily({departments[i], haidong[i]}, day, hour));
      ASSERT_EQ(r.status, 201) << r.raw;
      for (const json& l : r.body["plan"]["links"])
        if (l["link"] == "hub-haidong") load = l["up_kbps"];
    }
    ASSERT_GT(load, 0);
    const int64_t left = usable - load;
    const int racers = 6;
    const int expected = static_cast<int>(std::min<int64_t>(left / load, racers));
    ASSERT_GE(expected, 1);
    ASSERT_LT(expected, racers) << "the race must have losers";

    std::vector<std::unique_ptr<PrimedRequest>> primed;
    for (int i = 0; i < racers; ++i)
      primed.push_back(std::make_unique<PrimedRequest>(
          port_, "POST", "/api/v1/bookings",
          daily({departments[1 + i], haidong[1 + i]}, day, hour).dump()));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<Reply> replies(racers);
    std::vector<std::thread> threads;
    for (int i = 0; i < racers; ++i)
      threads.emplace_back([&, i] {
        ++ready;
        while (!go.load()) std::this_thread::yield();
        auto [status, body] = primed[i]->Finish();
        replies[i].status = status;
        replies[i].raw = body;
        replies[i].body = json::parse(body, nullptr, false);
      });
    while (ready.load() < racers) std::this_thread::yield();
    go = true;
    for (auto& t : threads) t.join();

    int won = 0;
    for (const Reply& r : replies) {
      if (r.status == 201) {
        ++won;
        continue;
      }
      ASSERT_EQ(r.status, 409) << r.raw;
      EXPECT_EQ(r.body["error"]["code"], "link_capacity") << r.raw;
      EXPECT_TRUE(HasViolation(r.body["error"], "link_capacity", "link", "hub-haidong")) << r.raw;
    }
    EXPECT_EQ(won, expected) << "round " << round;
    Reply t = Call("GET", "/api/v1/links/hub-haidong/timeline?from=" +
                              PercentEncode(NineOClock(day + 59, hour - 1)) +
                              "&to=" + PercentEncode(NineOClock(day + 59, hour + 2)));
    int64_t peak = 0;
    for (const json& s : t.body["samples"]) peak = std::max(peak, s["up_kbps"].get<int64_t>());
    EXPECT_EQ(peak, (1 + expected) * load);
    EXPECT_LE(peak, usable);
  }
  EXPECT_EQ(EventCount(), BookingCount());
}

// Every 400 of the issue names the offending field, and nothing is stored.
TEST_F(Api, BadRequestsNameTheFieldAndStoreNothing) {
  Start();
  struct Case {
    std::string name, body, field, code;
  };
  std::vector<Case> cases;
  auto with = [&](const std::string& name, json m, const std::string& field,
                  const std::string& code) {
    cases.push_back({name, m.dump(), field, code});
  };
  with("unknown venue", Meeting({"hall-1", "atlantis"}, 5), "venues[1]", "unknown_venue");
  json backwards = Meeting({"hall-1"}, 5);
  backwards["end"] = NineOClock(5, 8);
  with("end before start", backwards, "end", "end_before_start");
  with("empty venue list", Meeting({}, 5), "venues", "empty_venues");
  json main_missing = Meeting({"hall-1", "minhe"}, 5);
  main_missing["main_venue"] = "ledu";
  with("main venue not listed", main_missing, "main_venue", "main_not_in_venues");
  json outside = Meeting({"haidong", "minhe", "datong"}, 5);
  outside["region"] = "haidong";
  with("region reaching outside", outside, "venues[2]", "outside_region");
  json typo = Meeting({"hall-1"}, 5);
  typo["venus"] = json::array();
  with("unknown field", typo, "venus", "unknown_field");
  json wrong = Meeting({"hall-1"}, 5);
  wrong["setup_minutes"] = "fifteen";
  with("wrong type", wrong, "setup_minutes", "wrong_type");
  json no_offset = Meeting({"hall-1"}, 5);
  no_offset["start"] = "2030-03-04T09:00:00";
  with("time without offset", no_offset, "start", "bad_time");
  cases.push_back({"malformed JSON", "{\"title\": \"会议\", ", "body", "malformed_json"});
  cases.push_back({"not an object", "[]", "body", "not_an_object"});

  for (const Case& c : cases) {
    Reply r = Call("POST", "/api/v1/bookings", c.body);
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["field"], c.field) << c.name << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], c.code) << c.name << ": " << r.raw;
    EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty()) << c.name;
  }
  // Over 1 MiB: the listener refuses before the API sees it.
  json huge = Meeting({"hall-1"}, 5);
  huge["title"] = std::string(1100 * 1024, 'x');
  Reply big = Call("POST", "/api/v1/bookings", huge.dump());
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.body["error"]["code"], "body_too_large");

  // The same bad inputs in an edit leave the booking as it was.
  Reply ok = Post(Meeting({"hall-1", "minhe"}, 5));
  ASSERT_EQ(ok.status, 201);
  const std::string url = "/api/v1/bookings/" + std::to_string(ok.body["id"].get<int>());
  EXPECT_EQ(Call("PATCH", url, R"({"venues":["hall-1","atlantis"]})").body["error"]["field"],
            "venues[1]");
  EXPECT_EQ(Call("PATCH", url, R"({"end":")" + NineOClock(5, 8) + "\"}").body["error"]["field"],
            "end");
  EXPECT_EQ(Call("PATCH", url, "{oops").body["error"]["field"], "body");
  EXPECT_EQ(Call("PATCH", url, R"({"state":"cancelled"})").body["error"]["code"], "read_only");
  EXPECT_EQ(Call("GET", url).body, ok.body);
  EXPECT_EQ(BookingCount(), 1u);
  EXPECT_EQ(EventCount(), 1u);
}

// Issue 9.2 and 9.10: one anonymous request used to take the server down (a PATCH nested 60,000
// levels deep overflowed the stack in the merge); a body followed by a NUL and garbage, and a
// series running past year 9999, were accepted. Each is a 400 now, and nothing changes.
TEST_F(Api, HostileBodiesAreRefusedAndTheServerStaysUp) {
  Start();
  Reply ok = Post(Meeting({"hall-1", "minhe"}, 5));
  ASSERT_EQ(ok.status, 201) << ok.raw;
  const std::string url = "/api/v1/bookings/" + std::to_string(ok.body["id"].get<int>());

  // Objects in objects: the merge recurses once per level.
  std::string deep = "{\"recurrence\":";
  for (int i = 0; i < 60'000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(60'001, '}');
  ASSERT_LT(deep.size(), 1024u * 1024);
  Reply d = Call("PATCH", url, deep);
  EXPECT_EQ(d.status, 400) << d.raw.substr(0, 200);
  EXPECT_EQ(d.body["error"]["field"], "body");
  EXPECT_EQ(d.body["error"]["code"], "too_deep");
  ASSERT_EQ(Http(port_, "GET", "/healthz").status, 200) << "the server died";

  std::string nul = R"({"title":"改名"})";
  nul += '\0';
  nul += "garbage";
  Reply n = Call("PATCH", url, nul);
  EXPECT_EQ(n.status, 400) << n.raw;
  EXPECT_EQ(n.body["error"]["code"], "malformed_json");
  std::string created = Meeting({"hall-2"}, 6).dump();
  created += '\0';
  created += "}";
  EXPECT_EQ(Call("POST", "/api/v1/bookings", created).status, 400);

  json late = Meeting({"hall-2", "ledu"}, 6);
  late["start"] = "9999-12-01T09:00:00+08:00";
  late["end"] = "9999-12-01T11:00:00+08:00";
  late["recurrence"] = {{"frequency", "weekly"}, {"count", 10}};
  Reply l = Post(late);
  EXPECT_EQ(l.status, 400) << l.raw;
  EXPECT_EQ(l.body["error"]["field"], "recurrence.count");
  EXPECT_EQ(l.body["error"]["code"], "bad_time");

  EXPECT_EQ(Call("GET", url).body, ok.body);
  EXPECT_EQ(BookingCount(), 1u);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(Api, EditCancelAndReadBack) {
  Start();
  Reply a = Post(Meeting({"hall-1", "minhe", "ledu"}, 6));
  ASSERT_EQ(a.status, 201) << a.raw;
  const std::string url = "/api/v1/bookings/" + std::to_string(a.body["id"].get<int>());
  EXPECT_EQ(a.body["conference_number"].get<std::string>().size(), 8u);

  // PATCH: re-admitted as a whole; adding a busy venue is refused with 409 and changes nothing.
  Reply other = Post(Meeting({"hall-2", "huzhu"}, 6));
  ASSERT_EQ(other.status, 201);
  Reply grab = Call("PATCH", url, R"({"venues":["hall-1","minhe","ledu","huzhu"]})");
  EXPECT_EQ(grab.status, 409) << grab.raw;
  EXPECT_TRUE(HasViolation(grab.body["error"], "venue_busy", "venue", "huzhu"));
  Reply moved = Call(
      "PATCH", url,
      json{{"title", "改期后的会议"}, {"start", NineOClock(7)}, {"end", NineOClock(7, 12)}}.dump());
  ASSERT_EQ(moved.status, 200) << moved.raw;
  EXPECT_EQ(moved.body["title"], "改期后的会议");
  EXPECT_EQ(moved.body["start"], NineOClock(7));
  EXPECT_EQ(moved.body["conference_number"], a.body["conference_number"]);
  // Now huzhu fits on the new day.
  EXPECT_EQ(Call("PATCH", url, R"({"venues":["hall-1","minhe","ledu","huzhu"]})").status, 200);

  // Filters.
  EXPECT_EQ(Call("GET", "/api/v1/bookings?venue=huzhu").body["bookings"].size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/bookings?venue=minhe").body["bookings"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/bookings?from=" + PercentEncode(NineOClock(7, 0)) +
                            "&to=" + PercentEncode(NineOClock(8, 0)))
                .body["bookings"]
                .size(),
            1u);
  EXPECT_EQ(Call("GET", "/api/v1/bookings?venue=atlantis").body["error"]["field"], "venue");
  EXPECT_EQ(Call("GET", "/api/v1/bookings?venu=minhe").body["error"]["code"], "unknown_parameter");

  // Calendar of a venue.
  Reply ics = Call("GET", "/api/v1/bookings.ics?venue=huzhu");
  ASSERT_EQ(ics.status, 200);
  EXPECT_EQ(ics.headers["content-type"], "text/calendar; charset=utf-8");
  EXPECT_EQ(ics.raw.rfind("BEGIN:VCALENDAR\r\n", 0), 0u);
  EXPECT_NE(ics.raw.find("SUMMARY:改期后的会议"), std::string::npos);
  EXPECT_EQ(std::count(ics.raw.begin(), ics.raw.end(), '\n'),
            std::count(ics.raw.begin(), ics.raw.end(), '\r'));

  // DELETE cancels; the venues are free again; the event log tells the story.
  Reply del = Call("DELETE", url);
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.body["state"], "cancelled");
  EXPECT_EQ(Post(Meeting({"hall-2", "minhe"}, 7)).status, 201);
  std::vector<std::string> kinds;
  const Reply events =
      Call("GET", "/api/v1/events?booking=" + std::to_string(a.body["id"].get<int>()));
  for (const json& e : events.body["events"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"created", "updated", "updated", "cancelled"}));

  EXPECT_EQ(Call("GET", "/api/v1/bookings/999").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/bookings/abc").status, 404);
  EXPECT_EQ(Call("PUT", url, "{}").status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/links/nowhere/timeline").status, 404);
}

TEST_F(Api, AvailabilityOffersTheFirstSlotAfterABookedMeeting) {
  Start();
  ASSERT_EQ(Post(Meeting({"hall-1", "minhe"}, 8)).status, 201);
  Reply r =
      Call("GET", "/api/v1/availability?venues=hall-2,minhe&duration=PT2H&profile=hd-2m&from=" +
                      PercentEncode(NineOClock(8, 8)) + "&limit=2");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_FALSE(r.body["slots"].empty());
  auto first = scheduler::app::ParseRfc3339(r.body["slots"][0]["start"].get<std::string>());
  ASSERT_TRUE(first.ok());
  EXPECT_GE(*first, *scheduler::app::ParseRfc3339(NineOClock(8, 11)) + 15 * 60);
  EXPECT_EQ(Call("GET", "/api/v1/availability?venues=atlantis&duration=60&profile=hd-2m")
                .body["error"]["field"],
            "venues[0]");
  EXPECT_EQ(Call("GET", "/api/v1/availability?venues=minhe&duration=soon&profile=hd-2m")
                .body["error"]["field"],
            "duration");
}

TEST_F(Api, VenueTokenCommandPrintsATokenTheServiceAcceptsAndStoresOnlyItsHash) {
  RunResult r =
      RunCommand({PlateauBinary(), "venue-token", "minhe", "--config", Config(), "--data", Data()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string token = r.out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  ASSERT_EQ(token.rfind("pvt_", 0), 0u) << token;

  auto config = scheduler::config::LoadFile(Config());
  ASSERT_TRUE(config.ok());
  auto network = scheduler::config::BuildNetwork(*config);
  ASSERT_TRUE(network.ok());
  {
    auto store = scheduler::store::SqliteBookingStore::Open(Data() + "/plateau.db");
    ASSERT_TRUE(store.ok());
    metrics::Registry registry;
    scheduler::app::BookingService service(*network, **store, SystemClock::Instance(), registry);
    EXPECT_TRUE(service.VerifyVenueToken("minhe", token));
    EXPECT_FALSE(service.VerifyVenueToken("ledu", token));
  }
  std::ifstream db(Data() + "/plateau.db", std::ios::binary);
  std::stringstream bytes;
  bytes << db.rdbuf();
  EXPECT_EQ(bytes.str().find(token.substr(4)), std::string::npos);

  RunResult bad = RunCommand(
      {PlateauBinary(), "venue-token", "atlantis", "--config", Config(), "--data", Data()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("atlantis"), std::string::npos);
}

}  // namespace
}  // namespace plateau::testing
