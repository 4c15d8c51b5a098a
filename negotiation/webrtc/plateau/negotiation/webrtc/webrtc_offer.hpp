// What Plateau needs to know about a browser's WebRTC offer before handing it to webrtcbin: which
// m-line carries H.264 (packetization-mode 1, constrained baseline preferred) and which Opus, with
// their payload types and mids, and that the offer is usable for a DTLS-SRTP, BUNDLE, rtcp-mux
// session. Parsed with GstSdp (gstreamer-sdp-1.0); the checks are ours. Outside input: fuzzed
// (fuzz/signaling, target webrtc_offer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::negotiation::webrtc {

inline constexpr size_t kMaxOfferBytes = 48 * 1024;  // the signaling protocol's SDP limit
inline constexpr size_t kMaxOfferMedia = 16;

struct OfferedCodec {
  int mline = -1;   // index of the m-line
  std::string mid;  // its a=mid
  uint8_t payload_type = 0;
  // H.264 only: the offered profile-level-id (e.g. "42e01f") for that payload type.
  std::string profile_level_id;
};

struct OfferSummary {
  OfferedCodec video;             // H.264 packetization-mode=1
  OfferedCodec audio;             // opus/48000/2
  std::vector<std::string> mids;  // a=mid of every m-line, by index ("" if absent)
  std::string ice_ufrag;          // of the bundled transport (the first bundled m-line)
  // Its a=fingerprint ("sha-256 AB:CD:..."): the same in a later offer = the same peer
  // connection (an ICE restart); a different one = a new peer connection (DTLS anew).
  std::string fingerprint;
};

// Checks a browser's offer. Errors (code "bad_sdp", with a message a person can act on): not SDP
// or over kMaxOfferBytes, more than kMaxOfferMedia m-lines, no DTLS fingerprint or not
// UDP/TLS/RTP/SAVPF, no ICE credentials, no video m-line with H.264 packetization-mode=1, no audio
// m-line with opus/48000/2, the H.264 and Opus m-lines not in one BUNDLE group, no rtcp-mux.
// Among several H.264 payload types: constrained baseline (profile-idc 42, constraint bit 0x40)
// first, then plain baseline, then any other profile; ties keep the offer's order.
Result<OfferSummary> AnalyzeOffer(std::string_view sdp);

}  // namespace plateau::negotiation::webrtc
