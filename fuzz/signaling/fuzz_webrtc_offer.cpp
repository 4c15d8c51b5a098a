// A browser's WebRTC offer as it arrives in `offer`
// (negotiation/webrtc/plateau/negotiation/webrtc/webrtc_offer.hpp): the check never crashes or
// throws, every refusal is a "bad_sdp" error with a message, and what it accepts names m-lines that
// exist, with a mid, distinct for video and audio, in one BUNDLE transport.
#include <cstdint>
#include <string_view>

#include "plateau/negotiation/webrtc/webrtc_offer.hpp"

namespace webrtc = plateau::negotiation::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = webrtc::AnalyzeOffer(text);
  if (!r.ok()) {
    if (r.error().code != "bad_sdp" || r.error().message.empty()) __builtin_trap();
    return 0;
  }
  const auto& o = r.value();
  const int n = static_cast<int>(o.mids.size());
  if (n == 0 || n > static_cast<int>(webrtc::kMaxOfferMedia)) __builtin_trap();
  for (const auto* c : {&o.video, &o.audio}) {
    if (c->mline < 0 || c->mline >= n || c->mid.empty() || o.mids[c->mline] != c->mid)
      __builtin_trap();
    if (c->payload_type > 127) __builtin_trap();
  }
  if (o.video.mline == o.audio.mline) __builtin_trap();
  if (o.video.profile_level_id.size() != 6 || o.ice_ufrag.empty() || o.fingerprint.empty())
    __builtin_trap();
  return 0;
}
