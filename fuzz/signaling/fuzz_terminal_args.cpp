// The reference terminal's command-line values: a server URL, a --sample point and a --probe-hz
// list, read from the same bytes. Never crash; whatever parses is within its documented range, and
// a parsed URL formats to text that parses back to the same URL.
#include <cstdint>
#include <string_view>

#include "plateau/terminal/client/server_url.hpp"
#include "plateau/terminal/client/terminal_options.hpp"

namespace sc = plateau::terminal::client;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto url = sc::ParseServerUrl(text); url) {
    if (url->host.empty() || url->port == 0 || url->target.empty() || url->target[0] != '/')
      __builtin_trap();
    auto again = sc::ParseServerUrl(sc::FormatServerUrl(*url));
    if (!again || !(*again == *url)) __builtin_trap();
  } else if (url.error().code != "bad_url" || url.error().message.empty()) {
    __builtin_trap();
  }
  if (auto point = sc::ParsePixelPoint(text); point) {
    if (point->x < 0 || point->y < 0 || point->x > sc::kMaxSampleCoordinate ||
        point->y > sc::kMaxSampleCoordinate)
      __builtin_trap();
  }
  if (auto probes = sc::ParseProbeFrequencies(text); probes) {
    if (probes->empty() || probes->size() > sc::kMaxProbeFrequencies) __builtin_trap();
    for (double hz : *probes)
      if (!(hz > 0 && hz <= sc::kMaxProbeHz)) __builtin_trap();
  }
  return 0;
}
