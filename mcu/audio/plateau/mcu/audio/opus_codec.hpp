// Small RAII wrappers around libopus for 20 ms, 48 kHz frames, used by the mixer and reusable by
// tests, benchmarks and the reference terminal. Errors are values; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "plateau/common/result.hpp"

struct OpusEncoder;
struct OpusDecoder;

namespace plateau::mcu::audio {

inline constexpr int kSampleRate = 48000;  // Hz, decode, mix and encode
inline constexpr int kFrameSamples = 960;  // 20 ms at 48 kHz: one mixer tick
inline constexpr int kFrameMs = 20;
inline constexpr std::size_t kMaxOpusPayload = 1500;  // larger payloads are malformed

// The number of 48 kHz samples (per channel) an Opus packet carries, or an error for anything that
// is not a well-formed Opus packet (bad TOC/frame lengths, empty, longer than 120 ms or larger
// than kMaxOpusPayload). Pure parsing: no decoder state is touched.
Result<int> OpusPacketSamples(std::span<const std::uint8_t> packet);

struct OpusEncoderOptions {
  int channels = 1;
  int bitrate_bps = 32000;
  int complexity = 5;
  bool inband_fec = false;
  int expected_loss_percent = 0;
  bool voip = true;  // OPUS_APPLICATION_VOIP (speech) or AUDIO
};

class OpusFrameEncoder {
 public:
  static Result<OpusFrameEncoder> Create(const OpusEncoderOptions& options);
  // Encodes exactly one 20 ms frame (960 * channels interleaved samples) into `out` (resized).
  Status Encode(std::span<const std::int16_t> pcm, std::vector<std::uint8_t>* out);
  int channels() const { return channels_; }

 private:
  struct Free {
    void operator()(OpusEncoder* e) const;
  };
  std::unique_ptr<OpusEncoder, Free> enc_;
  int channels_ = 1;
};

class OpusFrameDecoder {
 public:
  static Result<OpusFrameDecoder> Create(int channels = 1);
  // Decodes a packet into `pcm` (resized to samples * channels); returns samples per channel.
  Result<int> Decode(std::span<const std::uint8_t> packet, std::vector<std::int16_t>* pcm);
  // Recovers the `samples` (a multiple of 120, at most 960) just BEFORE `next_packet` from its
  // in-band FEC; libopus falls back to concealment when the packet carries none.
  Result<int> DecodeFec(std::span<const std::uint8_t> next_packet, std::vector<std::int16_t>* pcm,
                        int samples = kFrameSamples);
  // Packet-loss concealment for `samples` (a multiple of 120, at most 5760).
  Result<int> Conceal(std::vector<std::int16_t>* pcm, int samples = kFrameSamples);
  int channels() const { return channels_; }

 private:
  struct Free {
    void operator()(OpusDecoder* d) const;
  };
  std::unique_ptr<OpusDecoder, Free> dec_;
  int channels_ = 1;
};

}  // namespace plateau::mcu::audio
