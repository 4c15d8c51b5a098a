// RTP as it arrives after SRTP: parse (every accessor), H.264 inspection of the payload, rewrite
// in place, and check that a rewrite keeps the packet valid and changes only the fixed header.
#include <cstdint>
#include <cstring>
#include <vector>

#include "plateau/mcu/rtp/classifier.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"

using namespace plateau::mcu::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)Classify(in);
  const auto p = RtpPacket::Parse(in);
  if (!p) {
    std::vector<uint8_t> copy(data, data + size);
    RtpRewrite r;
    r.sequence_number = 1;
    if (RewriteRtpHeader(copy, r)) __builtin_trap();  // rewrite must refuse what parse refuses
    return 0;
  }
  size_t sum = p->payload_type() + p->marker() + p->sequence_number() + p->timestamp() + p->ssrc();
  for (size_t i = 0; i < p->csrc_count(); ++i) sum += p->csrc(i);
  for (const auto& e : p->ExtensionElements()) {
    const auto found = p->FindExtension(e.id);
    if (!found) __builtin_trap();
    sum += e.data.size();
  }
  if (p->header_size() + p->payload().size() + p->padding_size() != size) __builtin_trap();
  (void)InspectH264Payload(p->payload());
  (void)sum;

  std::vector<uint8_t> copy(data, data + size);
  RtpRewrite r;
  r.sequence_number = static_cast<uint16_t>(p->sequence_number() + 1);
  r.timestamp = p->timestamp() ^ 0xffffffffu;
  r.ssrc = 0x12345678;
  r.payload_type = static_cast<uint8_t>((p->payload_type() + 1) & 0x7f);
  r.marker = !p->marker();
  if (!RewriteRtpHeader(copy, r)) __builtin_trap();
  const auto q = RtpPacket::Parse(copy);
  if (!q || q->ssrc() != 0x12345678 || q->payload().size() != p->payload().size()) __builtin_trap();
  if (std::memcmp(copy.data() + 12, data + 12, size - 12) != 0) __builtin_trap();
  return 0;
}
