// Internal to terminal/media: the encode branches shared by the live sender and clip generation.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <functional>
#include <optional>
#include <span>
#include <string>

#include "plateau/common/result.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::terminal::media::detail {

struct VideoBranchConfig {
  bool live = true;
  std::optional<Rgb> color;
  std::string pattern;
  bool clock = false;
  int width = 640;
  int height = 360;
  int fps = 30;
  int kbps = 800;
  int gop_frames = 60;
  int mtu = 1200;
  uint8_t payload_type = 96;
  uint32_t ssrc = 0;
  int num_buffers = -1;
  bool sync = false;  // appsink syncs to the clock (pacing a file in real time)
};

struct AudioBranchConfig {
  bool live = true;
  double tone_hz = 440;
  double volume = 0.3;
  int kbps = 32;
  uint8_t payload_type = 111;
  uint32_t ssrc = 0;
  int num_buffers = -1;  // 20 ms each
  bool sync = false;
};

// One packet out of an appsink: the RTP bytes and the buffer's PTS (ns, or -1).
using SinkHandler = std::function<void(std::span<const uint8_t> rtp, int64_t pts_ns)>;

struct Branch {
  GstElement* first = nullptr;    // where a decoded source links in (encode part only)
  GstElement* encoder = nullptr;  // openh264enc / opusenc
  GstElement* appsink = nullptr;
};

// Adds "[videotestsrc -> caps ->] [clockoverlay ->] openh264enc -> rtph264pay -> appsink" to `bin`.
// With `with_source` false the chain starts at a videoconvert/videoscale/videorate/caps stage (for
// decoded files) returned as `first`.
Result<Branch> AddVideoBranch(GstBin* bin, const VideoBranchConfig& config, bool with_source,
                              SinkHandler handler);
// Adds "[audiotestsrc ->] audioconvert -> audioresample -> caps -> opusenc -> rtpopuspay ->
// appsink".
Result<Branch> AddAudioBranch(GstBin* bin, const AudioBranchConfig& config, bool with_source,
                              SinkHandler handler);

// Forces a keyframe on an encoder (upstream GstForceKeyUnit on its src pad).
void ForceKeyframe(GstElement* encoder);

uint32_t RandomSsrc();

}  // namespace plateau::terminal::media::detail
