// A stream profile: the rate one venue's stream takes per direction, and its media tier.
#pragma once

#include <cstdint>
#include <string>

namespace plateau::scheduler {

// Kbit/s of one stream per direction for a venue taking part at this profile.
struct Profile {
  std::string id;
  std::string name;
  int video_kbps = 0;
  int audio_kbps = 0;
  double overhead = 1.0;
  std::string tier;  // media output tier ("8m", "2m")
  // ceil((video + audio) * overhead)
  int64_t stream_kbps() const;
};

}  // namespace plateau::scheduler
