// Random datagrams into an inbound SrtpSession with a fixed key (what any sender on the network
// can do to a venue's port): unprotect as RTP or RTCP by the RFC 7983 classifier, then parse
// whatever authenticates. Also feeds the same bytes through protect on an outbound session.
#include <cstdint>
#include <memory>
#include <vector>

#include "plateau/mcu/rtp/classifier.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"

using namespace plateau::mcu;

namespace {

transport::SrtpKey FixedKey() {
  transport::SrtpKey key;
  for (size_t i = 0; i < key.material.size(); ++i) key.material[i] = static_cast<uint8_t>(i * 7);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One long-lived receiver (its replay state evolves across inputs, as on a real port).
  static auto in =
      transport::SrtpSession::Create(transport::SrtpSession::Direction::kInbound, FixedKey())
          .value();
  std::vector<uint8_t> buf(data, data + size);
  size_t plain = 0;
  switch (rtp::Classify(buf)) {
    case rtp::PacketKind::kRtp:
      if (in->UnprotectRtp(buf, &plain) == transport::SrtpStatus::kOk) {
        if (plain > size) __builtin_trap();
        (void)rtp::RtpPacket::Parse(std::span<const uint8_t>(buf.data(), plain));
      }
      break;
    case rtp::PacketKind::kRtcp:
      if (in->UnprotectRtcp(buf, &plain) == transport::SrtpStatus::kOk) {
        if (plain > size) __builtin_trap();
        (void)rtp::ParseRtcpCompound(std::span<const uint8_t>(buf.data(), plain));
      }
      break;
    default:
      break;
  }
  // Outbound: only packets that parse are protected by the transport; protect must not crash on
  // them, and what it produces must unprotect again (fresh sessions on both sides, so that the
  // rollover counters agree).
  if (const auto p = rtp::RtpPacket::Parse(std::span<const uint8_t>(data, size))) {
    auto out =
        transport::SrtpSession::Create(transport::SrtpSession::Direction::kOutbound, FixedKey())
            .value();
    std::vector<uint8_t> wire(data, data + size);
    if (out->ProtectRtp(&wire) == transport::SrtpStatus::kOk) {
      auto check =
          transport::SrtpSession::Create(transport::SrtpSession::Direction::kInbound, FixedKey());
      size_t n = 0;
      if ((*check)->UnprotectRtp(wire, &n) != transport::SrtpStatus::kOk || n != size) {
        __builtin_trap();
      }
      if (std::vector<uint8_t>(wire.begin(), wire.begin() + n) !=
          std::vector<uint8_t>(data, data + size)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
