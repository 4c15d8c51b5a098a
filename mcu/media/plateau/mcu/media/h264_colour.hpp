// The colour description in the H.264 that Plateau's OpenH264 encoders emit (docs/media-video.md,
// "Colour").
//
// openh264enc writes a VUI without video_signal_type and has no property for it, so decoders
// guess the YCbCr -> RGB matrix: Chromium takes BT.709 and showed the mix's BT.601 red #ff0000 as
// #ff1800; GStreamer's decoders take BT.601 below 720 lines and BT.709 from there. After the
// encoder, every SPS is rewritten (mcu/rtp's WriteH264AnnexBColour) to state the colorimetry of
// the encoder's input caps: primaries, transfer, matrix and range as H.273 code points.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>

#include "plateau/common/result.hpp"
#include "plateau/mcu/rtp/h264_sps.hpp"

namespace plateau::mcu::media {

// The H.273 code points of a GStreamer colorimetry (unknown fields map to 2, "unspecified"; an
// unknown range to limited, GStreamer's default for YUV).
rtp::H264ColourDescription H264ColourOf(const GstVideoColorimetry& colorimetry);

// Counters of one encoder's rewriting (read with ColourDescriptionStatsOf).
struct ColourDescriptionStats {
  uint64_t sps_rewritten = 0;
  uint64_t failures = 0;  // an SPS that could not be parsed: the buffer went out unchanged
};

// Attaches the rewrite to `encoder` (an H.264 encoder with byte-stream output, e.g. openh264enc):
// a probe on its sink pad follows the input caps, a probe on its src pad rewrites each output
// buffer that carries an SPS. Call before the pipeline runs. Error "gstreamer" when the encoder has
// no static "sink"/"src" pads.
Status DescribeColourInSps(GstElement* encoder);

// The counters of an encoder DescribeColourInSps was attached to (zeros otherwise).
ColourDescriptionStats ColourDescriptionStatsOf(GstElement* encoder);

}  // namespace plateau::mcu::media
