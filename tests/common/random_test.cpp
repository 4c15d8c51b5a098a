// common/'s one source of unpredictable values (libsodium). Outcomes a caller relies on: lengths,
// alphabets, ranges, non-zero ids, and that two draws differ (a fixed or repeating source would
// fail these with overwhelming probability; 2^-64 per comparison for a working one).
#include "plateau/common/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>

namespace plateau::random {
namespace {

TEST(Random, BytesFillsTheWholeBufferWithFreshValues) {
  std::array<unsigned char, 32> a{}, b{};
  Bytes(a);
  Bytes(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<unsigned char, 32>{}));
  // The last byte is written too (a short fill would leave it zero in most of 64 tries).
  int last_nonzero = 0;
  for (int i = 0; i < 64; ++i) {
    std::array<unsigned char, 17> c{};
    Bytes(c);
    last_nonzero += c[16] != 0;
  }
  EXPECT_GT(last_nonzero, 48);
}

TEST(Random, WordsDoNotRepeat) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(U64());
  EXPECT_EQ(seen.size(), 1000u);
  std::set<uint32_t> seen32;
  for (int i = 0; i < 100; ++i) seen32.insert(U32());
  EXPECT_GE(seen32.size(), 99u);  // a 32-bit collision in 100 draws: about 1 in a million
}

TEST(Random, NonZeroIsNeverZeroAndBelowStaysBelow) {
  for (int i = 0; i < 1000; ++i) EXPECT_NE(NonZeroU32(), 0u);
  std::set<uint32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const uint32_t v = Below(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);  // every value is reachable
  EXPECT_EQ(Below(1), 0u);
  EXPECT_EQ(Below(0), 0u);
}

TEST(Random, HexIsLowercaseAndTwoCharactersPerByte) {
  const std::string h = Hex(16);
  ASSERT_EQ(h.size(), 32u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  EXPECT_NE(Hex(16), h);
  EXPECT_EQ(Hex(0), "");
}

TEST(Random, GeneratorDrivesStandardDistributions) {
  Generator g;
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  double lo = 2, hi = 0;
  for (int i = 0; i < 1000; ++i) {
    const double f = factor(g);
    ASSERT_GE(f, 0.5);
    ASSERT_LT(f, 1.5);
    lo = std::min(lo, f);
    hi = std::max(hi, f);
  }
  EXPECT_LT(lo, 0.6);
  EXPECT_GT(hi, 1.4);
}

}  // namespace
}  // namespace plateau::random
