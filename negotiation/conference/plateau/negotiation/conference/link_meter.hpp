// Measured link load: the RTP bytes every venue and cascade leg carried (ConferenceMedia::Flows),
// turned into kbit/s per link and direction, beside what the running meetings reserved.
// Exported as Prometheus gauges (every link of the topology, both directions):
//   plateau_link_measured_kbps{link,direction}  over the last sampling interval
//   plateau_link_reserved_kbps{link,direction}  by the meetings whose media runs
// and read by the REST links view. Sample() and Rates() may run on different threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/link_load.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/negotiation/conference/conference_media.hpp"

namespace plateau::negotiation::conference {

class LinkMeter {
 public:
  // `links`: every link id of the topology (each gets its series, zero when idle).
  LinkMeter(metrics::Registry& metrics, std::vector<std::string> links);

  // One sample: the flows' byte counters now (cumulative), and the reservations. The first sample
  // of a flow only sets its baseline. Rates are over the time since the previous sample.
  void Sample(const std::vector<MediaFlow>& flows,
              const std::map<std::string, std::pair<int64_t, int64_t>>& reserved,
              Clock::MonoTime now) PLATEAU_EXCLUDES(mu_);

  std::map<std::string, LinkLoadNow> Rates() const PLATEAU_EXCLUDES(mu_);

 private:
  struct Series {
    metrics::Gauge* measured_up;
    metrics::Gauge* measured_down;
    metrics::Gauge* reserved_up;
    metrics::Gauge* reserved_down;
  };
  std::map<std::string, Series> series_;  // fixed at construction
  mutable Mutex mu_;
  std::map<std::pair<int64_t, std::string>, std::pair<uint64_t, uint64_t>> last_
      PLATEAU_GUARDED_BY(mu_);
  std::optional<Clock::MonoTime> last_at_ PLATEAU_GUARDED_BY(mu_);
  std::map<std::string, LinkLoadNow> rates_ PLATEAU_GUARDED_BY(mu_);
};

}  // namespace plateau::negotiation::conference
