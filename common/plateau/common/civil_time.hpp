// Civil (calendar) time and RFC 3339, the one place that turns Unix seconds into dates and back.
// The logger's timestamps, the signaling protocol's UTC times and the scheduler's API times all
// go through here, so that a date written by one is read the same way by another.
// Proleptic Gregorian calendar, UTC Unix seconds, no leap-second table (":60" reads as the next
// second); an offset is only how a time is written (Asia/Shanghai is +08:00 all year, no DST), so
// no time-zone database is involved and nothing here reads a clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/common/result.hpp"

namespace plateau::civil {

constexpr int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms:
// exact for every int64 year the arithmetic does not overflow, negative years included).
int64_t DaysFromCivil(int64_t year, int month, int day);
struct Date {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};
Date CivilFromDays(int64_t days);

bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);  // month 1..12

// A wall-clock reading at some UTC offset.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

CivilTime ToCivil(int64_t unix_seconds, int utc_offset_minutes);
int64_t FromCivil(const CivilTime& c, int utc_offset_minutes);

// Instants ParseRfc3339 reads: 1970-01-01T00:00:00Z .. 9999-12-30T00:00:00Z, so that every one of
// them is written back with a four-digit year at any offset.
constexpr int64_t kEarliestRfc3339 = 0;
constexpr int64_t kLatestRfc3339 = 253402128000;

// "2025-03-03T09:00:00+08:00", "2025-03-03T01:00:00Z", "...t...z", a space for the 'T', fractions
// ("09:00:00.250Z", truncated to the second), a leap second (":60", read as the next second).
// Error code "bad_time", with a message that shows the text and an example.
Result<int64_t> ParseRfc3339(std::string_view text);

// "2025-03-03T09:00:00+08:00"; offset 0 is written "Z" ("2025-03-03T01:00:00Z").
std::string FormatRfc3339(int64_t unix_seconds, int utc_offset_minutes = 0);

// UTC with milliseconds, the logger's "ts": "2025-03-03T01:00:00.250Z".
std::string FormatRfc3339Millis(int64_t unix_milliseconds);

}  // namespace plateau::civil
