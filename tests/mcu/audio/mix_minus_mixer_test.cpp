// MixMinusMixer, checked by content: every venue sends its own tone, every venue's output is
// decoded by an independent Opus decoder, and tones are detected in what each venue would hear.
#include "plateau/mcu/audio/mix_minus_mixer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "audio_sim.hpp"

namespace plateau::mcu::audio {
namespace {

using testing::Receiver;
using testing::ToneVenue;

// Tones are sent at -20..-42 dBov. A mixed tone reads back within a few dB of its input; where a
// tone is absent, Opus coding noise and intermodulation of the other tones (2 x 450 - 300 = 600 Hz)
// stay below -55 dBov, so "absent" means at least 26 dB below the quietest speaker's tone.
constexpr double kPresentDbov = -40;
constexpr double kAbsentDbov = -50;

struct Conference {
  explicit Conference(MixerConfig config = {}) : mixer(config) {}

  // A venue whose packets the test sends by hand (it still has a receiver).
  ToneVenue Manual(VenueId id, double hz, double dbov) {
    EXPECT_TRUE(mixer.AddVenue(id).ok());
    receivers[id];
    return ToneVenue(id, hz, dbov);
  }

  ToneVenue& Add(VenueId id, double hz, double dbov, bool fec = false) {
    EXPECT_TRUE(mixer.AddVenue(id).ok());
    venues.emplace_back(id, hz, dbov, fec);
    receivers[id];
    return venues.back();
  }

  // One 20 ms period: every venue sends (unless `drop` says so), then the mixer ticks and every
  // venue's output is decoded by its receiver.
  template <typename Drop>
  const MixTick& Step(Drop drop) {
    for (auto& v : venues) v.Send(mixer, drop(v.id()));
    const MixTick& t = mixer.Tick();
    for (const auto& out : t.outputs) receivers[out.venue].Take(out);
    return t;
  }
  const MixTick& Step() {
    return Step([](VenueId) { return false; });
  }
  void Run(int ticks) {
    for (int i = 0; i < ticks; ++i) Step();
  }

  MixMinusMixer mixer;
  std::deque<ToneVenue> venues;
  std::map<VenueId, Receiver> receivers;
};

const VenueAudioStats& StatsOf(const MixerStats& s, VenueId id) {
  for (const auto& v : s.per_venue)
    if (v.venue == id) return v;
  throw std::logic_error("no such venue in stats");
}

// Six venues with distinct tones at distinct loudness: the three loudest are the speakers.
class SixVenues : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 0; i < kHz.size(); ++i)
      conf.Add(static_cast<VenueId>(i + 1), kHz[i], kDbov[i]);
    conf.Run(100);  // 2 s
  }
  static constexpr std::array<double, 6> kHz{300, 450, 600, 800, 1000, 1250};
  static constexpr std::array<double, 6> kDbov{-20, -22, -24, -34, -38, -42};
  Conference conf;
};

TEST_F(SixVenues, TheThreeLoudestAreTheSpeakersLoudestFirst) {
  const MixTick& t = conf.Step();
  EXPECT_EQ(t.speakers, (std::vector<VenueId>{1, 2, 3}));
  ASSERT_TRUE(t.dominant.has_value());
  EXPECT_EQ(*t.dominant, 1u);
  for (const auto& l : t.levels) EXPECT_NEAR(l.level_dbov, kDbov[l.venue - 1], 1.5) << l.venue;
}

TEST_F(SixVenues, ListenersHearExactlyTheSpeakersTones) {
  for (VenueId listener : {4u, 5u, 6u}) {
    const Receiver& r = conf.receivers[listener];
    for (std::size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(r.ToneDbov(kHz[i], 1000), kDbov[i], 3)
          << "listener " << listener << " tone " << kHz[i];
    for (std::size_t i = 3; i < 6; ++i)
      EXPECT_LT(r.ToneDbov(kHz[i], 1000), kAbsentDbov)
          << "listener " << listener << " tone " << kHz[i];
  }
}

TEST_F(SixVenues, EachSpeakerHearsTheOtherSpeakersButNotItself) {
  for (VenueId speaker : {1u, 2u, 3u}) {
    const Receiver& r = conf.receivers[speaker];
    for (std::size_t i = 0; i < 3; ++i) {
      const double level = r.ToneDbov(kHz[i], 1000);
      if (i + 1 == speaker)
        EXPECT_LT(level, kAbsentDbov) << "speaker " << speaker << " hears its own tone";
      else
        EXPECT_GT(level, kPresentDbov) << "speaker " << speaker << " misses tone " << kHz[i];
    }
    for (std::size_t i = 3; i < 6; ++i) EXPECT_LT(r.ToneDbov(kHz[i], 1000), kAbsentDbov);
  }
}

TEST_F(SixVenues, ListenersShareOneEncodeAndSpeakersEachHaveTheirOwn) {
  const std::uint64_t encodes_before = conf.mixer.Stats().encodes;
  const MixTick& t = conf.Step();
  std::set<const EncodedFrame*> listener_frames, speaker_frames;
  for (const auto& out : t.outputs) {
    (out.speaker ? speaker_frames : listener_frames).insert(out.frame.get());
    EXPECT_EQ(out.frame->timestamp, t.timestamp);
  }
  EXPECT_EQ(listener_frames.size(), 1u);
  EXPECT_EQ(speaker_frames.size(), 3u);
  EXPECT_EQ((*listener_frames.begin())->stream, 0);
  const MixerStats s = conf.mixer.Stats();
  EXPECT_EQ(s.encoders, 4u);
  EXPECT_EQ(s.decoders, 6u);
  EXPECT_EQ(s.encodes - encodes_before, 4u);  // one listener mix + three mix-minus
}

TEST(MixMinusMixer, OutputTimelineAdvances960PerTick) {
  Conference conf;
  conf.Add(1, 300, -20);
  for (std::uint32_t i = 0; i < 5; ++i) {
    const MixTick& t = conf.Step();
    EXPECT_EQ(t.tick, i);
    EXPECT_EQ(t.timestamp, i * 960);
  }
}

// Without explicit times the mixer reads the clock it was given: on a ManualClock that moves
// 20 ms per packet and tick, a steady sender shows no jitter and no gap (on the machine's clock
// this loop would deliver 100 packets in a few milliseconds).
TEST(MixMinusMixer, ArrivalAndTickTimesComeFromTheInjectedClock) {
  ManualClock clock(1'700'000'000'000);
  MixMinusMixer mixer(MixerConfig{}, clock);
  ASSERT_TRUE(mixer.AddVenue(1).ok());
  ToneVenue venue(1, 440, -20);
  for (int i = 0; i < 100; ++i) {
    clock.AdvanceMs(10);
    ASSERT_EQ(venue.Send(mixer), PushResult::kQueued);
    clock.AdvanceMs(10);
    mixer.Tick();
  }
  const VenueAudioStats s = mixer.Stats().per_venue.at(0);
  EXPECT_EQ(s.jitter_ms, 0);
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_EQ(s.late, 0u);
  EXPECT_GE(s.frames_decoded, 97u);
}

TEST(MixMinusMixer, SilentVenuesNeverBecomeSpeakers) {
  Conference conf;
  conf.Add(1, 300, -25);
  conf.Add(2, 600, -30);
  conf.Add(3, 800, -127);  // digital silence
  conf.Add(4, 1000, -70);  // a hum far below the voice threshold
  conf.Add(5, 1250, -127);
  std::set<VenueId> ever;
  for (int i = 0; i < 150; ++i) {
    const MixTick& t = conf.Step();
    ever.insert(t.speakers.begin(), t.speakers.end());
    if (t.dominant) ever.insert(*t.dominant);
  }
  EXPECT_EQ(ever, (std::set<VenueId>{1, 2}));
  // A free slot stays free: the quiet venues hear both talkers and nothing else.
  EXPECT_GT(conf.receivers[3].ToneDbov(300, 1000), kPresentDbov);
  EXPECT_GT(conf.receivers[3].ToneDbov(600, 1000), kPresentDbov);
  EXPECT_LT(conf.receivers[3].ToneDbov(1000, 1000), kAbsentDbov);
}

TEST(MixMinusMixer, CrossingsSmallerThanTheHysteresisNeverSwitchTheSpeaker) {
  MixerConfig c;
  c.speakers = 1;
  Conference conf(c);
  conf.Add(1, 300, -20);
  ToneVenue& b = conf.Add(2, 800, -40);
  conf.Run(20);
  ASSERT_EQ(conf.mixer.Tick().speakers, (std::vector<VenueId>{1}));
  // B wanders 3 dB above and below A for 6 s, changing every 200 ms.
  for (int i = 0; i < 300; ++i) {
    b.set_level((i / 10) % 2 == 0 ? -17 : -23);
    const MixTick& t = conf.Step();
    ASSERT_EQ(t.speakers, (std::vector<VenueId>{1})) << "tick " << t.tick;
  }
}

TEST(MixMinusMixer, BriefBurstsDoNotTakeTheFloor) {
  MixerConfig c;
  c.speakers = 1;
  Conference conf(c);
  conf.Add(1, 300, -20);
  ToneVenue& b = conf.Add(2, 800, -40);
  conf.Run(100);
  const std::uint64_t changes = conf.mixer.Stats().speaker_changes;
  // A cough 17 dB louder than the speaker, 40 ms long, once a second, never takes the floor.
  for (int i = 0; i < 300; ++i) {
    b.set_level(i % 50 < 2 ? -3 : -40);
    const MixTick& t = conf.Step();
    ASSERT_EQ(t.speakers, (std::vector<VenueId>{1})) << "tick " << t.tick;
  }
  EXPECT_EQ(conf.mixer.Stats().speaker_changes, changes);
}

TEST(MixMinusMixer, AlternatingTalkersSwitchAtMostOncePerHoldTime) {
  MixerConfig c;
  c.speakers = 1;
  c.hold_ticks = 50;
  Conference conf(c);
  ToneVenue& a = conf.Add(1, 300, -20);
  ToneVenue& b = conf.Add(2, 800, -40);
  conf.Run(60);
  // A and B take turns being 14 dB louder, every 300 ms, for 8 s.
  std::vector<std::uint64_t> change_ticks;
  VenueId current = 1;
  for (int i = 0; i < 400; ++i) {
    const bool a_loud = (i / 15) % 2 == 0;
    a.set_level(a_loud ? -18 : -32);
    b.set_level(a_loud ? -32 : -18);
    const MixTick& t = conf.Step();
    ASSERT_EQ(t.speakers.size(), 1u);
    if (t.speakers[0] != current) {
      current = t.speakers[0];
      change_ticks.push_back(t.tick);
    }
  }
  ASSERT_GE(change_ticks.size(), 2u) << "the floor never moved";
  for (std::size_t i = 1; i < change_ticks.size(); ++i)
    EXPECT_GE(change_ticks[i] - change_ticks[i - 1], 50u) << "flapped at tick " << change_ticks[i];
  EXPECT_LE(change_ticks.size(), 8u);
}

TEST(MixMinusMixer, ALouderTalkerTakesTheFloorAfterHoldAndChallenge) {
  MixerConfig c;
  c.speakers = 1;
  Conference conf(c);
  conf.Add(1, 300, -30);
  ToneVenue& b = conf.Add(2, 800, -60);
  conf.Run(100);
  b.set_level(-15);
  int ticks = 0;
  while (conf.Step().speakers != std::vector<VenueId>{2} && ticks < 100) ++ticks;
  EXPECT_GE(ticks, c.challenge_ticks - 1);
  EXPECT_LT(ticks, 100);
  EXPECT_EQ(conf.mixer.Tick().dominant, std::optional<VenueId>(2));
}

TEST(MixMinusMixer, ASpeakerThatFallsSilentIsReleasedAfterTheReleaseTime) {
  MixerConfig c;
  c.release_ticks = 25;
  Conference conf(c);
  ToneVenue& a = conf.Add(1, 300, -20);
  conf.Add(2, 800, -25);
  conf.Run(60);
  ASSERT_EQ(conf.mixer.Tick().speakers.size(), 2u);
  a.set_level(-127);
  int below = -1, released = -1;
  for (int i = 0; i < 150 && released < 0; ++i) {
    const MixTick& t = conf.Step();
    if (below < 0 && t.levels[0].level_dbov < c.voice_threshold_dbov) below = i;
    if (t.speakers == std::vector<VenueId>{2}) released = i;
  }
  ASSERT_GE(below, 0);
  ASSERT_GE(released, 0);
  EXPECT_EQ(released - below + 1, c.release_ticks);  // on its release_ticks-th tick below
}

TEST(MixMinusMixer, SixtyFiveVenuesUseKPlusOneEncoders) {
  MixerConfig c;
  c.speakers = 3;
  MixMinusMixer mixer(c);
  std::deque<ToneVenue> venues;
  for (VenueId id = 1; id <= 65; ++id) {
    ASSERT_TRUE(mixer.AddVenue(id).ok());
    venues.emplace_back(id, 200 + 20.0 * id, id <= 5 ? -20 - 2.0 * id : -45);
  }
  // Ten pre-encoded packets per venue, replayed with advancing timestamps.
  std::vector<std::vector<ToneVenue::Packet>> packets;
  for (auto& v : venues) {
    packets.emplace_back();
    for (int i = 0; i < 10; ++i) packets.back().push_back(v.Next());
  }
  std::set<const EncodedFrame*> frames;
  for (int tick = 0; tick < 60; ++tick) {
    for (std::size_t v = 0; v < venues.size(); ++v) {
      const auto& p = packets[v][tick % 10];
      ASSERT_EQ(mixer.PushOpus(venues[v].id(), 1000 + tick * 960, static_cast<std::uint16_t>(tick),
                               p.payload),
                PushResult::kQueued);
    }
    const MixTick& t = mixer.Tick();
    frames.clear();
    for (const auto& out : t.outputs) frames.insert(out.frame.get());
    EXPECT_LE(frames.size(), 4u);
  }
  const MixerStats s = mixer.Stats();
  EXPECT_EQ(s.encoders, 4u);
  EXPECT_EQ(mixer.encoder_count(), 4u);
  EXPECT_EQ(s.decoders, 65u);
  EXPECT_LE(s.encodes, 4u * s.ticks);
  EXPECT_EQ(mixer.Tick().speakers, (std::vector<VenueId>{1, 2, 3}));
}

TEST(MixMinusMixer, LostPacketsAreConcealedAndCounted) {
  Conference conf;
  conf.Add(1, 300, -20);
  conf.Add(2, 800, -24);
  // Venue 1 loses every 5th packet (20%).
  for (int i = 0; i < 200; ++i) conf.Step([i](VenueId v) { return v == 1 && i % 5 == 2; });
  // 199 frames were played (the last packet waits for the next tick); 40 of them were lost.
  const auto s = StatsOf(conf.mixer.Stats(), 1);
  EXPECT_EQ(s.plc_frames + s.fec_frames, 40u);
  EXPECT_EQ(s.frames_decoded, 159u);
  EXPECT_EQ(s.packets, 160u);
  EXPECT_TRUE(s.active);
  // The tone survives the loss.
  EXPECT_GT(conf.receivers[2].ToneDbov(300, 1000), -30);
}

TEST(MixMinusMixer, InBandFecRecoversSingleLosses) {
  Conference conf;
  conf.Add(1, 300, -20, /*fec=*/true);
  conf.Add(2, 800, -24);
  for (int i = 0; i < 200; ++i) conf.Step([i](VenueId v) { return v == 1 && i % 10 == 5; });
  const auto s = StatsOf(conf.mixer.Stats(), 1);
  EXPECT_EQ(s.plc_frames + s.fec_frames, 20u);
  EXPECT_GT(s.fec_frames, 0u);
}

TEST(MixMinusMixer, MalformedPayloadsAreCountedAndDropped) {
  Conference conf;
  conf.Add(1, 300, -20);
  conf.Add(2, 800, -24);
  const std::vector<std::vector<std::uint8_t>> bad = {
      {},                                     // empty
      {0x03},                                 // code 3 without its frame count
      {0x03, 0x00},                           // code 3 with zero frames
      {0x03, 0xff, 0x01},                     // 63 frames: longer than 120 ms
      {0x01, 0x05},                           // code 1: two equal frames from an odd remainder
      {0x02, 0xfc, 0xff},                     // code 2: first frame longer than the packet
      std::vector<std::uint8_t>(2000, 0x78),  // larger than any RTP payload we accept
  };
  for (int i = 0; i < 50; ++i) {
    const auto& payload = bad[static_cast<std::size_t>(i) % bad.size()];
    EXPECT_EQ(conf.mixer.PushOpus(1, 5000u + static_cast<std::uint32_t>(i), 9, payload),
              PushResult::kMalformed);
    conf.Step();
  }
  const auto s = StatsOf(conf.mixer.Stats(), 1);
  EXPECT_EQ(s.malformed, 50u);
  EXPECT_EQ(s.packets, 50u);  // only the venue's real packets were accepted
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_GT(conf.receivers[2].ToneDbov(300, 500), kPresentDbov);
}

TEST(MixMinusMixer, ReorderedPacketsPlayInOrderWithoutConcealment) {
  Conference conf;
  ToneVenue a = conf.Manual(1, 300, -20);
  conf.Add(2, 800, -24);
  for (int i = 0; i < 50; ++i) {
    ToneVenue::Packet p1 = a.Next();
    ToneVenue::Packet p2 = a.Next();
    // Two packets per two ticks, the later one first.
    EXPECT_EQ(conf.mixer.PushOpus(1, p2.timestamp, p2.seq, p2.payload), PushResult::kQueued);
    EXPECT_EQ(conf.mixer.PushOpus(1, p1.timestamp, p1.seq, p1.payload), PushResult::kQueued);
    conf.Step();
    conf.Step();
  }
  const auto s = StatsOf(conf.mixer.Stats(), 1);
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_EQ(s.late, 0u);
  EXPECT_EQ(s.frames_decoded, 99u);  // the last packet is still queued for the next tick
}

TEST(MixMinusMixer, LateAndDuplicatePacketsAreDropped) {
  Conference conf;
  ToneVenue a = conf.Manual(1, 300, -20);
  std::vector<ToneVenue::Packet> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(a.Next());
    ASSERT_EQ(conf.mixer.PushOpus(1, sent.back().timestamp, sent.back().seq, sent.back().payload),
              PushResult::kQueued);
    ASSERT_EQ(conf.mixer.PushOpus(1, sent.back().timestamp, sent.back().seq, sent.back().payload),
              PushResult::kQueued);  // duplicated in the network
    conf.Step();
  }
  // A packet from 200 ms ago arrives now.
  ASSERT_EQ(conf.mixer.PushOpus(1, sent[5].timestamp, sent[5].seq, sent[5].payload),
            PushResult::kQueued);
  conf.Step();
  const auto s = StatsOf(conf.mixer.Stats(), 1);
  EXPECT_EQ(s.duplicates, 20u);
  EXPECT_EQ(s.late, 1u);
}

TEST(MixMinusMixer, TimestampWrapAroundIsSeamless) {
  MixMinusMixer mixer;
  ASSERT_TRUE(mixer.AddVenue(7).ok());
  ToneVenue v(7, 300, -20, false, 0xFFFFFFFFu - 10 * 960);
  for (int i = 0; i < 40; ++i) {
    v.Send(mixer);
    mixer.Tick();
  }
  const auto s = StatsOf(mixer.Stats(), 7);
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_EQ(s.resyncs, 0u);
  EXPECT_EQ(s.late, 0u);
  EXPECT_EQ(s.frames_decoded, 39u);
}

TEST(MixMinusMixer, AVenueThatStopsSendingGoesIdleAndComesBack) {
  MixerConfig c;
  c.idle_after_missing = 5;
  Conference conf(c);
  conf.Add(1, 300, -20);
  conf.Add(2, 800, -24);
  conf.Run(20);
  for (int i = 0; i < 30; ++i) conf.Step([](VenueId v) { return v == 1; });
  auto s = conf.mixer.Stats();
  EXPECT_FALSE(StatsOf(s, 1).active);
  EXPECT_EQ(s.decoders, 1u);
  EXPECT_EQ(StatsOf(s, 1).plc_frames, 5u);  // concealment stops once the venue is idle
  conf.Run(60);
  s = conf.mixer.Stats();
  EXPECT_TRUE(StatsOf(s, 1).active);
  EXPECT_EQ(s.decoders, 2u);
  EXPECT_GT(conf.receivers[2].ToneDbov(300, 500), kPresentDbov);
}

TEST(MixMinusMixer, AMutedVenueHearsButIsNeverMixed) {
  Conference conf;
  conf.Add(1, 300, -15);  // the loudest venue, muted by the operator
  conf.Add(2, 600, -25);
  conf.Add(3, 800, -127);
  ASSERT_TRUE(conf.mixer.SetMuted(1, true).ok());
  for (int i = 0; i < 100; ++i) {
    const MixTick& t = conf.Step();
    ASSERT_EQ(std::count(t.speakers.begin(), t.speakers.end(), 1u), 0);
  }
  EXPECT_LT(conf.receivers[3].ToneDbov(300, 1000), kAbsentDbov);
  EXPECT_GT(conf.receivers[1].ToneDbov(600, 1000), kPresentDbov);  // it still hears
  ASSERT_TRUE(conf.mixer.SetMuted(1, false).ok());
  conf.Run(60);
  EXPECT_GT(conf.receivers[3].ToneDbov(300, 500), kPresentDbov);
  EXPECT_EQ(conf.mixer.Tick().dominant, std::optional<VenueId>(1));
}

TEST(MixMinusMixer, RemovingASpeakerFreesItsSlot) {
  MixerConfig c;
  c.speakers = 1;
  Conference conf(c);
  conf.Add(1, 300, -20);
  conf.Add(2, 800, -30);
  conf.Run(30);
  ASSERT_EQ(conf.mixer.Tick().speakers, (std::vector<VenueId>{1}));
  ASSERT_TRUE(conf.mixer.RemoveVenue(1).ok());
  conf.venues.pop_front();
  const MixTick& t = conf.Step();
  EXPECT_EQ(t.speakers, (std::vector<VenueId>{2}));
  EXPECT_EQ(t.dominant, std::optional<VenueId>(2));
  EXPECT_EQ(t.outputs.size(), 1u);
  EXPECT_EQ(conf.mixer.PushOpus(1, 0, 0, std::vector<std::uint8_t>{0x78, 0x00}),
            PushResult::kUnknownVenue);
}

TEST(MixMinusMixer, VenueErrorsAreValues) {
  MixMinusMixer mixer;
  ASSERT_TRUE(mixer.AddVenue(1).ok());
  auto dup = mixer.AddVenue(1);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "duplicate_venue");
  EXPECT_EQ(mixer.RemoveVenue(2).error().code, "unknown_venue");
  EXPECT_EQ(mixer.SetMuted(2, true).error().code, "unknown_venue");
  EXPECT_EQ(mixer.Stats().venues, 1u);
}

TEST(MixMinusMixer, InvalidConfigsAreRefused) {
  MixerConfig c;
  c.speakers = 0;
  auto m = MixMinusMixer::Create(c);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "bad_mixer_config");
  c = {};
  c.bitrate_bps = 10;
  EXPECT_FALSE(MixMinusMixer::Create(c).ok());
  c = {};
  c.speakers = 5;
  auto ok = MixMinusMixer::Create(c);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->encoder_count(), 6u);
}

TEST(MixMinusMixer, PushFromAnotherThreadWhileTicking) {
  MixMinusMixer mixer;
  ASSERT_TRUE(mixer.AddVenue(1).ok());
  ToneVenue v(1, 300, -20);
  std::vector<ToneVenue::Packet> packets;
  for (int i = 0; i < 200; ++i) packets.push_back(v.Next());
  std::atomic<int> queued{0}, full{0};
  std::thread network([&] {
    for (const auto& p : packets) {
      PushResult r = mixer.PushOpus(1, p.timestamp, p.seq, p.payload);
      (r == PushResult::kQueued ? queued : full)++;
    }
  });
  for (int i = 0; i < 200; ++i) mixer.Tick();
  network.join();
  const auto s = StatsOf(mixer.Stats(), 1);
  EXPECT_EQ(queued.load() + full.load(), 200);
  EXPECT_EQ(s.packets, static_cast<std::uint64_t>(queued.load()));
  EXPECT_EQ(s.inbox_overflow, static_cast<std::uint64_t>(full.load()));
}

}  // namespace
}  // namespace plateau::mcu::audio
