// H.264 SPS colour description (mcu/rtp/h264_sps): the MCU rewrites the SPS of its own encoders,
// and the parser reads whatever a venue's stream holds. Checks: parse and rewrite agree on what is
// valid; a rewrite parses back with the colour asked for and the same size and profile; rewriting
// again with the same colour changes nothing; the Annex B walk never breaks.
// Input: 4 bytes of colour (primaries, transfer, matrix, range bit), then the NAL unit / stream.
#include <cstdint>
#include <span>

#include "plateau/mcu/rtp/h264_sps.hpp"

using namespace plateau::mcu::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const H264ColourDescription colour{data[0], data[1], data[2], (data[3] & 1) != 0};
  const std::span<const uint8_t> nal(data + 4, size - 4);

  const auto parsed = ParseH264Sps(nal);
  const auto written = WriteH264SpsColour(nal, colour);
  if (parsed.ok() != written.ok()) __builtin_trap();
  if (written.ok()) {
    const auto back = ParseH264Sps(*written);
    if (!back.ok() || !back->colour || !(*back->colour == colour)) __builtin_trap();
    if (back->width != parsed->width || back->height != parsed->height ||
        back->profile_idc != parsed->profile_idc || back->sps_id != parsed->sps_id)
      __builtin_trap();
    const auto again = WriteH264SpsColour(*written, colour);
    if (!again.ok() || *again != *written) __builtin_trap();
  }

  const auto stream = WriteH264AnnexBColour(nal, colour);
  if (stream.ok() && stream->bytes && stream->sps_rewritten == 0) __builtin_trap();
  return 0;
}
