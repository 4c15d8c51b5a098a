#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::rtp {
namespace {

uint16_t Read16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t Read32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void Write16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Write32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

bool IsTwoByteProfile(uint16_t profile) {
  return (profile & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile;
}

// Walks RFC 8285 elements in `block`; calls fn(id, data) for each. Returns false if an element
// runs past the block. Id 0 is padding and skips one byte whatever the length bits say (as
// libwebrtc does); in the one-byte form id 15 ends the walk (RFC 8285 section 4.2).
template <typename Fn>
bool WalkElements(std::span<const uint8_t> block, bool two_byte, Fn&& fn) {
  size_t i = 0;
  while (i < block.size()) {
    if ((two_byte ? block[i] : block[i] >> 4) == 0) {  // padding
      ++i;
      continue;
    }
    uint8_t id;
    size_t len;
    if (two_byte) {
      if (i + 2 > block.size()) return false;
      id = block[i];
      len = block[i + 1];
      i += 2;
    } else {
      id = block[i] >> 4;
      len = static_cast<size_t>(block[i] & 0x0F) + 1;
      if (id == 15) return true;  // reserved: stop processing
      i += 1;
    }
    if (len > block.size() - i) return false;
    if (!fn(id, block.subspan(i, len))) return true;
    i += len;
  }
  return true;
}

}  // namespace

std::optional<RtpPacket> RtpPacket::Parse(std::span<const uint8_t> data) {
  if (data.size() < kRtpFixedHeaderSize || data.size() > kMaxRtpPacketSize) return std::nullopt;
  if ((data[0] >> 6) != 2) return std::nullopt;
  RtpPacket p;
  p.data_ = data;
  size_t offset = kRtpFixedHeaderSize;
  const size_t csrcs = data[0] & 0x0F;
  if (csrcs * 4 > data.size() - offset) return std::nullopt;
  offset += csrcs * 4;
  if (data[0] & 0x10) {
    if (data.size() - offset < 4) return std::nullopt;
    p.extension_profile_ = Read16(&data[offset]);
    const size_t words = Read16(&data[offset + 2]);
    offset += 4;
    if (words * 4 > data.size() - offset) return std::nullopt;
    p.extension_offset_ = offset;
    p.extension_size_ = words * 4;
    const bool one = p.extension_profile_ == kOneByteExtensionProfile;
    const bool two = IsTwoByteProfile(p.extension_profile_);
    if (one || two) {
      if (!WalkElements(data.subspan(offset, p.extension_size_), two,
                        [](uint8_t, std::span<const uint8_t>) { return true; })) {
        return std::nullopt;
      }
    }
    offset += p.extension_size_;
  }
  p.header_size_ = offset;
  if (data[0] & 0x20) {
    // Padding: the last byte counts the padding bytes, itself included; must be at least 1 and
    // must not reach into the header.
    if (offset >= data.size()) return std::nullopt;
    const size_t pad = data.back();
    if (pad == 0 || pad > data.size() - offset) return std::nullopt;
    p.padding_size_ = pad;
  }
  return p;
}

uint32_t RtpPacket::timestamp() const {
  return Read32(&data_[4]);
}
uint32_t RtpPacket::ssrc() const {
  return Read32(&data_[8]);
}
uint32_t RtpPacket::csrc(size_t index) const {
  if (index >= csrc_count()) return 0;
  return Read32(&data_[kRtpFixedHeaderSize + index * 4]);
}

std::span<const uint8_t> RtpPacket::extension_data() const {
  return data_.subspan(extension_offset_, extension_size_);
}

std::optional<std::span<const uint8_t>> RtpPacket::FindExtension(uint8_t id) const {
  const bool one = extension_profile_ == kOneByteExtensionProfile;
  const bool two = IsTwoByteProfile(extension_profile_);
  if (!has_extension() || (!one && !two) || id == 0) return std::nullopt;
  std::optional<std::span<const uint8_t>> found;
  WalkElements(extension_data(), two, [&](uint8_t eid, std::span<const uint8_t> d) {
    if (eid == id) {
      found = d;
      return false;
    }
    return true;
  });
  return found;
}

std::vector<RtpExtensionElement> RtpPacket::ExtensionElements() const {
  std::vector<RtpExtensionElement> out;
  const bool one = extension_profile_ == kOneByteExtensionProfile;
  const bool two = IsTwoByteProfile(extension_profile_);
  if (!has_extension() || (!one && !two)) return out;
  WalkElements(extension_data(), two, [&](uint8_t id, std::span<const uint8_t> d) {
    out.push_back({id, d});
    return true;
  });
  return out;
}

std::span<const uint8_t> RtpPacket::payload() const {
  return data_.subspan(header_size_, data_.size() - header_size_ - padding_size_);
}

bool RewriteRtpHeader(std::span<uint8_t> packet, const RtpRewrite& rewrite) {
  if (!RtpPacket::Parse(packet)) return false;
  if (rewrite.payload_type && *rewrite.payload_type > 127) return false;
  if (rewrite.payload_type) {
    packet[1] = static_cast<uint8_t>((packet[1] & 0x80) | *rewrite.payload_type);
  }
  if (rewrite.marker) {
    packet[1] = static_cast<uint8_t>((packet[1] & 0x7F) | (*rewrite.marker ? 0x80 : 0));
  }
  if (rewrite.sequence_number) Write16(&packet[2], *rewrite.sequence_number);
  if (rewrite.timestamp) Write32(&packet[4], *rewrite.timestamp);
  if (rewrite.ssrc) Write32(&packet[8], *rewrite.ssrc);
  return true;
}

std::vector<uint8_t> BuildRtpPacket(const RtpHeader& header, std::span<const uint8_t> payload,
                                    const RtpBuildOptions& options) {
  if (header.csrcs.size() > 15 || header.payload_type > 127) return {};
  std::vector<uint8_t> ext;
  uint16_t profile = 0;
  if (!options.extensions.empty()) {
    bool one_byte = true;
    for (const auto& [id, data] : options.extensions) {
      if (id == 0) return {};
      if (data.size() > 255) return {};
      if (id > 14 || data.empty() || data.size() > 16) one_byte = false;
    }
    profile = one_byte ? kOneByteExtensionProfile : kTwoByteExtensionProfile;
    for (const auto& [id, data] : options.extensions) {
      if (one_byte) {
        ext.push_back(static_cast<uint8_t>(id << 4 | (data.size() - 1)));
      } else {
        ext.push_back(id);
        ext.push_back(static_cast<uint8_t>(data.size()));
      }
      ext.insert(ext.end(), data.begin(), data.end());
    }
    while (ext.size() % 4 != 0) ext.push_back(0);
  }
  const size_t size = kRtpFixedHeaderSize + header.csrcs.size() * 4 +
                      (options.extensions.empty() ? 0 : 4 + ext.size()) + payload.size() +
                      options.padding;
  if (size > kMaxRtpPacketSize || ext.size() / 4 > 0xFFFF) return {};
  std::vector<uint8_t> out(size);
  out[0] = static_cast<uint8_t>(0x80 | (options.padding ? 0x20 : 0) |
                                (options.extensions.empty() ? 0 : 0x10) | header.csrcs.size());
  out[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0) | header.payload_type);
  Write16(&out[2], header.sequence_number);
  Write32(&out[4], header.timestamp);
  Write32(&out[8], header.ssrc);
  size_t o = kRtpFixedHeaderSize;
  for (uint32_t c : header.csrcs) {
    Write32(&out[o], c);
    o += 4;
  }
  if (!options.extensions.empty()) {
    Write16(&out[o], profile);
    Write16(&out[o + 2], static_cast<uint16_t>(ext.size() / 4));
    o += 4;
    std::copy(ext.begin(), ext.end(), out.begin() + static_cast<std::ptrdiff_t>(o));
    o += ext.size();
  }
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(o));
  o += payload.size();
  if (options.padding) out.back() = options.padding;
  return out;
}

}  // namespace plateau::mcu::rtp
