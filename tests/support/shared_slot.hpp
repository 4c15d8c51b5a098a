// SharedSlot<T>: a shared_ptr that one thread swaps while others read it (a test terminal's
// transport, replaced on reconnect while its sender thread sends through it).
//
// Not std::atomic<std::shared_ptr<T>>: libstdc++ 12 implements it with a lock bit whose unlock
// after load() is a relaxed store, so a load on one thread and an exchange on another are not
// ordered and ThreadSanitizer reports the pair as a data race (scripts/sanitize.sh tsan). A mutex
// is plainly correct and costs nothing at a test's packet rate.
#pragma once

#include <memory>
#include <mutex>

namespace plateau::testing {

template <typename T>
class SharedSlot {
 public:
  std::shared_ptr<T> load() const {
    std::lock_guard lock(mu_);
    return ptr_;
  }
  // Stores `next` and returns what was there.
  std::shared_ptr<T> exchange(std::shared_ptr<T> next) {
    std::lock_guard lock(mu_);
    ptr_.swap(next);
    return next;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<T> ptr_;
};

}  // namespace plateau::testing
