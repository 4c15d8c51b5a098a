// What a VenueTransport counts (VenueTransport::GetStats), and the media kinds it carries. Apart
// from venue_transport.hpp so that the conference's API (conference.hpp) reports them without
// taking on Boost.Asio.
#pragma once

#include <cstdint>
#include <vector>

namespace plateau::mcu::transport {

enum class MediaKind { kAudio, kVideo };

struct InboundStreamStats {
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  MediaKind kind = MediaKind::kAudio;
  uint64_t packets = 0;
  uint64_t bytes = 0;        // RTP payload bytes
  int64_t lost = 0;          // RFC 3550 cumulative lost (expected - received)
  double fraction_lost = 0;  // 0..1, as in our last report block
  double jitter_ms = 0;      // interarrival jitter
  uint32_t extended_highest_seq = 0;
  uint64_t nack_seqs_sent = 0;  // sequence numbers asked for
  uint64_t recovered = 0;       // gaps filled after being seen missing
  uint64_t given_up = 0;        // missing packets abandoned (too old / too many retries)
};

struct OutboundStreamStats {
  uint32_t ssrc = 0;
  MediaKind kind = MediaKind::kAudio;
  uint64_t packets = 0;
  uint64_t bytes = 0;       // RTP payload bytes (as in the SR octet count)
  int64_t remote_lost = 0;  // from the venue's last report block about this SSRC
  double remote_fraction_lost = 0;
  double remote_jitter_ms = 0;
  uint64_t retransmitted = 0;
};

struct VenueTransportStats {
  // Media (RTP) that passed every check, and what we sent; bytes are UDP payload bytes on the wire.
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  uint64_t rtcp_in = 0;  // authenticated, well-formed RTCP compounds
  uint64_t rtcp_out = 0;
  // Reception quality, summed (lost) or worst (fraction, jitter) over inbound streams.
  int64_t lost = 0;
  double fraction_lost = 0;
  double jitter_ms = 0;
  // Round-trip time from the venue's report blocks (LSR/DLSR), latest; negative = not measured.
  double rtt_ms = -1;
  // Loss the venue reports about what we send (sum over our SSRCs).
  int64_t remote_lost = 0;
  // Feedback.
  uint64_t nacks_sent = 0;      // NACK packets sent
  uint64_t nack_seqs_sent = 0;  // sequence numbers asked for
  uint64_t nacks_received = 0;
  uint64_t nack_seqs_received = 0;
  uint64_t retransmitted = 0;      // packets resent from history
  uint64_t retransmit_missed = 0;  // asked for but no longer (or never) in history
  uint64_t recovered = 0;          // inbound gaps filled
  uint64_t plis_sent = 0;
  uint64_t plis_received = 0;
  uint64_t firs_sent = 0;
  uint64_t firs_received = 0;
  uint64_t rembs_received = 0;
  // Drops (each inbound datagram lands in at most one of these).
  uint64_t dropped_malformed = 0;       // truncated/oversized/invalid RTP or RTCP after SRTP
  uint64_t dropped_auth = 0;            // SRTP/SRTCP authentication failed (also plain RTP)
  uint64_t dropped_replay = 0;          // replayed or too old for the replay window
  uint64_t dropped_unknown = 0;         // not RTP/RTCP (STUN, DTLS, garbage) per RFC 7983
  uint64_t dropped_foreign_source = 0;  // from an address other than the remote (latch off)
  uint64_t dropped_unknown_pt = 0;      // authenticated RTP with a payload type not configured
  uint64_t dropped_stream_limit = 0;    // a new SSRC beyond max_inbound_streams
  // Outbound problems.
  uint64_t send_dropped_invalid = 0;    // SendRtp given something that is not RTP
  uint64_t send_dropped_no_remote = 0;  // nothing to send to yet
  uint64_t send_errors = 0;             // protect or socket errors
  std::vector<InboundStreamStats> inbound;
  std::vector<OutboundStreamStats> outbound;
};

}  // namespace plateau::mcu::transport
