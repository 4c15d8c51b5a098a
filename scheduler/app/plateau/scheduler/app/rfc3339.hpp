// RFC 3339 date-times with offsets, the API's only time format. Instants are UTC Unix seconds;
// an offset is only how a time is written (Asia/Shanghai is +08:00 all year, no DST).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/common/result.hpp"
#include "plateau/scheduler/booking.hpp"

namespace plateau::scheduler::app {

// A wall-clock reading at some UTC offset.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

CivilTime ToCivil(Instant t, int utc_offset_minutes);
Instant FromCivil(const CivilTime& c, int utc_offset_minutes);

// Instants the API reads: 1970-01-01T00:00:00Z .. 9999-12-30T00:00:00Z, so that every one of them
// is written back with a four-digit year at any offset.
constexpr Instant kEarliestRfc3339 = 0;
constexpr Instant kLatestRfc3339 = 253402128000;

// "2025-03-03T09:00:00+08:00", "2025-03-03T01:00:00Z", "...t...z", fractions ("09:00:00.250Z",
// truncated to the second), a leap second (":60", read as the next second). Code "bad_time".
Result<Instant> ParseRfc3339(std::string_view text);

// "2025-03-03T09:00:00+08:00"; offset 0 is written "Z".
std::string FormatRfc3339(Instant t, int utc_offset_minutes);

// A duration in seconds: a whole number of minutes ("90") or ISO 8601 ("PT1H30M", "P1DT2H",
// "PT45S"). Positive, at most 31 days. Code "bad_duration".
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace plateau::scheduler::app
