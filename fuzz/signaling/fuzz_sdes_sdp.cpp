// SDES SDP as venues send it in `offer` (and the server in `answer`): the parser must never crash
// or throw, every refusal is a "bad_sdp" error, and whatever it accepts must format and parse back
// to the same description (and format to the same text again).
#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/signaling/sdes_sdp.hpp"

namespace sdp = plateau::signaling::sdp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)sdp::IsDtlsOffer(text);
  (void)sdp::DtlsFingerprint(text);
  auto d = sdp::ParseSdes(text);
  if (!d.ok()) {
    if (d.error().code != "bad_sdp" || d.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (!d->video_payload_type && !d->audio_payload_type) __builtin_trap();
  const std::string once = sdp::FormatSdes(d.value());
  auto again = sdp::ParseSdes(once);
  if (!again.ok()) __builtin_trap();
  const auto& a = d.value();
  const auto& b = again.value();
  if (a.session_id != b.session_id || a.session_version != b.session_version ||
      a.address != b.address || a.port != b.port || a.video_payload_type != b.video_payload_type ||
      a.audio_payload_type != b.audio_payload_type || a.direction != b.direction ||
      !(a.crypto.key == b.crypto.key) || a.crypto.tag != b.crypto.tag)
    __builtin_trap();
  if (sdp::FormatSdes(b) != once) __builtin_trap();
  if (sdp::IsDtlsOffer(once)) __builtin_trap();
  return 0;
}
