// H.264 sequence parameter sets (ITU-T H.264 7.3.2.1.1, Annex E): read the fields Plateau needs
// and write the colour description (VUI video_signal_type) into an SPS, in place.
//
// Why: OpenH264 writes a VUI without video_signal_type, so a decoder guesses how the YCbCr pixels
// map to RGB: Chromium assumes BT.709, GStreamer's decoders pick by resolution (BT.601 below HD).
// The MCU and the reference terminal encode with OpenH264 and then say what they really encoded
// (docs/media-video.md, "Colour"). The rewrite keeps every other bit of the SPS: everything after
// video_signal_type in the VUI (chroma location, timing, HRD, bitstream restriction) is copied
// verbatim, since none of it depends on the fields before it.
//
// The input may come from outside (a venue's stream): every read is bounded, every value checked
// against the range the standard allows, and a malformed SPS gives an error and no output.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::mcu::rtp {

// VUI colour description, code points of ITU-T H.273 (the same as H.264 Table E-3..E-5).
struct H264ColourDescription {
  uint8_t colour_primaries = 2;          // 1 BT.709, 5 BT.470BG, 6 SMPTE 170M, 9 BT.2020; 2 unknown
  uint8_t transfer_characteristics = 2;  // 1 BT.709, 6 SMPTE 170M (BT.601), 13 sRGB; 2 unknown
  uint8_t matrix_coefficients = 2;  // 1 BT.709, 5 BT.470BG, 6 SMPTE 170M (both BT.601); 2 unknown
  bool full_range = false;          // video_full_range_flag: 0..255 instead of 16..235

  friend bool operator==(const H264ColourDescription&, const H264ColourDescription&) = default;
};

// The parts of an SPS that Plateau reads.
struct H264Sps {
  uint8_t profile_idc = 0;
  uint8_t constraint_flags = 0;  // constraint_set0..5 flags and the two reserved bits
  uint8_t level_idc = 0;
  uint32_t sps_id = 0;
  uint32_t chroma_format_idc = 1;
  uint32_t width = 0;   // luma samples, after the frame cropping
  uint32_t height = 0;  // luma samples, after the frame cropping
  bool vui_present = false;
  bool video_signal_type_present = false;
  uint8_t video_format = 5;  // 5: unspecified
  bool full_range = false;
  // Present when colour_description_present_flag is set (full_range is copied into it).
  std::optional<H264ColourDescription> colour;
};

// Errors have code "bad_sps" and a message naming the field.

// Parses one SPS NAL unit (the NAL header byte first, emulation prevention bytes still in, no start
// code). Reads up to and including the VUI's video_signal_type; checks that the rest of the RBSP
// is there and ends with a stop bit.
Result<H264Sps> ParseH264Sps(std::span<const uint8_t> nal);

// The same SPS NAL unit with `colour` as its VUI colour description (video_signal_type_present,
// video_format 5, the range flag and colour_description_present set); a VUI is added when the SPS
// has none (with only the video signal type). Everything else is kept bit for bit. Emulation
// prevention is re-applied.
Result<std::vector<uint8_t>> WriteH264SpsColour(std::span<const uint8_t> nal,
                                                const H264ColourDescription& colour);

// Annex B byte stream (start codes), as an encoder emits one access unit: every SPS NAL unit gets
// `colour` (WriteH264SpsColour), every other byte is kept. The result says how many SPS were
// rewritten; nullopt bytes when the stream holds no SPS (nothing to change). An SPS that cannot be
// rewritten is an error and the caller should keep the original.
struct H264AnnexBRewrite {
  size_t sps_rewritten = 0;
  std::optional<std::vector<uint8_t>> bytes;  // nullopt: no SPS, use the input as it is
};
Result<H264AnnexBRewrite> WriteH264AnnexBColour(std::span<const uint8_t> stream,
                                                const H264ColourDescription& colour);

}  // namespace plateau::mcu::rtp
