#include "plateau/terminal/client/terminal_options.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace plateau::terminal::client {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 40) out += "...";
  return out + "\"";
}

bool ParseCoordinate(std::string_view s, int* out) {
  s = Trim(s);
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > kMaxSampleCoordinate) return false;
  *out = v;
  return true;
}

}  // namespace

Result<PixelPoint> ParsePixelPoint(std::string_view text) {
  const size_t comma = text.find(',');
  PixelPoint p;
  if (comma == std::string_view::npos || !ParseCoordinate(text.substr(0, comma), &p.x) ||
      !ParseCoordinate(text.substr(comma + 1), &p.y))
    return Error{"bad_sample", "--sample " + Quote(text) + " is not X,Y with whole pixels 0.." +
                                   std::to_string(kMaxSampleCoordinate)};
  return p;
}

Result<std::vector<double>> ParseProbeFrequencies(std::string_view text) {
  std::vector<double> out;
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    std::string_view item = Trim(
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (out.size() == kMaxProbeFrequencies)
      return Error{"bad_probe", "--probe-hz takes at most " + std::to_string(kMaxProbeFrequencies) +
                                    " frequencies"};
    bool ok = !item.empty() && item.size() <= 16;
    for (char c : item) ok = ok && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
    double hz = 0;
    if (ok) {
      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), hz);
      ok = ec == std::errc() && ptr == item.data() + item.size() && hz > 0 && hz <= kMaxProbeHz;
    }
    if (!ok)
      return Error{"bad_probe",
                   "--probe-hz " + Quote(item) + " is not a frequency in Hz between 0 and 24000"};
    out.push_back(hz);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace plateau::terminal::client
