// RTCP compounds as they arrive after SRTCP: parse; anything accepted is rebuilt, and the rebuilt
// bytes must parse again to the same number of packets.
#include <cstdint>

#include "plateau/mcu/rtp/rtcp.hpp"

using namespace plateau::mcu::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto packets = ParseRtcpCompound(std::span<const uint8_t>(data, size));
  if (!packets) return 0;
  size_t known = 0;
  for (const auto& p : *packets) {
    if (!std::holds_alternative<UnknownRtcp>(p)) ++known;
    if (const auto* rr = std::get_if<ReceiverReport>(&p)) {
      for (const auto& block : rr->report_blocks) (void)RoundTripMs(block, 0x12345678);
    }
  }
  const auto rebuilt = BuildRtcpCompound(*packets);
  if (rebuilt.empty()) return 0;  // nothing writable (only unknown packets / empty NACK lists)
  const auto again = ParseRtcpCompound(rebuilt);
  // Rebuilt packets are always valid unless they grew past the size limit (NACK lists packed
  // differently can grow).
  if (!again && rebuilt.size() <= kMaxRtcpCompoundSize) __builtin_trap();
  if (again && again->size() > known) __builtin_trap();
  return 0;
}
