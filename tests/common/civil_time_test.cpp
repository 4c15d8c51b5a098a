// common/'s calendar: the one days-from-civil and RFC 3339 the logger, the signaling protocol and
// the scheduler's API share. The C library's gmtime_r/strftime (what the logger and the protocol
// used before) is the independent oracle for UTC output.
#include "plateau/common/civil_time.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace plateau::civil {
namespace {

std::string Strftime(int64_t t, const char* format) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

TEST(CivilTime, CountsDaysFromTheEpochAcrossCenturiesAndBeforeYearZero) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(0, 3, 1), -719468);
  // Walk every day from year -401 to 2401 with a plain calendar (month lengths only) as the
  // oracle: both directions agree at every step, including 29 Feb of each leap year.
  int64_t year = -401;
  int month = 1, day = 1;
  for (int64_t n = DaysFromCivil(-401, 1, 1); year < 2401; ++n) {
    ASSERT_EQ(DaysFromCivil(year, month, day), n) << year << "-" << month << "-" << day;
    const Date back = CivilFromDays(n);
    ASSERT_EQ(back.year, year);
    ASSERT_EQ(back.month, month);
    ASSERT_EQ(back.day, day);
    if (++day > DaysInMonth(year, month)) {
      day = 1;
      if (++month > 12) month = 1, ++year;
    }
  }
}

TEST(CivilTime, KnowsWhichYearsAreLeap) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(1600));
  EXPECT_TRUE(IsLeapYear(0));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_FALSE(IsLeapYear(2025));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2025, 12), 31);
  EXPECT_EQ(DaysFromCivil(2024, 3, 1) - DaysFromCivil(2024, 2, 28), 2);
  EXPECT_EQ(DaysFromCivil(2100, 3, 1) - DaysFromCivil(2100, 2, 28), 1);
}

TEST(CivilTime, UtcTextIsByteForByteWhatGmtimeAndStrftimeWrote) {
  // Every ~7 hours over 1970..2200, plus the edges the old formatters met.
  for (int64_t t = 0; t < 7258118400; t += 25013) {
    ASSERT_EQ(FormatRfc3339(t), Strftime(t, "%Y-%m-%dT%H:%M:%SZ")) << t;
  }
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1709251199}, int64_t{2147483647},
                    int64_t{2147483648}, int64_t{4102444799}, kLatestRfc3339}) {
    EXPECT_EQ(FormatRfc3339(t), Strftime(t, "%Y-%m-%dT%H:%M:%SZ")) << t;
    EXPECT_EQ(FormatRfc3339Millis(t * 1000 + 7), Strftime(t, "%Y-%m-%dT%H:%M:%S") + ".007Z") << t;
  }
}

TEST(CivilTime, WritesMillisecondsForTheLogger) {
  EXPECT_EQ(FormatRfc3339Millis(1740963600250), "2025-03-03T01:00:00.250Z");
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
}

TEST(CivilTime, WritesPositiveAndNegativeOffsetsAndReadsThemBack) {
  constexpr int64_t kMarch3Nine = 1740963600;  // 2025-03-03T09:00:00+08:00
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 8 * 60), "2025-03-03T09:00:00+08:00");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 0), "2025-03-03T01:00:00Z");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, -5 * 60), "2025-03-02T20:00:00-05:00");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, -30), "2025-03-03T00:30:00-00:30");
  EXPECT_EQ(FormatRfc3339(kMarch3Nine, 5 * 60 + 45), "2025-03-03T06:45:00+05:45");
  // A negative offset can move the date back across a month, a year and a leap day.
  EXPECT_EQ(FormatRfc3339(0, -(23 * 60 + 59)), "1969-12-31T00:01:00-23:59");
  EXPECT_EQ(FormatRfc3339(951782400 + 3600, -2 * 60), "2000-02-28T23:00:00-02:00");
  for (int offset : {-(23 * 60 + 59), -12 * 60, -30, 0, 1, 8 * 60, 23 * 60 + 59}) {
    for (int64_t t : {int64_t{86400}, kMarch3Nine, int64_t{1709251199}, int64_t{4102444799}}) {
      const auto back = ParseRfc3339(FormatRfc3339(t, offset));
      ASSERT_TRUE(back.ok()) << FormatRfc3339(t, offset);
      EXPECT_EQ(*back, t) << FormatRfc3339(t, offset);
      EXPECT_EQ(FromCivil(ToCivil(t, offset), offset), t);
    }
  }
}

TEST(CivilTime, ParseRefusesImpossibleDatesWithTheBadTimeCode) {
  for (const char* bad : {"2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-04-31T00:00:00Z",
                          "2025-03-03T24:00:00Z", "2025-03-03T09:00:00+24:00",
                          "2025-03-03T09:00:00-08:60", "1969-12-31T23:59:59Z"}) {
    const auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_time");
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T23:59:59-12:00").ok());
}

}  // namespace
}  // namespace plateau::civil
