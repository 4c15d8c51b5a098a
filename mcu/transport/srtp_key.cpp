#include "plateau/mcu/transport/srtp_key.hpp"

namespace plateau::mcu::transport {

std::string_view ToString(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAesCm128HmacSha1_80:
      return "AES_CM_128_HMAC_SHA1_80";
    case SrtpProfile::kAesCm128HmacSha1_32:
      return "AES_CM_128_HMAC_SHA1_32";
    case SrtpProfile::kAeadAes128Gcm:
      return "AEAD_AES_128_GCM";
  }
  return "unknown";
}

size_t KeyingMaterialLength(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes128Gcm ? kSrtpMasterKeyLength + 12
                                                : kSrtpKeyingMaterialLength;
}

}  // namespace plateau::mcu::transport
