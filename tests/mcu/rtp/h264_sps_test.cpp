// H.264 SPS colour description: parse and rewrite on real encoders' SPS (h264_sps_vectors.hpp).
// GStreamer's own parser reads the rewrites too: tests/mcu_media/h264_sps_crosscheck_test.cpp.
#include "plateau/mcu/rtp/h264_sps.hpp"

#include <gtest/gtest.h>

#include "h264_sps_vectors.hpp"
#include "test_bytes.hpp"

namespace plateau::mcu::rtp {
namespace {

using plateau::mcu::testing::Hex;
namespace sps = plateau::mcu::testing::sps;

constexpr H264ColourDescription kBt601{6, 6, 6, false};
constexpr H264ColourDescription kBt709{1, 1, 1, false};
constexpr H264ColourDescription kFullRangeSrgb{1, 13, 1, true};

std::vector<uint8_t> Bytes(std::string_view hex) {
  return Hex(hex);
}

// No 00 00 00, 00 00 01 or 00 00 02 inside a NAL unit (emulation prevention was applied).
bool EscapedProperly(const std::vector<uint8_t>& nal) {
  for (size_t i = 0; i + 2 < nal.size(); ++i)
    if (nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] <= 2) return false;
  return true;
}

TEST(H264Sps, ReadsOpenH264sSpsWithAVuiButNoColourDescription) {
  const auto parsed = ParseH264Sps(Bytes(sps::kOpenH264_640x360.hex));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->profile_idc, 66);
  EXPECT_EQ(parsed->level_idc, 30);
  EXPECT_EQ(parsed->sps_id, 0u);
  EXPECT_EQ(parsed->width, 640u);
  EXPECT_EQ(parsed->height, 360u);
  EXPECT_TRUE(parsed->vui_present);
  EXPECT_FALSE(parsed->video_signal_type_present);
  EXPECT_FALSE(parsed->colour.has_value());
}

TEST(H264Sps, ReadsEveryCapturedSpsAtItsSize) {
  for (const auto& v : sps::kAll) {
    const auto parsed = ParseH264Sps(Bytes(v.hex));
    ASSERT_TRUE(parsed.ok()) << v.name << ": " << parsed.error().message;
    EXPECT_EQ(parsed->width, static_cast<uint32_t>(v.width)) << v.name;
    EXPECT_EQ(parsed->height, static_cast<uint32_t>(v.height)) << v.name;
  }
  const auto x264 = ParseH264Sps(Bytes(sps::kX264_1280x720.hex));
  ASSERT_TRUE(x264.ok());
  ASSERT_TRUE(x264->colour.has_value());
  EXPECT_EQ(*x264->colour, kBt709);
  const auto yuv444 = ParseH264Sps(Bytes(sps::kX264_444_320x240.hex));
  ASSERT_TRUE(yuv444.ok());
  EXPECT_EQ(yuv444->profile_idc, 244);
  EXPECT_EQ(yuv444->chroma_format_idc, 3u);
}

TEST(H264Sps, WritesTheColourDescriptionIntoOpenH264sVuiBitForBit) {
  const auto in = Bytes(sps::kOpenH264_640x360.hex);
  const auto bt601 = WriteH264SpsColour(in, kBt601);
  ASSERT_TRUE(bt601.ok()) << bt601.error().message;
  EXPECT_EQ(*bt601, Bytes(sps::kOpenH264_640x360_Bt601));
  const auto bt709 = WriteH264SpsColour(in, kBt709);
  ASSERT_TRUE(bt709.ok());
  EXPECT_EQ(*bt709, Bytes(sps::kOpenH264_640x360_Bt709));
}

TEST(H264Sps, AddsAVuiToAnSpsWithout) {
  const auto out = WriteH264SpsColour(Bytes(sps::kNoVui_640x360.hex), kBt601);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, Bytes(sps::kNoVui_640x360_Bt601));
  const auto parsed = ParseH264Sps(*out);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->vui_present);
  EXPECT_EQ(parsed->video_format, 5);
  EXPECT_EQ(parsed->colour, kBt601);
}

TEST(H264Sps, RewriteThenParseGivesTheColourAndKeepsEverythingElse) {
  for (const auto& v : sps::kAll) {
    for (const auto& colour : {kBt601, kBt709, kFullRangeSrgb}) {
      const auto in = Bytes(v.hex);
      const auto out = WriteH264SpsColour(in, colour);
      ASSERT_TRUE(out.ok()) << v.name << ": " << out.error().message;
      EXPECT_TRUE(EscapedProperly(*out)) << v.name;
      EXPECT_EQ((*out)[0], in[0]) << v.name;  // the NAL header
      const auto before = ParseH264Sps(in);
      const auto after = ParseH264Sps(*out);
      ASSERT_TRUE(after.ok()) << v.name << ": " << after.error().message;
      EXPECT_EQ(after->colour, colour) << v.name;
      EXPECT_TRUE(after->video_signal_type_present);
      EXPECT_EQ(after->full_range, colour.full_range);
      EXPECT_EQ(after->profile_idc, before->profile_idc) << v.name;
      EXPECT_EQ(after->constraint_flags, before->constraint_flags) << v.name;
      EXPECT_EQ(after->level_idc, before->level_idc) << v.name;
      EXPECT_EQ(after->width, before->width) << v.name;
      EXPECT_EQ(after->height, before->height) << v.name;
      // The rest of the VUI is copied: stating the original colour again gives the input back
      // whenever the input already had a colour description.
      if (before->colour) {
        const auto back = WriteH264SpsColour(*out, *before->colour);
        ASSERT_TRUE(back.ok());
        EXPECT_EQ(*back, in) << v.name;
      }
      // Rewriting is idempotent, and the last colour wins.
      const auto twice = WriteH264SpsColour(*out, colour);
      ASSERT_TRUE(twice.ok());
      EXPECT_EQ(*twice, *out) << v.name;
    }
  }
}

TEST(H264Sps, KeepsAVideoFormatTheStreamStates) {
  const auto in = Bytes(sps::kX264_1280x720.hex);
  const auto parsed = ParseH264Sps(in);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->video_signal_type_present);
  const auto out = WriteH264SpsColour(in, kBt601);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ParseH264Sps(*out)->video_format, parsed->video_format);
}

TEST(H264Sps, RefusesWhatIsNotAValidSps) {
  const auto good = Bytes(sps::kOpenH264_640x360.hex);
  struct Case {
    const char* what;
    std::vector<uint8_t> nal;
  };
  std::vector<Case> cases = {
      {"empty", {}},
      {"header only", {0x67}},
      {"a PPS", Bytes("68ce3c80")},
      {"forbidden bit", Bytes("e742c01e8c8d405017fcb00f08846a")},
      {"all zero after the header", Bytes("67000000")},
      {"start code inside", Bytes("6742c01e00000150")},
      {"cut in the middle", std::vector<uint8_t>(good.begin(), good.begin() + 6)},
      // seq_parameter_set_id 32: ue(v) 000001 00001, then the rest of the OpenH264 SPS.
      {"sps id 32", Bytes("6742c01e0420")},
      // pic_order_cnt_type 3.
      {"poc type 3", Bytes("6742c01e8c24")},
  };
  for (const auto& c : cases) {
    const auto parsed = ParseH264Sps(c.nal);
    EXPECT_FALSE(parsed.ok()) << c.what;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, "bad_sps") << c.what;
    }
    EXPECT_FALSE(WriteH264SpsColour(c.nal, kBt601).ok()) << c.what;
  }
}

TEST(H264Sps, EveryTruncationIsRefusedOrStillRewritable) {
  for (const auto& v : sps::kAll) {
    const auto in = Bytes(v.hex);
    for (size_t n = 0; n < in.size(); ++n) {
      const std::vector<uint8_t> cut(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
      const auto parsed = ParseH264Sps(cut);
      const auto out = WriteH264SpsColour(cut, kBt601);
      EXPECT_EQ(parsed.ok(), out.ok()) << v.name << " cut to " << n;
      if (out.ok()) {
        EXPECT_EQ(ParseH264Sps(*out)->colour, kBt601) << v.name << " cut to " << n;
      }
    }
  }
}

TEST(H264AnnexB, RewritesOnlyTheSpsOfAnAccessUnit) {
  // An IDR access unit as openh264enc emits it: 4-byte start codes, SPS, PPS, slice.
  const auto sps_nal = Bytes(sps::kOpenH264_640x360.hex);
  const auto pps = Bytes("68ce3c80");
  const auto idr = Bytes("65b8000400000300 3fff fe08");
  std::vector<uint8_t> au;
  for (const auto* nal : {&sps_nal, &pps, &idr}) {
    au.insert(au.end(), {0, 0, 0, 1});
    au.insert(au.end(), nal->begin(), nal->end());
  }
  const auto out = WriteH264AnnexBColour(au, kBt601);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->sps_rewritten, 1u);
  ASSERT_TRUE(out->bytes.has_value());
  std::vector<uint8_t> want = {0, 0, 0, 1};
  const auto rewritten = Bytes(sps::kOpenH264_640x360_Bt601);
  want.insert(want.end(), rewritten.begin(), rewritten.end());
  want.insert(want.end(), au.begin() + 4 + static_cast<std::ptrdiff_t>(sps_nal.size()), au.end());
  EXPECT_EQ(*out->bytes, want);

  // A delta frame (no SPS): nothing to change.
  std::vector<uint8_t> p = {0, 0, 0, 1, 0x41, 0x9a, 0x22, 0x44};
  const auto none = WriteH264AnnexBColour(p, kBt601);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->sps_rewritten, 0u);
  EXPECT_FALSE(none->bytes.has_value());
  // Not a byte stream at all: nothing found, nothing changed.
  const auto junk = WriteH264AnnexBColour(Bytes("0102030405"), kBt601);
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(junk->bytes.has_value());
}

TEST(H264AnnexB, ThreeByteStartCodesAndTrailingZerosAreKept) {
  const auto sps_nal = Bytes(sps::kX264_1280x720.hex);
  std::vector<uint8_t> au = {0xaa, 0, 0, 1};  // a leading byte that is no start code
  au.insert(au.end(), sps_nal.begin(), sps_nal.end());
  au.insert(au.end(), {0, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0});
  const auto out = WriteH264AnnexBColour(au, kBt601);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_TRUE(out->bytes.has_value());
  const auto nal = WriteH264SpsColour(sps_nal, kBt601);
  std::vector<uint8_t> want = {0xaa, 0, 0, 1};
  want.insert(want.end(), nal->begin(), nal->end());
  want.insert(want.end(), {0, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0});
  EXPECT_EQ(*out->bytes, want);
}

TEST(H264AnnexB, ABrokenSpsIsAnErrorAndChangesNothing) {
  std::vector<uint8_t> au = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80};
  const auto out = WriteH264AnnexBColour(au, kBt601);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "bad_sps");
}

}  // namespace
}  // namespace plateau::mcu::rtp
