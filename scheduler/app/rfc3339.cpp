#include "plateau/scheduler/app/rfc3339.hpp"

#include <charconv>

namespace plateau::scheduler::app {

Result<int64_t> ParseDuration(std::string_view s) {
  const Error bad{"bad_duration",
                  "\"" + std::string(s.substr(0, 64)) +
                      "\" is not a duration: give minutes (\"90\") or ISO 8601 (\"PT1H30M\")"};
  constexpr int64_t kMax = 31 * kDay;
  int64_t total = 0;
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    if (s.size() > 6) return bad;
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return bad;
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
