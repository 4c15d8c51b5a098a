#include "plateau/mcu/audio/tone.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "plateau/mcu/audio/opus_codec.hpp"

namespace plateau::mcu::audio {
namespace {

TEST(Tone, RmsOfASineReadsBackItsLevel) {
  std::vector<std::int16_t> pcm(48000);
  SineTone(440, -20).Fill(pcm);
  EXPECT_NEAR(RmsDbov(pcm), -20, 0.05);
  std::vector<std::int16_t> silence(960, 0);
  EXPECT_EQ(RmsDbov(silence), -127);
}

TEST(Tone, DetectorMeasuresEachToneAndNotItsNeighbours) {
  std::vector<std::int16_t> pcm(48000 / 10 * 2);  // 200 ms
  SineTone(300, -20).Add(pcm);
  SineTone(450, -30).Add(pcm);
  SineTone(1250, -26).Add(pcm);
  ToneDetector d({300, 450, 600, 800, 1000, 1250});
  const auto levels = d.Measure(pcm);
  ASSERT_EQ(levels.size(), 6u);
  EXPECT_NEAR(levels[0].level_dbov, -20, 0.5);
  EXPECT_NEAR(levels[1].level_dbov, -30, 0.5);
  EXPECT_LT(levels[2].level_dbov, -80);
  EXPECT_LT(levels[3].level_dbov, -80);
  EXPECT_LT(levels[4].level_dbov, -80);
  EXPECT_NEAR(levels[5].level_dbov, -26, 0.5);
}

TEST(Tone, PhaseContinuesAcrossBlocks) {
  SineTone split(1000, -10), whole(1000, -10);
  std::vector<std::int16_t> a(960 * 3), b(960 * 3);
  whole.Fill(a);
  for (int i = 0; i < 3; ++i) split.Fill(std::span<std::int16_t>(b).subspan(960 * i, 960));
  EXPECT_EQ(a, b);
}

TEST(Tone, SurvivesAnOpusRoundTrip) {
  auto enc = OpusFrameEncoder::Create({});
  auto dec = OpusFrameDecoder::Create(1);
  ASSERT_TRUE(enc.ok() && dec.ok());
  SineTone tone(600, -20);
  std::vector<std::int16_t> in(960), out, all;
  std::vector<std::uint8_t> packet;
  for (int i = 0; i < 25; ++i) {
    tone.Fill(in);
    ASSERT_TRUE(enc->Encode(in, &packet).ok());
    ASSERT_EQ(OpusPacketSamples(packet).value(), 960);
    ASSERT_EQ(dec->Decode(packet, &out).value(), 960);
    all.insert(all.end(), out.begin(), out.end());
  }
  const std::span<const std::int16_t> tail(all.data() + all.size() - 9600, 9600);
  EXPECT_NEAR(ToneDetector::LevelDbov(tail, 600), -20, 1.5);
  EXPECT_LT(ToneDetector::LevelDbov(tail, 300), -60);
}

TEST(OpusCodec, RejectsWrongFrameSizesAndBadPackets) {
  auto enc = OpusFrameEncoder::Create({});
  ASSERT_TRUE(enc.ok());
  std::vector<std::int16_t> short_frame(480);
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(enc->Encode(short_frame, &out).ok());
  auto dec = OpusFrameDecoder::Create(1);
  ASSERT_TRUE(dec.ok());
  std::vector<std::int16_t> pcm;
  const std::vector<std::uint8_t> bad{0x03, 0x00};
  EXPECT_FALSE(dec->Decode(bad, &pcm).ok());
  EXPECT_FALSE(dec->Conceal(&pcm, 100).ok());
  EXPECT_EQ(dec->Conceal(&pcm).value(), 960);
  EXPECT_FALSE(OpusFrameDecoder::Create(3).ok());
}

}  // namespace
}  // namespace plateau::mcu::audio
