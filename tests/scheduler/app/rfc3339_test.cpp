// RFC 3339 times with offsets, and durations: the API's time vocabulary.
#include "plateau/scheduler/app/rfc3339.hpp"

#include <gtest/gtest.h>

namespace plateau::scheduler::app {
namespace {

constexpr Instant kMarch3Nine = 1740963600;  // 2025-03-03T09:00:00+08:00

Instant Parse(std::string_view s) {
  auto r = ParseRfc3339(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : -1;
}

TEST(Rfc3339, ReadsShanghaiOffsetZuluAndOtherOffsetsAsTheSameInstant) {
  EXPECT_EQ(Parse("2025-03-03T09:00:00+08:00"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03T01:00:00Z"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03T01:00:00z"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03t01:00:00+00:00"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-02T20:00:00-05:00"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03T06:45:00+05:45"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03 09:00:00+08:00"), kMarch3Nine);
}

TEST(Rfc3339, TruncatesFractionsAndReadsALeapSecondAsTheNextSecond) {
  EXPECT_EQ(Parse("2025-03-03T01:00:00.999Z"), kMarch3Nine);
  EXPECT_EQ(Parse("2025-03-03T01:00:00.000000001+00:00"), kMarch3Nine);
  EXPECT_EQ(Parse("2016-12-31T23:59:60Z"), Parse("2017-01-01T00:00:00Z"));
}

TEST(Rfc3339, KnowsLeapYears) {
  EXPECT_EQ(Parse("2024-02-29T23:59:59Z"), 1709251199);
  EXPECT_EQ(Parse("2000-02-29T00:00:00Z"), 951782400);
  EXPECT_FALSE(ParseRfc3339("2025-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("1900-02-29T00:00:00Z").ok());
}

TEST(Rfc3339, ReadsOnly1970ToYear9999) {
  EXPECT_EQ(Parse("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Parse("1970-01-01T08:00:00+08:00"), 0);
  EXPECT_EQ(Parse("9999-12-30T00:00:00Z"), kLatestRfc3339);
  EXPECT_FALSE(ParseRfc3339("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseRfc3339("1970-01-01T07:59:59+08:00").ok());
  EXPECT_FALSE(ParseRfc3339("0000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-23:59").ok());
  // Every readable instant is written back with four digits, at any offset.
  EXPECT_EQ(FormatRfc3339(kLatestRfc3339, 23 * 60 + 59).substr(0, 5), "9999-");
  EXPECT_EQ(FormatRfc3339(kEarliestRfc3339, -(23 * 60 + 59)).substr(0, 5), "1969-");
}

TEST(Rfc3339, RefusesWhatIsNotAnRfc3339DateTimeWithOffset) {
  for (const char* bad : {"",
                          "2025-03-03",
                          "2025-03-03T09:00:00",
                          "2025-03-03T09:00+08:00",
                          "2025-3-3T09:00:00Z",
                          "2025-13-01T00:00:00Z",
                          "2025-00-01T00:00:00Z",
                          "2025-04-31T00:00:00Z",
                          "2025-03-03T24:00:00Z",
                          "2025-03-03T09:60:00Z",
                          "2025-03-03T09:00:61Z",
                          "2025-03-03T09:00:00+24:00",
                          "2025-03-03T09:00:00+08:60",
                          "2025-03-03T09:00:00+0800",
                          "2025-03-03T09:00:00+08",
                          "2025-03-03T09:00:00.Z",
                          "2025-03-03T09:00:00Zjunk",
                          "2025-03-03X09:00:00Z",
                          "２０２５-03-03T09:00:00Z",
                          "2025-03-03T09:00:00.1234567890Z",
                          "+2025-03-03T09:00:00Z",
                          "2025-03-03T09:00:00 +08:00"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "bad_time") << bad;
    }
  }
}

TEST(Rfc3339, WritesWithTheConfiguredOffsetAndZForUtc) {
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 480), "2025-03-03T09:00:00+08:00");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 0), "2025-03-03T01:00:00Z");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, -300), "2025-03-02T20:00:00-05:00");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 345), "2025-03-03T06:45:00+05:45");
  EXPECT_EQ(FormatRfc3339(-1, 0), "1969-12-31T23:59:59Z");
}

TEST(Rfc3339, WritingThenReadingGivesTheSameInstant) {
  for (int offset : {480, 0, -300, 345, -720, 840})
    for (Instant t = kDay; t < 200 * 365 * kDay; t += 7919 * kMinute + 13)
      ASSERT_EQ(Parse(FormatRfc3339(t, offset)), t) << t << " at " << offset;
}

TEST(Rfc3339, CivilTimeAtAnOffset) {
  const CivilTime c = ToCivil(kMarch3Nine, 480);
  EXPECT_EQ(c.year, 2025);
  EXPECT_EQ(c.month, 3);
  EXPECT_EQ(c.day, 3);
  EXPECT_EQ(c.hour, 9);
  EXPECT_EQ(FromCivil(c, 480), kMarch3Nine);
  // Midnight in Xining is still the previous day in UTC.
  EXPECT_EQ(ToCivil(Parse("2025-03-03T00:30:00+08:00"), 0).day, 2);
}

TEST(Duration, MinutesOrIso8601) {
  EXPECT_EQ(*ParseDuration("90"), 90 * kMinute);
  EXPECT_EQ(*ParseDuration("PT1H30M"), 90 * kMinute);
  EXPECT_EQ(*ParseDuration("PT2H"), 2 * kHour);
  EXPECT_EQ(*ParseDuration("PT45S"), 45);
  EXPECT_EQ(*ParseDuration("P1DT2H"), kDay + 2 * kHour);
  EXPECT_EQ(*ParseDuration("P1W"), 7 * kDay);
  for (const char* bad : {"", "0", "PT0M", "P", "PT", "P1DT", "PT1H1H", "1.5", "PT1.5H", "-30",
                          "90m", "P1M", "PT1D", "P32D", "99999999", "PT9999999999H"})
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
}

}  // namespace
}  // namespace plateau::scheduler::app
