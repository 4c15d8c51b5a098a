// H.264 RTP payload inspection (RFC 6184).
#include "plateau/mcu/rtp/h264.hpp"

#include <gtest/gtest.h>

#include "test_bytes.hpp"

namespace plateau::mcu::rtp {
namespace {

using plateau::mcu::testing::Hex;

// What an encoder in packetization-mode 1 emits at a keyframe: STAP-A with SPS and PPS, then the
// IDR slice in FU-A fragments; then P slices as single NAL units.
const auto kStapSpsPps = Hex("78 000a 6742c01f da0280bf e508 0004 68ce3c80");
const auto kFuIdrStart = Hex("7c 85 b8004000");
const auto kFuIdrMiddle = Hex("7c 05 11223344");
const auto kFuIdrEnd = Hex("7c 45 55667788");
const auto kPSlice = Hex("41 9a 2244");

TEST(H264, StapAWithSpsAndPpsStartsAKeyframe) {
  const auto info = InspectH264Payload(kStapSpsPps);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->packetization, H264PayloadInfo::Packetization::kStapA);
  EXPECT_EQ(info->nal_types, (std::vector<uint8_t>{h264::kSps, h264::kPps}));
  EXPECT_TRUE(info->has_sps);
  EXPECT_TRUE(info->has_pps);
  EXPECT_FALSE(info->has_idr);
  EXPECT_TRUE(info->keyframe_start);
}

TEST(H264, OnlyTheFirstFuAFragmentOfAnIdrStartsAKeyframe) {
  const auto start = InspectH264Payload(kFuIdrStart);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->packetization, H264PayloadInfo::Packetization::kFuA);
  EXPECT_TRUE(start->fragment_start);
  EXPECT_FALSE(start->fragment_end);
  EXPECT_TRUE(start->has_idr);
  EXPECT_TRUE(start->keyframe_start);
  const auto middle = InspectH264Payload(kFuIdrMiddle);
  ASSERT_TRUE(middle);
  EXPECT_FALSE(middle->keyframe_start);
  const auto end = InspectH264Payload(kFuIdrEnd);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->fragment_end);
  EXPECT_FALSE(end->keyframe_start);
}

TEST(H264, SingleNalUnits) {
  EXPECT_FALSE(IsH264KeyframeStart(kPSlice));
  const auto p = InspectH264Payload(kPSlice);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nal_types, (std::vector<uint8_t>{h264::kSlice}));
  EXPECT_TRUE(IsH264KeyframeStart(Hex("65 8880")));     // whole IDR slice
  EXPECT_TRUE(IsH264KeyframeStart(Hex("67 42c01f")));   // SPS alone
  EXPECT_FALSE(IsH264KeyframeStart(Hex("68 ce3c80")));  // PPS alone
  EXPECT_FALSE(IsH264KeyframeStart(Hex("06 0501")));    // SEI
  EXPECT_FALSE(IsH264KeyframeStart(Hex("7c 81 aa")));   // FU-A start of a P slice
}

TEST(H264, RejectsMalformedPayloads) {
  EXPECT_FALSE(InspectH264Payload({}));
  EXPECT_FALSE(InspectH264Payload(Hex("e5 88")));          // forbidden bit
  EXPECT_FALSE(InspectH264Payload(Hex("00 11")));          // NAL type 0
  EXPECT_FALSE(InspectH264Payload(Hex("79 0001 67")));     // STAP-B (25)
  EXPECT_FALSE(InspectH264Payload(Hex("7d 85 00")));       // FU-B (29)
  EXPECT_FALSE(InspectH264Payload(Hex("78")));             // empty STAP-A
  EXPECT_FALSE(InspectH264Payload(Hex("78 0010 67")));     // unit longer than payload
  EXPECT_FALSE(InspectH264Payload(Hex("78 0000")));        // zero-size unit
  EXPECT_FALSE(InspectH264Payload(Hex("78 0001 67 00")));  // truncated size field
  EXPECT_FALSE(InspectH264Payload(Hex("78 0001 98")));     // aggregated unit: forbidden bit
  EXPECT_FALSE(InspectH264Payload(Hex("78 0001 78")));     // STAP-A inside STAP-A
  EXPECT_FALSE(InspectH264Payload(Hex("7c 85")));          // FU-A without data
  EXPECT_FALSE(InspectH264Payload(Hex("7c c5 00")));       // start and end at once
  EXPECT_FALSE(InspectH264Payload(Hex("7c 9c 00")));       // FU-A of an FU-A
  EXPECT_FALSE(IsH264KeyframeStart(Hex("78 0010 67")));
}

TEST(H264, KeepsAtMostSixteenNalTypes) {
  std::vector<uint8_t> stap = {0x78};
  for (int i = 0; i < 40; ++i) {
    stap.insert(stap.end(), {0x00, 0x01, 0x06});  // 40 one-byte SEI units
  }
  stap.insert(stap.end(), {0x00, 0x02, 0x65, 0x88});  // and an IDR at the end
  const auto info = InspectH264Payload(stap);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->nal_types.size(), 16u);
  EXPECT_TRUE(info->has_idr);  // flags still see every unit
  EXPECT_TRUE(info->keyframe_start);
}

}  // namespace
}  // namespace plateau::mcu::rtp
