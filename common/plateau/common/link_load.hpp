// A link's load now, in one direction pair: what the media engines measured crossing it beside
// what the running meetings reserved on it. Produced by negotiation/conference's LinkMeter, shown
// by the REST links view (scheduler/rest) and /metrics; here so that neither depends on the other.
#pragma once

#include <cstdint>

namespace plateau {

struct LinkLoadNow {
  double measured_up_kbps = 0;  // up = toward the hub
  double measured_down_kbps = 0;
  int64_t reserved_up_kbps = 0;
  int64_t reserved_down_kbps = 0;
};

}  // namespace plateau
