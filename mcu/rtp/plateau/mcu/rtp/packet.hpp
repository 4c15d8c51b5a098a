// RTP packets (RFC 3550 section 5.1, header extensions RFC 8285).
//
// RtpPacket is a validated, read-only VIEW over bytes owned by the caller: Parse() checks the
// version, the CSRC list, the header extension (and each one-byte / two-byte element in it) and the
// padding against the real buffer before anything is read, and returns nullopt for anything
// malformed. It never throws or asserts on input. A view is only valid while its buffer lives.
//
// Forwarding rewrites the fixed header in place (RewriteRtpHeader); BuildRtpPacket writes a new
// packet (tests, the reference terminal, RTCP-less senders).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace plateau::mcu::rtp {

inline constexpr size_t kRtpFixedHeaderSize = 12;
// Largest packet we accept on a media port (an Ethernet-size datagram with room to spare; SRTP
// adds at most 16 bytes of tag). Larger datagrams are rejected as oversized.
inline constexpr size_t kMaxRtpPacketSize = 1500;

// RFC 8285 profiles: 0xBEDE one-byte elements, 0x100X two-byte elements.
inline constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteExtensionProfileMask = 0xFFF0;
inline constexpr uint16_t kTwoByteExtensionProfile = 0x1000;

// One RFC 8285 element: id 1..14 (one-byte) or 1..255 (two-byte); data points into the packet.
struct RtpExtensionElement {
  uint8_t id = 0;
  std::span<const uint8_t> data;
};

class RtpPacket {
 public:
  // Validates `data` completely; nullopt if it is not a well-formed RTP packet no larger than
  // kMaxRtpPacketSize. Elements of an RFC 8285 extension are validated too (an element running
  // past the extension block makes the packet malformed); other extension profiles are opaque.
  static std::optional<RtpPacket> Parse(std::span<const uint8_t> data);

  uint8_t payload_type() const { return data_[1] & 0x7F; }
  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint16_t sequence_number() const { return static_cast<uint16_t>(data_[2] << 8 | data_[3]); }
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  size_t csrc_count() const { return data_[0] & 0x0F; }
  uint32_t csrc(size_t index) const;  // index < csrc_count()

  bool has_extension() const { return (data_[0] & 0x10) != 0; }
  uint16_t extension_profile() const { return extension_profile_; }
  // The extension block after its 4-byte header (empty if none).
  std::span<const uint8_t> extension_data() const;
  // The RFC 8285 element with this id, if the profile is one-byte or two-byte and it is present.
  std::optional<std::span<const uint8_t>> FindExtension(uint8_t id) const;
  // All RFC 8285 elements in order (empty for other profiles).
  std::vector<RtpExtensionElement> ExtensionElements() const;

  size_t header_size() const { return header_size_; }  // fixed + CSRCs + extension
  std::span<const uint8_t> payload() const;            // without padding
  size_t padding_size() const { return padding_size_; }
  std::span<const uint8_t> data() const { return data_; }  // the whole packet
  size_t size() const { return data_.size(); }

 private:
  RtpPacket() = default;
  std::span<const uint8_t> data_;
  size_t header_size_ = 0;
  size_t extension_offset_ = 0;  // start of the extension block's data
  size_t extension_size_ = 0;    // bytes of extension data (excluding its 4-byte header)
  uint16_t extension_profile_ = 0;
  size_t padding_size_ = 0;
};

// Fields to change when forwarding; unset fields are kept.
struct RtpRewrite {
  std::optional<uint8_t> payload_type;  // 0..127
  std::optional<bool> marker;
  std::optional<uint16_t> sequence_number;
  std::optional<uint32_t> timestamp;
  std::optional<uint32_t> ssrc;
};

// Rewrites the fixed header of `packet` in place. Returns false (and changes nothing) if `packet`
// does not parse as RTP or a payload type above 127 is asked for.
bool RewriteRtpHeader(std::span<uint8_t> packet, const RtpRewrite& rewrite);

struct RtpHeader {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::vector<uint32_t> csrcs;  // at most 15
};

struct RtpBuildOptions {
  // RFC 8285 elements; one-byte form if every id is 1..14 and every size 1..16, else two-byte.
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> extensions;
  uint8_t padding = 0;  // bytes of padding to append (0 = none; the last byte holds the count)
};

// Writes a packet. Returns an empty vector if the input cannot be expressed (more than 15 CSRCs,
// PT > 127, extension id 0/15 in one-byte form, element over 255 bytes, result over
// kMaxRtpPacketSize).
std::vector<uint8_t> BuildRtpPacket(const RtpHeader& header, std::span<const uint8_t> payload,
                                    const RtpBuildOptions& options = {});

// Sequence-number arithmetic modulo 2^16 (RFC 1982 style).
inline bool IsNewerSequenceNumber(uint16_t a, uint16_t b) {
  return a != b && static_cast<uint16_t>(a - b) < 0x8000;
}
inline int SequenceNumberDistance(uint16_t from, uint16_t to) {  // signed, -32768..32767
  return static_cast<int16_t>(static_cast<uint16_t>(to - from));
}

}  // namespace plateau::mcu::rtp
