// NACK generation (receiver) and the retransmission history (sender).
#include "plateau/mcu/rtp/nack.hpp"

#include <gtest/gtest.h>

#include <random>

namespace plateau::mcu::rtp {
namespace {

TEST(NackGenerator, AsksForEachMissingPacketOfAGap) {
  NackGenerator g;
  g.OnPacket(1, 0);
  g.OnPacket(2, 0);
  g.OnPacket(5, 10);
  EXPECT_EQ(g.missing_count(), 2u);
  EXPECT_EQ(g.GetNackList(10), (std::vector<uint16_t>{3, 4}));
  EXPECT_TRUE(g.GetNackList(15).empty());  // not yet due again (20 ms)
  EXPECT_EQ(g.GetNackList(30), (std::vector<uint16_t>{3, 4}));
}

TEST(NackGenerator, ArrivalOfAMissingPacketCountsAsRecovered) {
  NackGenerator g;
  g.OnPacket(1, 0);
  g.OnPacket(4, 0);
  EXPECT_TRUE(g.OnPacket(2, 5));
  EXPECT_FALSE(g.OnPacket(2, 6));  // a duplicate is not recovered twice
  EXPECT_EQ(g.recovered(), 1u);
  EXPECT_EQ(g.GetNackList(10), (std::vector<uint16_t>{3}));
  EXPECT_TRUE(g.OnPacket(3, 12));
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_FALSE(g.NextDueMs());
}

TEST(NackGenerator, RetriesAreSpacedByTheRoundTripTime) {
  NackGenerator g;
  g.SetRtt(100);
  g.OnPacket(1, 0);
  g.OnPacket(3, 0);
  EXPECT_EQ(g.GetNackList(0).size(), 1u);
  EXPECT_EQ(*g.NextDueMs(), 100);
  EXPECT_TRUE(g.GetNackList(99).empty());
  EXPECT_EQ(g.GetNackList(100).size(), 1u);
}

TEST(NackGenerator, GivesUpAfterMaxRetriesAndAsksForAKeyframe) {
  NackConfig c;
  c.max_retries = 3;
  c.min_retry_interval_ms = 10;
  NackGenerator g(c);
  g.OnPacket(1, 0);
  g.OnPacket(3, 0);
  int sent = 0;
  for (int64_t t = 0; t <= 100; t += 10) sent += static_cast<int>(g.GetNackList(t).size());
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.given_up(), 1u);
  EXPECT_TRUE(g.TakeKeyframeRequest());
  EXPECT_FALSE(g.TakeKeyframeRequest());  // once
}

TEST(NackGenerator, ForgetsPacketsOlderThanMaxAge) {
  NackConfig c;
  c.max_age_ms = 50;
  c.min_retry_interval_ms = 1000;
  NackGenerator g(c);
  g.OnPacket(1, 0);
  g.OnPacket(3, 0);
  EXPECT_EQ(g.GetNackList(0).size(), 1u);
  EXPECT_TRUE(g.GetNackList(51).empty());
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.given_up(), 1u);
}

TEST(NackGenerator, TooManyMissingClearsTheListAndAsksForAKeyframe) {
  NackConfig c;
  c.max_missing = 100;
  NackGenerator g(c);
  g.OnPacket(0, 0);
  g.OnPacket(102, 0);  // 101 missing
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.TakeKeyframeRequest());
  EXPECT_TRUE(g.GetNackList(0).empty());
  g.OnPacket(104, 1);  // tracking continues from the new position
  EXPECT_EQ(g.GetNackList(1), (std::vector<uint16_t>{103}));
}

TEST(NackGenerator, HandlesSequenceNumberWrap) {
  NackGenerator g;
  g.OnPacket(65534, 0);
  g.OnPacket(2, 0);
  EXPECT_EQ(g.GetNackList(0), (std::vector<uint16_t>{65535, 0, 1}));
  EXPECT_TRUE(g.OnPacket(0, 1));
  EXPECT_EQ(g.GetNackList(100), (std::vector<uint16_t>{65535, 1}));
}

TEST(NackGenerator, AHugeJumpIsARestartNotALoss) {
  NackGenerator g;
  g.OnPacket(10, 0);
  g.OnPacket(20000, 0);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(g.TakeKeyframeRequest());
  g.OnPacket(20002, 0);
  EXPECT_EQ(g.GetNackList(0), (std::vector<uint16_t>{20001}));
}

TEST(NackGenerator, AJumpFarBackIsARestartToo) {
  NackGenerator g;
  g.OnPacket(30000, 0);
  g.OnPacket(10, 0);  // 29990 behind: the sender restarted
  EXPECT_TRUE(g.TakeKeyframeRequest());
  g.OnPacket(12, 0);
  EXPECT_EQ(g.GetNackList(0), (std::vector<uint16_t>{11}));
}

TEST(NackGenerator, WaitsTheInitialDelayForReordering) {
  NackConfig c;
  c.initial_delay_ms = 15;
  NackGenerator g(c);
  g.OnPacket(1, 0);
  g.OnPacket(3, 0);
  EXPECT_TRUE(g.GetNackList(10).empty());
  EXPECT_EQ(*g.NextDueMs(), 15);
  EXPECT_EQ(g.GetNackList(15), (std::vector<uint16_t>{2}));
}

TEST(RetransmissionHistory, FindsStoredPacketsUntilOverwrittenOrTooOld) {
  RetransmissionHistory h(4, 1000);
  for (uint16_t seq = 10; seq < 14; ++seq) {
    h.Store(seq, std::vector<uint8_t>{static_cast<uint8_t>(seq)}, 0);
  }
  ASSERT_TRUE(h.Find(10, 0));
  EXPECT_EQ((*h.Find(10, 0))[0], 10);
  h.Store(14, std::vector<uint8_t>{14}, 0);  // takes 10's slot
  EXPECT_FALSE(h.Find(10, 0));
  EXPECT_TRUE(h.Find(14, 0));
  EXPECT_FALSE(h.Find(99, 0));
  EXPECT_TRUE(h.Find(13, 1000));
  EXPECT_FALSE(h.Find(13, 1001));
}

// A meeting of hours sends millions of packets of every size up to the MTU through each video
// stream's history: its memory must be what it was after the first round of the ring, not creep
// towards capacity x the largest packet as each slot meets a bigger one.
TEST(RetransmissionHistory, MemoryStaysBoundedOverMillionsOfPackets) {
  RetransmissionHistory h(1024, 2000);
  std::mt19937 rng(7);
  // Mostly full FU-A fragments, some short last fragments and small frames, as from an encoder.
  std::uniform_int_distribution<size_t> size(60, 1200);
  std::vector<uint8_t> packet(1200);
  uint16_t seq = 0;
  auto store = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const size_t bytes = i % 4 == 3 ? size(rng) : 1200 - size(rng) / 40;
      packet.assign(bytes, static_cast<uint8_t>(seq));
      h.Store(seq++, packet, 0);
    }
  };
  store(h.capacity());
  const size_t after_first_round = h.allocated_bytes();
  store(2'000'000);
  EXPECT_EQ(h.allocated_bytes(), after_first_round);
  // And it still answers with the right packet.
  ASSERT_TRUE(h.Find(static_cast<uint16_t>(seq - 1), 0));
  EXPECT_EQ((*h.Find(static_cast<uint16_t>(seq - 1), 0))[0], static_cast<uint8_t>(seq - 1));
}

}  // namespace
}  // namespace plateau::mcu::rtp
