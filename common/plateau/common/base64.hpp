// Base64 (RFC 4648), one codec for the project: libsodium's constant-time sodium_bin2base64 /
// sodium_base642bin. SDES keys in a=crypto "inline:" use the standard alphabet with padding; venue
// tokens and their stored salts and digests use the URL-safe alphabet without padding.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plateau::base64 {

enum class Variant {
  kStandard,          // RFC 4648 section 4: A-Z a-z 0-9 + /, '=' padding
  kUrlSafeNoPadding,  // RFC 4648 section 5: A-Z a-z 0-9 - _, no padding
};

std::string Encode(std::span<const uint8_t> bytes, Variant variant = Variant::kStandard);

// Strict: the whole text must be base64 of `variant` (no spaces, no other alphabet, padding exactly
// as the variant requires); nullopt otherwise. "" decodes to no bytes.
std::optional<std::vector<uint8_t>> Decode(std::string_view text,
                                           Variant variant = Variant::kStandard);

}  // namespace plateau::base64
