// First-byte demultiplexing of everything that can arrive on one media UDP port (RFC 7983 /
// RFC 5764 section 5.1.2), with RTP and RTCP told apart on an rtcp-mux port by the RTCP packet
// type range of RFC 5761 section 4 (192..223). This is the cheap first stage: it looks at no more
// than two bytes and does not validate; the parsers in packet.hpp / rtcp.hpp do that.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace plateau::mcu::rtp {

enum class PacketKind {
  kRtp,      // first byte 128..191, second byte (M bit + PT) outside 192..223
  kRtcp,     // first byte 128..191 and second byte 192..223 (SR, RR, SDES, BYE, APP, RTPFB, ...)
  kDtls,     // first byte 20..63
  kStun,     // first byte 0..3
  kUnknown,  // anything else (ZRTP 16..19, TURN channels 64..79, empty, one byte, ...)
};

PacketKind Classify(std::span<const uint8_t> data);

std::string_view ToString(PacketKind kind);

}  // namespace plateau::mcu::rtp
