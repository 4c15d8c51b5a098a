// Who hosts whom and what every link and MCU carries: the cascade plan of one booking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plateau::scheduler {

// Which MCU hosts a venue; `cascade_to` is the parent MCU when the host cascades upward.
struct VenueHost {
  std::string venue;
  std::string mcu;
};
struct CascadeLeg {
  std::string from_mcu;  // sub-centre MCU
  std::string to_mcu;    // hub MCU
  std::string link;      // the link the leg crosses
};
struct LinkLoad {
  std::string link;
  int64_t up_kbps = 0;    // child -> parent
  int64_t down_kbps = 0;  // parent -> child
};
struct McuLoad {
  std::string mcu;
  int ports = 0;
};
struct CascadePlan {
  std::string root_mcu;          // the MCU that hosts the conference (hub or a sub-centre)
  std::vector<VenueHost> hosts;  // one per venue
  std::vector<CascadeLeg> cascades;
  std::vector<LinkLoad> links;  // only links that carry something
  std::vector<McuLoad> mcus;    // only MCUs that are used
};

}  // namespace plateau::scheduler
