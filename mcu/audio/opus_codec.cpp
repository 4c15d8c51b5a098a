#include "plateau/mcu/audio/opus_codec.hpp"

#include <opus.h>

#include <string>

namespace plateau::mcu::audio {
namespace {

constexpr int kMaxPacketSamples = 5760;  // 120 ms at 48 kHz, the longest Opus packet

Error OpusError(const char* what, int code) {
  return Error{"opus_error", std::string(what) + ": " + opus_strerror(code)};
}

}  // namespace

Result<int> OpusPacketSamples(std::span<const std::uint8_t> packet) {
  if (packet.empty()) return Error{"malformed_opus", "empty Opus payload"};
  if (packet.size() > kMaxOpusPayload)
    return Error{"malformed_opus", "Opus payload of " + std::to_string(packet.size()) +
                                       " bytes is larger than " + std::to_string(kMaxOpusPayload)};
  unsigned char toc = 0;
  const unsigned char* frames[48];
  opus_int16 sizes[48];
  int offset = 0;
  const int len = static_cast<int>(packet.size());
  const int nframes = opus_packet_parse(packet.data(), len, &toc, frames, sizes, &offset);
  if (nframes < 0) return OpusError("malformed Opus payload", nframes);
  const int samples = opus_packet_get_nb_samples(packet.data(), len, kSampleRate);
  if (samples <= 0 || samples > kMaxPacketSamples)
    return Error{"malformed_opus", "Opus payload has an invalid duration"};
  return samples;
}

void OpusFrameEncoder::Free::operator()(OpusEncoder* e) const {
  opus_encoder_destroy(e);
}
void OpusFrameDecoder::Free::operator()(OpusDecoder* d) const {
  opus_decoder_destroy(d);
}

Result<OpusFrameEncoder> OpusFrameEncoder::Create(const OpusEncoderOptions& options) {
  if (options.channels != 1 && options.channels != 2)
    return Error{"bad_config", "Opus channels must be 1 or 2"};
  int err = OPUS_OK;
  OpusEncoder* raw =
      opus_encoder_create(kSampleRate, options.channels,
                          options.voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO, &err);
  if (err != OPUS_OK || raw == nullptr) return OpusError("opus_encoder_create", err);
  OpusFrameEncoder out;
  out.enc_.reset(raw);
  out.channels_ = options.channels;
  if ((err = opus_encoder_ctl(raw, OPUS_SET_BITRATE(options.bitrate_bps))) != OPUS_OK)
    return OpusError("OPUS_SET_BITRATE", err);
  if ((err = opus_encoder_ctl(raw, OPUS_SET_COMPLEXITY(options.complexity))) != OPUS_OK)
    return OpusError("OPUS_SET_COMPLEXITY", err);
  if ((err = opus_encoder_ctl(raw, OPUS_SET_INBAND_FEC(options.inband_fec ? 1 : 0))) != OPUS_OK)
    return OpusError("OPUS_SET_INBAND_FEC", err);
  if ((err = opus_encoder_ctl(raw, OPUS_SET_PACKET_LOSS_PERC(options.expected_loss_percent))) !=
      OPUS_OK)
    return OpusError("OPUS_SET_PACKET_LOSS_PERC", err);
  return out;
}

Status OpusFrameEncoder::Encode(std::span<const std::int16_t> pcm, std::vector<std::uint8_t>* out) {
  if (pcm.size() != static_cast<std::size_t>(kFrameSamples * channels_))
    return Error{"bad_frame", "an Opus frame is 960 samples per channel"};
  out->resize(kMaxOpusPayload);
  const opus_int32 n = opus_encode(enc_.get(), pcm.data(), kFrameSamples, out->data(),
                                   static_cast<opus_int32>(out->size()));
  if (n < 0) {
    out->clear();
    return OpusError("opus_encode", n);
  }
  out->resize(static_cast<std::size_t>(n));
  return Status::Ok();
}

Result<OpusFrameDecoder> OpusFrameDecoder::Create(int channels) {
  if (channels != 1 && channels != 2) return Error{"bad_config", "Opus channels must be 1 or 2"};
  int err = OPUS_OK;
  OpusDecoder* raw = opus_decoder_create(kSampleRate, channels, &err);
  if (err != OPUS_OK || raw == nullptr) return OpusError("opus_decoder_create", err);
  OpusFrameDecoder out;
  out.dec_.reset(raw);
  out.channels_ = channels;
  return out;
}

Result<int> OpusFrameDecoder::Decode(std::span<const std::uint8_t> packet,
                                     std::vector<std::int16_t>* pcm) {
  auto samples = OpusPacketSamples(packet);
  if (!samples) return samples.error();
  pcm->resize(static_cast<std::size_t>(*samples * channels_));
  const int n = opus_decode(dec_.get(), packet.data(), static_cast<opus_int32>(packet.size()),
                            pcm->data(), *samples, 0);
  if (n < 0) {
    pcm->clear();
    return OpusError("opus_decode", n);
  }
  pcm->resize(static_cast<std::size_t>(n * channels_));
  return n;
}

Result<int> OpusFrameDecoder::DecodeFec(std::span<const std::uint8_t> next_packet,
                                        std::vector<std::int16_t>* pcm, int samples) {
  auto packet_samples = OpusPacketSamples(next_packet);
  if (!packet_samples) return packet_samples.error();
  if (samples <= 0 || samples > kFrameSamples || samples % 120 != 0)
    return Error{"bad_frame", "FEC recovers a multiple of 2.5 ms up to 20 ms"};
  pcm->resize(static_cast<std::size_t>(samples * channels_));
  const int n = opus_decode(dec_.get(), next_packet.data(),
                            static_cast<opus_int32>(next_packet.size()), pcm->data(), samples, 1);
  if (n < 0) {
    pcm->clear();
    return OpusError("opus_decode(fec)", n);
  }
  pcm->resize(static_cast<std::size_t>(n * channels_));
  return n;
}

Result<int> OpusFrameDecoder::Conceal(std::vector<std::int16_t>* pcm, int samples) {
  if (samples <= 0 || samples > kMaxPacketSamples || samples % 120 != 0)
    return Error{"bad_frame", "concealment covers a multiple of 2.5 ms up to 120 ms"};
  pcm->resize(static_cast<std::size_t>(samples * channels_));
  const int n = opus_decode(dec_.get(), nullptr, 0, pcm->data(), samples, 0);
  if (n < 0) {
    pcm->clear();
    return OpusError("opus_decode(plc)", n);
  }
  pcm->resize(static_cast<std::size_t>(n * channels_));
  return n;
}

}  // namespace plateau::mcu::audio
