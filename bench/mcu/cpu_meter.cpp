#include "cpu_meter.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace plateau::bench {

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

namespace {
std::atomic<uint64_t> next_thread_set_id{1};
}  // namespace

ThreadSet::ThreadSet() : id_(next_thread_set_id.fetch_add(1)) {}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (!(in >> load)) return -1;
  return load;
}

void ThreadSet::AddCurrentThread(const char* name) {
  // Called for every packet on the replay thread: the common case takes no lock.
  thread_local uint64_t last = 0;
  if (last == id_) return;
  last = id_;
  const pthread_t self = pthread_self();
  std::lock_guard lock(mu_);
  if (threads_.count(self)) return;
  Entry e{};
  if (pthread_getcpuclockid(self, &e.clock) != 0) return;
  e.tid = static_cast<int>(gettid());
  threads_[self] = e;
  if (name) pthread_setname_np(self, name);
}

double ThreadSet::CpuSeconds() const {
  std::lock_guard lock(mu_);
  double total = 0;
  for (const auto& [thread, e] : threads_) {
    timespec ts{};
    if (clock_gettime(e.clock, &ts) == 0)
      total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }
  return total;
}

std::vector<int> ThreadSet::tids() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (const auto& [thread, e] : threads_) out.push_back(e.tid);
  return out;
}

std::vector<ThreadSample> SampleThreads() {
  std::vector<ThreadSample> out;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  while (dirent* d = readdir(dir)) {
    if (!std::isdigit(static_cast<unsigned char>(d->d_name[0]))) continue;
    std::ifstream in(std::string("/proc/self/task/") + d->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    // "tid (comm) state ppid ..." : comm may hold spaces and parentheses; it ends at the last ')'.
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    ThreadSample s;
    s.tid = std::atoi(d->d_name);
    s.name = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    // Fields after comm: 3 state ... 14 utime, 15 stime (1-based as in proc(5)).
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    s.cpu_seconds = (utime + stime) / tick;
    out.push_back(std::move(s));
  }
  closedir(dir);
  return out;
}

namespace {

std::string FoldDigits(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (out.empty() || out.back() != '#') out += '#';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<ThreadGroupCost> GroupThreadCost(const std::vector<ThreadSample>& before,
                                             const std::vector<ThreadSample>& after,
                                             double wall_seconds, const std::vector<int>& exclude) {
  std::map<int, double> start;
  for (const auto& s : before) start[s.tid] = s.cpu_seconds;
  const std::set<int> skip(exclude.begin(), exclude.end());
  std::map<std::string, ThreadGroupCost> groups;
  for (const auto& s : after) {
    if (skip.count(s.tid)) continue;
    const auto it = start.find(s.tid);
    const double used = s.cpu_seconds - (it == start.end() ? 0.0 : it->second);
    // Thread names are cut at 15 characters, so "slot3-rtpjitter" and "slot12-rtpjitte" differ:
    // group on the folded name's first 12 characters.
    const std::string group = FoldDigits(s.name).substr(0, 12);
    auto& g = groups[group];
    g.group = group;
    g.threads++;
    g.cores += wall_seconds > 0 ? used / wall_seconds : 0;
  }
  std::vector<ThreadGroupCost> out;
  for (auto& [name, g] : groups) out.push_back(g);
  std::sort(out.begin(), out.end(),
            [](const ThreadGroupCost& a, const ThreadGroupCost& b) { return a.cores > b.cores; });
  return out;
}

}  // namespace plateau::bench
