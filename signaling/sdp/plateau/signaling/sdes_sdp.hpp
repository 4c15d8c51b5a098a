// SDP for SDES endpoints (the reference terminal and other non-DTLS venues): RTP/SAVP with
// `a=crypto` keys carried over the authenticated, encrypted signaling channel.
//
// The shape Plateau offers and answers (both sides, RFC 4568 + RFC 5761 + RFC 8843 semantics):
//   v=0 / o=- <id> <version> IN IP4 <address> / s=- / c=IN IP4 <address> / t=0 0
//   a=group:BUNDLE 0 1
//   m=video <port> RTP/SAVP <pt>      a=mid:0 a=rtpmap:<pt> H264/90000
//       a=fmtp:<pt> profile-level-id=42e01f;packetization-mode=1 (packetization-mode=1 required)
//       a=rtcp-fb:<pt> nack, nack pli, ccm fir   a=rtcp-mux
//       a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:...   a=sendrecv (or sendonly/recvonly/inactive)
//   m=audio <port> RTP/SAVP <pt>      a=mid:1 a=rtpmap:<pt> opus/48000/2  a=rtcp-mux  a=crypto:...
// Both m-lines share ONE 5-tuple (the same port: one VenueTransport per venue) and ONE key (the
// same a=crypto on both lines; a description with different keys per line is refused).
// Pure C++ (no GStreamer): parsed from outside input, so it has a fuzz target (fuzz/signaling).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/mcu/transport/crypto_attribute.hpp"

namespace plateau::signaling::sdp {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };

struct SdesDescription {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string address;                        // connection address (IPv4 literal)
  uint16_t port = 0;                          // shared by both m-lines; 0 = media rejected
  std::optional<uint8_t> video_payload_type;  // H.264 packetization-mode=1; nullopt = no video
  std::optional<uint8_t> audio_payload_type;  // Opus; nullopt = no audio
  Direction direction = Direction::kSendRecv;
  mcu::transport::CryptoAttribute crypto;  // the key the SENDER of this description uses
};

// Parses an SDES offer or answer. Errors (code "bad_sdp", the message names the problem and line):
// not SDP, over 16 KiB, no usable media, not RTP/SAVP, a=crypto missing or invalid or differing
// between lines, different ports, no rtcp-mux, H.264 without packetization-mode=1, IPv6 / FQDN
// address. Offered codecs other than H.264 and Opus are ignored (the first usable PT is chosen).
// m-lines with port 0 are skipped, so a description whose every line has port 0 is refused ("no
// usable media"): FormatSdes of a port-0 description does not parse back. The full list of
// refusals is in docs/signaling.md ("Media negotiation").
Result<SdesDescription> ParseSdes(std::string_view sdp);

// Formats a description in the shape above (CRLF line ends).
std::string FormatSdes(const SdesDescription& description);

// True for a WebRTC (DTLS-SRTP) offer: UDP/TLS/RTP/SAVPF profile or an a=fingerprint line.
bool IsDtlsOffer(std::string_view sdp);

// Added by the negotiator (signaling/media): the value of the first a=fingerprint line
// ("sha-256 AB:CD:..."), or nullopt. A resumed browser that keeps its RTCPeerConnection offers the
// same fingerprint (ICE restart); a new one offers a new fingerprint (a new DTLS session).
std::optional<std::string> DtlsFingerprint(std::string_view sdp);

// Added: the direction an answerer puts in its answer to an offer with `offered` (RFC 3264 6.1).
Direction AnswerDirection(Direction offered);

// Added: "sendrecv", "sendonly", "recvonly", "inactive".
std::string_view ToString(Direction direction);

inline constexpr size_t kMaxSdesSdpBytes = 16 * 1024;

}  // namespace plateau::signaling::sdp
