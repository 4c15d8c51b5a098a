// SerialExecutor: one thread of its own that runs posted calls one at a time, in the order they
// were posted. The Switchboard hands every MediaNegotiator call to one (the "media executor"), so
// building a conference's GStreamer pipelines (which can take seconds) never runs on a listener
// thread, whatever the listener's thread count.
//
// Stop() drops what has not started, waits for the running call and joins the thread. The thread's
// state is shared with it, so the executor may be destroyed from inside one of its own calls (the
// last owner let go there): the thread is then detached and ends after that call returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace plateau::signaling {

class SerialExecutor {
 public:
  // Starts the thread; `name` names it for debuggers and `top` (at most 15 characters).
  explicit SerialExecutor(std::string name);
  ~SerialExecutor();  // Stop()
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues a call; returns false (and drops it) once stopped. Thread-safe; never blocks on a call.
  bool Post(std::function<void()> call);
  // Blocks until every call posted before it has run. From inside a call it returns at once (it
  // would wait for itself).
  void Drain();
  // Drops the calls that have not started, waits for the running one (unless called from it) and
  // ends the thread. Idempotent.
  void Stop();

  // True on the executor's own thread.
  bool OnExecutorThread() const;
  std::thread::id thread_id() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace plateau::signaling
