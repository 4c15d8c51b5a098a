// RFC 3550 appendix A reception statistics and report blocks.
#include "plateau/mcu/rtp/receive_statistics.hpp"

#include <gtest/gtest.h>

namespace plateau::mcu::rtp {
namespace {

constexpr uint32_t kVideoRate = 90000;
constexpr int64_t kFrameUs = 33333;  // 30 fps, 3000 ticks per frame

// Feeds seq from..to (inclusive, wrapping) at a perfectly regular pace, skipping `skip(seq)`.
template <typename Skip>
void Feed(StreamStatistics& s, uint16_t from, int count, int64_t* now_us, uint32_t* ts, Skip skip) {
  uint16_t seq = from;
  for (int i = 0; i < count; ++i, ++seq) {
    *now_us += kFrameUs;
    *ts += 3000;
    if (skip(seq)) continue;
    s.OnPacket(seq, *ts, *now_us, 1000);
  }
}

TEST(ReceiveStatistics, InOrderStreamReportsNoLoss) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(s, 100, 200, &now, &ts, [](uint16_t) { return false; });
  const auto b = s.MakeReportBlock(now);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ssrc, 1u);
  EXPECT_EQ(b->cumulative_lost, 0);
  EXPECT_EQ(b->fraction_lost, 0);
  EXPECT_EQ(b->extended_highest_seq, 299u);
  // The first packet is the probation packet (A.1): 199 counted.
  EXPECT_EQ(s.packets_received(), 199u);
}

TEST(ReceiveStatistics, EveryTenthPacketLostGivesTenPercent) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(s, 0, 2, &now, &ts, [](uint16_t) { return false; });  // through probation
  ASSERT_TRUE(s.MakeReportBlock(now));                       // baseline for the next fraction
  Feed(s, 2, 1000, &now, &ts, [](uint16_t seq) { return seq % 10 == 0; });
  const auto b = s.MakeReportBlock(now);
  ASSERT_TRUE(b);
  // 1000 expected in the interval, 100 lost: 0.1 * 256 = 25.6 -> 25.
  EXPECT_EQ(b->fraction_lost, 25);
  EXPECT_EQ(b->cumulative_lost, 100);
  // Next interval without loss: fraction back to 0, cumulative stays.
  Feed(s, 1002, 100, &now, &ts, [](uint16_t) { return false; });
  const auto c = s.MakeReportBlock(now);
  EXPECT_EQ(c->fraction_lost, 0);
  EXPECT_EQ(c->cumulative_lost, 100);
}

TEST(ReceiveStatistics, SequenceWrapExtendsTheHighestSequenceNumber) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(s, 65500, 136, &now, &ts, [](uint16_t) { return false; });  // 65500..65535, 0..99
  const auto b = s.MakeReportBlock(now);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->extended_highest_seq, 65536u + 99u);
  EXPECT_EQ(b->cumulative_lost, 0);
}

TEST(ReceiveStatistics, ReorderedPacketsAreNotLoss) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  for (uint16_t seq : {10, 11, 12, 14, 13, 15, 17, 16, 18}) {
    now += 1000;
    s.OnPacket(seq, seq * 3000u, now, 100);
  }
  const auto b = s.MakeReportBlock(now);
  EXPECT_EQ(b->cumulative_lost, 0);
  EXPECT_EQ(b->extended_highest_seq, 18u);
}

TEST(ReceiveStatistics, RegularArrivalsHaveNoJitterAndAlternatingDelayHas) {
  StreamStatistics steady(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(steady, 0, 300, &now, &ts, [](uint16_t) { return false; });
  EXPECT_LT(steady.jitter_ms(), 0.05);

  // Every other packet arrives 10 ms late: |D| alternates around 900 ticks (10 ms), so the
  // running estimate converges to 10 ms.
  StreamStatistics bumpy(2, kVideoRate);
  for (int i = 0; i < 600; ++i) {
    const int64_t arrival = i * kFrameUs + (i % 2 ? 10000 : 0);
    bumpy.OnPacket(static_cast<uint16_t>(i), static_cast<uint32_t>(i * 3000), arrival, 100);
  }
  EXPECT_NEAR(bumpy.jitter_ms(), 10.0, 0.5);
  const auto b = bumpy.MakeReportBlock(600 * kFrameUs);
  EXPECT_NEAR(b->jitter, 900u, 45u);
}

TEST(ReceiveStatistics, ReportCarriesLsrAndDelaySinceLastSr) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(s, 0, 10, &now, &ts, [](uint16_t) { return false; });
  EXPECT_EQ(s.MakeReportBlock(now)->last_sr, 0u);  // no SR yet
  NtpTime ntp{0xe6a0b1c2, 0x80000000};
  s.OnSenderReport(ntp, now);
  const auto b = s.MakeReportBlock(now + 500000);
  EXPECT_EQ(b->last_sr, 0xb1c28000u);
  EXPECT_EQ(b->delay_since_last_sr, 32768u);  // 0.5 s in 1/65536 s
}

TEST(ReceiveStatistics, LargeJumpIsAcceptedOnlyAfterTwoSequentialPackets) {
  StreamStatistics s(1, kVideoRate);
  int64_t now = 0;
  uint32_t ts = 0;
  Feed(s, 0, 10, &now, &ts, [](uint16_t) { return false; });
  EXPECT_FALSE(s.OnPacket(40000, ts, now, 1));  // a stray: A.1 waits for confirmation
  EXPECT_EQ(s.extended_highest_seq(), 9u);
  EXPECT_TRUE(s.OnPacket(40001, ts, now, 1));  // the sender restarted: resync
  EXPECT_EQ(s.extended_highest_seq(), 40001u);
  EXPECT_EQ(s.MakeReportBlock(now)->cumulative_lost, 0);
}

TEST(ReceiveStatistics, NoReportBeforeTheSourceIsValid) {
  StreamStatistics s(1, kVideoRate);
  EXPECT_FALSE(s.MakeReportBlock(0));
  s.OnPacket(5, 0, 0, 1);
  EXPECT_FALSE(s.MakeReportBlock(0));  // still on probation
}

TEST(ReceiveStatistics, TracksAtMostTheConfiguredNumberOfStreams) {
  ReceiveStatistics all(2);
  EXPECT_NE(all.GetOrCreate(1, 48000), nullptr);
  EXPECT_NE(all.GetOrCreate(2, 90000), nullptr);
  EXPECT_EQ(all.GetOrCreate(3, 90000), nullptr);
  EXPECT_EQ(all.GetOrCreate(1, 48000)->clock_rate(), 48000u);
  EXPECT_EQ(all.Find(3), nullptr);
  int64_t now = 0;
  for (uint16_t seq = 0; seq < 5; ++seq) {
    all.Find(1)->OnPacket(seq, seq * 960u, now += 20000, 50);
  }
  const auto blocks = all.MakeReportBlocks(now);
  ASSERT_EQ(blocks.size(), 1u);  // stream 2 has received nothing
  EXPECT_EQ(blocks[0].ssrc, 1u);
}

}  // namespace
}  // namespace plateau::mcu::rtp
