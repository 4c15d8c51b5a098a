// Reading a `plateau terminal --report` JSON report (docs/terminal.md): the colour each tile
// showed, the level of each probed tone, frames decoded. One reader for every suite that checks
// the mix by content through the reference terminal. Header-only.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace plateau::testing {

struct Rgb {
  int r = 0, g = 0, b = 0;
};

// "#rrggbb" as the report writes it.
inline std::optional<Rgb> ParseHex(const std::string& s) {
  if (s.size() != 7 || s[0] != '#') return std::nullopt;
  auto h = [&](int i) {
    return static_cast<int>(std::strtol(s.substr(i, 2).c_str(), nullptr, 16));
  };
  return Rgb{h(1), h(3), h(5)};
}

// The largest per-channel difference.
inline int ColourDistance(Rgb a, Rgb b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

// The colour the report saw in `venue`'s tile, if the layout shows it.
inline std::optional<Rgb> TileColour(const nlohmann::json& report, const std::string& venue) {
  for (const nlohmann::json& t : report.value("tiles", nlohmann::json::array()))
    if (t.value("venue", "") == venue && t.contains("rgb") && t["rgb"].is_string())
      return ParseHex(t["rgb"].get<std::string>());
  return std::nullopt;
}

// Whether `venue`'s tile shows `want` within `tolerance` per channel.
inline bool TileShows(const nlohmann::json& report, const std::string& venue, Rgb want,
                      int tolerance) {
  auto got = TileColour(report, venue);
  return got && ColourDistance(*got, want) <= tolerance;
}

// The level (dBov) of the probe at `hz`; -127 when the report has no such probe.
inline double Probe(const nlohmann::json& report, double hz) {
  if (!report.contains("audio")) return -127.0;
  for (const nlohmann::json& p : report["audio"].value("probes", nlohmann::json::array()))
    if (p.value("hz", 0.0) == hz) return p.value("dbov", -127.0);
  return -127.0;
}

inline int FramesDecoded(const nlohmann::json& report) {
  return report.contains("video") ? report["video"].value("frames_decoded", 0) : 0;
}

}  // namespace plateau::testing
