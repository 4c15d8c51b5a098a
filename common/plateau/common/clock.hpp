#pragma once
// One clock type for the whole process, injected where time matters (grace periods, heartbeats,
// booking windows, jitter buffers, pacing), so logic is tested without sleeping and without two
// unrelated "SystemClock"s. Two readings, because they answer different questions:
//   - Monotonic(): intervals and deadlines; never jumps when NTP steps the wall clock.
//   - UnixMs():    what time it is (bookings, logs, RTCP NTP timestamps).
// Implementations are thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace plateau {

class Clock {
 public:
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual MonoTime Monotonic() const = 0;
  // Unix time in milliseconds.
  virtual int64_t UnixMs() const = 0;
  // Unix time in whole seconds, rounded toward minus infinity.
  int64_t UnixSeconds() const {
    const int64_t ms = UnixMs();
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  }
};

// The machine's clocks. Stateless: share the one instance.
class SystemClock final : public Clock {
 public:
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
  int64_t UnixMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& Instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told (tests, replay). Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_ms = 0) : unix_ms_(unix_ms) {}
  MonoTime Monotonic() const override {
    return MonoTime{} + std::chrono::milliseconds(mono_ms_.load());
  }
  int64_t UnixMs() const override { return unix_ms_.load(); }
  // Sets the wall reading; the monotonic reading does not go back.
  void SetMs(int64_t unix_ms) {
    const int64_t delta = unix_ms - unix_ms_.exchange(unix_ms);
    if (delta > 0) mono_ms_.fetch_add(delta);
  }
  void AdvanceMs(int64_t ms) {
    unix_ms_.fetch_add(ms);
    mono_ms_.fetch_add(ms);
  }

 private:
  std::atomic<int64_t> unix_ms_;
  std::atomic<int64_t> mono_ms_{0};
};

}  // namespace plateau
