// Randomness, one source: libsodium's CSPRNG (randombytes_buf: getrandom(2) on Linux).
//
// The rule: anything an outsider must not guess comes from here: SSRCs, RTP initial sequence
// numbers and timestamps, session and resume ids, SDP session ids, tokens, salts, keys,
// certificate serials, and the RFC 3550 RTCP interval jitter too (it costs nothing to use one
// source). A seeded engine (std::mt19937 with a fixed seed) is kept only where reproducibility is
// the point: benchmarks and tests that replay the same "random" loss or traffic on every run. Never
// seed an engine from std::random_device in production code: that is a second, weaker source.
//
// Thread-safe: every function may be called from any thread at any time, with no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace plateau::random {

// Fills `out` with unpredictable bytes. Never fails (libsodium aborts if the kernel has no
// randomness to give, as there is nothing safe to carry on with).
void Bytes(std::span<unsigned char> out);

uint32_t U32();
uint64_t U64();
// A uniform value in [0, upper_bound) without modulo bias; 0 when upper_bound < 2.
uint32_t Below(uint32_t upper_bound);
// A uniform non-zero value: SSRCs and other ids where 0 means "none".
uint32_t NonZeroU32();
// `bytes` random bytes as lowercase hex (2 * bytes characters): session and resume ids.
std::string Hex(size_t bytes);

// A UniformRandomBitGenerator over U32(), for the <random> distributions
// (std::uniform_real_distribution for RTCP jitter, ...). Stateless, so one may be shared by
// threads without a lock.
struct Generator {
  using result_type = uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() const { return U32(); }
};

}  // namespace plateau::random
