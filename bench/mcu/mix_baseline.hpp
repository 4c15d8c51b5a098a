// The stock way of mixing a conference, for `plateau bench mix` to compare against: a plain
// GStreamer pipeline that decodes EVERY venue (openh264dec or avdec_h264), composes the visible
// ones with one compositor, and encodes the mix once PER RECEIVING VENUE (openh264enc at that
// venue's tier size and bitrate); audio likewise: decode every venue's Opus, one audiomixer, one
// opusenc per receiver. No visible-only decoding, no per-tier sharing of encodes.
//
// It runs a fixed amount of work as fast as it can (non-live): every venue feeds
// `media_seconds` of its pre-encoded clip, every receiver's encoder encodes every composed frame.
// CPU seconds divided by media seconds is what it needs to keep real time; frames per wall second
// is the frame rate it reaches on this machine. The clips' RTP goes in through appsrc (no network,
// no SRTP: the baseline is given the media for free, which favours it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/mcu/media/tile_layout.hpp"
#include "plateau/mcu/media/video_mixer.hpp"
#include "plateau/terminal/media/replay.hpp"

namespace plateau::bench {

struct BaselineVenue {
  std::shared_ptr<const terminal::media::EncodedClip> clip;  // H.264 + Opus
  std::string name;                                          // tile caption
  size_t tier = 0;             // index into BaselineConfig::tiers: what this venue receives
  std::optional<size_t> tile;  // its tile when visible
};

struct BaselineConfig {
  std::vector<BaselineVenue> venues;
  std::vector<mcu::media::TierConfig> tiers;
  mcu::media::LayoutKind layout = mcu::media::LayoutKind::kFourByFour;
  int canvas_width = 1280;
  int canvas_height = 720;
  int fps = 30;
  double media_seconds = 2;
  std::string decoder = "openh264dec";  // or "avdec_h264"
  bool captions = true;
  std::string caption_font = "Noto Sans CJK SC";
  int audio_bitrate_bps = 32000;
  int audio_complexity = 5;
  double max_wall_seconds = 300;  // gives up (and reports what it reached) after this
};

struct BaselineFigures {
  size_t video_decoders = 0;
  size_t audio_decoders = 0;
  size_t video_encoders = 0;
  size_t audio_encoders = 0;
  double media_seconds = 0;  // composed and encoded by every receiver's encoder
  double wall_seconds = 0;   // PLAYING to EOS
  double cpu_seconds = 0;    // process CPU in that time
  double cpu_cores = 0;      // cpu_seconds / media_seconds: cores needed for real time
  double process_cores = 0;  // cpu_seconds / wall_seconds: cores it actually used
  double fps_reached = 0;    // slowest receiver's encoded frames / wall_seconds
  uint64_t frames_min = 0;   // slowest receiver's encoded frames
  uint64_t frames_expected = 0;
  bool completed = false;  // reached EOS before max_wall_seconds
  bool realtime = false;   // fps_reached >= 29 (it could have kept up live)
};

// Errors: "bad_config", "gstreamer" (an element is missing or the pipeline failed).
Result<BaselineFigures> RunStockBaseline(const BaselineConfig& config);

}  // namespace plateau::bench
