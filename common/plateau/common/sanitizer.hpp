// Happens-before edges that ThreadSanitizer cannot see on its own.
//
// GLib and GStreamer come from Debian, uninstrumented: their GMutex and GCond are raw futexes and
// their thread pools hand work over through them, so TSan does not know that a field written
// before gst_element_set_state(PLAYING) is visible to the streaming thread that later calls back
// into us, nor that gst_element_set_state(NULL) returns only after those threads are done. Each
// such hand-over is marked here, on the object the callbacks belong to:
//   - HandOver(owner) just before the call that lets GStreamer run callbacks on other threads
//     (state changes, promise-carrying signals);
//   - ForeignCallback scope(owner) for the whole body of each callback (acquire on entry, release
//     on exit, so the next hand-back sees what the callback wrote);
//   - TakeBack(owner) after a call that joins those threads (set_state NULL).
// Two callbacks that truly overlap are still checked against each other: an acquire only orders
// what was released before it. Everything compiles to nothing outside a TSan build.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define PLATEAU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PLATEAU_TSAN 1
#endif
#endif

#ifdef PLATEAU_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace plateau {

inline void HandOver([[maybe_unused]] const void* owner) {
#ifdef PLATEAU_TSAN
  __tsan_release(const_cast<void*>(owner));
#endif
}

inline void TakeBack([[maybe_unused]] const void* owner) {
#ifdef PLATEAU_TSAN
  __tsan_acquire(const_cast<void*>(owner));
#endif
}

class ForeignCallback {
 public:
  explicit ForeignCallback(const void* owner) : owner_(owner) { TakeBack(owner_); }
  ~ForeignCallback() { HandOver(owner_); }
  ForeignCallback(const ForeignCallback&) = delete;
  ForeignCallback& operator=(const ForeignCallback&) = delete;

 private:
  const void* owner_;
};

}  // namespace plateau
