// The video configuration of every in-process media test: a small canvas and two tiers, so the
// media suites run on 2 shared cores. The mixer's rig, the conference's rig and ConferenceMedia's
// tests all start from it.
#pragma once

#include "plateau/mcu/media/video_mixer.hpp"

namespace plateau::mcu::testing {

inline media::VideoMixerConfig SmallMixerConfig() {
  media::VideoMixerConfig c;
  c.canvas_width = 320;
  c.canvas_height = 180;
  c.fps = 30;
  c.tiers = {{"8m", 320, 180, 500, 1000, 1200, 96, 0}, {"2m", 160, 90, 200, 1000, 1200, 96, 0}};
  return c;
}

}  // namespace plateau::mcu::testing
