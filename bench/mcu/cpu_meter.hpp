// CPU accounting for the benchmarks: the whole process (getrusage), single threads (their POSIX
// CPU-time clocks), and a per-thread snapshot of /proc/self/task for profiles (which threads of the
// engine cost most). Linux only.
#pragma once

#include <pthread.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace plateau::bench {

// User + system CPU seconds of the whole process so far.
double ProcessCpuSeconds();

// The machine's 1-minute load average (/proc/loadavg); -1 if unreadable.
double LoadAverage();

// The CPU clocks of a set of threads (the benchmark's own helpers: senders, receivers), so their
// cost can be told apart from the engine's. A thread registers itself; its clock stays readable
// while the thread lives.
class ThreadSet {
 public:
  ThreadSet();
  ThreadSet(const ThreadSet&) = delete;
  ThreadSet& operator=(const ThreadSet&) = delete;

  // Adds the calling thread (idempotent) and, the first time, names it `name` (at most 15
  // characters) so profiles tell it apart from the engine's threads.
  void AddCurrentThread(const char* name = nullptr);
  // Sum of the registered threads' CPU seconds (threads that ended count what they last showed).
  double CpuSeconds() const;
  std::vector<int> tids() const;

 private:
  struct Entry {
    clockid_t clock;
    int tid;
  };
  const uint64_t id_;  // unique per set, for the lock-free "already added" check
  mutable std::mutex mu_;
  std::map<pthread_t, Entry> threads_;
};

struct ThreadSample {
  int tid = 0;
  std::string name;        // comm (15 characters at most)
  double cpu_seconds = 0;  // utime + stime so far (clock-tick resolution)
};

// Every thread of this process now.
std::vector<ThreadSample> SampleThreads();

struct ThreadGroupCost {
  std::string group;  // thread name, digits folded, first 12 characters ("slot#-rtpjit")
  int threads = 0;
  double cores = 0;  // CPU seconds in the window / wall seconds
};

// Cost per thread-name group between two samples over `wall_seconds`, most expensive first,
// leaving out the threads in `exclude`.
std::vector<ThreadGroupCost> GroupThreadCost(const std::vector<ThreadSample>& before,
                                             const std::vector<ThreadSample>& after,
                                             double wall_seconds, const std::vector<int>& exclude);

}  // namespace plateau::bench
