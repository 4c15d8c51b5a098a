// SDP a=crypto attribute values (RFC 4568) as they arrive over signaling: parse; anything accepted
// is formatted and must parse back to the same key, tag and lifetime.
#include <cstdint>
#include <string_view>

#include "plateau/mcu/transport/crypto_attribute.hpp"

using namespace plateau::mcu::transport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto a = ParseCryptoAttribute(text);
  (void)Base64Decode(text);
  if (!a.ok()) {
    if (a.error().code.empty() || a.error().message.empty()) __builtin_trap();
    return 0;
  }
  const auto b = ParseCryptoAttribute(FormatCryptoAttribute(*a));
  if (!b.ok()) __builtin_trap();
  if (!(b->key == a->key) || b->tag != a->tag || b->lifetime != a->lifetime ||
      b->session_params != a->session_params) {
    __builtin_trap();
  }
  return 0;
}
