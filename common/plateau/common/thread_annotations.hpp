// Clang thread-safety annotations and the mutex types they apply to.
//
// Under clang (-Wthread-safety, on in every clang build: tsan, asan, fuzz) the compiler checks
// that state marked PLATEAU_GUARDED_BY(mu) is only touched with mu held and that functions marked
// PLATEAU_REQUIRES(mu) are only called with it held. Under gcc the macros are empty and the types
// are plain std::mutex wrappers, so the release build pays nothing.
//
// libstdc++'s std::mutex carries no capability attribute, hence the thin wrappers below; they are
// what the engine, the Switchboard, the WebRTC session, the SerialExecutor, the VenueTransport, the
// video mixer and ConferenceMedia lock with. docs/architecture.md
// ("Threads and ownership") lists every lock and the order they are taken in.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define PLATEAU_TSA(x) __attribute__((x))
#else
#define PLATEAU_TSA(x)
#endif

#define PLATEAU_CAPABILITY(name) PLATEAU_TSA(capability(name))
#define PLATEAU_SCOPED_CAPABILITY PLATEAU_TSA(scoped_lockable)
#define PLATEAU_GUARDED_BY(mu) PLATEAU_TSA(guarded_by(mu))
#define PLATEAU_PT_GUARDED_BY(mu) PLATEAU_TSA(pt_guarded_by(mu))
#define PLATEAU_ACQUIRED_BEFORE(...) PLATEAU_TSA(acquired_before(__VA_ARGS__))
#define PLATEAU_ACQUIRED_AFTER(...) PLATEAU_TSA(acquired_after(__VA_ARGS__))
#define PLATEAU_REQUIRES(...) PLATEAU_TSA(requires_capability(__VA_ARGS__))
#define PLATEAU_ACQUIRE(...) PLATEAU_TSA(acquire_capability(__VA_ARGS__))
#define PLATEAU_RELEASE(...) PLATEAU_TSA(release_capability(__VA_ARGS__))
#define PLATEAU_TRY_ACQUIRE(...) PLATEAU_TSA(try_acquire_capability(__VA_ARGS__))
#define PLATEAU_EXCLUDES(...) PLATEAU_TSA(locks_excluded(__VA_ARGS__))
#define PLATEAU_ASSERT_CAPABILITY(x) PLATEAU_TSA(assert_capability(x))
#define PLATEAU_RETURN_CAPABILITY(x) PLATEAU_TSA(lock_returned(x))
#define PLATEAU_NO_THREAD_SAFETY_ANALYSIS PLATEAU_TSA(no_thread_safety_analysis)

namespace plateau {

// A std::mutex the analysis knows about.
class PLATEAU_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() PLATEAU_ACQUIRE() { mu_.lock(); }
  void unlock() PLATEAU_RELEASE() { mu_.unlock(); }
  bool try_lock() PLATEAU_TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // For std::condition_variable: the caller holds *this (asserted to the analysis).
  std::mutex& native() PLATEAU_RETURN_CAPABILITY(this) { return mu_; }

 private:
  std::mutex mu_;
};

// A recursive mutex the analysis knows about (re-entry is the caller's promise, not checked).
class PLATEAU_CAPABILITY("mutex") RecursiveMutex {
 public:
  RecursiveMutex() = default;
  RecursiveMutex(const RecursiveMutex&) = delete;
  RecursiveMutex& operator=(const RecursiveMutex&) = delete;

  void lock() PLATEAU_ACQUIRE() { mu_.lock(); }
  void unlock() PLATEAU_RELEASE() { mu_.unlock(); }

 private:
  std::recursive_mutex mu_;
};

// Scoped lock of a Mutex or RecursiveMutex (std::lock_guard with annotations).
template <typename M>
class PLATEAU_SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(M& mu) PLATEAU_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~LockGuard() PLATEAU_RELEASE() { mu_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  M& mu_;
};
using MutexLock = LockGuard<Mutex>;

// A scoped lock that can wait on a std::condition_variable and be released early.
class PLATEAU_SCOPED_CAPABILITY UniqueLock {
 public:
  explicit UniqueLock(Mutex& mu) PLATEAU_ACQUIRE(mu) : lock_(mu.native()) {}
  ~UniqueLock() PLATEAU_RELEASE() = default;
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  void unlock() PLATEAU_RELEASE() { lock_.unlock(); }
  void lock() PLATEAU_ACQUIRE() { lock_.lock(); }

  // The mutex is released while waiting and held again on return, as the analysis assumes.
  // Prefer the plain Wait in a `while (!condition) lock.Wait(cv);` loop: the analysis checks a
  // predicate lambda as a function of its own, which holds no lock, so guarded state read there
  // is flagged (or the lambda must be left unchecked); the loop reads it here, under the lock.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <typename Predicate>
  void Wait(std::condition_variable& cv, Predicate pred) {
    cv.wait(lock_, std::move(pred));
  }
  template <typename Duration, typename Predicate>
  bool WaitFor(std::condition_variable& cv, Duration d, Predicate pred) {
    return cv.wait_for(lock_, d, std::move(pred));
  }
  template <typename TimePoint, typename Predicate>
  bool WaitUntil(std::condition_variable& cv, TimePoint t, Predicate pred) {
    return cv.wait_until(lock_, t, std::move(pred));
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace plateau
