#include "plateau/mcu/rtp/h264_sps.hpp"

#include <string>

#include "plateau/mcu/rtp/h264.hpp"

namespace plateau::mcu::rtp {
namespace {

Error Bad(std::string message) {
  return Error{"bad_sps", std::move(message)};
}

// NAL unit payload (after the header byte) without its emulation prevention bytes.
Result<std::vector<uint8_t>> ToRbsp(std::span<const uint8_t> payload) {
  std::vector<uint8_t> rbsp;
  rbsp.reserve(payload.size());
  int zeros = 0;
  for (const uint8_t b : payload) {
    if (zeros >= 2) {
      if (b == 3) {  // emulation_prevention_three_byte
        zeros = 0;
        continue;
      }
      if (b < 3) return Bad("a start code (00 00 0" + std::to_string(b) + ") inside the NAL unit");
    }
    rbsp.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return rbsp;
}

// Reads bits MSB first; a read past the end sets `failed` and yields 0.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data, size_t bit_limit)
      : data_(data), limit_(bit_limit) {}

  uint32_t Bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | Bit();
    return v;
  }
  uint32_t Bit() {
    if (pos_ >= limit_) {
      failed_ = true;
      return 0;
    }
    const uint32_t bit = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
    ++pos_;
    return bit;
  }
  // ue(v): at most 31 leading zeros (values up to 2^32 - 2).
  uint32_t Ue() {
    int zeros = 0;
    while (!failed_ && Bit() == 0) {
      if (++zeros > 31) {
        failed_ = true;
        return 0;
      }
    }
    if (failed_) return 0;
    if (zeros == 0) return 0;
    return static_cast<uint32_t>((uint64_t{1} << zeros) - 1 + Bits(zeros));
  }
  int64_t Se() {
    const uint64_t k = Ue();
    return (k & 1) ? static_cast<int64_t>((k + 1) / 2) : -static_cast<int64_t>(k / 2);
  }
  size_t pos() const { return pos_; }
  bool failed() const { return failed_; }

 private:
  std::span<const uint8_t> data_;
  size_t limit_;
  size_t pos_ = 0;
  bool failed_ = false;
};

class BitWriter {
 public:
  void Bits(uint32_t value, int n) {
    for (int i = n - 1; i >= 0; --i) Bit((value >> i) & 1);
  }
  void Bit(uint32_t bit) {
    if ((count_ & 7) == 0) bytes_.push_back(0);
    if (bit) bytes_.back() |= static_cast<uint8_t>(0x80 >> (count_ & 7));
    ++count_;
  }
  // Copies bits [from, to) of `data`.
  void Copy(std::span<const uint8_t> data, size_t from, size_t to) {
    for (size_t p = from; p < to; ++p) Bit((data[p >> 3] >> (7 - (p & 7))) & 1);
  }
  // rbsp_trailing_bits: the stop bit, then zeros to the byte boundary.
  std::vector<uint8_t> Finish() {
    Bit(1);
    return std::move(bytes_);
  }

 private:
  std::vector<uint8_t> bytes_;
  size_t count_ = 0;
};

bool HasChromaInfo(uint32_t profile_idc) {
  switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      return true;
    default:
      return false;
  }
}

// Where the colour fields sit in an SPS's RBSP, as bit positions.
struct SpsLayout {
  H264Sps sps;
  std::vector<uint8_t> rbsp;
  size_t stop_bit = 0;      // position of rbsp_stop_one_bit
  size_t vui_flag = 0;      // position of vui_parameters_present_flag
  size_t signal_flag = 0;   // position of video_signal_type_present_flag (VUI present)
  size_t after_signal = 0;  // first bit after the video_signal_type block (VUI present)
};

Status SkipScalingList(BitReader& r, int size) {
  int last = 8;
  int next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) {
      const int64_t delta = r.Se();
      if (delta < -128 || delta > 127) return Bad("delta_scale out of range");
      next = static_cast<int>((last + delta + 256) % 256);
    }
    last = next == 0 ? last : next;
  }
  return Status::Ok();
}

Result<SpsLayout> Analyse(std::span<const uint8_t> nal) {
  if (nal.size() < 2) return Bad("too short for an SPS");
  if (nal[0] & 0x80) return Bad("forbidden_zero_bit is set");
  if ((nal[0] & 0x1F) != h264::kSps)
    return Bad("NAL unit type " + std::to_string(nal[0] & 0x1F) + " is not an SPS (7)");
  auto rbsp = ToRbsp(nal.subspan(1));
  if (!rbsp) return rbsp.error();
  SpsLayout out;
  out.rbsp = std::move(*rbsp);
  // The stop bit is the last 1 bit; zero bytes after it belong to the byte stream.
  size_t last = out.rbsp.size();
  while (last > 0 && out.rbsp[last - 1] == 0) --last;
  if (last == 0) return Bad("no rbsp_stop_one_bit");
  out.rbsp.resize(last);
  {
    const uint8_t b = out.rbsp[last - 1];
    int lowest = 0;
    while (!((b >> lowest) & 1)) ++lowest;
    out.stop_bit = last * 8 - 1 - static_cast<size_t>(lowest);
  }
  BitReader r(out.rbsp, out.stop_bit);
  H264Sps& s = out.sps;
  s.profile_idc = static_cast<uint8_t>(r.Bits(8));
  s.constraint_flags = static_cast<uint8_t>(r.Bits(8));
  s.level_idc = static_cast<uint8_t>(r.Bits(8));
  s.sps_id = r.Ue();
  if (s.sps_id > 31) return Bad("seq_parameter_set_id above 31");
  bool separate_colour_plane = false;
  if (HasChromaInfo(s.profile_idc)) {
    s.chroma_format_idc = r.Ue();
    if (s.chroma_format_idc > 3) return Bad("chroma_format_idc above 3");
    if (s.chroma_format_idc == 3) separate_colour_plane = r.Bit() != 0;
    if (r.Ue() > 6) return Bad("bit_depth_luma_minus8 above 6");
    if (r.Ue() > 6) return Bad("bit_depth_chroma_minus8 above 6");
    r.Bit();        // qpprime_y_zero_transform_bypass_flag
    if (r.Bit()) {  // seq_scaling_matrix_present_flag
      const int lists = s.chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists && !r.failed(); ++i)
        if (r.Bit())
          if (auto st = SkipScalingList(r, i < 6 ? 16 : 64); !st) return st.error();
    }
  }
  if (r.Ue() > 12) return Bad("log2_max_frame_num_minus4 above 12");
  const uint32_t poc_type = r.Ue();
  if (poc_type > 2) return Bad("pic_order_cnt_type above 2");
  if (poc_type == 0) {
    if (r.Ue() > 12) return Bad("log2_max_pic_order_cnt_lsb_minus4 above 12");
  } else if (poc_type == 1) {
    r.Bit();  // delta_pic_order_always_zero_flag
    r.Se();   // offset_for_non_ref_pic
    r.Se();   // offset_for_top_to_bottom_field
    const uint32_t cycle = r.Ue();
    if (cycle > 255) return Bad("num_ref_frames_in_pic_order_cnt_cycle above 255");
    for (uint32_t i = 0; i < cycle && !r.failed(); ++i) r.Se();
  }
  if (r.Ue() > 16) return Bad("max_num_ref_frames above 16");
  r.Bit();  // gaps_in_frame_num_value_allowed_flag
  const uint32_t width_mbs = r.Ue() + 1;
  const uint32_t height_units = r.Ue() + 1;
  // Well above level 6.2 (139264 macroblocks per frame), and small enough not to overflow.
  if (r.failed() || width_mbs > 2048 || height_units > 2048)
    return Bad("picture size in macroblocks out of range");
  const bool frame_mbs_only = r.Bit() != 0;
  if (!frame_mbs_only) r.Bit();  // mb_adaptive_frame_field_flag
  r.Bit();                       // direct_8x8_inference_flag
  uint32_t width = width_mbs * 16;
  uint32_t height = height_units * 16 * (frame_mbs_only ? 1 : 2);
  if (r.Bit()) {  // frame_cropping_flag
    const uint32_t left = r.Ue(), right = r.Ue(), top = r.Ue(), bottom = r.Ue();
    const uint32_t array_type = separate_colour_plane ? 0 : s.chroma_format_idc;
    const uint32_t unit_x = (array_type == 1 || array_type == 2) ? 2 : 1;
    const uint32_t unit_y = (array_type == 1 ? 2 : 1) * (frame_mbs_only ? 1 : 2);
    const uint64_t crop_x = (uint64_t{left} + right) * unit_x;
    const uint64_t crop_y = (uint64_t{top} + bottom) * unit_y;
    if (crop_x >= width || crop_y >= height) return Bad("the frame cropping removes the picture");
    width -= static_cast<uint32_t>(crop_x);
    height -= static_cast<uint32_t>(crop_y);
  }
  s.width = width;
  s.height = height;
  out.vui_flag = r.pos();
  s.vui_present = r.Bit() != 0;
  if (s.vui_present) {
    if (r.Bit()) {                       // aspect_ratio_info_present_flag
      if (r.Bits(8) == 255) r.Bits(32);  // Extended_SAR: sar_width, sar_height
    }
    if (r.Bit()) r.Bit();  // overscan_info_present_flag, overscan_appropriate_flag
    out.signal_flag = r.pos();
    s.video_signal_type_present = r.Bit() != 0;
    if (s.video_signal_type_present) {
      s.video_format = static_cast<uint8_t>(r.Bits(3));
      s.full_range = r.Bit() != 0;
      if (r.Bit()) {  // colour_description_present_flag
        H264ColourDescription c;
        c.colour_primaries = static_cast<uint8_t>(r.Bits(8));
        c.transfer_characteristics = static_cast<uint8_t>(r.Bits(8));
        c.matrix_coefficients = static_cast<uint8_t>(r.Bits(8));
        c.full_range = s.full_range;
        s.colour = c;
      }
    }
    out.after_signal = r.pos();
  } else if (r.pos() != out.stop_bit) {
    return Bad("data after vui_parameters_present_flag = 0");
  }
  if (r.failed()) return Bad("the SPS ends before its fields do");
  return out;
}

void WriteSignalType(BitWriter& w, const H264ColourDescription& c, uint8_t video_format) {
  w.Bit(1);  // video_signal_type_present_flag
  w.Bits(video_format, 3);
  w.Bit(c.full_range ? 1 : 0);
  w.Bit(1);  // colour_description_present_flag
  w.Bits(c.colour_primaries, 8);
  w.Bits(c.transfer_characteristics, 8);
  w.Bits(c.matrix_coefficients, 8);
}

std::vector<uint8_t> ToNal(uint8_t header, const std::vector<uint8_t>& rbsp) {
  std::vector<uint8_t> nal;
  nal.reserve(rbsp.size() + rbsp.size() / 16 + 2);
  nal.push_back(header);
  int zeros = 0;
  for (const uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      nal.push_back(3);
      zeros = 0;
    }
    nal.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return nal;
}

// Start of the next 00 00 01 at or after `from`, or the stream's size.
size_t NextStartCode(std::span<const uint8_t> s, size_t from) {
  for (size_t i = from; i + 2 < s.size(); ++i) {
    if (s[i + 2] > 1) {
      i += 2;  // neither s[i + 1] nor s[i + 2] can start a 00 00 01 ending before s[i + 5]
      continue;
    }
    if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1) return i;
  }
  return s.size();
}

}  // namespace

Result<H264Sps> ParseH264Sps(std::span<const uint8_t> nal) {
  auto layout = Analyse(nal);
  if (!layout) return layout.error();
  return std::move(layout->sps);
}

Result<std::vector<uint8_t>> WriteH264SpsColour(std::span<const uint8_t> nal,
                                                const H264ColourDescription& colour) {
  auto layout = Analyse(nal);
  if (!layout) return layout.error();
  const SpsLayout& l = *layout;
  BitWriter w;
  if (l.sps.vui_present) {
    w.Copy(l.rbsp, 0, l.signal_flag);
    // A video_format the stream already states (PAL, NTSC, ...) is kept; else 5, unspecified.
    WriteSignalType(w, colour, l.sps.video_signal_type_present ? l.sps.video_format : 5);
    w.Copy(l.rbsp, l.after_signal, l.stop_bit);
  } else {
    w.Copy(l.rbsp, 0, l.vui_flag);
    w.Bit(1);  // vui_parameters_present_flag
    w.Bit(0);  // aspect_ratio_info_present_flag
    w.Bit(0);  // overscan_info_present_flag
    WriteSignalType(w, colour, 5);
    w.Bit(0);  // chroma_loc_info_present_flag
    w.Bit(0);  // timing_info_present_flag
    w.Bit(0);  // nal_hrd_parameters_present_flag
    w.Bit(0);  // vcl_hrd_parameters_present_flag
    w.Bit(0);  // pic_struct_present_flag
    w.Bit(0);  // bitstream_restriction_flag
  }
  return ToNal(nal[0], w.Finish());
}

Result<H264AnnexBRewrite> WriteH264AnnexBColour(std::span<const uint8_t> stream,
                                                const H264ColourDescription& colour) {
  H264AnnexBRewrite out;
  std::vector<uint8_t> bytes;
  size_t copied = 0;  // stream[0, copied) is in `bytes` already
  size_t code = NextStartCode(stream, 0);
  while (code < stream.size()) {
    const size_t begin = code + 3;
    const size_t next = NextStartCode(stream, begin);
    size_t end = next;
    // Zero bytes before the next start code (its fourth byte, trailing_zero_8bits) are not part
    // of this NAL unit.
    while (end > begin && stream[end - 1] == 0) --end;
    if (end > begin && (stream[begin] & 0x1F) == h264::kSps) {
      auto nal = WriteH264SpsColour(stream.subspan(begin, end - begin), colour);
      if (!nal) return nal.error();
      if (out.sps_rewritten == 0) bytes.reserve(stream.size() + 8);
      bytes.insert(bytes.end(), stream.begin() + static_cast<std::ptrdiff_t>(copied),
                   stream.begin() + static_cast<std::ptrdiff_t>(begin));
      bytes.insert(bytes.end(), nal->begin(), nal->end());
      copied = end;
      out.sps_rewritten++;
    }
    code = next;
  }
  if (out.sps_rewritten == 0) return out;
  bytes.insert(bytes.end(), stream.begin() + static_cast<std::ptrdiff_t>(copied), stream.end());
  out.bytes = std::move(bytes);
  return out;
}

}  // namespace plateau::mcu::rtp
