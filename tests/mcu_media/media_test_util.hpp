// Helpers for the media suite: distinguishable colours and "does this decoded frame show the
// layout" checks.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "plateau/mcu/media/tile_layout.hpp"
#include "plateau/mcu/terminal/receiver.hpp"
#include "plateau/mcu/terminal/types.hpp"

namespace plateau::mcu::testing {

using terminal::Rgb;

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
bool ShowsLayout(const terminal::DecodedFrame& frame,
                 const std::vector<media::Placement>& placements, int canvas_w, int canvas_h,
                 ColorOf color_of, std::string* why = nullptr) {
  const int box = std::max(2, frame.width / 80);
  for (const auto& s : SamplePoints(placements, canvas_w, canvas_h, frame.width, frame.height)) {
    const Rgb got = frame.Average(s.x, s.y, box);
    const Rgb want = color_of(s.venue);
    if (terminal::ColorDistance(got, want) > kColorTolerance) {
      if (why)
        *why = s.venue + " at (" + std::to_string(s.x) + "," + std::to_string(s.y) + "): got " +
               terminal::FormatRgb(got) + ", want " + terminal::FormatRgb(want);
      return false;
    }
  }
  return true;
}

}  // namespace plateau::mcu::testing
