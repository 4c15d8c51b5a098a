// RTCP compound parsing and building (RFC 3550, RFC 4585, RFC 5104, REMB).
#include "plateau/mcu/rtp/rtcp.hpp"

#include <gtest/gtest.h>

#include "test_bytes.hpp"

namespace plateau::mcu::rtp {
namespace {

using plateau::mcu::testing::Hex;

// A compound as a sender emits it every second: SR with one report block, then SDES CNAME.
// SR: ssrc 0x902f9e2e, NTP 0xe6a0b1c2.80000000 (x.5 s), RTP ts 0x0a0b0c0d, 1000 packets,
// 120000 octets; block about 0x12345678: fraction 25/256, cumulative lost 3, ext seq 0x0001a2b3,
// jitter 42, LSR 0xb1c28000, DLSR 0x00008000 (0.5 s).
// SDES: chunk 0x902f9e2e, CNAME "venue-09722001" (14 bytes), end item + 3 pad bytes.
const std::vector<uint8_t> kSrSdes =
    Hex("81c8000c 902f9e2e e6a0b1c2 80000000 0a0b0c0d 000003e8 0001d4c0"
        "12345678 19000003 0001a2b3 0000002a b1c28000 00008000"
        "81ca0006 902f9e2e 010e 76656e75652d3039373232303031 00000000");

TEST(Rtcp, ParsesSenderReportWithBlockAndCname) {
  const auto packets = ParseRtcpCompound(kSrSdes);
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 2u);
  const auto& sr = std::get<SenderReport>((*packets)[0]);
  EXPECT_EQ(sr.ssrc, 0x902f9e2eu);
  EXPECT_EQ(sr.ntp.seconds, 0xe6a0b1c2u);
  EXPECT_EQ(sr.ntp.fraction, 0x80000000u);
  EXPECT_EQ(sr.ntp.Compact(), 0xb1c28000u);
  EXPECT_EQ(sr.rtp_timestamp, 0x0a0b0c0du);
  EXPECT_EQ(sr.packet_count, 1000u);
  EXPECT_EQ(sr.octet_count, 120000u);
  ASSERT_EQ(sr.report_blocks.size(), 1u);
  const ReportBlock& b = sr.report_blocks[0];
  EXPECT_EQ(b.ssrc, 0x12345678u);
  EXPECT_EQ(b.fraction_lost, 25);
  EXPECT_EQ(b.cumulative_lost, 3);
  EXPECT_EQ(b.extended_highest_seq, 0x0001a2b3u);
  EXPECT_EQ(b.jitter, 42u);
  EXPECT_EQ(b.last_sr, 0xb1c28000u);
  EXPECT_EQ(b.delay_since_last_sr, 0x8000u);
  const auto& sdes = std::get<Sdes>((*packets)[1]);
  ASSERT_EQ(sdes.chunks.size(), 1u);
  EXPECT_EQ(sdes.chunks[0].ssrc, 0x902f9e2eu);
  EXPECT_EQ(sdes.chunks[0].cname, "venue-09722001");
}

TEST(Rtcp, BuildingTheParsedCompoundGivesTheSameBytes) {
  const auto packets = ParseRtcpCompound(kSrSdes);
  ASSERT_TRUE(packets);
  EXPECT_EQ(BuildRtcpCompound(*packets), kSrSdes);
}

TEST(Rtcp, ReceiverReportRoundTripsNegativeCumulativeLost) {
  ReceiverReport rr;
  rr.ssrc = 7;
  ReportBlock b;
  b.ssrc = 9;
  b.cumulative_lost = -5;  // duplicates can make it negative (RFC 3550 6.4.1)
  b.fraction_lost = 255;
  rr.report_blocks = {b, b};
  const auto parsed = ParseRtcpCompound(BuildRtcp(rr));
  ASSERT_TRUE(parsed);
  const auto& got = std::get<ReceiverReport>((*parsed)[0]);
  ASSERT_EQ(got.report_blocks.size(), 2u);
  EXPECT_EQ(got.report_blocks[1].cumulative_lost, -5);
  EXPECT_EQ(got.report_blocks[1].fraction_lost, 255);
}

TEST(Rtcp, BuildClampsCumulativeLostAndTruncatesTo31Blocks) {
  ReceiverReport rr;
  ReportBlock b;
  b.cumulative_lost = 100000000;
  rr.report_blocks.assign(40, b);
  const auto parsed = ParseRtcpCompound(BuildRtcp(rr));
  ASSERT_TRUE(parsed);
  const auto& got = std::get<ReceiverReport>((*parsed)[0]);
  EXPECT_EQ(got.report_blocks.size(), 31u);
  EXPECT_EQ(got.report_blocks[0].cumulative_lost, 0x7FFFFF);
}

TEST(Rtcp, NackPacksPidAndBitmaskAndExpandsBack) {
  Nack nack;
  nack.sender_ssrc = 1;
  nack.media_ssrc = 2;
  nack.sequence_numbers = {100, 101, 105, 116, 117, 200, 65535, 0, 3};
  const auto bytes = BuildRtcp(nack);
  // PID 100 with bits for 101 (bit 0), 105 (bit 4), 116 (bit 15); 117 starts a new entry;
  // 200; 65535 with 0 (bit 0) and 3 (bit 3).
  EXPECT_EQ(bytes, Hex("81cd0006 00000001 00000002 00648011 00750000 00c80000 ffff0009"));
  const auto parsed = ParseRtcpCompound(bytes);
  ASSERT_TRUE(parsed);
  const auto& got = std::get<Nack>((*parsed)[0]);
  EXPECT_EQ(got.media_ssrc, 2u);
  EXPECT_EQ(got.sequence_numbers, nack.sequence_numbers);
}

TEST(Rtcp, PliFirRembByeRoundTrip) {
  std::vector<RtcpPacket> in;
  in.emplace_back(ReceiverReport{5, {}});
  in.emplace_back(Pli{5, 6});
  Fir fir;
  fir.sender_ssrc = 5;
  fir.entries = {{6, 3}, {7, 4}};
  in.emplace_back(fir);
  Remb remb;
  remb.sender_ssrc = 5;
  remb.bitrate_bps = 1500000;
  remb.ssrcs = {6, 7};
  in.emplace_back(remb);
  Bye bye;
  bye.ssrcs = {6};
  bye.reason = "left";
  in.emplace_back(bye);
  const auto parsed = ParseRtcpCompound(BuildRtcpCompound(in));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 5u);
  EXPECT_EQ(std::get<Pli>((*parsed)[1]).media_ssrc, 6u);
  const auto& f = std::get<Fir>((*parsed)[2]);
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[1].ssrc, 7u);
  EXPECT_EQ(f.entries[1].sequence_number, 4);
  const auto& r = std::get<Remb>((*parsed)[3]);
  // 18-bit mantissa: 1500000 = 366.2 * 2^12 -> 1499136 after rounding down.
  EXPECT_LE(r.bitrate_bps, 1500000u);
  EXPECT_GT(r.bitrate_bps, 1500000u - 4096);
  EXPECT_EQ(r.ssrcs, (std::vector<uint32_t>{6, 7}));
  const auto& b = std::get<Bye>((*parsed)[4]);
  EXPECT_EQ(b.ssrcs, (std::vector<uint32_t>{6}));
  EXPECT_EQ(b.reason, "left");
}

TEST(Rtcp, ParsesChromeRembPacket) {
  // PSFB FMT 15, "REMB", 1 SSRC, exp 3 mantissa 0x3d090 (250000) -> 2000000 bps.
  const auto bytes = Hex("8fce0005 11223344 00000000 52454d42 010f d090 55667788");
  const auto parsed = ParseRtcpCompound(bytes);
  ASSERT_TRUE(parsed);
  const auto& r = std::get<Remb>((*parsed)[0]);
  EXPECT_EQ(r.sender_ssrc, 0x11223344u);
  EXPECT_EQ(r.bitrate_bps, 2000000u);
  EXPECT_EQ(r.ssrcs, (std::vector<uint32_t>{0x55667788}));
}

TEST(Rtcp, UnknownTypesAreKeptAsUnknown) {
  // APP packet (204), then an XR (207), then transport-cc feedback (RTPFB FMT 15).
  const auto bytes =
      Hex("80cc0002 00000001 61626364"
          "80cf0001 00000001"
          "8fcd0002 00000001 00000002");
  const auto parsed = ParseRtcpCompound(bytes);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ(std::get<UnknownRtcp>((*parsed)[0]).packet_type, kRtcpApp);
  EXPECT_EQ(std::get<UnknownRtcp>((*parsed)[2]).format, 15);
}

TEST(Rtcp, AcceptsPaddingOnTheLastPacket) {
  // RR without blocks, padded with 4 bytes.
  const auto parsed = ParseRtcpCompound(Hex("a0c90002 00000001 00000004"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(std::get<ReceiverReport>((*parsed)[0]).ssrc, 1u);
}

struct MalformedRtcp {
  const char* name;
  std::vector<uint8_t> bytes;
};

class RtcpMalformed : public ::testing::TestWithParam<MalformedRtcp> {};

TEST_P(RtcpMalformed, RejectsTheWholeCompound) {
  EXPECT_FALSE(ParseRtcpCompound(GetParam().bytes));
}

std::vector<uint8_t> OversizedRtcp() {
  std::vector<uint8_t> b = Hex("80c90177 00000001");  // 376 words -> 1508 bytes
  b.resize(1508, 0);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RtcpMalformed,
    ::testing::Values(
        MalformedRtcp{"Empty", {}}, MalformedRtcp{"ShortHeader", Hex("80c900")},
        MalformedRtcp{"WrongVersion", Hex("40c90001 00000001")},
        MalformedRtcp{"LengthBeyondBuffer", Hex("80c90002 00000001")},
        MalformedRtcp{"TrailingBytesAfterLastPacket", Hex("80c90001 00000001 80")},
        MalformedRtcp{"SecondPacketTruncated", Hex("80c90001 00000001 80c90005 00000001")},
        MalformedRtcp{"ReportCountBeyondLength", Hex("82c90007 00000001" + std::string(48, '0'))},
        MalformedRtcp{"SenderReportTooShort", Hex("80c80002 00000001 00000002")},
        MalformedRtcp{"ReceiverReportWithoutSsrc", Hex("80c90000")},
        MalformedRtcp{"PaddingZero", Hex("a0c90001 00000000")},
        MalformedRtcp{"PaddingLargerThanBody", Hex("a0c90001 00000009")},
        MalformedRtcp{"SdesItemPastEnd", Hex("81ca0002 00000001 0110aaaa")},
        MalformedRtcp{"SdesChunkCountBeyondLength", Hex("82ca0002 00000001 01000000")},
        MalformedRtcp{"SdesMissingEndItem", Hex("81ca0002 00000001 0102aaaa")},
        MalformedRtcp{"ByeCountBeyondLength", Hex("83cb0002 00000001 00000002")},
        MalformedRtcp{"ByeReasonPastEnd", Hex("81cb0002 00000001 09616263")},
        MalformedRtcp{"NackWithoutFci", Hex("81cd0002 00000001 00000002")},
        MalformedRtcp{"NackTooShort", Hex("81cd0001 00000001")},
        MalformedRtcp{"PliTooShort", Hex("81ce0001 00000001")},
        MalformedRtcp{"FirPartialEntry", Hex("84ce0003 00000001 00000000 00000002")},
        MalformedRtcp{"FirWithoutEntries", Hex("84ce0002 00000001 00000000")},
        MalformedRtcp{"RembSsrcCountBeyondLength",
                      Hex("8fce0004 00000001 00000000 52454d42 050fd090")},
        MalformedRtcp{"RembTruncated", Hex("8fce0003 00000001 00000000 52454d42")},
        MalformedRtcp{"Oversized", OversizedRtcp()}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Rtcp, RoundTripFromLsrAndDlsr) {
  ReportBlock b;
  b.last_sr = 0x00010000;              // 1.0 s
  b.delay_since_last_sr = 0x00008000;  // 0.5 s
  // Arrival at 1.55 s: RTT 50 ms.
  const auto rtt = RoundTripMs(b, 0x00010000 + 0x8000 + 3277);
  ASSERT_TRUE(rtt);
  EXPECT_NEAR(*rtt, 50.0, 0.1);
  b.last_sr = 0;
  EXPECT_FALSE(RoundTripMs(b, 0x00020000));  // no SR received yet
  b.last_sr = 0x00010000;
  EXPECT_FALSE(RoundTripMs(b, 0x00010000));  // negative
}

TEST(Rtcp, NtpFromUnixTime) {
  const NtpTime t = NtpTime::FromUnixMicros(1500000);  // 1970-01-01 00:00:01.5
  EXPECT_EQ(t.seconds, 2208988801u);
  EXPECT_EQ(t.fraction, 0x80000000u);
}

}  // namespace
}  // namespace plateau::mcu::rtp
