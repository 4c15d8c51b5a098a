#include "plateau/mcu/media/tile_layout.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace plateau::mcu::media {
namespace {

constexpr std::array<std::pair<LayoutKind, std::string_view>, 8> kNames = {{
    {LayoutKind::kAuto, "auto"},
    {LayoutKind::kOne, "1"},
    {LayoutKind::kTwo, "2"},
    {LayoutKind::kOnePlusFive, "1+5"},
    {LayoutKind::kTwoByTwo, "2x2"},
    {LayoutKind::kOnePlusSeven, "1+7"},
    {LayoutKind::kThreeByThree, "3x3"},
    {LayoutKind::kFourByFour, "4x4"},
}};

int Even(long v) {
  return static_cast<int>(v & ~1L);
}

// Cell (column, row) .. (column + span - 1, row + span - 1) of an n x n grid on the canvas.
Rect GridCell(int n, int column, int row, int span, int width, int height) {
  const int x0 = Even(static_cast<long>(column) * width / n);
  const int y0 = Even(static_cast<long>(row) * height / n);
  const int x1 = Even(static_cast<long>(column + span) * width / n);
  const int y1 = Even(static_cast<long>(row + span) * height / n);
  return Rect{x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

std::string_view LayoutName(LayoutKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "auto";
}

Result<LayoutKind> ParseLayout(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return Error{"bad_layout", "unknown layout \"" + std::string(name) +
                                 "\"; expected one of auto, 1, 2, 1+5, 2x2, 1+7, 3x3, 4x4"};
}

size_t TileCount(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kAuto:
      return 0;
    case LayoutKind::kOne:
      return 1;
    case LayoutKind::kTwo:
      return 2;
    case LayoutKind::kOnePlusFive:
      return 6;
    case LayoutKind::kTwoByTwo:
      return 4;
    case LayoutKind::kOnePlusSeven:
      return 8;
    case LayoutKind::kThreeByThree:
      return 9;
    case LayoutKind::kFourByFour:
      return 16;
  }
  return 0;
}

LayoutKind AutoLayoutFor(size_t venue_count) {
  if (venue_count <= 1) return LayoutKind::kOne;
  if (venue_count == 2) return LayoutKind::kTwo;
  if (venue_count <= 4) return LayoutKind::kTwoByTwo;
  if (venue_count <= 6) return LayoutKind::kOnePlusFive;
  if (venue_count <= 8) return LayoutKind::kOnePlusSeven;
  if (venue_count == 9) return LayoutKind::kThreeByThree;
  return LayoutKind::kFourByFour;
}

std::vector<Rect> TileRects(LayoutKind kind, int w, int h) {
  std::vector<Rect> tiles;
  auto grid = [&](int n) {
    for (int row = 0; row < n; ++row)
      for (int column = 0; column < n; ++column) tiles.push_back(GridCell(n, column, row, 1, w, h));
  };
  switch (kind) {
    case LayoutKind::kAuto:
      break;
    case LayoutKind::kOne:
      tiles.push_back(Rect{0, 0, Even(w), Even(h)});
      break;
    case LayoutKind::kTwo: {
      const int tw = Even(w / 2);
      const int th = Even(h / 2);
      const int y = Even((h - th) / 2);
      tiles.push_back(Rect{0, y, tw, th});
      tiles.push_back(Rect{tw, y, tw, th});
      break;
    }
    case LayoutKind::kTwoByTwo:
      grid(2);
      break;
    case LayoutKind::kThreeByThree:
      grid(3);
      break;
    case LayoutKind::kFourByFour:
      grid(4);
      break;
    case LayoutKind::kOnePlusFive:
      // Large pane 2x2 cells top-left; the right column, then the bottom row left to right.
      tiles.push_back(GridCell(3, 0, 0, 2, w, h));
      tiles.push_back(GridCell(3, 2, 0, 1, w, h));
      tiles.push_back(GridCell(3, 2, 1, 1, w, h));
      for (int column = 0; column < 3; ++column) tiles.push_back(GridCell(3, column, 2, 1, w, h));
      break;
    case LayoutKind::kOnePlusSeven:
      tiles.push_back(GridCell(4, 0, 0, 3, w, h));
      for (int row = 0; row < 3; ++row) tiles.push_back(GridCell(4, 3, row, 1, w, h));
      for (int column = 0; column < 4; ++column) tiles.push_back(GridCell(4, column, 3, 1, w, h));
      break;
  }
  return tiles;
}

TileLayout::TileLayout(int canvas_width, int canvas_height)
    : canvas_width_(canvas_width), canvas_height_(canvas_height) {}

Status TileLayout::AddVenue(const std::string& venue) {
  if (venue.empty()) return Error{"bad_venue", "a venue id must not be empty"};
  if (std::find(venues_.begin(), venues_.end(), venue) != venues_.end())
    return Error{"duplicate_venue", "venue " + venue + " is already in the layout"};
  venues_.push_back(venue);
  return Status::Ok();
}

Status TileLayout::RemoveVenue(const std::string& venue) {
  auto it = std::find(venues_.begin(), venues_.end(), venue);
  if (it == venues_.end())
    return Error{"unknown_venue", "venue " + venue + " is not in the layout"};
  venues_.erase(it);
  if (speaker_ == venue) speaker_.reset();
  return Status::Ok();
}

Status TileLayout::SetVenueOrder(const std::vector<std::string>& order) {
  std::vector<std::string> a = order;
  std::vector<std::string> b = venues_;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (a != b)
    return Error{"bad_order", "the order must list every venue of the conference exactly once"};
  venues_ = order;
  return Status::Ok();
}

Status TileLayout::SetSpeaker(const std::optional<std::string>& venue) {
  if (venue && std::find(venues_.begin(), venues_.end(), *venue) == venues_.end())
    return Error{"unknown_venue", "venue " + *venue + " is not in the layout"};
  speaker_ = venue;
  return Status::Ok();
}

LayoutKind TileLayout::effective_layout() const {
  return requested_ == LayoutKind::kAuto ? AutoLayoutFor(venues_.size()) : requested_;
}

std::vector<Placement> TileLayout::Placements() const {
  const std::vector<Rect> rects = TileRects(effective_layout(), canvas_width_, canvas_height_);
  std::vector<const std::string*> order;
  order.reserve(venues_.size());
  if (speaker_) order.push_back(&*speaker_);
  for (const auto& v : venues_)
    if (!speaker_ || v != *speaker_) order.push_back(&v);
  std::vector<Placement> out;
  for (size_t i = 0; i < rects.size() && i < order.size(); ++i)
    out.push_back(Placement{*order[i], i, rects[i]});
  return out;
}

bool TileLayout::IsVisible(const std::string& venue) const {
  for (const auto& p : Placements())
    if (p.venue == venue) return true;
  return false;
}

}  // namespace plateau::mcu::media
