#include "plateau/mcu/rtp/classifier.hpp"

namespace plateau::mcu::rtp {

PacketKind Classify(std::span<const uint8_t> data) {
  if (data.empty()) return PacketKind::kUnknown;
  const uint8_t b = data[0];
  // RFC 7983 section 7: [0..3] STUN, [16..19] ZRTP, [20..63] DTLS, [64..79] TURN channel,
  // [128..191] RTP/RTCP.
  if (b <= 3) return PacketKind::kStun;
  if (b >= 20 && b <= 63) return PacketKind::kDtls;
  if (b >= 128 && b <= 191) {
    if (data.size() < 2) return PacketKind::kUnknown;
    const uint8_t pt = data[1];
    if (pt >= 192 && pt <= 223) return PacketKind::kRtcp;
    return PacketKind::kRtp;
  }
  return PacketKind::kUnknown;
}

std::string_view ToString(PacketKind kind) {
  switch (kind) {
    case PacketKind::kRtp:
      return "rtp";
    case PacketKind::kRtcp:
      return "rtcp";
    case PacketKind::kDtls:
      return "dtls";
    case PacketKind::kStun:
      return "stun";
    case PacketKind::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace plateau::mcu::rtp
