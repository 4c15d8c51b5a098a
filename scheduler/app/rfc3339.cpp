#include "plateau/scheduler/app/rfc3339.hpp"

#include <cstdio>

namespace plateau::scheduler::app {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` ASCII digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Error BadTime(std::string_view text, const char* why) {
  std::string shown(text.substr(0, 64));
  return Error{"bad_time", "\"" + shown + "\" is not an RFC 3339 date-time with offset (" + why +
                               "), e.g. 2025-03-03T09:00:00+08:00"};
}

}  // namespace

CivilTime ToCivil(Instant t, int utc_offset_minutes) {
  const int64_t local = t + int64_t{utc_offset_minutes} * 60;
  const int64_t days = FloorDiv(local, kDay);
  const int64_t secs = local - days * kDay;
  CivilTime c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

Instant FromCivil(const CivilTime& c, int utc_offset_minutes) {
  return DaysFromCivil(c.year, c.month, c.day) * kDay + c.hour * 3600 + c.minute * 60 + c.second -
         int64_t{utc_offset_minutes} * 60;
}

Result<Instant> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS
  int64_t y, mo, d, h, mi, se;
  if (s.size() < 20) return BadTime(s, "too short");
  if (!Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d))
    return BadTime(s, "date must be YYYY-MM-DD");
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return BadTime(s, "missing 'T'");
  if (!Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se))
    return BadTime(s, "time must be HH:MM:SS");
  if (mo < 1 || mo > 12) return BadTime(s, "month out of range");
  if (d < 1 || d > DaysInMonth(y, static_cast<int>(mo))) return BadTime(s, "day out of range");
  if (h > 23 || mi > 59 || se > 60) return BadTime(s, "time out of range");
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t begin = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == begin || pos - begin > 9) return BadTime(s, "bad fraction of a second");
  }
  if (pos >= s.size()) return BadTime(s, "missing offset (Z or +HH:MM)");
  int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om))
      return BadTime(s, "offset must be +HH:MM");
    if (oh > 23 || om > 59) return BadTime(s, "offset out of range");
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return BadTime(s, "missing offset (Z or +HH:MM)");
  }
  if (pos != s.size()) return BadTime(s, "trailing characters");
  const Instant t = DaysFromCivil(y, static_cast<int>(mo), static_cast<int>(d)) * kDay + h * 3600 +
                    mi * 60 + se - offset_minutes * 60;
  if (t < kEarliestRfc3339 || t > kLatestRfc3339) return BadTime(s, "outside 1970..9999");
  return t;
}

std::string FormatRfc3339(Instant t, int utc_offset_minutes) {
  const CivilTime c = ToCivil(t, utc_offset_minutes);
  char buf[64];
  if (utc_offset_minutes == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
  } else {
    const int a = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                  utc_offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
  }
  return buf;
}

Result<int64_t> ParseDuration(std::string_view s) {
  const Error bad{"bad_duration",
                  "\"" + std::string(s.substr(0, 64)) +
                      "\" is not a duration: give minutes (\"90\") or ISO 8601 (\"PT1H30M\")"};
  constexpr int64_t kMax = 31 * kDay;
  int64_t total = 0;
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    if (s.size() > 6) return bad;
    int64_t v;
    if (!Digits(s, 0, s.size(), &v)) return bad;
    total = v * 60;
  } else {
    if (s.size() < 3 || s.size() > 32 || s[0] != 'P') return bad;
    bool in_time = false, any = false;
    char last_unit = 0;
    size_t i = 1;
    while (i < s.size()) {
      if (s[i] == 'T') {
        if (in_time) return bad;
        in_time = true;
        ++i;
        continue;
      }
      const size_t begin = i;
      int64_t v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - begin < 7)
        v = v * 10 + (s[i++] - '0');
      if (i == begin || i >= s.size()) return bad;
      const char unit = s[i++];
      int64_t scale = 0;
      if (!in_time && unit == 'D')
        scale = kDay;
      else if (!in_time && unit == 'W')
        scale = 7 * kDay;
      else if (in_time && unit == 'H')
        scale = kHour;
      else if (in_time && unit == 'M')
        scale = kMinute;
      else if (in_time && unit == 'S')
        scale = 1;
      else
        return bad;
      if (unit == last_unit) return bad;
      last_unit = unit;
      total += v * scale;
      any = true;
    }
    if (!any || s.back() == 'T') return bad;
  }
  if (total <= 0 || total > kMax)
    return Error{"bad_duration", "a duration must be above zero and at most 31 days"};
  return total;
}

}  // namespace plateau::scheduler::app
