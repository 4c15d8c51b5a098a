#include "plateau/signaling/serial_executor.hpp"

#include <pthread.h>

#include <condition_variable>
#include <deque>

#include "plateau/common/log.hpp"
#include "plateau/common/thread_annotations.hpp"

namespace plateau::signaling {

// Shared by the executor and its thread (which may outlive it: see the header). Everything but the
// condition variables is touched only with mu held; the waits below loop on plain conditions, not
// predicate lambdas, so the analysis sees those reads under the lock too.
struct SerialExecutor::State {
  Mutex mu;
  std::condition_variable wake;  // a call was posted, or stop
  std::condition_variable idle;  // a call finished
  std::deque<std::function<void()>> queue PLATEAU_GUARDED_BY(mu);
  uint64_t posted PLATEAU_GUARDED_BY(mu) = 0;    // calls ever posted
  uint64_t finished PLATEAU_GUARDED_BY(mu) = 0;  // calls run (or dropped)
  bool stopping PLATEAU_GUARDED_BY(mu) = false;
  std::thread::id id PLATEAU_GUARDED_BY(mu);  // set once the thread exists, read by any thread
};

SerialExecutor::SerialExecutor(std::string name) : state_(std::make_shared<State>()) {
  std::shared_ptr<State> s = state_;
  thread_ = std::thread([s, name] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    UniqueLock lock(s->mu);
    for (;;) {
      while (!s->stopping && s->queue.empty()) lock.Wait(s->wake);
      if (s->stopping) return;
      std::function<void()> call = std::move(s->queue.front());
      s->queue.pop_front();
      lock.unlock();
      try {
        call();
      } catch (const std::exception& e) {
        log::Error("signaling.executor_call_failed", {{"what", e.what()}});
      }
      call = nullptr;  // its captures go before the next call, outside the lock
      lock.lock();
      ++s->finished;
      s->idle.notify_all();
    }
  });
  MutexLock lock(state_->mu);
  state_->id = thread_.get_id();
}

SerialExecutor::~SerialExecutor() {
  Stop();
}

bool SerialExecutor::Post(std::function<void()> call) {
  MutexLock lock(state_->mu);
  if (state_->stopping) return false;
  state_->queue.push_back(std::move(call));
  ++state_->posted;
  state_->wake.notify_one();
  return true;
}

void SerialExecutor::Drain() {
  if (OnExecutorThread()) return;
  UniqueLock lock(state_->mu);
  const uint64_t target = state_->posted;
  while (!state_->stopping && state_->finished < target) lock.Wait(state_->idle);
}

void SerialExecutor::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    MutexLock lock(state_->mu);
    state_->stopping = true;
    dropped.swap(state_->queue);
    state_->finished += dropped.size();
    state_->wake.notify_all();
    state_->idle.notify_all();
  }
  dropped.clear();  // outside the lock: captures may let go of anything
  if (!thread_.joinable()) return;
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();  // destroyed from inside its own call: ends when that call returns
  } else {
    thread_.join();
  }
}

bool SerialExecutor::OnExecutorThread() const {
  return std::this_thread::get_id() == thread_id();
}

std::thread::id SerialExecutor::thread_id() const {
  MutexLock lock(state_->mu);
  return state_->id;
}

}  // namespace plateau::signaling
