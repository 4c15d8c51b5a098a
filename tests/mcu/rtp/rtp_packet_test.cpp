// RTP parsing, rewriting and building (RFC 3550 5.1, RFC 8285), and the RFC 7983 classifier.
#include <gtest/gtest.h>

#include "plateau/mcu/rtp/classifier.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "test_bytes.hpp"

namespace plateau::mcu::rtp {
namespace {

using plateau::mcu::testing::Hex;

// An Opus packet as a browser sends it: PT 111, one-byte extensions (id 2 abs-send-time 3 bytes,
// id 5 transport-wide seq 2 bytes, one byte of padding inside the block), 8 bytes of Opus.
const std::vector<uint8_t> kOpusWithExtensions =
    Hex("906f1a2b 0001e240 12345678"
        "bede0002 22123456 51002a00"
        "780be4c1 36ecc58d");

TEST(RtpPacket, ParsesBrowserOpusPacketWithOneByteExtensions) {
  const auto p = RtpPacket::Parse(kOpusWithExtensions);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->sequence_number(), 0x1a2b);
  EXPECT_EQ(p->timestamp(), 123456u);
  EXPECT_EQ(p->ssrc(), 0x12345678u);
  EXPECT_EQ(p->csrc_count(), 0u);
  ASSERT_TRUE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), kOneByteExtensionProfile);
  EXPECT_EQ(p->header_size(), 24u);
  const auto abs_send_time = p->FindExtension(2);
  ASSERT_TRUE(abs_send_time);
  EXPECT_EQ(std::vector<uint8_t>(abs_send_time->begin(), abs_send_time->end()), Hex("123456"));
  const auto twcc = p->FindExtension(5);
  ASSERT_TRUE(twcc);
  EXPECT_EQ(std::vector<uint8_t>(twcc->begin(), twcc->end()), Hex("002a"));
  EXPECT_FALSE(p->FindExtension(3));
  EXPECT_EQ(p->ExtensionElements().size(), 2u);
  EXPECT_EQ(std::vector<uint8_t>(p->payload().begin(), p->payload().end()),
            Hex("780be4c1 36ecc58d"));
  EXPECT_EQ(p->padding_size(), 0u);
}

TEST(RtpPacket, ParsesCsrcListTwoByteExtensionAndPadding) {
  // V=2 P=1 X=1 CC=2, M=1 PT=96; two CSRCs; two-byte extension 0x1000 with id 7 (0 bytes) and
  // id 200 (3 bytes) + 1 pad byte; 2 payload bytes; 4 bytes of padding.
  const auto bytes =
      Hex("b2e00001 00000064 0000abcd"
          "11111111 22222222"
          "10000002 07 00 c8 03 aabbcc 00"
          "6742"
          "00000004");
  const auto p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  ASSERT_EQ(p->csrc_count(), 2u);
  EXPECT_EQ(p->csrc(0), 0x11111111u);
  EXPECT_EQ(p->csrc(1), 0x22222222u);
  EXPECT_EQ(p->csrc(2), 0u);  // out of range reads nothing
  const auto e7 = p->FindExtension(7);
  ASSERT_TRUE(e7);
  EXPECT_TRUE(e7->empty());
  const auto e200 = p->FindExtension(200);
  ASSERT_TRUE(e200);
  EXPECT_EQ(std::vector<uint8_t>(e200->begin(), e200->end()), Hex("aabbcc"));
  EXPECT_EQ(p->padding_size(), 4u);
  EXPECT_EQ(std::vector<uint8_t>(p->payload().begin(), p->payload().end()), Hex("6742"));
}

TEST(RtpPacket, OneByteIdZeroIsOnePaddingByteWhateverItsLengthBits) {
  // Found by fuzz_rtp: 0x01 is id 0 with length bits 1; it must be skipped as one padding byte so
  // that the element list and FindExtension agree.
  const auto bytes = Hex("906f1a2b 0001e240 12345678 bede0002 22b2e000 01000000 640012");
  const auto p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p);
  const auto elements = p->ExtensionElements();
  ASSERT_EQ(elements.size(), 1u);
  EXPECT_EQ(elements[0].id, 2);
  EXPECT_FALSE(p->FindExtension(0));
}

TEST(RtpPacket, OtherExtensionProfilesAreOpaque) {
  const auto bytes = Hex("90600001 00000001 00000001 abcd0001 ffffffff 01");
  const auto p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_profile(), 0xabcd);
  EXPECT_EQ(p->extension_data().size(), 4u);
  EXPECT_FALSE(p->FindExtension(1));
  EXPECT_TRUE(p->ExtensionElements().empty());
}

struct MalformedCase {
  const char* name;
  std::vector<uint8_t> bytes;
};

class RtpPacketMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(RtpPacketMalformed, IsRejected) {
  EXPECT_FALSE(RtpPacket::Parse(GetParam().bytes));
}

std::vector<uint8_t> Oversized() {
  std::vector<uint8_t> b = Hex("80600001 00000001 00000001");
  b.resize(kMaxRtpPacketSize + 1, 0x55);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RtpPacketMalformed,
    ::testing::Values(
        MalformedCase{"Empty", {}}, MalformedCase{"OneByte", Hex("80")},
        MalformedCase{"TruncatedFixedHeader", Hex("80600001 00000001 000000")},
        MalformedCase{"VersionOne", Hex("40600001 00000001 00000001 00")},
        MalformedCase{"VersionZero", Hex("00600001 00000001 00000001 00")},
        MalformedCase{"CsrcCountBeyondBuffer", Hex("8f600001 00000001 00000001 11111111")},
        MalformedCase{"ExtensionHeaderTruncated", Hex("90600001 00000001 00000001 bede")},
        MalformedCase{"ExtensionLengthBeyondBuffer",
                      Hex("90600001 00000001 00000001 bede0004 10ff0000")},
        MalformedCase{"OneByteElementPastBlock",
                      Hex("90600001 00000001 00000001 bede0001 3f010203 aa")},
        MalformedCase{"TwoByteElementPastBlock",
                      Hex("90600001 00000001 00000001 10000001 0108aabb cc")},
        MalformedCase{"PaddingZero", Hex("a0600001 00000001 00000001 aabb0000")},
        MalformedCase{"PaddingLargerThanPayload", Hex("a0600001 00000001 00000001 aabb0005")},
        MalformedCase{"PaddingBitWithNothingAfterHeader", Hex("a0600001 00000001 00000001")},
        MalformedCase{"PaddingIntoExtension",
                      Hex("b0600001 00000001 00000001 bede0001 10aa0000 09")},
        MalformedCase{"Oversized", Oversized()}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RtpPacket, AcceptsHeaderOnlyPacketAndMaximumSize) {
  EXPECT_TRUE(RtpPacket::Parse(Hex("80600001 00000001 00000001")));
  std::vector<uint8_t> max = Hex("80600001 00000001 00000001");
  max.resize(kMaxRtpPacketSize, 0x55);
  const auto p = RtpPacket::Parse(max);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload().size(), kMaxRtpPacketSize - kRtpFixedHeaderSize);
}

TEST(RtpPacket, RewriteChangesOnlyTheRequestedFields) {
  std::vector<uint8_t> bytes = kOpusWithExtensions;
  RtpRewrite r;
  r.sequence_number = 7;
  r.timestamp = 0xdeadbeef;
  r.ssrc = 0xcafebabe;
  r.payload_type = 100;
  r.marker = true;
  ASSERT_TRUE(RewriteRtpHeader(bytes, r));
  const auto p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sequence_number(), 7);
  EXPECT_EQ(p->timestamp(), 0xdeadbeefu);
  EXPECT_EQ(p->ssrc(), 0xcafebabeu);
  EXPECT_EQ(p->payload_type(), 100);
  EXPECT_TRUE(p->marker());
  // Everything after the fixed header is untouched.
  EXPECT_TRUE(std::equal(bytes.begin() + 12, bytes.end(), kOpusWithExtensions.begin() + 12));

  RtpRewrite only_seq;
  only_seq.sequence_number = 8;
  ASSERT_TRUE(RewriteRtpHeader(bytes, only_seq));
  EXPECT_EQ(RtpPacket::Parse(bytes)->payload_type(), 100);
  EXPECT_EQ(RtpPacket::Parse(bytes)->sequence_number(), 8);
}

TEST(RtpPacket, RewriteRefusesMalformedPacketsAndBadPayloadType) {
  std::vector<uint8_t> truncated = Hex("80600001 000000");
  const auto before = truncated;
  RtpRewrite r;
  r.sequence_number = 1;
  EXPECT_FALSE(RewriteRtpHeader(truncated, r));
  EXPECT_EQ(truncated, before);
  std::vector<uint8_t> ok = kOpusWithExtensions;
  RtpRewrite bad_pt;
  bad_pt.payload_type = 128;
  EXPECT_FALSE(RewriteRtpHeader(ok, bad_pt));
  EXPECT_EQ(ok, kOpusWithExtensions);
}

TEST(RtpPacket, BuildThenParseRoundTrips) {
  RtpHeader h;
  h.payload_type = 96;
  h.marker = true;
  h.sequence_number = 65535;
  h.timestamp = 90000;
  h.ssrc = 42;
  h.csrcs = {1, 2, 3};
  RtpBuildOptions o;
  o.extensions = {{1, {0xaa}}, {14, std::vector<uint8_t>(16, 0xbb)}};
  o.padding = 3;
  const std::vector<uint8_t> payload = {0x65, 1, 2, 3, 4};
  const auto bytes = BuildRtpPacket(h, payload, o);
  const auto p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_profile(), kOneByteExtensionProfile);
  EXPECT_EQ(p->FindExtension(14)->size(), 16u);
  EXPECT_EQ(p->csrc(2), 3u);
  EXPECT_EQ(p->padding_size(), 3u);
  EXPECT_EQ(std::vector<uint8_t>(p->payload().begin(), p->payload().end()), payload);

  RtpBuildOptions two;
  two.extensions = {{20, {1, 2, 3}}, {3, {}}};
  const auto p2bytes = BuildRtpPacket(h, payload, two);
  const auto p2 = RtpPacket::Parse(p2bytes);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->extension_profile(), kTwoByteExtensionProfile);
  EXPECT_EQ(p2->FindExtension(20)->size(), 3u);
  EXPECT_TRUE(p2->FindExtension(3)->empty());
}

TEST(RtpPacket, BuildRefusesWhatCannotBeExpressed) {
  RtpHeader h;
  h.csrcs.assign(16, 1);
  EXPECT_TRUE(BuildRtpPacket(h, {}).empty());
  RtpHeader pt;
  pt.payload_type = 128;
  EXPECT_TRUE(BuildRtpPacket(pt, {}).empty());
  RtpBuildOptions zero_id;
  zero_id.extensions = {{0, {1}}};
  EXPECT_TRUE(BuildRtpPacket(RtpHeader{}, {}, zero_id).empty());
  const std::vector<uint8_t> big(kMaxRtpPacketSize, 0);
  EXPECT_TRUE(BuildRtpPacket(RtpHeader{}, big).empty());
}

TEST(RtpPacket, SequenceNumberArithmeticWraps) {
  EXPECT_TRUE(IsNewerSequenceNumber(1, 65535));
  EXPECT_FALSE(IsNewerSequenceNumber(65535, 1));
  EXPECT_FALSE(IsNewerSequenceNumber(5, 5));
  EXPECT_EQ(SequenceNumberDistance(65530, 4), 10);
  EXPECT_EQ(SequenceNumberDistance(4, 65530), -10);
}

TEST(Classifier, SortsByFirstByteAsRfc7983) {
  EXPECT_EQ(Classify(kOpusWithExtensions), PacketKind::kRtp);
  EXPECT_EQ(Classify(Hex("80c8 0006")), PacketKind::kRtcp);  // SR
  EXPECT_EQ(Classify(Hex("81cd 0003")), PacketKind::kRtcp);  // RTPFB
  EXPECT_EQ(Classify(Hex("80df")), PacketKind::kRtcp);       // 223
  EXPECT_EQ(Classify(Hex("80e0")), PacketKind::kRtp);        // M=1 PT=96
  EXPECT_EQ(Classify(Hex("80bf")), PacketKind::kRtp);        // M=1 PT=63
  EXPECT_EQ(Classify(Hex("16fefd")), PacketKind::kDtls);     // handshake record
  EXPECT_EQ(Classify(Hex("0001 0050 2112a442")), PacketKind::kStun);
  EXPECT_EQ(Classify(Hex("10")), PacketKind::kUnknown);  // ZRTP range
  EXPECT_EQ(Classify(Hex("40")), PacketKind::kUnknown);  // TURN channel
  EXPECT_EQ(Classify(Hex("ff00")), PacketKind::kUnknown);
  EXPECT_EQ(Classify(Hex("80")), PacketKind::kUnknown);  // too short to tell
  EXPECT_EQ(Classify({}), PacketKind::kUnknown);
  EXPECT_EQ(ToString(PacketKind::kRtcp), "rtcp");
}

}  // namespace
}  // namespace plateau::mcu::rtp
