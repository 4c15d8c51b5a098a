// The SPS colour rewrite (mcu/rtp/h264_sps) read back by GStreamer's own H.264 parser
// (gst/codecparsers, what h264parse uses): the colour description is what was asked for and every
// other field of the SPS, VUI included, is unchanged. On the captured SPS of h264_sps_vectors.hpp
// and on SPS that openh264enc makes in the test.
// The codecparsers API is marked unstable; this test only reads an SPS with it.
#define GST_USE_UNSTABLE_API 1
#include <gst/app/gstappsink.h>
#include <gst/codecparsers/gsth264parser.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>

#include "mcu/rtp/h264_sps_vectors.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/media/h264_colour.hpp"
#include "plateau/mcu/rtp/h264_sps.hpp"

namespace plateau::mcu::testing {
namespace {

using rtp::H264ColourDescription;

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// GStreamer's reading of one SPS NAL unit (no start code).
struct GstSps {
  GstH264SPS sps{};
  bool ok = false;
  GstSps(const GstSps&) = delete;
  explicit GstSps(const std::vector<uint8_t>& nal) {
    std::vector<uint8_t> stream = {0, 0, 0, 1};
    stream.insert(stream.end(), nal.begin(), nal.end());
    std::unique_ptr<GstH264NalParser, decltype(&gst_h264_nal_parser_free)> parser(
        gst_h264_nal_parser_new(), &gst_h264_nal_parser_free);
    GstH264NalUnit unit{};
    if (gst_h264_parser_identify_nalu_unchecked(parser.get(), stream.data(), 0, stream.size(),
                                                &unit) != GST_H264_PARSER_OK)
      return;
    ok = gst_h264_parser_parse_sps(parser.get(), &unit, &sps) == GST_H264_PARSER_OK;
  }
  ~GstSps() {
    if (ok) gst_h264_sps_clear(&sps);
  }
};

// Everything in the SPS except the video signal type, compared field by field.
void ExpectSameExceptColour(const GstH264SPS& a, const GstH264SPS& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.profile_idc, b.profile_idc);
  EXPECT_EQ(a.level_idc, b.level_idc);
  EXPECT_EQ(a.constraint_set0_flag, b.constraint_set0_flag);
  EXPECT_EQ(a.constraint_set1_flag, b.constraint_set1_flag);
  EXPECT_EQ(a.constraint_set3_flag, b.constraint_set3_flag);
  EXPECT_EQ(a.chroma_format_idc, b.chroma_format_idc);
  EXPECT_EQ(a.bit_depth_luma_minus8, b.bit_depth_luma_minus8);
  EXPECT_EQ(a.scaling_matrix_present_flag, b.scaling_matrix_present_flag);
  EXPECT_EQ(0, std::memcmp(a.scaling_lists_4x4, b.scaling_lists_4x4, sizeof a.scaling_lists_4x4));
  EXPECT_EQ(0, std::memcmp(a.scaling_lists_8x8, b.scaling_lists_8x8, sizeof a.scaling_lists_8x8));
  EXPECT_EQ(a.log2_max_frame_num_minus4, b.log2_max_frame_num_minus4);
  EXPECT_EQ(a.pic_order_cnt_type, b.pic_order_cnt_type);
  EXPECT_EQ(a.log2_max_pic_order_cnt_lsb_minus4, b.log2_max_pic_order_cnt_lsb_minus4);
  EXPECT_EQ(a.num_ref_frames, b.num_ref_frames);
  EXPECT_EQ(a.pic_width_in_mbs_minus1, b.pic_width_in_mbs_minus1);
  EXPECT_EQ(a.pic_height_in_map_units_minus1, b.pic_height_in_map_units_minus1);
  EXPECT_EQ(a.frame_mbs_only_flag, b.frame_mbs_only_flag);
  EXPECT_EQ(a.direct_8x8_inference_flag, b.direct_8x8_inference_flag);
  EXPECT_EQ(a.frame_cropping_flag, b.frame_cropping_flag);
  EXPECT_EQ(a.frame_crop_bottom_offset, b.frame_crop_bottom_offset);
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.crop_rect_width, b.crop_rect_width);
  EXPECT_EQ(a.crop_rect_height, b.crop_rect_height);
  const GstH264VUIParams& u = a.vui_parameters;
  const GstH264VUIParams& v = b.vui_parameters;
  EXPECT_EQ(u.aspect_ratio_info_present_flag, v.aspect_ratio_info_present_flag);
  EXPECT_EQ(u.aspect_ratio_idc, v.aspect_ratio_idc);
  EXPECT_EQ(u.sar_width, v.sar_width);
  EXPECT_EQ(u.sar_height, v.sar_height);
  EXPECT_EQ(u.overscan_info_present_flag, v.overscan_info_present_flag);
  EXPECT_EQ(u.chroma_loc_info_present_flag, v.chroma_loc_info_present_flag);
  EXPECT_EQ(u.timing_info_present_flag, v.timing_info_present_flag);
  EXPECT_EQ(u.num_units_in_tick, v.num_units_in_tick);
  EXPECT_EQ(u.time_scale, v.time_scale);
  EXPECT_EQ(u.fixed_frame_rate_flag, v.fixed_frame_rate_flag);
  EXPECT_EQ(u.nal_hrd_parameters_present_flag, v.nal_hrd_parameters_present_flag);
  EXPECT_EQ(u.nal_hrd_parameters.cpb_cnt_minus1, v.nal_hrd_parameters.cpb_cnt_minus1);
  EXPECT_EQ(u.nal_hrd_parameters.bit_rate_value_minus1[0],
            v.nal_hrd_parameters.bit_rate_value_minus1[0]);
  EXPECT_EQ(u.nal_hrd_parameters.cpb_size_value_minus1[0],
            v.nal_hrd_parameters.cpb_size_value_minus1[0]);
  EXPECT_EQ(u.vcl_hrd_parameters_present_flag, v.vcl_hrd_parameters_present_flag);
  EXPECT_EQ(u.low_delay_hrd_flag, v.low_delay_hrd_flag);
  EXPECT_EQ(u.pic_struct_present_flag, v.pic_struct_present_flag);
  EXPECT_EQ(u.bitstream_restriction_flag, v.bitstream_restriction_flag);
  EXPECT_EQ(u.motion_vectors_over_pic_boundaries_flag, v.motion_vectors_over_pic_boundaries_flag);
  EXPECT_EQ(u.log2_max_mv_length_horizontal, v.log2_max_mv_length_horizontal);
  EXPECT_EQ(u.num_reorder_frames, v.num_reorder_frames);
  EXPECT_EQ(u.max_dec_frame_buffering, v.max_dec_frame_buffering);
}

void ExpectColour(const GstH264SPS& s, const H264ColourDescription& c, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(s.vui_parameters_present_flag);
  const GstH264VUIParams& v = s.vui_parameters;
  ASSERT_TRUE(v.video_signal_type_present_flag);
  EXPECT_EQ(v.video_full_range_flag, c.full_range ? 1 : 0);
  ASSERT_TRUE(v.colour_description_present_flag);
  EXPECT_EQ(v.colour_primaries, c.colour_primaries);
  EXPECT_EQ(v.transfer_characteristics, c.transfer_characteristics);
  EXPECT_EQ(v.matrix_coefficients, c.matrix_coefficients);
}

void CheckRoundTrip(const std::vector<uint8_t>& nal, const std::string& name) {
  const GstSps before(nal);
  ASSERT_TRUE(before.ok) << name << ": GStreamer cannot parse the original";
  for (const H264ColourDescription& colour :
       {H264ColourDescription{6, 6, 6, false}, H264ColourDescription{1, 1, 1, false},
        H264ColourDescription{9, 14, 9, true}}) {
    const auto rewritten = rtp::WriteH264SpsColour(nal, colour);
    ASSERT_TRUE(rewritten.ok()) << name << ": " << rewritten.error().message;
    const GstSps after(*rewritten);
    ASSERT_TRUE(after.ok) << name << ": GStreamer cannot parse the rewrite";
    ExpectSameExceptColour(before.sps, after.sps, name);
    ExpectColour(after.sps, colour, name);
    if (before.sps.vui_parameters_present_flag &&
        before.sps.vui_parameters.video_signal_type_present_flag)
      EXPECT_EQ(after.sps.vui_parameters.video_format, before.sps.vui_parameters.video_format);
    else
      EXPECT_EQ(after.sps.vui_parameters.video_format, 5) << name;
  }
}

// The first SPS NAL unit (no start code) of one frame openh264enc encodes at `width`x`height`.
std::optional<std::vector<uint8_t>> OpenH264Sps(int width, int height) {
  media::EnsureGstInit();
  const std::string launch =
      "videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=" + std::to_string(width) +
      ",height=" + std::to_string(height) +
      ",framerate=30/1 ! openh264enc ! video/x-h264,stream-format=byte-stream ! appsink name=out";
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &error);
  if (!pipeline) {
    if (error) g_error_free(error);
    return std::nullopt;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  media::GstSamplePtr sample(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND));
  std::optional<std::vector<uint8_t>> out;
  GstMapInfo map;
  if (sample && gst_buffer_map(gst_sample_get_buffer(sample.get()), &map, GST_MAP_READ)) {
    const std::vector<uint8_t> au(map.data, map.data + map.size);
    gst_buffer_unmap(gst_sample_get_buffer(sample.get()), &map);
    for (size_t i = 0; i + 3 < au.size() && !out; ++i) {
      if (au[i] != 0 || au[i + 1] != 0 || au[i + 2] != 1 || (au[i + 3] & 0x1F) != 7) continue;
      size_t end = i + 3;
      while (end + 2 < au.size() && !(au[end] == 0 && au[end + 1] == 0 && au[end + 2] <= 1)) ++end;
      if (end + 2 >= au.size()) end = au.size();
      out = std::vector<uint8_t>(au.begin() + static_cast<std::ptrdiff_t>(i + 3),
                                 au.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return out;
}

TEST(H264SpsCrossCheck, GStreamerReadsTheCapturedSpsRewrittenWithOnlyTheColourChanged) {
  for (const auto& v : sps::kAll) CheckRoundTrip(FromHex(v.hex), v.name);
}

TEST(H264SpsCrossCheck, GStreamerReadsOpenH264sSpsRewrittenAtTheTierSizes) {
  for (const auto& [w, h] : {std::pair{1280, 720}, {640, 360}, {320, 180}, {160, 90}}) {
    const auto nal = OpenH264Sps(w, h);
    ASSERT_TRUE(nal.has_value()) << "openh264enc made no SPS at " << w << "x" << h;
    const GstSps original(*nal);
    ASSERT_TRUE(original.ok);
    // What openh264enc leaves out (the reason for the rewrite).
    EXPECT_FALSE(original.sps.vui_parameters.video_signal_type_present_flag) << w << "x" << h;
    CheckRoundTrip(*nal, "openh264 " + std::to_string(w) + "x" + std::to_string(h));
  }
}

TEST(H264SpsCrossCheck, GStreamerColorimetryNamesMapToTheirCodePoints) {
  struct Case {
    const char* name;
    H264ColourDescription want;
  };
  for (const Case& c : {Case{"bt601", {6, 6, 6, false}}, Case{"bt709", {1, 1, 1, false}},
                        Case{"sRGB", {1, 13, 0, true}}}) {
    GstVideoColorimetry colorimetry;
    ASSERT_TRUE(gst_video_colorimetry_from_string(&colorimetry, c.name));
    const auto got = media::H264ColourOf(colorimetry);
    EXPECT_EQ(got, c.want) << c.name << ": " << int(got.colour_primaries) << "/"
                           << int(got.transfer_characteristics) << "/"
                           << int(got.matrix_coefficients) << "/" << got.full_range;
  }
}

}  // namespace
}  // namespace plateau::mcu::testing
