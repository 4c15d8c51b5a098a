// Prometheus text-format metrics (exposition format 0.0.4). Components register families once and
// keep the returned pointers; updates are lock-free atomics, rendering takes the registry lock.
//
// There is no process-wide registry: each component is given the Registry it counts in by whoever
// creates it (`plateau serve` owns the one it renders at /metrics), and hands it on to what it
// creates in turn. A test makes its own, so its series are its own.
//
// A name is one type: registering a name as a counter after it was a gauge (or the reverse) is a
// programming error and throws std::logic_error naming both, at registration, where the test that
// first runs the code sees it (it used to render a gauge's series under "# TYPE counter").
//
// Series whose labels name something that ends (a conference, a meeting's venue) are removed by
// their owner when it ends (Remove), so /metrics does not grow with every booking. A removed
// series' object stays valid (it is kept, detached, until the registry goes), so a pointer handed
// out never dangles: updates through it after Remove are simply not rendered. Registering the same
// name and labels again gives a fresh series starting at zero.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace plateau::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Inc(double v = 1.0) {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;  // components keep pointers into it
  Registry& operator=(const Registry&) = delete;

  // Returns the same object for the same name and labels; the pointer lives as long as the
  // registry. `help` is taken from the first registration of a name. Throws std::logic_error if
  // `name` is registered as the other type.
  Counter* GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});

  // Stops rendering the series `name{labels}` (its family's HELP and TYPE go with its last series).
  // For the owner of the series, when the thing its labels name ends. False if there was none.
  bool Remove(const std::string& name, const Labels& labels);

  std::string RenderText() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
  };
  Family& FamilyOfType(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  // Removed series, kept so that pointers handed out stay valid (16 bytes each).
  std::vector<std::unique_ptr<Counter>> removed_counters_;
  std::vector<std::unique_ptr<Gauge>> removed_gauges_;
};

}  // namespace plateau::metrics
