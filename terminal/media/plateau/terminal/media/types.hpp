// Small value types shared by the reference terminal's sender, replay and receiver.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "plateau/common/result.hpp"

namespace plateau::terminal::media {

enum class MediaKind { kVideo, kAudio };

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;
  bool operator==(const Rgb&) const = default;
};

// "#RRGGBB", "RRGGBB" or "R,G,B" (0..255 each); error "bad_color".
Result<Rgb> ParseRgb(const std::string& text);
std::string FormatRgb(Rgb rgb);  // "#rrggbb"
// Largest absolute channel difference.
int ColorDistance(Rgb a, Rgb b);

// One outgoing RTP packet (plain RTP; the caller protects it with SRTP and sends it). `rtp` is
// valid only during the call.
using PacketCallback = std::function<void(MediaKind kind, std::span<const uint8_t> rtp)>;

// Identity of a sender's two RTP streams.
struct StreamIds {
  uint8_t video_payload_type = 96;   // H.264, packetization-mode 1
  uint8_t audio_payload_type = 111;  // Opus 48 kHz
  uint32_t video_ssrc = 0;           // 0: random
  uint32_t audio_ssrc = 0;           // 0: random
};

}  // namespace plateau::terminal::media
