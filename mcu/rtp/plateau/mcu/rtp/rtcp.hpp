// RTCP compound packets: parsing and building (RFC 3550 section 6, RFC 4585 feedback, RFC 5104
// FIR, draft-alvestrand-rmcat-remb REMB).
//
// ParseRtcpCompound validates the whole datagram before returning anything: every packet's version,
// its length field against the remaining bytes, its padding, and every count inside it (report
// blocks, SDES chunks and items, BYE SSRCs and reason, FCI entries) against the packet's own
// length. Any violation rejects the whole compound (nullopt); it never throws or asserts. Packet
// types we do not interpret (APP, XR, other feedback formats) are kept as UnknownRtcp so the
// caller can count them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace plateau::mcu::rtp {

inline constexpr uint8_t kRtcpSr = 200;
inline constexpr uint8_t kRtcpRr = 201;
inline constexpr uint8_t kRtcpSdes = 202;
inline constexpr uint8_t kRtcpBye = 203;
inline constexpr uint8_t kRtcpApp = 204;
inline constexpr uint8_t kRtcpRtpfb = 205;  // FMT 1 = generic NACK
inline constexpr uint8_t kRtcpPsfb = 206;   // FMT 1 = PLI, 4 = FIR, 15 = application layer (REMB)
inline constexpr size_t kMaxReportBlocks = 31;

// 64-bit NTP timestamp (RFC 3550 section 4).
struct NtpTime {
  uint32_t seconds = 0;
  uint32_t fraction = 0;
  // The middle 32 bits, as carried in LSR.
  uint32_t Compact() const { return (seconds << 16) | (fraction >> 16); }
  // From microseconds since the Unix epoch.
  static NtpTime FromUnixMicros(int64_t micros);
};

// One reception report block (RFC 3550 section 6.4.1).
struct ReportBlock {
  uint32_t ssrc = 0;                  // the source this block reports on
  uint8_t fraction_lost = 0;          // fixed point /256 since the previous report
  int32_t cumulative_lost = 0;        // 24-bit signed on the wire (clamped when built)
  uint32_t extended_highest_seq = 0;  // cycles << 16 | highest seq
  uint32_t jitter = 0;                // interarrival jitter in RTP timestamp units
  uint32_t last_sr = 0;               // LSR: compact NTP of the last SR received from ssrc
  uint32_t delay_since_last_sr = 0;   // DLSR in 1/65536 s
  bool operator==(const ReportBlock&) const = default;
};

struct SenderReport {
  uint32_t ssrc = 0;
  NtpTime ntp;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31
};

struct SdesChunk {
  uint32_t ssrc = 0;
  std::string cname;  // the CNAME item (other items are validated and skipped); may be empty
};

struct Sdes {
  std::vector<SdesChunk> chunks;  // at most 31
};

struct Bye {
  std::vector<uint32_t> ssrcs;  // at most 31
  std::string reason;
};

// RTPFB FMT 1 (RFC 4585 section 6.2.1). `sequence_numbers` is the expanded PID/BLP list.
struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::vector<uint16_t> sequence_numbers;
};

// PSFB FMT 1 (RFC 4585 section 6.3.1).
struct Pli {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
};

// PSFB FMT 4 (RFC 5104 section 4.3.1).
struct Fir {
  struct Entry {
    uint32_t ssrc = 0;
    uint8_t sequence_number = 0;
  };
  uint32_t sender_ssrc = 0;
  std::vector<Entry> entries;
};

// PSFB FMT 15 with the "REMB" identifier.
struct Remb {
  uint32_t sender_ssrc = 0;
  uint64_t bitrate_bps = 0;
  std::vector<uint32_t> ssrcs;
};

// A well-formed packet whose type/format we do not interpret.
struct UnknownRtcp {
  uint8_t packet_type = 0;
  uint8_t format = 0;  // the 5-bit count/FMT field
};

using RtcpPacket =
    std::variant<SenderReport, ReceiverReport, Sdes, Bye, Nack, Pli, Fir, Remb, UnknownRtcp>;

// Parses a compound (or a single, RFC 5506 reduced-size) RTCP datagram. nullopt when anything in it
// is malformed, when it is empty, or larger than kMaxRtcpCompoundSize.
inline constexpr size_t kMaxRtcpCompoundSize = 1500;
std::optional<std::vector<RtcpPacket>> ParseRtcpCompound(std::span<const uint8_t> data);

// Serialises packets back to back into one compound datagram. Vectors larger than the wire allows
// (more than 31 report blocks / chunks / SSRCs, a CNAME over 255 bytes) are truncated to what fits;
// cumulative_lost is clamped to the 24-bit signed range. A NACK list is packed into PID/BLP pairs.
std::vector<uint8_t> BuildRtcpCompound(std::span<const RtcpPacket> packets);

// Convenience for the common single-packet case.
inline std::vector<uint8_t> BuildRtcp(const RtcpPacket& packet) {
  return BuildRtcpCompound(std::span<const RtcpPacket>(&packet, 1));
}

// Round-trip time from a report block that a remote sent about one of our streams, given the
// compact NTP time at which the block arrived (RFC 3550 section 6.4.1). nullopt when the block
// carries no LSR (the remote has not yet received an SR from us) or the result is negative.
std::optional<double> RoundTripMs(const ReportBlock& block, uint32_t arrival_compact_ntp);

}  // namespace plateau::mcu::rtp
