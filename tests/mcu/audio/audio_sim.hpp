// Test doubles that are real parts: a venue that encodes its own tone with libopus and sends it as
// RTP-like (timestamp, seq, payload) packets, and a receiver that decodes what the mixer sends it
// with its own, independent Opus decoder.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "plateau/mcu/audio/mix_minus_mixer.hpp"
#include "plateau/mcu/audio/opus_codec.hpp"
#include "plateau/mcu/audio/tone.hpp"

namespace plateau::mcu::audio::testing {

class ToneVenue {
 public:
  // level_dbov <= -127 sends digital silence (still encoded, still sent).
  ToneVenue(VenueId id, double frequency_hz, double level_dbov, bool fec = false,
            std::uint32_t first_timestamp = 1000)
      : id_(id),
        tone_(frequency_hz, level_dbov),
        silent_(level_dbov <= -127),
        ts_(first_timestamp) {
    OpusEncoderOptions o;
    o.bitrate_bps = 32000;
    o.inband_fec = fec;
    o.expected_loss_percent = fec ? 20 : 0;
    auto enc = OpusFrameEncoder::Create(o);
    EXPECT_TRUE(enc.ok());
    enc_.emplace(std::move(enc).value());
  }

  VenueId id() const { return id_; }
  void set_level(double level_dbov) { tone_ = SineTone(tone_.frequency_hz(), level_dbov); }

  struct Packet {
    std::uint32_t timestamp;
    std::uint16_t seq;
    std::vector<std::uint8_t> payload;
  };

  // The next 20 ms packet (timestamp +960, seq +1 each call).
  Packet Next() {
    std::vector<std::int16_t> pcm(kFrameSamples, 0);
    if (!silent_) tone_.Fill(pcm);
    Packet p{ts_, seq_, {}};
    EXPECT_TRUE(enc_->Encode(pcm, &p.payload).ok());
    ts_ += kFrameSamples;
    ++seq_;
    return p;
  }

  // Encodes the next packet and pushes it (unless `drop`); returns what PushOpus said.
  std::optional<PushResult> Send(MixMinusMixer& mixer, bool drop = false) {
    Packet p = Next();
    if (drop) return std::nullopt;
    return mixer.PushOpus(id_, p.timestamp, p.seq, p.payload);
  }

 private:
  VenueId id_;
  SineTone tone_;
  bool silent_;
  std::optional<OpusFrameEncoder> enc_;
  std::uint32_t ts_;
  std::uint16_t seq_ = 1;
};

// Decodes one venue's output stream and keeps the PCM.
class Receiver {
 public:
  Receiver() {
    auto dec = OpusFrameDecoder::Create(1);
    EXPECT_TRUE(dec.ok());
    dec_.emplace(std::move(dec).value());
  }
  void Take(const VenueOutput& out) {
    ASSERT_NE(out.frame, nullptr);
    ASSERT_FALSE(out.frame->opus.empty());
    std::vector<std::int16_t> pcm;
    auto n = dec_->Decode(out.frame->opus, &pcm);
    ASSERT_TRUE(n.ok()) << n.error().message;
    EXPECT_EQ(*n, kFrameSamples);
    pcm_.insert(pcm_.end(), pcm.begin(), pcm.end());
  }
  // The last `ms` milliseconds received.
  std::span<const std::int16_t> Last(int ms) const {
    const std::size_t n = std::min(pcm_.size(), static_cast<std::size_t>(ms) * 48);
    return std::span<const std::int16_t>(pcm_).subspan(pcm_.size() - n);
  }
  double ToneDbov(double frequency_hz, int last_ms) const {
    return ToneDetector::LevelDbov(Last(last_ms), frequency_hz);
  }

 private:
  std::optional<OpusFrameDecoder> dec_;
  std::vector<std::int16_t> pcm_;
};

}  // namespace plateau::mcu::audio::testing
