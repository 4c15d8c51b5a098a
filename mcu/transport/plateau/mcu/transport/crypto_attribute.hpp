// SDES keying for SRTP (RFC 4568): the value of an SDP "a=crypto:" attribute, parsed and written.
//
//   1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4
//   ^tag ^crypto-suite             ^base64(key||salt)                        ^lifetime ^MKI:len
//
// Only one inline key per attribute is supported (the common case); a lifetime is accepted and
// kept; an MKI is refused ("crypto_mki": SrtpSession does not use MKIs). Session parameters are
// kept as text: WSH=, FEC_ORDER=, KDR=0 and optional ("-"-prefixed) ones are accepted; the ones
// that would weaken or change SRTP (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP,
// KDR=n>0, FEC_KEY=) and unknown mandatory ones are refused (RFC 4568 section 6.3).
// A plain value library (plateau_mcu_crypto_attr: std only, no libsrtp, libsodium or Asio), so the
// SDP library and its fuzzer stay pure C++. A fresh attribute with a random key is
// MakeCryptoAttribute in srtp_session.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/mcu/transport/srtp_key.hpp"

namespace plateau::mcu::transport {

struct CryptoAttribute {
  uint32_t tag = 1;                  // 1..999999999
  SrtpKey key;                       // suite + key||salt
  std::optional<uint64_t> lifetime;  // packets (2^n or decimal), if given
  std::vector<std::string> session_params;
};

// Parses the attribute VALUE (what follows "a=crypto:"; a leading "a=crypto:" is tolerated; at
// most 1024 characters).
// Error codes: "crypto_syntax" (tag, fields), "crypto_suite" (unknown or unsupported suite),
// "crypto_key" (not inline:, bad base64, wrong key length, several keys), "crypto_lifetime",
// "crypto_mki", "crypto_param" (a refused session parameter). Messages name the problem.
Result<CryptoAttribute> ParseCryptoAttribute(std::string_view value);

// Writes the attribute value, e.g. "1 AES_CM_128_HMAC_SHA1_80 inline:...".
std::string FormatCryptoAttribute(const CryptoAttribute& attribute);

// Standard base64 (RFC 4648 with padding), as used by "inline:".
std::string Base64Encode(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace plateau::mcu::transport
