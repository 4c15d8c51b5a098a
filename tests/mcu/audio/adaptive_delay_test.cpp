// The mixer's adaptive playout delay, on a simulated clock and network: tick k runs at k x 20 ms,
// a venue's packet n leaves at offset + n x 20 ms and arrives after a network delay the test
// chooses. Every step pushes the packets that arrived by the tick's time (in arrival order, with
// their arrival times) and then ticks, so the tests are deterministic and never sleep.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "audio_sim.hpp"
#include "plateau/mcu/audio/mix_minus_mixer.hpp"

namespace plateau::mcu::audio {
namespace {

using testing::ToneVenue;

MixerClock::time_point At(double ms) {
  return MixerClock::time_point{} + std::chrono::hours(1) +
         std::chrono::microseconds(std::llround(ms * 1000));
}

class SimNet {
 public:
  // delay_ms(n): the network delay of the venue's packet n.
  struct Venue {
    ToneVenue tone;
    double send_offset_ms;
    std::function<double(int)> delay_ms;
    bool sending = true;
    int sent = 0;
  };

  explicit SimNet(MixerConfig config = {}) : mixer(config) {}

  Venue& Add(VenueId id, double hz, double dbov, double send_offset_ms,
             std::function<double(int)> delay_ms) {
    EXPECT_TRUE(mixer.AddVenue(id).ok());
    venues.push_back(Venue{ToneVenue(id, hz, dbov), send_offset_ms, std::move(delay_ms)});
    return venues.back();
  }

  // One tick: packets sent up to now (a paused venue's timestamps still advance, as with DTX)
  // travel; those that arrived by now are pushed; then the mixer ticks at now.
  const MixTick& Step() {
    const double now = static_cast<double>(tick_) * 20;
    for (auto& v : venues) {
      while (v.send_offset_ms + v.sent * 20.0 <= now) {
        ToneVenue::Packet p = v.tone.Next();
        const int n = v.sent++;
        if (!v.sending) continue;
        flight_.push_back({v.send_offset_ms + n * 20.0 + v.delay_ms(n), v.tone.id(), std::move(p)});
      }
    }
    std::stable_sort(flight_.begin(), flight_.end(),
                     [](const InFlight& a, const InFlight& b) { return a.arrival < b.arrival; });
    auto due = std::find_if(flight_.begin(), flight_.end(),
                            [now](const InFlight& f) { return f.arrival > now; });
    for (auto it = flight_.begin(); it != due; ++it)
      EXPECT_EQ(mixer.PushOpus(it->venue, it->packet.timestamp, it->packet.seq, it->packet.payload,
                               At(it->arrival)),
                PushResult::kQueued);
    flight_.erase(flight_.begin(), due);
    ++tick_;
    return mixer.Tick(At(now));
  }
  void Run(int ticks) {
    for (int i = 0; i < ticks; ++i) Step();
  }

  VenueAudioStats StatsOf(VenueId id) const {
    for (const auto& v : mixer.Stats().per_venue)
      if (v.venue == id) return v;
    throw std::logic_error("no such venue");
  }

  // Steps until the venue's first packet after a pause is drained; returns that tick's stats.
  VenueAudioStats StepUntilDrained(VenueId id) {
    const auto before = StatsOf(id).packets;
    for (int i = 0; i < 10; ++i) {
      Step();
      auto s = StatsOf(id);
      if (s.packets > before) return s;
    }
    ADD_FAILURE() << "no packet arrived";
    return StatsOf(id);
  }

  MixMinusMixer mixer;
  std::deque<Venue> venues;  // references stay valid

 private:
  struct InFlight {
    double arrival;
    VenueId venue;
    ToneVenue::Packet packet;
  };
  std::vector<InFlight> flight_;
  std::uint64_t tick_ = 0;
};

// A talk spurt of `talk` ticks, then a pause long enough for the venue to go idle; the next
// packet starts a new spurt (its delay is chosen again).
void TalkThenPause(SimNet& net, SimNet::Venue& v, int talk) {
  v.sending = true;
  net.Run(talk);
  v.sending = false;
  net.Run(30);
  ASSERT_FALSE(net.StatsOf(v.tone.id()).active);
  v.sending = true;
}

TEST(AdaptiveDelay, SteadyVenueAtASafePhasePlaysAtTheTickThatDrainsIt) {
  SimNet net;
  // Sent at 5 + 20n ms, 5 ms on the way: arrives 10 ms before each tick.
  auto& v = net.Add(1, 300, -20, 5, [](int) { return 5.0; });
  TalkThenPause(net, v, 60);  // the first spurt: no history yet, at least one tick
  const auto before = net.StatsOf(1);
  EXPECT_EQ(before.plc_frames, 10u);  // only the end of the spurt, until the venue went idle
  EXPECT_LE(before.jitter_spread_ms, 1.0);
  EXPECT_LT(before.jitter_ms, 0.5);

  const auto first = net.StepUntilDrained(1);
  EXPECT_EQ(first.delay_ticks, 0);
  EXPECT_EQ(first.frames_decoded, before.frames_decoded + 1);  // played in the same tick
  net.Run(200);
  const auto after = net.StatsOf(1);
  EXPECT_EQ(after.plc_frames, before.plc_frames);
  EXPECT_EQ(after.fec_frames, 0u);
  EXPECT_EQ(after.frames_decoded, before.frames_decoded + 201);
  EXPECT_EQ(after.late, 0u);
  EXPECT_EQ(after.stretches, 0u);
}

TEST(AdaptiveDelay, FixedDelayWhenAdaptiveIsOff) {
  MixerConfig c;
  c.adaptive_delay = false;
  c.jitter_delay_ticks = 1;
  SimNet net(c);
  auto& v = net.Add(1, 300, -20, 5, [](int) { return 5.0; });
  TalkThenPause(net, v, 60);
  const auto before = net.StatsOf(1);
  const auto first = net.StepUntilDrained(1);
  EXPECT_EQ(first.delay_ticks, 1);
  EXPECT_EQ(first.frames_decoded, before.frames_decoded);  // waits one tick
  net.Step();
  EXPECT_EQ(net.StatsOf(1).frames_decoded, before.frames_decoded + 1);
}

TEST(AdaptiveDelay, NearTheTickBoundaryWithJitterGetsATick) {
  SimNet net;
  // Arrives 0.5 ms before each tick +- 3 ms: some packets miss their tick by up to 2.5 ms. The
  // measured spurt's first packet comes 1.5 ms before its tick (others may be later).
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(-3, 3);
  int spurt_start = -1;
  auto& v =
      net.Add(1, 300, -20, 14.5, [&](int n) { return n == spurt_start ? 4.0 : 5 + jitter(rng); });
  TalkThenPause(net, v, 100);
  EXPECT_GT(net.StatsOf(1).jitter_spread_ms, 4.0);
  spurt_start = v.sent;  // the packet sent next

  const auto before = net.StatsOf(1);
  const auto first = net.StepUntilDrained(1);
  EXPECT_GE(first.delay_ticks, 1);
  net.Run(200);
  const auto after = net.StatsOf(1);
  EXPECT_EQ(after.plc_frames, before.plc_frames);
  EXPECT_EQ(after.fec_frames, before.fec_frames);
  EXPECT_EQ(after.late, 0u);
  EXPECT_EQ(after.frames_decoded, before.frames_decoded + 201 - first.delay_ticks);
}

TEST(AdaptiveDelay, LargeJitterGetsSeveralTicks) {
  SimNet net;
  // 5..40 ms on the way (35 ms of jitter), arriving 10..45 ms after the tick before it.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> jitter(0, 35);
  int spurt_start = -1;
  auto& v =
      net.Add(1, 300, -20, 5, [&](int n) { return 5 + (n == spurt_start ? 0 : jitter(rng)); });
  TalkThenPause(net, v, 150);
  const auto warm = net.StatsOf(1);
  EXPECT_GT(warm.jitter_spread_ms, 30.0);
  EXPECT_GT(warm.jitter_ms, 5.0);
  EXPECT_GE(warm.stretches, 1u);  // the first spurt started at one tick and had to grow
  spurt_start = v.sent;           // the measured spurt's first packet is one of the fastest

  const auto before = net.StatsOf(1);
  const auto first = net.StepUntilDrained(1);
  EXPECT_GE(first.delay_ticks, 2) << "jitter_spread_ms " << first.jitter_spread_ms;
  EXPECT_LE(first.delay_ticks, 3) << "jitter_spread_ms " << first.jitter_spread_ms;
  net.Run(200);
  const auto after = net.StatsOf(1);
  EXPECT_EQ(after.plc_frames, before.plc_frames);
  EXPECT_EQ(after.fec_frames, before.fec_frames);
  EXPECT_EQ(after.late, before.late);
  EXPECT_EQ(after.stretches, before.stretches);
  // Every tick from the spurt's first plays decoded audio (200 ticks after its first).
  EXPECT_EQ(after.frames_decoded, before.frames_decoded + 201 - first.delay_ticks);
}

TEST(AdaptiveDelay, ALatePacketRaisesTheNextSpurtsDelay) {
  SimNet net;
  int slow = -1;
  auto& v = net.Add(1, 300, -20, 5, [&](int n) { return n == slow ? 40.0 : 5.0; });
  TalkThenPause(net, v, 60);
  ASSERT_EQ(net.StepUntilDrained(1).delay_ticks, 0);
  slow = v.sent + 20;  // 35 ms later than the others: after its audio was concealed
  TalkThenPause(net, v, 60);
  auto s = net.StatsOf(1);
  EXPECT_EQ(s.late, 1u);               // dropped: the packets behind it were on time
  EXPECT_EQ(s.stretches, 0u);          // so the spurt kept its delay
  EXPECT_LE(s.jitter_spread_ms, 1.0);  // one packet in 120 is not the 97th percentile ...
  EXPECT_GE(net.StepUntilDrained(1).delay_ticks, 2);  // ... but a late one is planned for
}

TEST(AdaptiveDelay, AHiccupIsForgottenAfterSecondsOfTalk) {
  SimNet net;
  int from = -1;
  // Five packets held up 30 ms (a stalled thread), then back to normal.
  auto& v = net.Add(1, 300, -20, 5, [&](int n) { return n >= from && n < from + 5 ? 35.0 : 5.0; });
  TalkThenPause(net, v, 60);
  from = v.sent + 20;
  TalkThenPause(net, v, 60);
  EXPECT_GE(net.StatsOf(1).stretches, 1u);
  EXPECT_GE(net.StepUntilDrained(1).delay_ticks, 1);  // right after: planned for
  TalkThenPause(net, v, 600);                         // 12 s of talk later: forgotten
  EXPECT_EQ(net.StepUntilDrained(1).delay_ticks, 0);
}

TEST(AdaptiveDelay, ALastingDelayIncreaseStretchesTheSpurt) {
  SimNet net;
  int from = 1 << 30;
  auto& v = net.Add(1, 300, -20, 5, [&](int n) { return n >= from ? 37.0 : 5.0; });
  TalkThenPause(net, v, 60);
  ASSERT_EQ(net.StepUntilDrained(1).delay_ticks, 0);
  net.Run(20);
  from = v.sent;  // from now on every packet is 32 ms later (a route change)
  const auto before = net.StatsOf(1);
  net.Run(10);
  const auto mid = net.StatsOf(1);
  EXPECT_EQ(mid.stretches, 1u);
  EXPECT_EQ(mid.delay_ticks, 2);
  EXPECT_EQ(mid.plc_frames, before.plc_frames + 2);  // the two ticks it took to notice
  EXPECT_EQ(mid.late, 0u);
  net.Run(100);
  const auto after = net.StatsOf(1);
  EXPECT_EQ(after.plc_frames, mid.plc_frames);
  EXPECT_EQ(after.late, 0u);
  EXPECT_EQ(after.frames_decoded, before.frames_decoded + 108);
}

TEST(AdaptiveDelay, SpareTimeIsGivenBackInAudioNobodyHears) {
  SimNet net;
  // A quiet venue (below the voice threshold: never a speaker) arriving 10 ms before the tick:
  // its first spurt starts at one tick, and once 50 packets show a whole tick to spare it skips
  // one frame.
  net.Add(1, 300, -60, 5, [](int) { return 5.0; });
  net.Run(2);
  EXPECT_EQ(net.StatsOf(1).delay_ticks, 1);
  net.Run(100);
  const auto s = net.StatsOf(1);
  EXPECT_EQ(s.delay_ticks, 0);
  EXPECT_EQ(s.shrinks, 1u);
  EXPECT_EQ(s.plc_frames, 0u);
  EXPECT_EQ(s.frames_decoded, 101u);  // every packet drained was decoded, the skipped one too
}

TEST(AdaptiveDelay, ASpeakerKeepsItsDelayWhileTalking) {
  SimNet net;
  net.Add(1, 300, -20, 5, [](int) { return 5.0; });
  net.Run(200);
  const auto s = net.StatsOf(1);
  EXPECT_TRUE(s.speaker);
  EXPECT_EQ(s.delay_ticks, 1);  // a continuous tone: never a quiet frame to skip
  EXPECT_EQ(s.shrinks, 0u);
}

TEST(AdaptiveDelay, BoundsAreValidated) {
  MixerConfig c;
  c.min_delay_ticks = 3;
  c.max_delay_ticks = 2;
  EXPECT_FALSE(MixMinusMixer::Create(c).ok());
  c = {};
  c.max_delay_ticks = 9;  // max_queue_ticks (10) must leave two ticks beyond it
  EXPECT_FALSE(MixMinusMixer::Create(c).ok());
  c.adaptive_delay = false;  // then only jitter_delay_ticks counts
  EXPECT_TRUE(MixMinusMixer::Create(c).ok());
  c = {};
  c.min_delay_ticks = -1;
  EXPECT_FALSE(MixMinusMixer::Create(c).ok());
  c = {};
  c.min_delay_ticks = 2;
  c.max_delay_ticks = 2;
  EXPECT_TRUE(MixMinusMixer::Create(c).ok());
}

TEST(AdaptiveDelay, MinimumDelayIsKept) {
  MixerConfig c;
  c.min_delay_ticks = 2;
  SimNet net(c);
  auto& v = net.Add(1, 300, -20, 5, [](int) { return 5.0; });
  TalkThenPause(net, v, 60);
  EXPECT_EQ(net.StepUntilDrained(1).delay_ticks, 2);
}

}  // namespace
}  // namespace plateau::mcu::audio
