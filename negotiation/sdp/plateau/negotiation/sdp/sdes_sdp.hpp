// SDP for SDES endpoints (the reference terminal and other non-DTLS venues): RTP/SAVP with
// `a=crypto` keys carried over the authenticated, encrypted signaling channel.
//
// The shape Plateau offers and answers (both sides, RFC 3264 + RFC 4568 + RFC 5761 + RFC 8843):
//   v=0 / o=- <id> <version> IN IP4 <address> / s=- / c=IN IP4 <address> / t=0 0
//   a=group:BUNDLE 0 1
//   m=video <port> RTP/SAVP <pt>      a=mid:0 a=rtpmap:<pt> H264/90000
//       a=fmtp:<pt> profile-level-id=42e01f;packetization-mode=1 (packetization-mode=1 required)
//       a=rtcp-fb:<pt> nack, nack pli, ccm fir   a=rtcp-mux
//       a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:...   a=sendrecv (or sendonly/recvonly/inactive)
//   m=audio <port> RTP/SAVP <pt>      a=mid:1 a=rtpmap:<pt> opus/48000/2  a=rtcp-mux  a=crypto:...
// The used m-lines (at most one video and one audio) share ONE 5-tuple (the same port: one
// VenueTransport per venue) and ONE key (the same a=crypto on both lines; a description with
// different keys per line is refused). Each used line has its own direction.
//
// An answer mirrors the offer's m-lines (RFC 3264 section 6): as many, in the same order, with the
// offer's mids; a line the server cannot use (another media type, a disabled line, a second video
// line, a line whose codecs or a=crypto suites are all unusable, plain RTP) is answered with port 0
// ("m=<media> 0 <proto> <first format>"), and left out of the answer's BUNDLE group.
// Pure C++ (no GStreamer): parsed from outside input, so it has a fuzz target (fuzz/signaling).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/mcu/transport/crypto_attribute.hpp"

namespace plateau::negotiation::sdp {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };

// What a description does with one of its m-lines.
enum class LineUse { kVideo, kAudio, kRejected };

// One m-line, in the description's order.
struct MediaLine {
  LineUse use = LineUse::kRejected;
  std::string mid;  // a=mid ("" = none); an answer carries the offer's
  // As offered: the media ("video", "audio", "application", ...) and the transport protocol. A
  // rejected line is written as "m=<media> 0 <proto> <format>" (RFC 3264 6: port 0; its formats
  // are ignored, one is kept because SDP needs one). Used lines are written in the shape above
  // from the description's payload type and direction; their `format` is empty.
  std::string media;
  std::string proto;
  std::string format;
  std::string reason;  // ParseSdes: why a line is rejected (for logs); never formatted
};

struct SdesDescription {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string address;                        // connection address (IPv4 literal)
  uint16_t port = 0;                          // shared by the used m-lines
  std::optional<uint8_t> video_payload_type;  // H.264 packetization-mode=1; nullopt = no video
  std::optional<uint8_t> audio_payload_type;  // Opus; nullopt = no audio
  // The direction of the video and of the audio line (RFC 3264 5.1, from the writer's side:
  // sendonly = the writer sends and does not receive). Meaningless for a kind without a line.
  Direction video_direction = Direction::kSendRecv;
  Direction audio_direction = Direction::kSendRecv;
  mcu::transport::CryptoAttribute crypto;  // the key the SENDER of this description uses
  // An offer's further a=crypto alternatives, written after `crypto` in preference order (RFC
  // 4568 7.1.1: the answerer picks one and echoes its tag). Distinct tags. ParseSdes leaves it
  // empty: `crypto` is the first usable alternative of what was parsed.
  std::vector<mcu::transport::CryptoAttribute> crypto_alternatives;
  // Every m-line in order. Empty = the default layout: video (mid 0) then audio (mid 1), each if
  // its payload type is set. When given it should name each used kind once (FormatSdes writes an
  // extra or payload-less kVideo/kAudio line as rejected, and appends a used kind it lacks).
  std::vector<MediaLine> lines;
  // The used lines form a BUNDLE group: "a=group:BUNDLE <their mids>" is written when every used
  // line has a mid. ParseSdes sets it when one a=group:BUNDLE names every used line's mid.
  bool bundle = true;

  void SetDirection(Direction d) { video_direction = audio_direction = d; }
};

// Parses an SDES offer or answer. Every m-line is kept in `lines`; the first usable m=video and
// m=audio lines are used, any other line is rejected (its reason says why): not audio/video, port
// 0, a profile other than RTP/SAVP, no H.264 (packetization-mode=1) / Opus (opus/48000/2) payload
// type, no a=crypto or none usable (unknown suite, bad key, weakening parameter), or a second line
// of a kind. Errors (code "bad_sdp", the message names the problem and line): not SDP, over 16 KiB,
// more than 32 m-lines, a malformed line, no usable m-line at all (the message lists each line's
// reason), and for the used lines: no rtcp-mux, different ports, addresses or keys, the same
// payload type for video and audio, no connection address, IPv6 / FQDN / multicast address; a
// malformed, duplicate or repeated a=mid. The full list is in docs/signaling.md ("Media
// negotiation").
Result<SdesDescription> ParseSdes(std::string_view sdp);

// Formats a description in the shape above (CRLF line ends).
std::string FormatSdes(const SdesDescription& description);

// The answer to `offer` (RFC 3264 section 6): the same m-lines in the same order with the same
// mids (rejected ones stay rejected: port 0), the offer's payload types, each used line's
// direction complemented (AnswerDirection), BUNDLE as offered. The caller fills in its own
// session id and version, address, port and crypto (with the offer's chosen tag).
SdesDescription AnswerTo(const SdesDescription& offer);

// True for a WebRTC (DTLS-SRTP) offer: UDP/TLS/RTP/SAVPF profile or an a=fingerprint line.
bool IsDtlsOffer(std::string_view sdp);

// Added by the negotiator (negotiation/conference): the value of the first a=fingerprint line
// ("sha-256 AB:CD:..."), or nullopt. A resumed browser that keeps its RTCPeerConnection offers the
// same fingerprint (ICE restart); a new one offers a new fingerprint (a new DTLS session).
std::optional<std::string> DtlsFingerprint(std::string_view sdp);

// Added: the direction an answerer puts in its answer to an offer with `offered` (RFC 3264 6.1).
Direction AnswerDirection(Direction offered);

// Added: "sendrecv", "sendonly", "recvonly", "inactive".
std::string_view ToString(Direction direction);

inline constexpr size_t kMaxSdesSdpBytes = 16 * 1024;
inline constexpr size_t kMaxSdesMediaLines = 32;

}  // namespace plateau::negotiation::sdp
