#include "plateau/common/random.hpp"

#include <sodium.h>

#include <stdexcept>

namespace plateau::random {
namespace {

// sodium_init is thread-safe and idempotent; randombytes works before it on Linux, but the library
// asks for it once before any use.
void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium could not be initialised");
}

}  // namespace

void Bytes(std::span<unsigned char> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

uint32_t U32() {
  EnsureSodium();
  return randombytes_random();
}

uint64_t U64() {
  uint64_t v = 0;
  Bytes({reinterpret_cast<unsigned char*>(&v), sizeof v});
  return v;
}

uint32_t Below(uint32_t upper_bound) {
  EnsureSodium();
  return randombytes_uniform(upper_bound);
}

uint32_t NonZeroU32() {
  uint32_t v = 0;
  while (v == 0) v = U32();
  return v;
}

std::string Hex(size_t bytes) {
  std::string raw(bytes, '\0');
  Bytes({reinterpret_cast<unsigned char*>(raw.data()), raw.size()});
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  out.pop_back();  // the terminating NUL
  return out;
}

}  // namespace plateau::random
