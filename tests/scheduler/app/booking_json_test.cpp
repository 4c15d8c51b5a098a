// The booking JSON edge: every shape problem is a 400 naming its field; views round-trip.
#include "plateau/scheduler/app/booking_json.hpp"

#include <gtest/gtest.h>

#include "plateau/scheduler/app/rfc3339.hpp"

namespace plateau::scheduler::app {
namespace {

using nlohmann::json;

json Valid() {
  return {{"title", "全省经济工作会议"},
          {"organiser", "省政府办公厅"},
          {"region", "hub"},
          {"start", "2030-03-04T09:00:00+08:00"},
          {"end", "2030-03-04T11:00:00+08:00"},
          {"venues", {"hall-1", "minhe", "ledu"}},
          {"main_venue", "hall-1"},
          {"profile", "hd-2m"}};
}

// The field a body is refused for ("" when accepted).
std::pair<std::string, std::string> Refused(const std::string& body) {
  auto r = ParseBookingRequest(body, {});
  if (r.ok()) return {"", ""};
  EXPECT_EQ(r.error().kind, ServiceError::Kind::kInvalid);
  EXPECT_FALSE(r.error().fields.empty());
  return {r.error().fields.front().field, r.error().code};
}

std::pair<std::string, std::string> RefusalWith(const char* key, json value) {
  json j = Valid();
  j[key] = std::move(value);
  return Refused(j.dump());
}

TEST(BookingJson, ReadsAFullRequest) {
  json j = Valid();
  j["setup_minutes"] = 30;
  j["layout"] = "1+5";
  j["priority"] = "regional";
  j["cascade"] = "off";
  j["preempt"] = true;
  j["recurrence"] = {{"frequency", "weekly"},
                     {"interval", 2},
                     {"count", 5},
                     {"cancelled", {"2030-03-18T09:00:00+08:00"}}};
  auto r = BookingRequestFromJson(j, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->title, "全省经济工作会议");
  EXPECT_EQ(r->start, *ParseRfc3339("2030-03-04T01:00:00Z"));
  EXPECT_EQ(r->end - r->start, 2 * kHour);
  EXPECT_EQ(r->setup_seconds, 30 * kMinute);
  EXPECT_EQ(r->venues, (std::vector<std::string>{"hall-1", "minhe", "ledu"}));
  EXPECT_EQ(r->layout, "1+5");
  EXPECT_EQ(r->priority, Priority::kRegional);
  EXPECT_EQ(r->cascade, CascadeMode::kOff);
  EXPECT_TRUE(r->preempt);
  ASSERT_TRUE(r->recurrence.has_value());
  EXPECT_EQ(r->recurrence->frequency, Recurrence::Frequency::kWeekly);
  EXPECT_EQ(r->recurrence->interval, 2);
  EXPECT_EQ(r->recurrence->count, 5);
  EXPECT_EQ(r->recurrence->cancelled, (std::vector<Instant>{r->start + 14 * kDay}));
}

TEST(BookingJson, DefaultsFollowTheIssue) {
  auto r = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->setup_seconds, 15 * kMinute);
  EXPECT_EQ(r->layout, "auto");
  EXPECT_EQ(r->cascade, CascadeMode::kAuto);
  EXPECT_FALSE(r->preempt);
  EXPECT_FALSE(r->recurrence.has_value());
  // The hub's bookings are provincial, a sub-centre's regional, unless the request says otherwise.
  EXPECT_EQ(r->priority, Priority::kProvincial);
  json sub = Valid();
  sub["region"] = "haidong";
  EXPECT_EQ(BookingRequestFromJson(sub, {})->priority, Priority::kRegional);
}

TEST(BookingJson, MalformedOrNonObjectBodyNamesTheBody) {
  EXPECT_EQ(Refused("{\"title\": "),
            std::make_pair(std::string("body"), std::string("malformed_json")));
  EXPECT_EQ(Refused(""), std::make_pair(std::string("body"), std::string("malformed_json")));
  EXPECT_EQ(Refused("\xff\xfe{}").first, "body");
  EXPECT_EQ(Refused("{\"title\":\"\xc3\x28\"}").first, "body");  // invalid UTF-8 inside a string
  EXPECT_EQ(Refused("[1,2]"), std::make_pair(std::string("body"), std::string("not_an_object")));
  EXPECT_EQ(Refused("null").second, "not_an_object");
  EXPECT_EQ(Refused(Valid().dump() + " trailing").first, "body");
}

TEST(BookingJson, UnknownFieldsAreRefusedByName) {
  EXPECT_EQ(RefusalWith("venue", "minhe"),
            std::make_pair(std::string("venue"), std::string("unknown_field")));
  json j = Valid();
  j["recurrence"] = {{"frequency", "daily"}, {"count", 2}, {"every", 3}};
  EXPECT_EQ(Refused(j.dump()),
            std::make_pair(std::string("recurrence.every"), std::string("unknown_field")));
}

TEST(BookingJson, MissingRequiredFieldsAreNamed) {
  for (const char* key : {"title", "region", "start", "end", "venues", "main_venue", "profile"}) {
    json j = Valid();
    j.erase(key);
    EXPECT_EQ(Refused(j.dump()), std::make_pair(std::string(key), std::string("missing"))) << key;
    j[key] = nullptr;
    EXPECT_EQ(Refused(j.dump()).first, key);
  }
  EXPECT_EQ(RefusalWith("title", "  "), std::make_pair(std::string("title"), std::string("empty")));
}

TEST(BookingJson, WrongTypesAreNamedDownToTheArrayElement) {
  EXPECT_EQ(RefusalWith("title", 5),
            std::make_pair(std::string("title"), std::string("wrong_type")));
  EXPECT_EQ(RefusalWith("venues", "minhe").first, "venues");
  EXPECT_EQ(RefusalWith("venues", json::array({"hall-1", 7})),
            std::make_pair(std::string("venues[1]"), std::string("wrong_type")));
  EXPECT_EQ(RefusalWith("setup_minutes", "15").second, "wrong_type");
  EXPECT_EQ(RefusalWith("setup_minutes", 15.5).second, "wrong_type");
  EXPECT_EQ(RefusalWith("preempt", "yes").first, "preempt");
  EXPECT_EQ(RefusalWith("start", 1898816400).first, "start");
  EXPECT_EQ(RefusalWith("recurrence", "weekly").first, "recurrence");
  EXPECT_EQ(RefusalWith("cascade", true),
            std::make_pair(std::string("cascade"), std::string("bad_value")));
  EXPECT_EQ(RefusalWith("priority", "national").second, "bad_value");
}

TEST(BookingJson, UnreadableTimesAndOutOfRangeNumbersAreNamed) {
  EXPECT_EQ(RefusalWith("end", "2030-03-04 11:00"),
            std::make_pair(std::string("end"), std::string("bad_time")));
  EXPECT_EQ(RefusalWith("start", "2030-03-04T09:00:00"),  // no offset
            std::make_pair(std::string("start"), std::string("bad_time")));
  EXPECT_EQ(RefusalWith("setup_minutes", -1).second, "out_of_range");
  EXPECT_EQ(RefusalWith("setup_minutes", 100000).second, "out_of_range");
  EXPECT_EQ(RefusalWith("setup_minutes", json(18446744073709551615ull)).second, "out_of_range");
  json j = Valid();
  j["recurrence"] = {{"frequency", "weekly"}, {"count", 3}, {"cancelled", {"soon"}}};
  EXPECT_EQ(Refused(j.dump()),
            std::make_pair(std::string("recurrence.cancelled[0]"), std::string("bad_time")));
  j["recurrence"] = {{"frequency", "weekly"}, {"interval", 0}, {"count", 3}};
  EXPECT_EQ(Refused(j.dump()).first, "recurrence.interval");
  j["recurrence"] = {{"count", 3}};
  EXPECT_EQ(Refused(j.dump()),
            std::make_pair(std::string("recurrence.frequency"), std::string("missing")));
}

TEST(BookingJson, OversizedListsAndTextsAreRefused) {
  EXPECT_EQ(RefusalWith("title", std::string(501, 'x')).second, "too_long");
  EXPECT_EQ(RefusalWith("venues", json(std::vector<std::string>(1001, "minhe"))).second,
            "too_long");
}

TEST(BookingJson, RequestViewReadsBackToTheSameRequest) {
  json j = Valid();
  j["recurrence"] = {{"frequency", "daily"},
                     {"until", "2030-03-10T09:00:00+08:00"},
                     {"cancelled", {"2030-03-05T09:00:00+08:00"}}};
  j["cascade"] = "off";
  auto a = BookingRequestFromJson(j, {});
  ASSERT_TRUE(a.ok());
  for (int offset : {480, 0, -300}) {
    auto b = BookingRequestFromJson(BookingRequestToJson(*a, offset), {});
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(BookingRequestToJson(*b, 480), BookingRequestToJson(*a, 480));
  }
}

TEST(BookingPatch, MergesOverTheCurrentRequest) {
  auto current = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(current.ok());
  auto p = ApplyBookingPatch(*current, R"({"title":"改期","end":"2030-03-04T12:00:00+08:00"})", {});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->title, "改期");
  EXPECT_EQ(p->end - p->start, 3 * kHour);
  EXPECT_EQ(p->venues, current->venues);
}

TEST(BookingPatch, NullRemovesAnOptionalFieldAndRequiredOnesStayRequired) {
  json j = Valid();
  j["recurrence"] = {{"frequency", "weekly"}, {"count", 3}};
  auto current = BookingRequestFromJson(j, {});
  ASSERT_TRUE(current.ok());
  auto p = ApplyBookingPatch(*current, R"({"recurrence":null})", {});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->recurrence.has_value());
  auto q = ApplyBookingPatch(*current, R"({"recurrence":{"count":5}})", {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->recurrence->count, 5);
  auto missing = ApplyBookingPatch(*current, R"({"title":null})", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().fields.front().field, "title");
}

TEST(BookingPatch, ReadOnlyAndUnknownFieldsAreRefused) {
  auto current = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(current.ok());
  for (const char* key : {"id", "state", "plan", "conference_number"}) {
    auto p = ApplyBookingPatch(*current, "{\"" + std::string(key) + "\":1}", {});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().fields.front().field, key);
    EXPECT_EQ(p.error().code, "read_only");
  }
  EXPECT_EQ(ApplyBookingPatch(*current, R"({"colour":"red"})", {}).error().code, "unknown_field");
  EXPECT_EQ(ApplyBookingPatch(*current, "[]", {}).error().fields.front().field, "body");
}

TEST(BookingPatch, MovingToAnotherRegionTakesItsDefaultPriority) {
  auto current = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->priority, Priority::kProvincial);
  auto p = ApplyBookingPatch(*current, R"({"region":"haidong"})", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->priority, Priority::kRegional);
  // Preempting is an action of one request: an edit does not inherit it.
  current->preempt = true;
  EXPECT_FALSE(ApplyBookingPatch(*current, R"({"title":"x"})", {})->preempt);
}

// Issue 9.2: a 120 KB body nested 60,000 levels deep overflowed the stack in the merge (and took
// every conference in the process with it). It is refused before parsing.
TEST(BookingPatch, DeeplyNestedBodyIsRefusedBeforeTheMerge) {
  auto current = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(current.ok());
  const size_t levels = 60'000;
  for (const std::string& body :
       {"{\"title\":" + std::string(levels, '[') + std::string(levels, ']') + "}", [&] {
          std::string b = "{\"recurrence\":";
          for (size_t i = 0; i < levels; ++i) b += "{\"a\":";
          b += "1" + std::string(levels + 1, '}');
          return b;
        }()}) {
    auto p = ApplyBookingPatch(*current, body, {});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().fields.front().field, "body");
    EXPECT_EQ(p.error().code, "too_deep");
    auto c = ParseBookingRequest(body, {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "too_deep");
  }
  // The deepest valid body (body > recurrence > cancelled) still goes through.
  auto ok = ApplyBookingPatch(
      *current, R"({"recurrence":{"frequency":"daily","count":3,"cancelled":[]}})", {});
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

// Issue 9.10: nlohmann's lexer stops at a NUL, so `{...}\0garbage` used to be accepted.
TEST(BookingJson, BytesAfterTheBodyAreRefused) {
  auto current = BookingRequestFromJson(Valid(), {});
  ASSERT_TRUE(current.ok());
  std::string body = Valid().dump();
  body += '\0';
  body += "garbage";
  auto c = ParseBookingRequest(body, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().fields.front().field, "body");
  EXPECT_EQ(c.error().code, "malformed_json");
  EXPECT_NE(c.error().message.find("NUL byte at offset"), std::string::npos) << c.error().message;
  std::string patch = R"({"title":"x"})";
  patch += '\0';
  patch += "}";
  EXPECT_EQ(ApplyBookingPatch(*current, patch, {}).error().code, "malformed_json");
  EXPECT_EQ(ParseBookingRequest(Valid().dump() + " x", {}).error().code, "malformed_json");
}

TEST(ErrorJson, InvalidNamesTheFieldAndRefusalCarriesViolationsAndAlternatives) {
  json bad = ErrorToJson(ServiceError::Field("venues[3]", "unknown_venue", "no venue \"x\""), 480);
  EXPECT_EQ(bad["error"]["code"], "unknown_venue");
  EXPECT_EQ(bad["error"]["field"], "venues[3]");
  EXPECT_EQ(bad["error"]["message"], "no venue \"x\"");

  Refusal refusal;
  Violation link;
  link.code = "link_capacity";
  link.message = "link hub-haidong up needs 8442 kbit/s";
  link.link = "hub-haidong";
  link.direction = "up";
  link.at = *ParseRfc3339("2030-03-04T08:45:00+08:00");
  link.needed = 8442;
  link.available = 6400;
  Violation busy;
  busy.code = "venue_busy";
  busy.venue = "minhe";
  busy.other_booking = 4;
  refusal.violations = {link, busy};
  Alternative later;
  later.kind = "start";
  later.start = *ParseRfc3339("2030-03-04T13:00:00+08:00");
  Alternative cascade;
  cascade.kind = "cascade";
  refusal.alternatives = {later, cascade};
  json j = ErrorToJson(ServiceError::Refused(refusal), 480, 2 * kHour)["error"];
  EXPECT_EQ(j["code"], "link_capacity");
  ASSERT_EQ(j["violations"].size(), 2u);
  EXPECT_EQ(j["violations"][0]["link"], "hub-haidong");
  EXPECT_EQ(j["violations"][0]["direction"], "up");
  EXPECT_EQ(j["violations"][0]["needed_kbps"], 8442);
  EXPECT_EQ(j["violations"][0]["available_kbps"], 6400);
  EXPECT_EQ(j["violations"][0]["at"], "2030-03-04T08:45:00+08:00");
  EXPECT_EQ(j["violations"][1]["venue"], "minhe");
  EXPECT_EQ(j["violations"][1]["other_booking"], 4);
  EXPECT_EQ(j["alternatives"][0]["start"], "2030-03-04T13:00:00+08:00");
  EXPECT_EQ(j["alternatives"][0]["end"], "2030-03-04T15:00:00+08:00");
  EXPECT_EQ(j["alternatives"][1]["cascade"], "auto");
  EXPECT_NE(j["message"].get<std::string>().find("and 1 more"), std::string::npos);
}

}  // namespace
}  // namespace plateau::scheduler::app
