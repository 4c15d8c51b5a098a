// Helpers for the media suite: distinguishable colours and "does this decoded frame show the
// layout" checks.
#pragma once

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/media/tile_layout.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::mcu::testing {

using terminal::media::Rgb;

// Colours at least ~95 apart in some channel from each other and from black (the background).
inline std::vector<Rgb> Palette(size_t n) {
  std::vector<Rgb> out;
  const uint8_t levels[] = {30, 128, 225};
  for (uint8_t r : levels)
    for (uint8_t g : levels)
      for (uint8_t b : levels) {
        if (r == g && g == b) continue;  // greys look like black/grey backgrounds
        out.push_back(Rgb{r, g, b});
      }
  // Most saturated first: they survive two encodes best.
  std::stable_sort(out.begin(), out.end(), [](Rgb a, Rgb b) {
    auto spread = [](Rgb c) { return std::max({c.r, c.g, c.b}) - std::min({c.r, c.g, c.b}); };
    return spread(a) > spread(b);
  });
  out.resize(std::min(n, out.size()));
  return out;
}

inline constexpr int kColorTolerance = 45;
// Per channel, for solid colours that must come out as they went in (the SPS states the
// colorimetry: docs/media-video.md, "Colour"). A wrong YCbCr matrix is off by 20-40.
inline constexpr int kExactColorTolerance = 8;

// The point of a tile to sample: centre column, a bit above the middle (the caption is at the
// bottom, the sender's clock at the top-left), scaled from the canvas to the decoded frame.
struct Sample {
  std::string venue;
  int x = 0;
  int y = 0;
};

inline std::vector<Sample> SamplePoints(const std::vector<media::Placement>& placements,
                                        int canvas_w, int canvas_h, int frame_w, int frame_h) {
  std::vector<Sample> out;
  for (const auto& p : placements) {
    const double cx = p.rect.x + p.rect.width * 0.5;
    const double cy = p.rect.y + p.rect.height * 0.45;
    out.push_back(Sample{p.venue, static_cast<int>(cx * frame_w / canvas_w),
                         static_cast<int>(cy * frame_h / canvas_h)});
  }
  return out;
}

// True if every placement's tile shows its venue's colour.
template <typename ColorOf>
bool ShowsLayout(const terminal::media::DecodedFrame& frame,
                 const std::vector<media::Placement>& placements, int canvas_w, int canvas_h,
                 ColorOf color_of, std::string* why = nullptr, int tolerance = kColorTolerance) {
  const int box = std::max(2, frame.width / 80);
  for (const auto& s : SamplePoints(placements, canvas_w, canvas_h, frame.width, frame.height)) {
    const Rgb got = frame.Average(s.x, s.y, box);
    const Rgb want = color_of(s.venue);
    if (terminal::media::ColorDistance(got, want) > tolerance) {
      if (why)
        *why = s.venue + " at (" + std::to_string(s.x) + "," + std::to_string(s.y) + "): got " +
               terminal::media::FormatRgb(got) + ", want " + terminal::media::FormatRgb(want);
      return false;
    }
  }
  return true;
}

// Writes `seconds` of a solid colour at `width`x`height` as H.264 in Matroska (made in the test,
// never kept in git). openh264enc straight from gst-launch states no colorimetry, so a decoder
// takes GStreamer's default for the size: BT.709 from 720 lines, as videotestsrc made the pixels.
inline std::string MakeColourFile(const std::string& name, Rgb color, int width, int height,
                                  double seconds = 1.5) {
  media::EnsureGstInit();
  const std::string path = ::testing::TempDir() + name;
  char argb[16];
  std::snprintf(argb, sizeof argb, "0xff%02x%02x%02x", color.r, color.g, color.b);
  GError* error = nullptr;
  GstElement* p = gst_parse_launch(
      ("videotestsrc num-buffers=" + std::to_string(static_cast<int>(seconds * 30)) +
       " pattern=solid-color foreground-color=" + argb + " ! video/x-raw,format=I420,width=" +
       std::to_string(width) + ",height=" + std::to_string(height) +
       ",framerate=30/1 ! openh264enc ! h264parse ! matroskamux ! filesink location=" + path)
          .c_str(),
      &error);
  if (!p) {
    ADD_FAILURE() << (error ? error->message : "gst_parse_launch failed");
    if (error) g_error_free(error);
    return path;
  }
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  EXPECT_TRUE(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) << "cannot write " << path;
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return path;
}

}  // namespace plateau::mcu::testing
