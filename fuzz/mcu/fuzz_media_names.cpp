// Operator and CLI input of the video side: layout names ("1+5"), colours ("#ff0000", "R,G,B"),
// and arbitrary sequences of layout operations (add/remove venues, speaker, layout, order). Checks
// the invariants every layout must keep: tiles inside the canvas, no venue twice, speaker first.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "plateau/mcu/media/tile_layout.hpp"
#include "plateau/terminal/media/types.hpp"

using namespace plateau::mcu;
namespace terminal = plateau::terminal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto kind = media::ParseLayout(text); kind.ok() && media::LayoutName(*kind) != text)
    __builtin_trap();
  if (auto rgb = terminal::media::ParseRgb(text); rgb.ok()) {
    auto again = terminal::media::ParseRgb(terminal::media::FormatRgb(*rgb));
    if (!again.ok() || !(*again == *rgb)) __builtin_trap();
  }

  media::TileLayout layout(size > 0 ? 64 + 2 * data[0] : 320, 180);
  for (size_t i = 1; i + 1 < size; i += 2) {
    const std::string venue = "v" + std::to_string(data[i + 1] % 24);
    switch (data[i] % 6) {
      case 0:
        (void)layout.AddVenue(venue);
        break;
      case 1:
        (void)layout.RemoveVenue(venue);
        break;
      case 2:
        (void)layout.SetSpeaker(venue);
        break;
      case 3:
        (void)layout.SetSpeaker(std::nullopt);
        break;
      case 4:
        layout.SetLayout(static_cast<media::LayoutKind>(data[i + 1] % 8));
        break;
      case 5: {
        auto order = layout.venues();
        if (!order.empty())
          std::rotate(order.begin(), order.begin() + data[i + 1] % order.size(), order.end());
        if (!layout.SetVenueOrder(order).ok()) __builtin_trap();
        break;
      }
    }
    const auto placements = layout.Placements();
    std::set<std::string> seen;
    if (placements.size() > media::TileCount(layout.effective_layout())) __builtin_trap();
    for (const auto& p : placements) {
      if (!seen.insert(p.venue).second) __builtin_trap();
      if (p.rect.x < 0 || p.rect.y < 0 || p.rect.x + p.rect.width > layout.canvas_width() ||
          p.rect.y + p.rect.height > layout.canvas_height())
        __builtin_trap();
    }
    if (layout.speaker() && (placements.empty() || placements[0].venue != *layout.speaker()))
      __builtin_trap();
  }
  return 0;
}
