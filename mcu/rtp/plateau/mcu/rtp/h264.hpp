// H.264 RTP payload inspection (RFC 6184, packetization-mode 0 and 1): which NAL units a payload
// carries (single NAL unit, STAP-A aggregation, FU-A fragments) and whether it starts a keyframe.
// Cheap and bounded: used to drop a venue's video until a keyframe and to notice keyframes of
// venues that are not decoded. Validates every aggregation length against the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace plateau::mcu::rtp {

namespace h264 {
inline constexpr uint8_t kSlice = 1;
inline constexpr uint8_t kIdr = 5;
inline constexpr uint8_t kSei = 6;
inline constexpr uint8_t kSps = 7;
inline constexpr uint8_t kPps = 8;
inline constexpr uint8_t kAud = 9;
inline constexpr uint8_t kStapA = 24;
inline constexpr uint8_t kFuA = 28;
}  // namespace h264

struct H264PayloadInfo {
  enum class Packetization { kSingleNal, kStapA, kFuA };
  Packetization packetization = Packetization::kSingleNal;
  // NAL unit types present (for FU-A: the fragmented unit's type), in order, at most 16 kept.
  std::vector<uint8_t> nal_types;
  bool fragment_start = false;  // FU-A S bit (true for non-fragmented payloads)
  bool fragment_end = false;    // FU-A E bit (true for non-fragmented payloads)
  bool has_sps = false;
  bool has_pps = false;
  bool has_idr = false;
  // This payload begins a keyframe: it holds an SPS or an IDR NAL unit, or is the first fragment
  // of an IDR unit.
  bool keyframe_start = false;
};

// nullopt for an empty payload, a forbidden-zero bit set, a NAL type we cannot carry (0, 25..27,
// 29..31: STAP-B, MTAP, FU-B are not used with packetization-mode 1), or an aggregation whose
// lengths do not fit.
std::optional<H264PayloadInfo> InspectH264Payload(std::span<const uint8_t> payload);

// Shorthand for InspectH264Payload(payload)->keyframe_start (false if malformed).
bool IsH264KeyframeStart(std::span<const uint8_t> payload);

}  // namespace plateau::mcu::rtp
