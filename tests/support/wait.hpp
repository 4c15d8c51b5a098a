// WaitUntil: poll a condition until it holds or a deadline passes. The one polling wait of the
// tests (they never sleep a fixed time and then assert). The deadline bounds how long to wait for
// something that must happen, never how fast: it is stretched by Slack (support/slack.hpp) under
// a sanitizer.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "support/slack.hpp"

namespace plateau::testing {

// Polls `done` every 5 ms until it holds (true) or `timeout`, times the slack factor, has passed
// (false).
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::steady_clock::duration timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + Slack(timeout);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The same with a deadline: the time left from now is what the slack factor stretches.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::steady_clock::time_point deadline) {
  return WaitUntil(done, deadline - std::chrono::steady_clock::now());
}

}  // namespace plateau::testing
