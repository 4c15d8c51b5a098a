// One venue's playout alone (no mixer): packets from a real Opus encoder arrive on a simulated
// clock (tick k drains at k x 20 ms); what the playout plays is checked by its tone, and its
// concealment and delay through its stats. Deterministic; nothing sleeps.
#include "plateau/mcu/audio/venue_playout.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "audio_sim.hpp"
#include "plateau/mcu/audio/tone.hpp"

namespace plateau::mcu::audio {
namespace {

using testing::ToneVenue;

constexpr double kToneHz = 1000;
constexpr double kToneDbov = -20;

class PlayoutSim {
 public:
  explicit PlayoutSim(const PlayoutConfig& config) {
    auto p = VenuePlayout::Create(7, config);
    EXPECT_TRUE(p.ok());
    playout_.emplace(std::move(p).value());
  }

  // The packet reaches the playout's inbox at `arrival_ms`.
  void Send(const ToneVenue::Packet& p, double arrival_ms) {
    auto samples = OpusPacketSamples(p.payload);
    ASSERT_TRUE(samples.ok());
    flight_.push_back({p.timestamp, *samples, p.payload, arrival_ms});
  }

  // One tick: the packets that arrived by its drain time, in arrival order, then one frame.
  void Step() {
    const double now = static_cast<double>(tick_) * 20;
    grid_.Update(tick_, now);
    const TickTime t{tick_, grid_.DrainMs(tick_)};
    std::stable_sort(flight_.begin(), flight_.end(),
                     [](const auto& a, const auto& b) { return a.arrival_ms < b.arrival_ms; });
    auto due = std::find_if(flight_.begin(), flight_.end(),
                            [now](const PlayoutPacket& p) { return p.arrival_ms > now; });
    std::vector<PlayoutPacket> batch(std::make_move_iterator(flight_.begin()),
                                     std::make_move_iterator(due));
    flight_.erase(flight_.begin(), due);
    playout_->Receive(batch, t);
    playout_->NextFrame(t, /*may_skip=*/true);
    played_.insert(played_.end(), playout_->frame().begin(), playout_->frame().end());
    ++tick_;
  }
  void Run(int ticks) {
    for (int i = 0; i < ticks; ++i) Step();
  }

  // Ticks until `frames` frames were decoded from packets (the last packet played, before the
  // concealment that follows a venue's last packet); false if that never happens.
  bool RunUntilDecoded(std::uint64_t frames, int max_ticks) {
    for (int i = 0; i < max_ticks && playout_->Stats().frames_decoded < frames; ++i) Step();
    return playout_->Stats().frames_decoded >= frames;
  }

  // Ticks until the playout plays (buffering done); false if it never does.
  bool RunUntilPlaying(int max_ticks) {
    for (int i = 0; i < max_ticks && !playout_->playing(); ++i) Step();
    return playout_->playing();
  }

  VenuePlayout& playout() { return *playout_; }
  std::uint64_t tick() const { return tick_; }
  // The tone's level in one played 20 ms frame (0 = the first frame ever produced).
  double ToneDbovOfFrame(std::size_t frame) const {
    return ToneDetector::LevelDbov(
        std::span<const std::int16_t>(played_).subspan(frame * kFrameSamples, kFrameSamples),
        kToneHz);
  }
  std::size_t frames_played() const { return played_.size() / kFrameSamples; }

 private:
  std::optional<VenuePlayout> playout_;
  TickGrid grid_;
  std::uint64_t tick_ = 0;
  std::vector<PlayoutPacket> flight_;
  std::vector<std::int16_t> played_;
};

PlayoutConfig Fixed(int delay_ticks) {
  PlayoutConfig c;
  c.adaptive_delay = false;
  c.jitter_delay_ticks = delay_ticks;
  return c;
}

TEST(VenuePlayout, ReorderedPacketsPlayInTimestampOrderWithNothingConcealed) {
  PlayoutSim sim(Fixed(2));
  ToneVenue venue(1, kToneHz, kToneDbov);
  // Pairs swapped on the way: packet 2k+1 arrives just before packet 2k.
  for (int k = 0; k < 25; ++k) {
    const auto first = venue.Next();
    const auto second = venue.Next();
    const double sent = k * 40.0;
    sim.Send(second, sent + 25);
    sim.Send(first, sent + 26);
  }
  ASSERT_TRUE(sim.RunUntilDecoded(50, 80));
  const PlayoutStats s = sim.playout().Stats();
  EXPECT_EQ(s.frames_decoded, 50u);
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_EQ(s.fec_frames, 0u);
  EXPECT_EQ(s.late, 0u);
  EXPECT_EQ(s.duplicates, 0u);
  // Every frame while playing carries the tone at its level (a frame out of order would not).
  std::size_t toned = 0;
  for (std::size_t f = 0; f < sim.frames_played(); ++f)
    if (std::abs(sim.ToneDbovOfFrame(f) - kToneDbov) < 2) ++toned;
  EXPECT_GE(toned, 48u);
}

// A venue sends a steady tone with in-band FEC; the packets in `lost` never arrive. Returns the
// playout's stats once the last packet was played, and the tone level of the frames that would
// have carried the lost packets (packet n plays in frame n + 2: drained at tick 1, delay 1).
struct LossOutcome {
  PlayoutStats stats;
  std::vector<double> lost_frames_dbov;
};
LossOutcome PlayWithLosses(const std::vector<int>& lost) {
  PlayoutSim sim(Fixed(1));
  ToneVenue venue(1, kToneHz, kToneDbov, /*fec=*/true);
  for (int n = 0; n < 40; ++n) {
    const auto p = venue.Next();
    if (std::find(lost.begin(), lost.end(), n) == lost.end()) sim.Send(p, n * 20.0 + 5);
  }
  EXPECT_TRUE(sim.RunUntilDecoded(40 - lost.size(), 60));
  LossOutcome o{sim.playout().Stats(), {}};
  for (int n : lost) o.lost_frames_dbov.push_back(sim.ToneDbovOfFrame(n + 2));
  return o;
}

TEST(VenuePlayout, ASingleLossIsRecoveredFromTheNextPacketsInBandFec) {
  const LossOutcome o = PlayWithLosses({20});
  EXPECT_EQ(o.stats.fec_frames, 1u);
  EXPECT_EQ(o.stats.plc_frames, 0u);
  EXPECT_EQ(o.stats.frames_decoded, 39u);
  EXPECT_GT(o.lost_frames_dbov[0], kToneDbov - 10);  // the tone goes on through the loss
}

TEST(VenuePlayout, OfTwoLossesInARowTheFirstIsConcealedAndTheSecondRecovered) {
  // FEC carries only the frame just before its packet: packet 22 can give back 21, not 20.
  const LossOutcome o = PlayWithLosses({20, 21});
  EXPECT_EQ(o.stats.plc_frames, 1u);
  EXPECT_EQ(o.stats.fec_frames, 1u);
  EXPECT_EQ(o.stats.frames_decoded, 38u);
  for (double dbov : o.lost_frames_dbov) EXPECT_GT(dbov, kToneDbov - 10);
}

TEST(VenuePlayout, AVenueThatStopsSendingGoesIdleAfterIdleAfterMissing) {
  PlayoutConfig c = Fixed(1);
  c.idle_after_missing = 5;
  PlayoutSim sim(c);
  ToneVenue venue(1, kToneHz, kToneDbov);
  for (int n = 0; n < 10; ++n) sim.Send(venue.Next(), n * 20.0 + 5);
  sim.Run(12);
  EXPECT_TRUE(sim.playout().active());
  sim.Run(10);
  EXPECT_FALSE(sim.playout().active());
  EXPECT_EQ(sim.playout().Stats().plc_frames, 5u);  // concealed up to the limit, then silence
}

// Talk spurts of `talk` packets separated by pauses long enough to go idle; each packet's network
// delay is delay_ms(n). Returns the delay chosen for the last spurt and its concealed frames.
struct SpurtOutcome {
  int delay_ticks;
  std::uint64_t plc_in_last_spurt;
};
SpurtOutcome PlaySpurts(int spurts, int talk, const std::function<double(int)>& delay_ms) {
  PlayoutSim sim(PlayoutConfig{});  // adaptive
  ToneVenue venue(1, kToneHz, kToneDbov);
  int n = 0;
  std::uint64_t plc_before = 0;
  int delay = 0;
  for (int s = 0; s < spurts; ++s) {
    const double start = static_cast<double>(sim.tick()) * 20 + 7;  // 7 ms after a tick
    for (int i = 0; i < talk; ++i, ++n) sim.Send(venue.Next(), start + i * 20.0 + delay_ms(n));
    for (int i = 0; i < 60; ++i) venue.Next();  // the pause: timestamps advance, nothing sent
    plc_before = sim.playout().Stats().plc_frames;
    EXPECT_TRUE(sim.RunUntilPlaying(10));
    delay = sim.playout().Stats().delay_ticks;
    sim.Run(talk + 40);  // the spurt, then idle
    EXPECT_FALSE(sim.playout().active());
  }
  const auto after = sim.playout().Stats().plc_frames;
  // Going idle conceals idle_after_missing frames at the end of every spurt: not a gap.
  return {delay, after - plc_before - PlayoutConfig{}.idle_after_missing};
}

TEST(VenuePlayout, ASteadyVenueIsPlayedWithLittleDelay) {
  const SpurtOutcome o = PlaySpurts(3, 100, [](int) { return 10.0; });
  EXPECT_LE(o.delay_ticks, 1);
  EXPECT_EQ(o.plc_in_last_spurt, 0u);
}

TEST(VenuePlayout, AJitteryVenueGetsALongerDelayAndNoGaps) {
  // Every third packet is held up 50 ms: a steady delay would conceal it.
  const SpurtOutcome o = PlaySpurts(3, 100, [](int n) { return n % 3 == 0 ? 60.0 : 10.0; });
  EXPECT_GE(o.delay_ticks, 3);
  EXPECT_EQ(o.plc_in_last_spurt, 0u);
}

TEST(VenuePlayout, InvalidConfigIsRefused) {
  PlayoutConfig c;
  c.max_delay_ticks = 30;
  auto p = VenuePlayout::Create(1, c);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "bad_mixer_config");
}

}  // namespace
}  // namespace plateau::mcu::audio
