// SRTP keying values (RFC 3711, RFC 4568, RFC 7714): the protection profiles and a master key ||
// salt. Plain values with no outside library, shared by the a=crypto attribute
// (crypto_attribute.hpp, the leaf library plateau_mcu_crypto_attr) and SrtpSession (libsrtp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace plateau::mcu::transport {

enum class SrtpProfile {
  kAesCm128HmacSha1_80,  // RFC 4568 AES_CM_128_HMAC_SHA1_80 (the default)
  kAesCm128HmacSha1_32,  // RFC 4568 AES_CM_128_HMAC_SHA1_32 (RTP tag 4 bytes; SRTCP still 10)
  // RFC 7714 AEAD_AES_128_GCM: 16-byte tag on SRTP and SRTCP, 16-byte key + 12-byte salt. With
  // Debian's libsrtp2 (built on NSS) it costs a sixth of AES_CM + HMAC per packet (docs/bench.md),
  // so Plateau's own terminals offer it first.
  kAeadAes128Gcm,
};

std::string_view ToString(SrtpProfile profile);  // the RFC 4568 suite name

inline constexpr size_t kSrtpMasterKeyLength = 16;
inline constexpr size_t kSrtpMasterSaltLength = 14;  // AES_CM; AEAD_AES_128_GCM's salt is 12
// The longest keying material of any profile (AES_CM: 30 bytes; AEAD_AES_128_GCM: 28).
inline constexpr size_t kSrtpKeyingMaterialLength = kSrtpMasterKeyLength + kSrtpMasterSaltLength;
// Upper bound of what protect adds: a 16-byte GCM tag (+ 4-byte SRTCP index for RTCP).
inline constexpr size_t kSrtpMaxOverhead = 20;

// How many bytes of key || salt the profile uses (30 or 28).
size_t KeyingMaterialLength(SrtpProfile profile);

// Master key || master salt, as carried base64 in a=crypto "inline:" (RFC 4568, RFC 7714). Only
// the first KeyingMaterialLength(profile) bytes are used; the rest stay zero.
struct SrtpKey {
  SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80;
  std::array<uint8_t, kSrtpKeyingMaterialLength> material{};
  std::span<const uint8_t> bytes() const {
    return {material.data(), KeyingMaterialLength(profile)};
  }
  bool operator==(const SrtpKey&) const = default;
};

}  // namespace plateau::mcu::transport
