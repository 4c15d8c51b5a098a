#include "plateau/signaling/serial_executor.hpp"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "plateau/common/log.hpp"

namespace plateau::signaling {

struct SerialExecutor::State {
  std::mutex mu;
  std::condition_variable wake;  // a call was posted, or stop
  std::condition_variable idle;  // a call finished
  std::deque<std::function<void()>> queue;
  uint64_t posted = 0;    // calls ever posted
  uint64_t finished = 0;  // calls run (or dropped)
  bool stopping = false;
  std::thread::id id;
};

SerialExecutor::SerialExecutor(std::string name) : state_(std::make_shared<State>()) {
  std::shared_ptr<State> s = state_;
  thread_ = std::thread([s, name] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    std::unique_lock lock(s->mu);
    for (;;) {
      s->wake.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
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
  std::lock_guard lock(state_->mu);
  state_->id = thread_.get_id();
}

SerialExecutor::~SerialExecutor() {
  Stop();
}

bool SerialExecutor::Post(std::function<void()> call) {
  std::lock_guard lock(state_->mu);
  if (state_->stopping) return false;
  state_->queue.push_back(std::move(call));
  ++state_->posted;
  state_->wake.notify_one();
  return true;
}

void SerialExecutor::Drain() {
  if (OnExecutorThread()) return;
  std::unique_lock lock(state_->mu);
  const uint64_t target = state_->posted;
  state_->idle.wait(lock, [&] { return state_->stopping || state_->finished >= target; });
}

void SerialExecutor::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(state_->mu);
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
  std::lock_guard lock(state_->mu);
  return state_->id;
}

}  // namespace plateau::signaling
