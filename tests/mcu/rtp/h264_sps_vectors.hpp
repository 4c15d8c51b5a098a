// Real sequence parameter sets, captured from the encoders on Debian 12 (gst-launch-1.0 ... !
// ENCODER ! video/x-h264,stream-format=byte-stream ! filesink, first NAL unit of type 7), used by
// the SPS unit tests (mcu_net) and the cross-check against GStreamer's own H.264 parser
// (mcu_media). Expected rewrites were computed bit by bit by a separate script, not by
// mcu/rtp/h264_sps.cpp.
#pragma once

#include <string_view>

namespace plateau::mcu::testing::sps {

struct Vector {
  const char* name;
  std::string_view hex;
  int width;
  int height;
};

// OpenH264 2.3.1 (openh264enc, as the MCU and the terminal use it): Baseline, a VUI with only
// bitstream_restriction, no video_signal_type.
inline constexpr Vector kOpenH264_640x360{"openh264_640x360", "6742c01e8c8d405017fcb00f08846a", 640,
                                          360};
inline constexpr Vector kOpenH264_1280x720{"openh264_1280x720", "6742c01f8c8d402802dd00f08846a0",
                                           1280, 720};
// x264 (x264enc): High profile, VUI with a colour description (BT.709) and timing info (the SPS
// carries emulation prevention bytes).
inline constexpr Vector kX264_1280x720{
    "x264_1280x720", "6764001facd9405005bb016a02020280000003008000001e478c18cb", 1280, 720};
// x264, Constrained Baseline 176x144: aspect_ratio_info, timing, no video_signal_type.
inline constexpr Vector kX264Baseline_176x144{
    "x264_baseline_176x144", "6742c015d902c4ec0440000003004000000f23c58b92", 176, 144};
// x264, High 4:4:4 Predictive (chroma_format_idc 3) with cqm=jvt.
inline constexpr Vector kX264_444_320x240{
    "x264_444_320x240", "67f4000d919b28283f602d41818190000003001000000303c8f1429960", 320, 240};
// x264, interlaced 720x576 (frame_mbs_only_flag 0), SAR 16:15.
inline constexpr Vector kX264Interlaced_720x576{
    "x264_interlaced_720x576",
    "6764001eacd940b424dff80080007a5060606a5000000300100000030329f1429960", 720, 576};
// x264 with nal-hrd=vbr: HRD parameters in the VUI after the video signal type.
inline constexpr Vector kX264Hrd_320x240{
    "x264_hrd_320x240",
    "6764000dacd94141fb016a0c0c0d4a00000300020000030079c900061a801d4d169803c50a6580", 320, 240};
// kOpenH264_640x360 with vui_parameters_present_flag cleared (made by the script): no VUI at all.
inline constexpr Vector kNoVui_640x360{"no_vui_640x360", "6742c01e8c8d405017fca8", 640, 360};

inline constexpr Vector kAll[] = {
    kOpenH264_640x360, kOpenH264_1280x720,      kX264_1280x720,   kX264Baseline_176x144,
    kX264_444_320x240, kX264Interlaced_720x576, kX264Hrd_320x240, kNoVui_640x360};

// Expected rewrites (the script): kOpenH264_640x360 stating BT.601 (6/6/6, limited) and BT.709
// (1/1/1, limited); kNoVui_640x360 stating BT.601 (a VUI with only the video signal type).
inline constexpr std::string_view kOpenH264_640x360_Bt601 =
    "6742c01e8c8d405017fcb35060606078442350";
inline constexpr std::string_view kOpenH264_640x360_Bt709 =
    "6742c01e8c8d405017fcb35010101078442350";
inline constexpr std::string_view kNoVui_640x360_Bt601 = "6742c01e8c8d405017fcb35060606020";

}  // namespace plateau::mcu::testing::sps
