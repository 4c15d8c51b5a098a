// Slack(d): a test's wait deadline, stretched under a sanitizer.
//
// A deadline in a test bounds how long to wait for something that must happen (never how fast
// it must happen: speed belongs in bench/). Under ThreadSanitizer or ASan our code runs several
// times slower, so scripts/sanitize.sh sets PLATEAU_TEST_SLACK (a whole factor, 1 when unset) and
// the waits that a sanitizer's slowdown has been seen to outrun read their deadline through here.
#pragma once

#include <chrono>
#include <cstdlib>

namespace plateau::testing {

inline int SlackFactor() {
  static const int factor = [] {
    const char* v = std::getenv("PLATEAU_TEST_SLACK");
    const int f = v ? std::atoi(v) : 1;
    return f >= 1 && f <= 20 ? f : 1;
  }();
  return factor;
}

template <typename Rep, typename Period>
std::chrono::duration<Rep, Period> Slack(std::chrono::duration<Rep, Period> d) {
  return d * SlackFactor();
}

}  // namespace plateau::testing
