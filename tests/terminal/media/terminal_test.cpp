// The reference terminal on its own: what a live sender or a replayed clip sends is what the
// receiver (FFmpeg's avdec_h264, Opus) decodes.
#include <gst/gst.h>

#include <filesystem>

#include "plateau/mcu/media/gst_util.hpp"
#include "support/media/media_test_util.hpp"
#include "support/media/mixer_rig.hpp"

namespace plateau::mcu::testing {
namespace {

using terminal::media::MediaKind;

std::unique_ptr<terminal::media::TerminalReceiver> MakeReceiver(bool audio = true) {
  terminal::media::ReceiverConfig c;
  c.audio = audio;
  auto r = terminal::media::TerminalReceiver::Create(c);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r.value());
}

bool CentreIs(const terminal::media::DecodedFrame& f, Rgb want) {
  return terminal::media::ColorDistance(f.Average(f.width / 2, f.height / 2, 6), want) <=
         kColorTolerance;
}

TEST(TerminalSender, RefusesBadConfigurationsWithAReason) {
  terminal::media::SenderConfig c;
  c.width = 161;
  auto r = terminal::media::TerminalSender::Create(c, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_config");
  c = {};
  c.file = "/nonexistent/clip.mkv";
  r = terminal::media::TerminalSender::Create(c, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_file");
  c = {};
  c.ids.audio_payload_type = c.ids.video_payload_type;
  EXPECT_EQ(terminal::media::TerminalSender::Create(c, nullptr).error().code, "bad_config");
}

TEST(TerminalSender, ReceiverSeesItsColourAndHearsItsTone) {
  auto receiver = MakeReceiver();
  terminal::media::SenderConfig c;
  c.color = Rgb{225, 30, 30};
  c.width = 160;
  c.height = 90;
  c.video_kbps = 150;
  c.tone_hz = 440;
  auto sender = terminal::media::TerminalSender::Create(
      c, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
  ASSERT_TRUE(sender.ok()) << sender.error().message;

  auto frame = receiver->WaitForFrame([&](const auto& f) { return CentreIs(f, *c.color); },
                                      Clock::now() + 10s);
  ASSERT_NE(frame, nullptr) << "no red frame decoded";
  EXPECT_EQ(frame->width, 160);
  EXPECT_EQ(frame->height, 90);
  // The clock in the top-left corner is drawn over the colour.
  bool clock_drawn = false;
  for (int y = 4; y < 16 && !clock_drawn; y += 2)
    for (int x = 4; x < 40 && !clock_drawn; x += 2)
      clock_drawn = terminal::media::ColorDistance(frame->Average(x, y, 2), *c.color) > 60;
  EXPECT_TRUE(clock_drawn) << DumpFrame(*frame, "sender-clock");

  ASSERT_TRUE(receiver->WaitForAudio(600, Clock::now() + 10s));
  ASSERT_TRUE(receiver->WaitForFrame([](const auto&) { return true; }, Clock::now() + 5s,
                                     frame->index + 20) != nullptr);
  const double tone = receiver->ToneLevelDbov(440, 200);
  const double other = receiver->ToneLevelDbov(1000, 200);
  EXPECT_GT(tone, -30.0);
  EXPECT_LT(other, tone - 30.0);
  const auto stats = (*sender)->Stats();
  EXPECT_GT(stats.video_frames, 20u);
  EXPECT_GE(stats.keyframes, 1u);
  EXPECT_GT(stats.audio_packets, 20u);
  EXPECT_GT(receiver->Stats().fps, 10.0);
}

TEST(TerminalSender, KeyframeRequestProducesAKeyframe) {
  auto receiver = MakeReceiver(false);
  terminal::media::SenderConfig c;
  c.pattern = "smpte";
  c.width = 160;
  c.height = 90;
  c.gop_frames = 1000;
  c.audio = false;
  auto sender = terminal::media::TerminalSender::Create(
      c, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  ASSERT_TRUE(receiver->WaitForKeyframes(1, Clock::now() + 10s));
  ASSERT_NE(receiver->WaitForFrame([](const auto&) { return true; }, Clock::now() + 5s, 5),
            nullptr);
  const uint64_t before = receiver->Stats().keyframes;
  (*sender)->RequestKeyframe();
  EXPECT_TRUE(receiver->WaitForKeyframes(before + 1, Clock::now() + 3s));
  EXPECT_GE((*sender)->Stats().keyframes, 2u);
}

TEST(TerminalSender, SendsAMediaFile) {
  media::EnsureGstInit();
  const std::string path = ::testing::TempDir() + "plateau-terminal-file.mkv";
  // A 1.5 s file made here (never kept in git): blue picture and a 660 Hz tone.
  GError* error = nullptr;
  GstElement* p = gst_parse_launch(
      ("videotestsrc num-buffers=45 pattern=solid-color foreground-color=0xff1e1ee1 ! "
       "video/x-raw,width=160,height=90,framerate=30/1 ! openh264enc ! h264parse ! mux. "
       "audiotestsrc num-buffers=75 samplesperbuffer=960 freq=660 ! opusenc ! mux. "
       "matroskamux name=mux ! filesink location=" +
       path)
          .c_str(),
      &error);
  ASSERT_NE(p, nullptr) << (error ? error->message : "");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);

  auto receiver = MakeReceiver();
  terminal::media::SenderConfig c;
  c.file = path;
  c.width = 160;
  c.height = 90;
  c.clock = false;
  auto sender = terminal::media::TerminalSender::Create(
      c, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  EXPECT_NE(receiver->WaitForFrame(
                [](const auto& f) {
                  return CentreIs(f, Rgb{30, 30, 225});
                },
                Clock::now() + 10s),
            nullptr);
  ASSERT_TRUE(receiver->WaitForAudio(600, Clock::now() + 10s));
  EXPECT_GT(receiver->ToneLevelDbov(660, 200), receiver->ToneLevelDbov(440, 200) + 20);
  std::filesystem::remove(path);
}

// The sender's SPS states the colorimetry it encoded with (docs/media-video.md, "Colour"), so
// a decoder converts with that matrix whatever the picture size. A 1280x720 file (BT.709) sent at
// 160x90 is still BT.709: a decoder left to guess takes BT.601 below 720 lines and showed its red
// as #e80006.
TEST(TerminalSender, StatesTheColourItEncodes) {
  const Rgb red{255, 0, 0};
  {
    auto receiver = MakeReceiver(false);
    terminal::media::SenderConfig c;
    c.color = red;
    c.width = 160;
    c.height = 90;
    c.audio = false;
    c.clock = false;
    auto sender = terminal::media::TerminalSender::Create(
        c, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
    ASSERT_TRUE(sender.ok()) << sender.error().message;
    auto frame =
        receiver->WaitForFrame([&](const auto& f) { return f.index >= 3; }, Clock::now() + 10s);
    ASSERT_NE(frame, nullptr);
    EXPECT_EQ(receiver->Stats().stream_colorimetry, "bt601");
    EXPECT_EQ(receiver->Stats().decoded_colorimetry, "bt601");
    const Rgb got = frame->Average(80, 45, 8);
    EXPECT_LE(terminal::media::ColorDistance(got, red), kExactColorTolerance)
        << terminal::media::FormatRgb(got);
  }
  const std::string path = MakeColourFile("plateau-terminal-red720.mkv", red, 1280, 720);
  {
    auto receiver = MakeReceiver(false);
    terminal::media::SenderConfig c;
    c.file = path;
    c.width = 160;
    c.height = 90;
    c.audio = false;
    c.clock = false;
    auto sender = terminal::media::TerminalSender::Create(
        c, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
    ASSERT_TRUE(sender.ok()) << sender.error().message;
    auto frame =
        receiver->WaitForFrame([&](const auto& f) { return f.index >= 3; }, Clock::now() + 10s);
    ASSERT_NE(frame, nullptr);
    const auto stats = receiver->Stats();
    EXPECT_EQ(stats.stream_colorimetry, "bt709");
    EXPECT_EQ(stats.decoded_colorimetry, "bt709");
    const Rgb got = frame->Average(80, 45, 8);
    EXPECT_LE(terminal::media::ColorDistance(got, red), kExactColorTolerance)
        << terminal::media::FormatRgb(got) << " (stream states \"" << stats.stream_colorimetry
        << "\", decoded as \"" << stats.decoded_colorimetry << "\")";
  }
  std::filesystem::remove(path);
}

std::shared_ptr<const terminal::media::EncodedClip> MakeClip(Rgb color, double seconds, int gop) {
  terminal::media::ClipConfig c;
  c.color = color;
  c.width = 160;
  c.height = 90;
  c.seconds = seconds;
  c.gop_frames = gop;
  c.video_kbps = 150;
  c.tone_hz = 880;
  auto clip = terminal::media::EncodedClip::Generate(c);
  EXPECT_TRUE(clip.ok()) << (clip.ok() ? "" : clip.error().message);
  return clip.ok() ? *clip : nullptr;
}

TEST(TerminalReplay, ClipIsEncodedOnceWithKeyframesWhereAsked) {
  auto clip = MakeClip(Rgb{30, 225, 30}, 2.0, 30);
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->video_frames(), 60u);
  EXPECT_EQ(clip->keyframes(), 2u);
  EXPECT_EQ(clip->duration_us(), 2000000);
  EXPECT_TRUE(clip->packets().front().keyframe_start);
  size_t audio = 0;
  for (const auto& p : clip->packets()) audio += p.kind == MediaKind::kAudio;
  EXPECT_GE(audio, 100u);  // 20 ms Opus frames (the encoder's look-ahead may add one)
  EXPECT_LE(audio, 102u);
  terminal::media::ClipConfig bad;
  bad.seconds = 0;
  EXPECT_EQ(terminal::media::EncodedClip::Generate(bad).error().code, "bad_config");
}

TEST(TerminalReplay, LoopsSeamlesslyWithItsOwnStreamIds) {
  auto clip = MakeClip(Rgb{30, 225, 30}, 1.0, 30);
  ASSERT_NE(clip, nullptr);
  auto receiver = MakeReceiver();
  terminal::media::ReplayHub hub;
  std::atomic<uint32_t> seen_ssrc{0};
  const auto id = hub.AddSender(clip, terminal::media::StreamIds{96, 111, 0x1234, 0x5678},
                                [&](MediaKind kind, std::span<const uint8_t> rtp) {
                                  if (kind == MediaKind::kVideo)
                                    seen_ssrc = static_cast<uint32_t>(rtp[8]) << 24 | rtp[9] << 16 |
                                                rtp[10] << 8 | rtp[11];
                                  receiver->PushRtp(rtp);
                                });
  // Past two loops of the 30-frame clip the receiver still decodes the colour: sequence numbers
  // and timestamps continue across the loop.
  auto frame = receiver->WaitForFrame(
      [](const auto& f) {
        return f.index > 70 && CentreIs(f, Rgb{30, 225, 30});
      },
      Clock::now() + 10s);
  ASSERT_NE(frame, nullptr);
  EXPECT_EQ(seen_ssrc.load(), 0x1234u);
  EXPECT_GE(hub.Stats(id)->loops, 2u);
  ASSERT_TRUE(receiver->WaitForAudio(400, Clock::now() + 5s));
  EXPECT_GT(receiver->ToneLevelDbov(880, 200), -30.0);
  hub.RemoveSender(id);
  EXPECT_EQ(hub.sender_count(), 0u);
  EXPECT_FALSE(hub.Stats(id).has_value());
}

TEST(TerminalReplay, KeyframeRequestJumpsToTheNextKeyframe) {
  // One keyframe per 4 s loop: only a jump can deliver one sooner.
  auto clip = MakeClip(Rgb{225, 225, 30}, 4.0, 120);
  ASSERT_NE(clip, nullptr);
  ASSERT_EQ(clip->keyframes(), 1u);
  auto receiver = MakeReceiver(false);
  terminal::media::ReplayHub hub;
  const auto id = hub.AddSender(
      clip, {}, [&](MediaKind, std::span<const uint8_t> rtp) { receiver->PushRtp(rtp); });
  ASSERT_TRUE(receiver->WaitForKeyframes(1, Clock::now() + 5s));
  ASSERT_NE(receiver->WaitForFrame([](const auto&) { return true; }, Clock::now() + 5s, 10),
            nullptr);
  const uint64_t before = receiver->Stats().keyframes;
  hub.RequestKeyframe(id);
  EXPECT_TRUE(receiver->WaitForKeyframes(before + 1, Clock::now() + 1s));
  EXPECT_EQ(hub.Stats(id)->keyframe_jumps, 1u);
  // Decoding goes on after the jump (timestamps stayed continuous).
  const uint64_t index = receiver->LatestFrame()->index;
  EXPECT_NE(receiver->WaitForFrame(
                [](const auto& f) {
                  return CentreIs(f, Rgb{225, 225, 30});
                },
                Clock::now() + 3s, index + 15),
            nullptr);
}

}  // namespace
}  // namespace plateau::mcu::testing
