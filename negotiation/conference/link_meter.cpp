#include "plateau/negotiation/conference/link_meter.hpp"

#include <chrono>

namespace plateau::negotiation::conference {

LinkMeter::LinkMeter(metrics::Registry& metrics, std::vector<std::string> links) {
  for (const std::string& link : links) {
    auto gauge = [&](const char* name, const char* help, const char* direction) {
      return metrics.GetGauge(name, help, {{"link", link}, {"direction", direction}});
    };
    const char* measured = "RTP kbit/s the media engines sent and received across the link";
    const char* reserved = "Kbit/s the meetings whose media runs reserved on the link";
    series_[link] = Series{gauge("plateau_link_measured_kbps", measured, "up"),
                           gauge("plateau_link_measured_kbps", measured, "down"),
                           gauge("plateau_link_reserved_kbps", reserved, "up"),
                           gauge("plateau_link_reserved_kbps", reserved, "down")};
    rates_[link] = LinkLoadNow{};
  }
}

void LinkMeter::Sample(const std::vector<MediaFlow>& flows,
                       const std::map<std::string, std::pair<int64_t, int64_t>>& reserved,
                       Clock::MonoTime now) {
  MutexLock lock(mu_);
  const double seconds = last_at_ ? std::chrono::duration<double>(now - *last_at_).count() : 0.0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> bytes;  // link -> {up, down}
  std::map<std::pair<int64_t, std::string>, std::pair<uint64_t, uint64_t>> seen;
  for (const MediaFlow& f : flows) {
    const auto key = std::make_pair(f.booking, f.id);
    seen[key] = {f.bytes_up, f.bytes_down};
    auto prev = last_.find(key);
    if (prev == last_.end()) continue;  // its baseline
    // A venue that left and came back starts its counters again.
    const uint64_t up =
        f.bytes_up >= prev->second.first ? f.bytes_up - prev->second.first : f.bytes_up;
    const uint64_t down =
        f.bytes_down >= prev->second.second ? f.bytes_down - prev->second.second : f.bytes_down;
    for (const std::string& link : f.links) {
      bytes[link].first += up;
      bytes[link].second += down;
    }
  }
  last_ = std::move(seen);
  last_at_ = now;
  for (auto& [link, s] : series_) {
    LinkLoadNow r;
    if (seconds > 0) {
      if (auto b = bytes.find(link); b != bytes.end()) {
        r.measured_up_kbps = static_cast<double>(b->second.first) * 8 / 1000 / seconds;
        r.measured_down_kbps = static_cast<double>(b->second.second) * 8 / 1000 / seconds;
      }
    }
    if (auto res = reserved.find(link); res != reserved.end()) {
      r.reserved_up_kbps = res->second.first;
      r.reserved_down_kbps = res->second.second;
    }
    s.measured_up->Set(r.measured_up_kbps);
    s.measured_down->Set(r.measured_down_kbps);
    s.reserved_up->Set(static_cast<double>(r.reserved_up_kbps));
    s.reserved_down->Set(static_cast<double>(r.reserved_down_kbps));
    rates_[link] = r;
  }
}

std::map<std::string, LinkLoadNow> LinkMeter::Rates() const {
  MutexLock lock(mu_);
  return rates_;
}

}  // namespace plateau::negotiation::conference
