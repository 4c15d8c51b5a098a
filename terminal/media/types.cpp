#include "plateau/terminal/media/types.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace plateau::terminal::media {
namespace {

bool ParseByte(const std::string& text, int base, uint8_t* out) {
  if (text.empty() || text.size() > 3) return false;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, base);
  if (*end != '\0' || v < 0 || v > 255) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

}  // namespace

Result<Rgb> ParseRgb(const std::string& text) {
  const Error bad{"bad_color", "colour \"" + text + "\" is not #RRGGBB, RRGGBB or R,G,B (0..255)"};
  std::string t = text;
  if (t.find(',') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(t);
    std::string part;
    while (std::getline(ss, part, ',')) parts.push_back(part);
    Rgb rgb;
    if (parts.size() != 3 || !ParseByte(parts[0], 10, &rgb.r) || !ParseByte(parts[1], 10, &rgb.g) ||
        !ParseByte(parts[2], 10, &rgb.b))
      return bad;
    return rgb;
  }
  if (!t.empty() && t[0] == '#') t.erase(0, 1);
  if (t.size() != 6 || !std::all_of(t.begin(), t.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      }))
    return bad;
  Rgb rgb;
  if (!ParseByte(t.substr(0, 2), 16, &rgb.r) || !ParseByte(t.substr(2, 2), 16, &rgb.g) ||
      !ParseByte(t.substr(4, 2), 16, &rgb.b))
    return bad;
  return rgb;
}

std::string FormatRgb(Rgb rgb) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb.r, rgb.g, rgb.b);
  return buf;
}

int ColorDistance(Rgb a, Rgb b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

}  // namespace plateau::terminal::media
