// Small values of `plateau terminal`'s command line that need checking: pixel positions to sample
// (--sample X,Y) and audio frequencies to probe (--probe-hz 440,660). Edge parsers: fuzzed together
// with the server URL (fuzz/signaling, target terminal_args).
#pragma once

#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::terminal::client {

inline constexpr int kMaxSampleCoordinate = 16384;
inline constexpr size_t kMaxProbeFrequencies = 32;
inline constexpr double kMaxProbeHz = 24000.0;  // Nyquist at 48 kHz

struct PixelPoint {
  int x = 0;
  int y = 0;
  bool operator==(const PixelPoint&) const = default;
};

// "X,Y" with 0 <= X, Y <= kMaxSampleCoordinate (decimal integers). Error "bad_sample".
Result<PixelPoint> ParsePixelPoint(std::string_view text);

// "440" or "440,660.5,1000": 1..kMaxProbeFrequencies values in (0, kMaxProbeHz]. Error "bad_probe".
Result<std::vector<double>> ParseProbeFrequencies(std::string_view text);

}  // namespace plateau::terminal::client
