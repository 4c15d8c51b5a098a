// Continuous-presence layouts (pure C++: no GStreamer, no clock, no threads).
//
// A layout is a set of tiles on the output canvas. Tile 0 is the large pane in 1+5 and 1+7 and the
// first (top-left) tile otherwise; the current speaker always takes tile 0. The other tiles are
// filled with the remaining venues in their order (join order unless SetVenueOrder changed it).
// Venues beyond the tile count are hidden: the video mixer does not decode them.
//
// Layout names (as operators and the API write them): "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4",
// and "auto" (chosen by the number of venues: 1 -> 1, 2 -> 2, 3..4 -> 2x2, 5..6 -> 1+5,
// 7..8 -> 1+7, 9 -> 3x3, 10 and more -> 4x4).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::mcu::media {

enum class LayoutKind {
  kAuto,
  kOne,
  kTwo,
  kOnePlusFive,
  kTwoByTwo,
  kOnePlusSeven,
  kThreeByThree,
  kFourByFour
};

// "auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4".
std::string_view LayoutName(LayoutKind kind);
// Inverse of LayoutName; error code "bad_layout" naming the accepted values.
Result<LayoutKind> ParseLayout(std::string_view name);
// Number of tiles (kAuto: 0, it has no geometry of its own).
size_t TileCount(LayoutKind kind);
// The layout "auto" picks for this many venues (never kAuto).
LayoutKind AutoLayoutFor(size_t venue_count);

// A rectangle in output-canvas pixels. x, y, width and height are even (I420 chroma alignment).
struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  bool operator==(const Rect&) const = default;
  bool Contains(int px, int py) const {
    return px >= x && py >= y && px < x + width && py < y + height;
  }
};

// The tiles of `kind` (not kAuto) on a canvas of width x height, in tile order. Tiles keep the
// canvas aspect ratio; "2" places two half-width tiles side by side, centred vertically.
std::vector<Rect> TileRects(LayoutKind kind, int canvas_width, int canvas_height);

// One visible venue: which tile it occupies and where.
struct Placement {
  std::string venue;
  size_t tile = 0;  // index into TileRects(); 0 = the large pane / first tile
  Rect rect;
  bool operator==(const Placement&) const = default;
};

// The layout state of one conference's video: venues, the chosen layout, the speaker.
// Value type; every method is O(venues). Unknown venue ids are refused with an error and change
// nothing.
class TileLayout {
 public:
  TileLayout(int canvas_width, int canvas_height);

  // Adds a venue at the end of the order. Error "duplicate_venue" if present, "bad_venue" if empty.
  Status AddVenue(const std::string& venue);
  // Removes a venue (and clears the speaker if it was the speaker). Error "unknown_venue".
  Status RemoveVenue(const std::string& venue);
  // Replaces the order: must be a permutation of the current venues ("bad_order" otherwise).
  Status SetVenueOrder(const std::vector<std::string>& order);
  // kAuto returns to the automatic choice.
  void SetLayout(LayoutKind kind) { requested_ = kind; }
  // The speaker takes tile 0; nullopt clears it. Error "unknown_venue".
  Status SetSpeaker(const std::optional<std::string>& venue);

  LayoutKind requested_layout() const { return requested_; }
  // The layout in force: the requested one, or the automatic choice for kAuto.
  LayoutKind effective_layout() const;
  const std::optional<std::string>& speaker() const { return speaker_; }
  const std::vector<std::string>& venues() const { return venues_; }
  int canvas_width() const { return canvas_width_; }
  int canvas_height() const { return canvas_height_; }

  // The visible venues with their tiles, in tile order (tiles beyond the venue count stay empty).
  std::vector<Placement> Placements() const;
  bool IsVisible(const std::string& venue) const;

 private:
  int canvas_width_;
  int canvas_height_;
  LayoutKind requested_ = LayoutKind::kAuto;
  std::vector<std::string> venues_;
  std::optional<std::string> speaker_;
};

}  // namespace plateau::mcu::media
