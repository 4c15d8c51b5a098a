// SDES a=crypto attributes (RFC 4568).
#include "plateau/mcu/transport/crypto_attribute.hpp"

#include <gtest/gtest.h>

#include "plateau/mcu/transport/srtp_session.hpp"

namespace plateau::mcu::transport {
namespace {

// The key from RFC 4568 section 4's example.
constexpr const char* kRfcKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

TEST(CryptoAttribute, ParsesTheRfcExampleWithoutMki) {
  const auto a =
      ParseCryptoAttribute(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey + "|2^20");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->tag, 1u);
  EXPECT_EQ(a->key.profile, SrtpProfile::kAesCm128HmacSha1_80);
  EXPECT_EQ(a->lifetime, uint64_t{1} << 20);
  // "PS1u" decodes to 3d 2d 6e.
  EXPECT_EQ(a->key.material[0], 0x3d);
  EXPECT_EQ(a->key.material[1], 0x2d);
  EXPECT_EQ(a->key.material[2], 0x6e);
  EXPECT_EQ(Base64Encode(a->key.material), kRfcKey);
}

TEST(CryptoAttribute, FormatThenParseRoundTrips) {
  CryptoAttribute a = MakeCryptoAttribute(SrtpProfile::kAesCm128HmacSha1_32, 2);
  a.lifetime = 1000;
  a.session_params = {"WSH=128"};
  const std::string text = FormatCryptoAttribute(a);
  EXPECT_TRUE(text.starts_with("2 AES_CM_128_HMAC_SHA1_32 inline:")) << text;
  const auto b = ParseCryptoAttribute("a=crypto:" + text + "\r\n");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->tag, 2u);
  EXPECT_EQ(b->key, a.key);
  EXPECT_EQ(b->lifetime, 1000u);
  EXPECT_EQ(b->session_params, a.session_params);
  CryptoAttribute c = a;
  c.lifetime = uint64_t{1} << 31;
  EXPECT_NE(FormatCryptoAttribute(c).find("|2^31"), std::string::npos);
}

TEST(CryptoAttribute, GcmKeyIsTwentyEightBytes) {
  CryptoAttribute a = MakeCryptoAttribute(SrtpProfile::kAeadAes128Gcm, 1);
  const std::string text = FormatCryptoAttribute(a);
  EXPECT_TRUE(text.starts_with("1 AEAD_AES_128_GCM inline:")) << text;
  const std::string inline_key = text.substr(text.find(':') + 1);
  EXPECT_EQ(inline_key.size(), 40u) << text;  // base64 of 28 bytes
  const auto b = ParseCryptoAttribute(text);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->key, a.key);
  // The AES_CM key length is refused for GCM, and the GCM length for AES_CM, with the reason.
  const auto wrong = ParseCryptoAttribute(std::string("1 AEAD_AES_128_GCM inline:") + kRfcKey);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "crypto_key");
  EXPECT_NE(wrong.error().message.find("must be 28 bytes"), std::string::npos)
      << wrong.error().message;
  EXPECT_FALSE(ParseCryptoAttribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + inline_key).ok());
}

TEST(CryptoAttribute, AcceptsHarmlessSessionParameters) {
  const std::string base = std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey;
  EXPECT_TRUE(ParseCryptoAttribute(base + " KDR=0 FEC_ORDER=FEC_SRTP -X_VENDOR=1").ok());
}

struct BadCase {
  const char* name;
  std::string value;
  const char* code;
};

class CryptoAttributeBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(CryptoAttributeBad, IsRefusedWithACode) {
  const auto a = ParseCryptoAttribute(GetParam().value);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, GetParam().code);
  EXPECT_FALSE(a.error().message.empty());
}

const std::string kInline = std::string("inline:") + kRfcKey;

INSTANTIATE_TEST_SUITE_P(
    Cases, CryptoAttributeBad,
    ::testing::Values(
        BadCase{"Empty", "", "crypto_syntax"},
        BadCase{"MissingKey", "1 AES_CM_128_HMAC_SHA1_80", "crypto_syntax"},
        BadCase{"TagNotANumber", "x AES_CM_128_HMAC_SHA1_80 " + kInline, "crypto_syntax"},
        BadCase{"TagZero", "0 AES_CM_128_HMAC_SHA1_80 " + kInline, "crypto_syntax"},
        BadCase{"TagTooLong", "1234567890 AES_CM_128_HMAC_SHA1_80 " + kInline, "crypto_syntax"},
        BadCase{"UnknownSuite", "1 AES_256_CM_HMAC_SHA1_80 " + kInline, "crypto_suite"},
        BadCase{"NotInline", "1 AES_CM_128_HMAC_SHA1_80 uri:" + std::string(kRfcKey), "crypto_key"},
        BadCase{"BadBase64", "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", "crypto_key"},
        BadCase{"ShortKey", "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0m",
                "crypto_key"},
        BadCase{"SeveralKeys", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + ";" + kInline,
                "crypto_key"},
        BadCase{"Mki", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + "|2^20|1:4", "crypto_mki"},
        BadCase{"LifetimeZeroExponent", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + "|2^0",
                "crypto_lifetime"},
        BadCase{"LifetimeGarbage", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + "|soon",
                "crypto_lifetime"},
        BadCase{"TwoLifetimes", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + "|2^20|2^10",
                "crypto_lifetime"},
        BadCase{"TooManyFields", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + "|2^20|1:4|x",
                "crypto_key"},
        BadCase{"Unencrypted", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + " UNENCRYPTED_SRTP",
                "crypto_param"},
        BadCase{"Unauthenticated", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + " UNAUTHENTICATED_SRTP",
                "crypto_param"},
        BadCase{"KeyDerivationRate", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + " KDR=24",
                "crypto_param"},
        BadCase{"UnknownMandatoryParam", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + " FOO=1",
                "crypto_param"},
        BadCase{"TooLong", "1 AES_CM_128_HMAC_SHA1_80 " + kInline + std::string(2000, ' '),
                "crypto_syntax"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CryptoAttribute, Base64RejectsTrailingGarbageAndWhitespace) {
  EXPECT_TRUE(Base64Decode("AAAA"));
  EXPECT_FALSE(Base64Decode("AAAA "));
  EXPECT_FALSE(Base64Decode("AA AA"));
  EXPECT_FALSE(Base64Decode("AAA"));
  EXPECT_EQ(Base64Decode("")->size(), 0u);
}

}  // namespace
}  // namespace plateau::mcu::transport
