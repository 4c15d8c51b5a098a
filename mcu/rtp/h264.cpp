#include "plateau/mcu/rtp/h264.hpp"

namespace plateau::mcu::rtp {
namespace {

constexpr size_t kMaxNalTypesKept = 16;

bool Carriable(uint8_t type) {
  return type >= 1 && type <= 23;
}

void Note(H264PayloadInfo* info, uint8_t type) {
  if (info->nal_types.size() < kMaxNalTypesKept) info->nal_types.push_back(type);
  if (type == h264::kSps) info->has_sps = true;
  if (type == h264::kPps) info->has_pps = true;
  if (type == h264::kIdr) info->has_idr = true;
}

}  // namespace

std::optional<H264PayloadInfo> InspectH264Payload(std::span<const uint8_t> payload) {
  if (payload.empty()) return std::nullopt;
  const uint8_t header = payload[0];
  if (header & 0x80) return std::nullopt;  // forbidden_zero_bit
  const uint8_t type = header & 0x1F;
  H264PayloadInfo info;
  if (Carriable(type)) {
    info.packetization = H264PayloadInfo::Packetization::kSingleNal;
    info.fragment_start = info.fragment_end = true;
    Note(&info, type);
  } else if (type == h264::kStapA) {
    // STAP-A: header, then (16-bit size, NAL unit) pairs filling the payload exactly.
    info.packetization = H264PayloadInfo::Packetization::kStapA;
    info.fragment_start = info.fragment_end = true;
    size_t o = 1;
    if (o == payload.size()) return std::nullopt;  // an aggregation of nothing
    while (o < payload.size()) {
      if (payload.size() - o < 2) return std::nullopt;
      const size_t size = static_cast<size_t>(payload[o] << 8 | payload[o + 1]);
      o += 2;
      if (size == 0 || size > payload.size() - o) return std::nullopt;
      const uint8_t nal = payload[o];
      if (nal & 0x80) return std::nullopt;
      const uint8_t nal_type = nal & 0x1F;
      if (!Carriable(nal_type)) return std::nullopt;
      Note(&info, nal_type);
      o += size;
    }
  } else if (type == h264::kFuA) {
    // FU-A: FU indicator, FU header (S, E, R, type), fragment data.
    if (payload.size() < 3) return std::nullopt;
    info.packetization = H264PayloadInfo::Packetization::kFuA;
    const uint8_t fu = payload[1];
    info.fragment_start = (fu & 0x80) != 0;
    info.fragment_end = (fu & 0x40) != 0;
    if (info.fragment_start && info.fragment_end) return std::nullopt;  // RFC 6184 5.8
    const uint8_t nal_type = fu & 0x1F;
    if (!Carriable(nal_type)) return std::nullopt;
    Note(&info, nal_type);
    // Only the first fragment starts anything; later fragments of an IDR are not a start.
    info.keyframe_start = info.fragment_start && (info.has_idr || info.has_sps);
    return info;
  } else {
    return std::nullopt;  // 0, STAP-B, MTAP16, MTAP24, FU-B, 30, 31
  }
  info.keyframe_start = info.has_sps || info.has_idr;
  return info;
}

bool IsH264KeyframeStart(std::span<const uint8_t> payload) {
  const auto info = InspectH264Payload(payload);
  return info && info->keyframe_start;
}

}  // namespace plateau::mcu::rtp
