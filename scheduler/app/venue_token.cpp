#include "plateau/scheduler/app/venue_token.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

#include "plateau/common/base64.hpp"
#include "plateau/common/random.hpp"

namespace plateau::scheduler::app {
namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kSaltBytes = 16;
constexpr size_t kDigestBytes = 32;
constexpr auto kVariant = base64::Variant::kUrlSafeNoPadding;

void EnsureSodium() {
  // sodium_init is thread-safe and idempotent; a failure means no usable randomness at all.
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::string ToBase64(const unsigned char* data, size_t n) {
  return base64::Encode({data, n}, kVariant);
}

bool FromBase64(std::string_view text, std::vector<unsigned char>* out, size_t expected) {
  auto bytes = base64::Decode(text, kVariant);
  if (!bytes || bytes->size() != expected) return false;
  *out = std::move(*bytes);
  return true;
}

void Digest(std::string_view token, const unsigned char* salt, unsigned char* digest) {
  crypto_generichash(digest, kDigestBytes, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), salt, kSaltBytes);
}

}  // namespace

std::string NewVenueToken() {
  EnsureSodium();
  unsigned char raw[kTokenBytes];
  random::Bytes(raw);
  std::string token = "pvt_" + ToBase64(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  return token;
}

std::string HashVenueToken(std::string_view token) {
  EnsureSodium();
  unsigned char salt[kSaltBytes];
  random::Bytes(salt);
  unsigned char digest[kDigestBytes];
  Digest(token, salt, digest);
  return "blake2b$" + ToBase64(salt, sizeof salt) + "$" + ToBase64(digest, sizeof digest);
}

bool VenueTokenMatches(std::string_view stored, std::string_view token) {
  EnsureSodium();
  constexpr std::string_view kPrefix = "blake2b$";
  if (stored.substr(0, kPrefix.size()) != kPrefix) return false;
  stored.remove_prefix(kPrefix.size());
  const size_t dollar = stored.find('$');
  if (dollar == std::string_view::npos) return false;
  std::vector<unsigned char> salt, expected;
  if (!FromBase64(stored.substr(0, dollar), &salt, kSaltBytes) ||
      !FromBase64(stored.substr(dollar + 1), &expected, kDigestBytes))
    return false;
  unsigned char digest[kDigestBytes];
  Digest(token, salt.data(), digest);
  return sodium_memcmp(digest, expected.data(), kDigestBytes) == 0;
}

}  // namespace plateau::scheduler::app
