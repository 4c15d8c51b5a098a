// common/'s one base64: RFC 4648 test vectors in both alphabets, strict decoding.
#include "plateau/common/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plateau::base64 {
namespace {

std::vector<uint8_t> B(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(Base64, EncodesTheRfc4648TestVectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(Encode(B("")), "");
  EXPECT_EQ(Encode(B("f")), "Zg==");
  EXPECT_EQ(Encode(B("fo")), "Zm8=");
  EXPECT_EQ(Encode(B("foo")), "Zm9v");
  EXPECT_EQ(Encode(B("foob")), "Zm9vYg==");
  EXPECT_EQ(Encode(B("fooba")), "Zm9vYmE=");
  EXPECT_EQ(Encode(B("foobar")), "Zm9vYmFy");
  EXPECT_EQ(Encode(B("f"), Variant::kUrlSafeNoPadding), "Zg");
  EXPECT_EQ(Encode(B("fooba"), Variant::kUrlSafeNoPadding), "Zm9vYmE");
}

TEST(Base64, TheTwoAlphabetsDifferOnlyInTheLastTwoCharacters) {
  const std::vector<uint8_t> bytes = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Encode(bytes), "+/+/");
  EXPECT_EQ(Encode(bytes, Variant::kUrlSafeNoPadding), "-_-_");
  EXPECT_EQ(*Decode("+/+/"), bytes);
  EXPECT_EQ(*Decode("-_-_", Variant::kUrlSafeNoPadding), bytes);
  EXPECT_FALSE(Decode("-_-_"));
  EXPECT_FALSE(Decode("+/+/", Variant::kUrlSafeNoPadding));
}

TEST(Base64, RoundTripsEveryLength) {
  std::vector<uint8_t> bytes;
  for (int n = 0; n < 70; ++n) {
    for (Variant v : {Variant::kStandard, Variant::kUrlSafeNoPadding}) {
      const auto back = Decode(Encode(bytes, v), v);
      ASSERT_TRUE(back) << n;
      EXPECT_EQ(*back, bytes) << n;
    }
    bytes.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

TEST(Base64, DecodingIsStrict) {
  EXPECT_TRUE(Decode("AAAA"));
  EXPECT_EQ(Decode("")->size(), 0u);
  EXPECT_FALSE(Decode("AAAA "));
  EXPECT_FALSE(Decode(" AAAA"));
  EXPECT_FALSE(Decode("AA AA"));
  EXPECT_FALSE(Decode("AAA"));  // padding is required in the standard variant
  EXPECT_FALSE(Decode("Zg="));  // ... and must be complete
  EXPECT_FALSE(Decode("Zg", Variant::kStandard));
  EXPECT_FALSE(Decode("Zg==", Variant::kUrlSafeNoPadding));  // no padding in the URL-safe one
  EXPECT_FALSE(Decode("Zm9v\n"));
  EXPECT_FALSE(Decode(std::string_view("Zm9v\0", 5)));
}

}  // namespace
}  // namespace plateau::base64
