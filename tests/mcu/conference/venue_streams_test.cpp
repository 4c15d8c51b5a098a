// The conference's per-venue RTP streams and its audio clock, in process (suite 'unit').
#include "plateau/mcu/conference/venue_streams.hpp"

#include <gtest/gtest.h>

#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::conference {
namespace {

using namespace std::chrono_literals;
using Clock = TickSchedule::Clock;

std::vector<uint8_t> TierPacket(uint16_t seq, uint32_t ts) {
  rtp::RtpHeader h;
  h.payload_type = 96;
  h.sequence_number = seq;
  h.timestamp = ts;
  h.ssrc = 0x7e7e7e7e;
  h.marker = true;
  const std::vector<uint8_t> payload = {0x65, 1, 2, 3};
  return rtp::BuildRtpPacket(h, payload);
}

TEST(RestampForVenue, ChangesOnlySsrcAndPayloadType) {
  auto p = TierPacket(65535, 0xfffffff0u);
  ASSERT_TRUE(RestampForVenue(p, 0x01020304, 102));
  auto v = rtp::RtpPacket::Parse(p);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->ssrc(), 0x01020304u);
  EXPECT_EQ(v->payload_type(), 102);
  EXPECT_EQ(v->sequence_number(), 65535);  // the tier's: NACK history per venue stays exact
  EXPECT_EQ(v->timestamp(), 0xfffffff0u);
  EXPECT_TRUE(v->marker());
  EXPECT_EQ(v->payload().size(), 4u);
}

TEST(RestampForVenue, RefusesNonRtpAndBadPayloadTypes) {
  std::vector<uint8_t> junk = {0x00, 0x01, 0x02};
  EXPECT_FALSE(RestampForVenue(junk, 1, 96));
  EXPECT_EQ(junk, (std::vector<uint8_t>{0x00, 0x01, 0x02}));
  auto p = TierPacket(1, 1);
  const auto before = p;
  EXPECT_FALSE(RestampForVenue(p, 1, 128));
  EXPECT_EQ(p, before);
}

TEST(AudioPacketizer, OneStreamPerVenueWithItsOwnBaseAndMarkerOnFirstPacket) {
  AudioPacketizer a(0xaaaa, 111, 65534, 0xffffff00u);
  const std::vector<uint8_t> opus = {0x78, 0x01, 0x02};
  std::vector<rtp::RtpPacket> got;
  std::vector<std::vector<uint8_t>> keep;
  for (uint32_t tick = 0; tick < 3; ++tick) keep.push_back(a.Packetize(opus, tick * 960));
  for (const auto& k : keep) got.push_back(*rtp::RtpPacket::Parse(k));
  EXPECT_TRUE(got[0].marker());
  EXPECT_FALSE(got[1].marker());
  EXPECT_EQ(got[0].sequence_number(), 65534);
  EXPECT_EQ(got[1].sequence_number(), 65535);
  EXPECT_EQ(got[2].sequence_number(), 0);  // wraps
  EXPECT_EQ(got[0].timestamp(), 0xffffff00u);
  EXPECT_EQ(got[2].timestamp(), 0xffffff00u + 2 * 960u);  // wraps modulo 2^32
  EXPECT_EQ(got[1].ssrc(), 0xaaaau);
  EXPECT_EQ(got[1].payload_type(), 111);
  EXPECT_EQ(std::vector<uint8_t>(got[1].payload().begin(), got[1].payload().end()), opus);
  EXPECT_EQ(a.packets(), 3u);

  // A new carrier: same stream (sequence continues), new payload type, marked again.
  a.Restart(109);
  auto next = a.Packetize(opus, 3 * 960);
  auto n = *rtp::RtpPacket::Parse(next);
  EXPECT_TRUE(n.marker());
  EXPECT_EQ(n.payload_type(), 109);
  EXPECT_EQ(n.sequence_number(), 1);
}

TEST(TickSchedule, TicksAreDueOnAFixedGridWhateverTheTimerLateness) {
  const auto epoch = Clock::time_point{} + 1h;
  TickSchedule s(epoch, 20ms, 10);
  EXPECT_EQ(s.Advance(epoch - 1ms).run, 0u);
  EXPECT_EQ(s.Advance(epoch).run, 1u);  // tick 0
  EXPECT_EQ(s.next_deadline(), epoch + 20ms);
  EXPECT_EQ(s.Advance(epoch + 19ms).run, 0u);
  // A timer that fires 7 ms late does not shift the grid.
  EXPECT_EQ(s.Advance(epoch + 27ms).run, 1u);
  EXPECT_EQ(s.next_deadline(), epoch + 40ms);
  // Late by more than a period: both due ticks run (catch-up).
  EXPECT_EQ(s.Advance(epoch + 61ms).run, 2u);
  EXPECT_EQ(s.done(), 4u);
  // After 1000 ticks of 20 ms, exactly 1000 + 1 have run: no drift.
  uint64_t ran = s.done();
  for (int i = 4; i <= 1000; ++i) ran += s.Advance(epoch + i * 20ms + 3ms).run;
  EXPECT_EQ(ran, 1001u);
  EXPECT_EQ(s.skipped(), 0u);
}

TEST(TickSchedule, AStallSkipsAheadInsteadOfBurstingStaleAudio) {
  const auto epoch = Clock::time_point{} + 1h;
  TickSchedule s(epoch, 20ms, 10);
  EXPECT_EQ(s.Advance(epoch).run, 1u);
  const auto due = s.Advance(epoch + 1s);  // 50 ticks behind
  EXPECT_EQ(due.run, 1u);
  EXPECT_EQ(due.skipped, 49u);
  EXPECT_EQ(s.done(), 51u);
  EXPECT_EQ(s.next_deadline(), epoch + 1020ms);
  EXPECT_EQ(s.Advance(epoch + 1020ms).run, 1u);
}

}  // namespace
}  // namespace plateau::mcu::conference
