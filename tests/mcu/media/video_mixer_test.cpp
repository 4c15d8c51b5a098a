// The video mixer checked by what a viewer sees: each venue sends its own colour, the mix is
// decoded by FFmpeg's avdec_h264 (not the OpenH264 the mixer uses), and every tile must hold the
// colour of the venue the layout puts there.
#include "plateau/mcu/media/video_mixer.hpp"

#include <cstdio>
#include <filesystem>

#include "support/media/mixer_rig.hpp"
#include "support/wait.hpp"

namespace plateau::mcu::testing {
namespace {

using media::LayoutKind;

const char* const kNames[] = {"西宁市", "海东市", "海北州", "黄南州", "海南州", "果洛州", "玉树州",
                              "海西州", "格尔木", "大通县", "湟中区", "湟源县", "平安区", "乐都区",
                              "民和县", "互助县", "化隆县", "循化县", "门源县", "祁连县"};

std::string Why(const std::string& why, const terminal::media::TerminalReceiver& r,
                const char* name) {
  auto frame = r.LatestFrame();
  const auto s = r.Stats();
  return why + (frame ? " (last frame: " + DumpFrame(*frame, name) + ")" : " (no frame)") +
         " packets " + std::to_string(s.video_packets) + " frames " +
         std::to_string(s.frames_decoded) + " keyframes " + std::to_string(s.keyframes);
}

TEST(VideoMixer, RefusesBadConfigurations) {
  auto c = SmallMixerConfig();
  c.canvas_width = 321;
  EXPECT_EQ(media::VideoMixer::Create(c, {}).error().code, "bad_config");
  c = SmallMixerConfig();
  c.tiers[1].name = c.tiers[0].name;
  EXPECT_EQ(media::VideoMixer::Create(c, {}).error().code, "bad_config");
  c = SmallMixerConfig();
  c.tiers.clear();
  EXPECT_EQ(media::VideoMixer::Create(c, {}).error().code, "bad_config");
  for (int slots : {0, 17}) {
    c = SmallMixerConfig();
    c.slots = slots;
    EXPECT_EQ(media::VideoMixer::Create(c, {}).error().code, "bad_config") << slots;
  }
}

TEST(VideoMixer, ComposesBlackFramesWithNoVenue) {
  MixerRig rig(SmallMixerConfig());
  auto frame =
      rig.receiver(0).WaitForFrame([](const auto& f) { return f.index >= 15; }, Clock::now() + 10s);
  ASSERT_NE(frame, nullptr) << Why("", rig.receiver(0), "black") << " tier packets "
                            << rig.mixer().Stats().tiers[0].packets << " composed "
                            << rig.mixer().Stats().frames_composed;
  EXPECT_LE(terminal::media::ColorDistance(frame->Average(160, 90, 20), Rgb{0, 0, 0}), 20);
  EXPECT_EQ(rig.mixer().Stats().active_decoders, 0u);
  EXPECT_GE(rig.mixer().Stats().frames_composed, 15u);
  EXPECT_EQ(rig.mixer().RequestKeyframe("nope").error().code, "unknown_tier");
  EXPECT_EQ(rig.mixer().AddVenue("", "x").error().code, "bad_venue");
  EXPECT_EQ(rig.mixer().SetSpeaker("nope").error().code, "unknown_venue");
}

TEST(VideoMixer, MixHoldsEachVenuesColourWhereTheLayoutPutsIt) {
  MixerRig rig(SmallMixerConfig());
  const auto colors = Palette(6);
  for (int i = 0; i < 6; ++i)
    rig.AddLiveVenue("v" + std::to_string(i + 1), kNames[i], colors[static_cast<size_t>(i)]);

  // Automatic layout for six venues: 1+5.
  ASSERT_EQ(rig.mixer().Stats().layout, LayoutKind::kOnePlusFive);
  std::string why;
  auto first = rig.WaitForLayout(0, Clock::now() + 15s, &why);
  ASSERT_NE(first, nullptr) << Why(why, rig.receiver(0), "mix-1p5");
  MaybeDump(first, "mix-1p5");
  EXPECT_EQ(rig.mixer().Stats().active_decoders, 6u);

  // The large pane carries its venue's name: the caption (light glyphs on a dark band at the
  // bottom) is not the tile's colour.
  {
    const auto placements = rig.mixer().Placements();
    const auto frame = rig.receiver(0).LatestFrame();
    const media::Rect r = placements[0].rect;
    const Rgb caption = frame->Average(r.x + r.width / 2, r.y + r.height - r.height / 20 - 3, 10);
    EXPECT_GT(terminal::media::ColorDistance(caption, rig.ColorOf(placements[0].venue)), 60)
        << terminal::media::FormatRgb(caption);
  }

  // A layout change is seen within one second.
  auto t0 = Clock::now();
  rig.mixer().SetLayout(LayoutKind::kTwoByTwo);
  auto frame = rig.WaitForLayout(0, t0 + 1s, &why);
  ASSERT_NE(frame, nullptr) << Why(why, rig.receiver(0), "mix-2x2");
  MaybeDump(frame, "mix-2x2");
  EXPECT_LT(frame->arrival - t0, 1s);
  EXPECT_EQ(rig.mixer().Placements().size(), 4u);
  EXPECT_EQ(rig.mixer().Stats().active_decoders, 4u);

  // A hidden venue becoming the speaker takes the first tile within one second.
  t0 = Clock::now();
  ASSERT_TRUE(rig.mixer().SetSpeaker("v6").ok());
  ASSERT_EQ(rig.mixer().Placements()[0].venue, "v6");
  frame = rig.WaitForLayout(0, t0 + 1s, &why);
  ASSERT_NE(frame, nullptr) << Why(why, rig.receiver(0), "mix-speaker");
  MaybeDump(frame, "mix-speaker");
  EXPECT_GE(rig.KeyframeRequests("v6"), 2);  // when it first showed, and now

  // Removing a venue re-lays the rest out (back to automatic: five venues -> 1+5).
  rig.mixer().SetLayout(LayoutKind::kAuto);
  ASSERT_TRUE(rig.mixer().RemoveVenue("v2").ok());
  t0 = Clock::now();
  frame = rig.WaitForLayout(1, t0 + 1s, &why);
  ASSERT_NE(frame, nullptr) << Why(why, rig.receiver(1), "mix-remove");
  MaybeDump(frame, "mix-remove");
  EXPECT_EQ(rig.mixer().Stats().active_decoders, 5u);
  EXPECT_EQ(rig.mixer().Stats().pipeline_errors, 0u);
}

// What a viewer sees is the colour each venue sent, on every tier (docs/media-video.md,
// "Colour"): every tier's SPS states BT.601, the canvas's colorimetry, so avdec_h264 converts
// with that matrix at 1280x720 too (left to guess it took BT.709 there: red #ff0000 showed as
// #ff1500). The blue venue sends a 1280x720 file at 160x90, i.e. BT.709 pixels
// at a size where a decoder guesses BT.601: its SPS says so and the mixer converts it.
TEST(VideoMixer, EveryTierStatesItsColourAndShowsTheVenuesColours) {
  media::VideoMixerConfig config = SmallMixerConfig();
  config.canvas_width = 1280;
  config.canvas_height = 720;
  config.tiers = {{"8m", 1280, 720, 1500, 1000, 1200, 96, 0},
                  {"2m", 320, 180, 300, 1000, 1200, 96, 0}};
  MixerRig rig(config);
  const Rgb red{255, 0, 0}, green{0, 255, 0}, blue{0, 0, 255};
  rig.AddLiveVenue("red", kNames[0], red);
  rig.AddLiveVenue("green", kNames[1], green);
  const std::string path = MakeColourFile("plateau-mixer-blue720.mkv", blue, 1280, 720);
  terminal::media::SenderConfig file;
  file.file = path;
  file.width = 160;
  file.height = 90;
  file.video_kbps = 150;
  file.gop_frames = 1000;
  file.audio = false;
  file.clock = false;
  rig.AddSenderVenue("blue", kNames[2], blue, file);

  for (size_t tier = 0; tier < config.tiers.size(); ++tier) {
    std::string why;
    auto frame = rig.WaitForLayout(tier, Clock::now() + 15s, &why, kExactColorTolerance);
    const auto stats = rig.receiver(tier).Stats();
    ASSERT_NE(frame, nullptr) << config.tiers[tier].name << ": "
                              << Why(why, rig.receiver(tier), "colour") << "; stream states \""
                              << stats.stream_colorimetry << "\", decoded as \""
                              << stats.decoded_colorimetry << "\"";
    MaybeDump(frame, "colour-" + config.tiers[tier].name);
    EXPECT_EQ(stats.stream_colorimetry, "bt601") << config.tiers[tier].name;
    EXPECT_EQ(stats.decoded_colorimetry, "bt601") << config.tiers[tier].name;
  }
  EXPECT_EQ(rig.mixer().Stats().pipeline_errors, 0u);
  std::filesystem::remove(path);
}

TEST(VideoMixer, OnlyVisibleVenuesAreDecoded) {
  MixerRig rig(SmallMixerConfig());
  const auto colors = Palette(20);
  // One keyframe per 4 s loop: a venue made visible shows quickly only if its keyframe request
  // is answered.
  std::vector<std::shared_ptr<const terminal::media::EncodedClip>> clips;
  for (size_t i = 0; i < 20; ++i) {
    terminal::media::ClipConfig c;
    c.color = colors[i];
    c.width = 160;
    c.height = 90;
    c.seconds = 4;
    c.gop_frames = 120;
    c.video_kbps = 100;
    c.audio = false;
    auto clip = terminal::media::EncodedClip::Generate(c);
    ASSERT_TRUE(clip.ok()) << clip.error().message;
    clips.push_back(*clip);
  }
  rig.mixer().SetLayout(LayoutKind::kFourByFour);
  for (size_t i = 0; i < 20; ++i)
    rig.AddReplayVenue("v" + std::to_string(i + 1), kNames[i], colors[i], clips[i]);

  std::string why;
  auto grid = rig.WaitForLayout(0, Clock::now() + 15s, &why);
  ASSERT_NE(grid, nullptr) << Why(why, rig.receiver(0), "visible-4x4");
  MaybeDump(grid, "visible-4x4");
  auto stats = rig.mixer().Stats();
  EXPECT_EQ(stats.active_decoders, 16u);
  EXPECT_EQ(stats.slots, 16u);
  for (const auto& v : stats.venues) {
    const bool hidden =
        v.venue == "v17" || v.venue == "v18" || v.venue == "v19" || v.venue == "v20";
    EXPECT_EQ(v.decoding, !hidden) << v.venue;
    EXPECT_EQ(v.visible, !hidden) << v.venue;
    EXPECT_GT(v.packets, 0u) << v.venue;
    if (hidden) {
      EXPECT_GT(v.dropped_hidden, 0u) << v.venue;
      EXPECT_EQ(v.frames_decoded, 0u) << v.venue;
    } else {
      EXPECT_GT(v.frames_decoded, 0u) << v.venue;
    }
  }

  // v20 becomes the speaker: it takes tile 0 within a second, its keyframe was asked for, and
  // still exactly 16 decoders run (v16 dropped out).
  const int requests_before = rig.KeyframeRequests("v20");
  const auto t0 = Clock::now();
  ASSERT_TRUE(rig.mixer().SetSpeaker("v20").ok());
  const auto placements = rig.mixer().Placements();
  ASSERT_EQ(placements[0].venue, "v20");
  auto frame = rig.receiver(0).WaitForFrame(
      [&](const terminal::media::DecodedFrame& f) {
        return ShowsLayout(
            f, {placements[0]}, 320, 180, [&](const std::string& v) { return rig.ColorOf(v); },
            &why);
      },
      t0 + 1s);
  ASSERT_NE(frame, nullptr) << Why(why, rig.receiver(0), "visible-speaker");
  MaybeDump(frame, "visible-speaker");
  EXPECT_GT(rig.KeyframeRequests("v20"), requests_before);
  stats = rig.mixer().Stats();
  EXPECT_EQ(stats.active_decoders, 16u);
  for (const auto& v : stats.venues)
    if (v.venue == "v16") {
      EXPECT_FALSE(v.decoding);
    }
  ASSERT_NE(rig.WaitForLayout(0, Clock::now() + 3s, &why), nullptr)
      << Why(why, rig.receiver(0), "visible-after");
}

TEST(VideoMixer, EachTierDecodesAtItsOwnSizeAndKeyframeRequestsAreRateLimited) {
  MixerRig rig(SmallMixerConfig());
  const auto colors = Palette(2);
  rig.AddLiveVenue("a", kNames[0], colors[0]);
  rig.AddLiveVenue("b", kNames[1], colors[1]);
  std::string why;
  auto big = rig.WaitForLayout(0, Clock::now() + 15s, &why);
  ASSERT_NE(big, nullptr) << Why(why, rig.receiver(0), "tiers-8m");
  auto small = rig.WaitForLayout(1, Clock::now() + 5s, &why);
  ASSERT_NE(small, nullptr) << Why(why, rig.receiver(1), "tiers-2m");
  EXPECT_EQ(big->width, 320);
  EXPECT_EQ(big->height, 180);
  EXPECT_EQ(small->width, 160);
  EXPECT_EQ(small->height, 90);

  auto tier_stats = [&](size_t i) { return rig.mixer().Stats().tiers[i]; };
  const auto before = tier_stats(1);
  const uint64_t received_before = rig.receiver(1).Stats().keyframes;
  auto first = rig.mixer().RequestKeyframe("2m");
  auto second = rig.mixer().RequestKeyframe("2m");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_TRUE(rig.receiver(1).WaitForKeyframes(received_before + 1, Clock::now() + 3s));
  // Over the next second of frames exactly one keyframe was made, and only on that tier.
  const uint64_t frames_now = tier_stats(1).frames_encoded;
  const auto later =
      rig.receiver(1).WaitForFrame([](const auto&) { return true; }, Clock::now() + 5s,
                                   rig.receiver(1).LatestFrame()->index + 30);
  ASSERT_NE(later, nullptr);
  const auto after = tier_stats(1);
  EXPECT_GE(after.frames_encoded, frames_now + 25);
  EXPECT_EQ(after.keyframes, before.keyframes + 1);
  EXPECT_EQ(after.keyframes_forced, before.keyframes_forced + 1);
  EXPECT_EQ(after.keyframe_requests_limited, before.keyframe_requests_limited + 1);
  EXPECT_EQ(rig.receiver(1).Stats().keyframes, received_before + 1);
  EXPECT_EQ(tier_stats(0).keyframes, 1u);  // the 8m tier made only its first one
  EXPECT_GT(tier_stats(0).bytes, tier_stats(1).bytes);
}

// Encode only tiers that have receivers: an idle tier costs no encode; started, its receiver
// decodes from the first frame (a keyframe, though the GOP is 1,000 frames); stopped, it stops.
TEST(VideoMixer, AnIdleTierEncodesNothingUntilItIsStarted) {
  auto config = SmallMixerConfig();
  config.tiers[1].active = false;
  MixerRig rig(config);
  const auto colors = Palette(1);
  rig.AddLiveVenue("a", kNames[0], colors[0]);
  std::string why;
  ASSERT_NE(rig.WaitForLayout(0, Clock::now() + 15s, &why), nullptr)
      << Why(why, rig.receiver(0), "idle-8m");
  auto stats = rig.mixer().Stats();
  EXPECT_TRUE(stats.tiers[0].active);
  EXPECT_FALSE(stats.tiers[1].active);
  EXPECT_GE(stats.tiers[0].frames_encoded, 1u);
  EXPECT_EQ(stats.tiers[1].frames_encoded, 0u);
  EXPECT_EQ(stats.tiers[1].packets, 0u);
  EXPECT_EQ(rig.receiver(1).Stats().video_packets, 0u);

  ASSERT_TRUE(rig.mixer().SetTierActive("2m", true).ok());
  ASSERT_NE(rig.WaitForLayout(1, Clock::now() + 10s, &why), nullptr)
      << Why(why, rig.receiver(1), "idle-2m-started");
  stats = rig.mixer().Stats();
  EXPECT_TRUE(stats.tiers[1].active);
  EXPECT_EQ(stats.tiers[1].keyframes, 1u);  // the one it started with
  EXPECT_EQ(rig.receiver(1).Stats().keyframes, 1u);

  ASSERT_TRUE(rig.mixer().SetTierActive("2m", false).ok());
  ASSERT_TRUE(rig.mixer().SetTierActive("2m", false).ok());  // idempotent
  const uint64_t frames_stopped = rig.mixer().Stats().tiers[1].frames_encoded;
  // The other tier goes on: 30 more frames of it while the stopped one adds at most the two its
  // queue held.
  const auto later =
      rig.receiver(0).WaitForFrame([](const auto&) { return true; }, Clock::now() + 10s,
                                   rig.receiver(0).LatestFrame()->index + 30);
  ASSERT_NE(later, nullptr);
  EXPECT_LE(rig.mixer().Stats().tiers[1].frames_encoded, frames_stopped + 2);
  EXPECT_EQ(rig.mixer().SetTierActive("nope", true).error().code, "unknown_tier");
}

// A link never carries more than it reserved, whatever the picture: a venue sending noise
// (videotestsrc "snow", the hardest picture to compress) fills the canvas, and the tier holds its
// 300 kbit/s by skipping frames (without frame skipping OpenH264 sends many times its rate:
// docs/media-video.md, "Holding the rate").
TEST(VideoMixer, ATierHoldsItsRateWithTheBusiestPicture) {
  auto config = SmallMixerConfig();
  config.tiers = {{"busy", 320, 180, 300, 300, 1200, 96, 0}};
  MixerRig rig(config);
  terminal::media::SenderConfig noise;
  noise.pattern = "snow";
  noise.width = 320;
  noise.height = 180;
  noise.video_kbps = 3000;
  noise.gop_frames = 30;
  noise.audio = false;
  noise.clock = false;
  rig.AddSenderVenue("noise", kNames[0], Rgb{128, 128, 128}, noise);
  // Warm up: the venue's picture is on the canvas.
  ASSERT_TRUE(plateau::testing::WaitUntil(
      [&] {
        const auto s = rig.mixer().Stats();
        return s.active_decoders == 1 && s.venues[0].frames_decoded >= 30 && s.tiers[0].packets > 0;
      },
      Clock::now() + 20s));
  // Then at least five seconds and 150 composed frames (a loaded machine composes fewer frames a
  // second; the rate can then only be lower, never higher). The encoder skips frames to hold
  // its rate, so it encodes fewer than it is given.
  const auto t0 = Clock::now();
  const auto before = rig.mixer().Stats();
  ASSERT_TRUE(plateau::testing::WaitUntil(
      [&] {
        return Clock::now() - t0 >= 5s &&
               rig.mixer().Stats().frames_composed >= before.frames_composed + 150;
      },
      Clock::now() + 30s));
  const uint64_t bytes0 = before.tiers[0].bytes;
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto after = rig.mixer().Stats();
  const double kbps = static_cast<double>(after.tiers[0].bytes - bytes0) * 8 / 1000 / seconds;
  std::printf(
      "[ measured ] busy tier: %.0f kbit/s of RTP for a 300 kbit/s tier over %.1f s, "
      "%llu of %llu composed frames encoded\n",
      kbps, seconds,
      static_cast<unsigned long long>(after.tiers[0].frames_encoded -
                                      before.tiers[0].frames_encoded),
      static_cast<unsigned long long>(after.frames_composed - before.frames_composed));
  // RTP headers are ~1% at this packet size; the rest is the encoder's own tolerance.
  EXPECT_LE(kbps, 300 * 1.10);
  EXPECT_GE(kbps, 300 * 0.3);  // the picture is busy: the encoder spends its rate
  EXPECT_EQ(after.pipeline_errors, 0u);
}

}  // namespace
}  // namespace plateau::mcu::testing
