// Profiles and cascade planning on the real Qinghai network.
#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

class CascadePlanTest : public QinghaiNetwork {};

TEST(ProfileTest, StreamKbpsIsVideoPlusAudioTimesOverheadRoundedUp) {
  const Network net = LoadQinghai();
  EXPECT_EQ(net.FindProfile("hd-2m")->stream_kbps(), 1229);  // 1148 * 1.07 = 1228.36
  EXPECT_EQ(net.FindProfile("hd-8m")->stream_kbps(), 1995);  // 1864 * 1.07 = 1994.48
  EXPECT_EQ(net.FindProfile("sd-1m")->stream_kbps(), 702);   // 632 * 1.11 = 701.52
  Profile exact{"x", "x", 950, 50, 1.05, 640, 360};          // 1000 * 1.05 = 1050 exactly
  EXPECT_EQ(exact.stream_kbps(), 1050);
  EXPECT_EQ(net.FindProfile("nope"), nullptr);
}

// What a stream needs on the wire: its rates plus every packet's 58 bytes of headers. Video:
// whole 1,180-byte payloads per frame at 30 fps; audio: 50 packets a second.
TEST(ProfileTest, MediaKbpsCountsEveryPacketsHeaders) {
  const Network net = LoadQinghai();
  // hd-2m: 4,583 bytes a frame = 4 packets; (120 + 50) x 58 x 8 = 78.9 kbit/s of headers.
  EXPECT_EQ(net.FindProfile("hd-2m")->media_kbps(), 1227);
  EXPECT_EQ(net.FindProfile("hd-8m")->media_kbps(), 1985);  // 7 packets a frame: 120.6
  EXPECT_EQ(net.FindProfile("sd-1m")->media_kbps(), 697);   // 3 packets a frame: 65.0
  // Every configured profile reserves at least what it needs (the config loader refuses less).
  for (const Profile& p : net.profiles()) EXPECT_GE(p.stream_kbps(), p.media_kbps()) << p.id;
  // At low rates the headers are a large share: audio's 50 packets a second alone carry 23.2.
  const Profile low{"low", "low", 32, 32, 1.0, 64, 64};
  EXPECT_EQ(low.media_kbps(), 102);  // 64 + (30 + 50) x 58 x 8 / 1000 = 101.12, rounded up
}

TEST(ProfileTest, OneHd2mStreamEachWayFitsACountyLinkButHd8mDoesNot) {
  const Network net = LoadQinghai();
  const Link* minhe = net.topology().Uplink("minhe");
  ASSERT_NE(minhe, nullptr);
  EXPECT_EQ(minhe->usable_up_kbps(), 1600);
  EXPECT_LE(net.FindProfile("hd-2m")->stream_kbps(), minhe->usable_up_kbps());
  EXPECT_GT(net.FindProfile("hd-8m")->stream_kbps(), minhe->usable_down_kbps());
}

TEST_F(CascadePlanTest, ProvinceWideMeetingCascadesAtAllEightPrefectures) {
  const CascadePlan p = PlanCascade(net_, Meeting("全省会议", AllVenues(net_), At(0, 9), 120));
  EXPECT_EQ(p.root_mcu, "mcu-hub");
  ASSERT_EQ(p.cascades.size(), 8u);
  for (const std::string& pref : kPrefectures) {
    SCOPED_TRACE(pref);
    bool found = false;
    for (const CascadeLeg& leg : p.cascades)
      if (leg.from_mcu == "mcu-" + pref) {
        found = true;
        EXPECT_EQ(leg.to_mcu, "mcu-hub");
        EXPECT_EQ(leg.link, net_.topology().Uplink(pref)->id);
      }
    EXPECT_TRUE(found);
    EXPECT_EQ(HostOf(p, pref), "mcu-" + pref);
    // The cascade leg is the only thing on the prefecture's uplink: one stream each way.
    const LinkLoad* up = FindLoad(p, net_.topology().Uplink(pref)->id);
    ASSERT_NE(up, nullptr);
    EXPECT_EQ(up->up_kbps, 1229);
    EXPECT_EQ(up->down_kbps, 1229);
  }
  // The Party Committee Office has no counties: it connects straight to the hub.
  EXPECT_EQ(HostOf(p, "party-committee"), "mcu-hub");
  EXPECT_EQ(PortsOn(p, "mcu-party-committee"), 0);
  EXPECT_EQ(HostOf(p, "minhe"), "mcu-haidong");
  EXPECT_EQ(HostOf(p, "golmud"), "mcu-haixi");
  EXPECT_EQ(HostOf(p, "hall-1"), "mcu-hub");
  EXPECT_EQ(HostOf(p, "finance"), "mcu-hub");
  // Hub: 2 halls + 12 departments + the Party Committee Office + 8 cascade legs.
  EXPECT_EQ(PortsOn(p, "mcu-hub"), 23);
  EXPECT_EQ(PortsOn(p, "mcu-haidong"), 7 + 1);
  EXPECT_EQ(PortsOn(p, "mcu-haixi"), 9 + 1);
  // Every link carries exactly one stream each way and stays within its usable capacity.
  // Halls, departments, Party Committee Office and counties on their own links; prefectures'
  // uplinks carry the legs: every one of the 65 links carries something.
  EXPECT_EQ(p.links.size(), 65u);
  for (const LinkLoad& l : p.links) {
    SCOPED_TRACE(l.link);
    EXPECT_EQ(l.up_kbps, 1229);
    EXPECT_LE(l.up_kbps, net_.topology().FindLink(l.link)->usable_up_kbps());
  }
}

TEST_F(CascadePlanTest, WithoutCascadeHaidongUplinkCarriesSevenStreams) {
  BookingRequest r = Meeting("全省会议", AllVenues(net_), At(0, 9), 120);
  r.cascade = CascadeMode::kOff;
  const CascadePlan p = PlanCascade(net_, r);
  EXPECT_TRUE(p.cascades.empty());
  for (const VenueHost& h : p.hosts) EXPECT_EQ(h.mcu, "mcu-hub") << h.venue;
  EXPECT_EQ(FindLoad(p, "hub-haidong")->up_kbps, 7 * 1229);
  EXPECT_EQ(FindLoad(p, "hub-haidong")->down_kbps, 8603);
  EXPECT_EQ(FindLoad(p, "hub-haixi")->up_kbps, 9 * 1229);
  EXPECT_EQ(FindLoad(p, "hub-xining")->up_kbps, 4 * 1229);
  EXPECT_EQ(PortsOn(p, "mcu-hub"), 65);
  EXPECT_EQ(PortsOn(p, "mcu-haidong"), 0);
}

TEST_F(CascadePlanTest, MeetingInsideOneSubcentreIsHostedByItsMcu) {
  const CascadePlan p = PlanCascade(
      net_, Regional(Meeting("海东会", {"haidong", "minhe", "ledu"}, At(0, 9), 60), "haidong"));
  EXPECT_EQ(p.root_mcu, "mcu-haidong");
  EXPECT_TRUE(p.cascades.empty());
  EXPECT_EQ(FindLoad(p, "hub-haidong"), nullptr);  // no provincial link at all
  EXPECT_EQ(FindLoad(p, "haidong-minhe")->up_kbps, 1229);
  EXPECT_EQ(FindLoad(p, "haidong-ledu")->down_kbps, 1229);
  EXPECT_EQ(p.links.size(), 2u);  // the sub-centre venue sits at its MCU: no link
  EXPECT_EQ(PortsOn(p, "mcu-haidong"), 3);
  EXPECT_EQ(PortsOn(p, "mcu-hub"), 0);
}

TEST_F(CascadePlanTest, TwoCountiesOfOnePrefectureCascadeEvenWithoutThePrefectureVenue) {
  const CascadePlan p = PlanCascade(net_, Meeting("会", {"hall-1", "minhe", "ledu"}, At(0, 9), 60));
  EXPECT_EQ(p.root_mcu, "mcu-hub");
  ASSERT_EQ(p.cascades.size(), 1u);
  EXPECT_EQ(p.cascades[0].from_mcu, "mcu-haidong");
  EXPECT_EQ(p.cascades[0].link, "hub-haidong");
  EXPECT_EQ(FindLoad(p, "hub-haidong")->up_kbps, 1229);  // one leg, not two county streams
  EXPECT_EQ(PortsOn(p, "mcu-haidong"), 2 + 1);
  EXPECT_EQ(PortsOn(p, "mcu-hub"), 1 + 1);
}

TEST_F(CascadePlanTest, ALoneCountyConnectsStraightToTheHubAlongTheTreePath) {
  const CascadePlan p = PlanCascade(net_, Meeting("会", {"hall-1", "minhe"}, At(0, 9), 60));
  EXPECT_TRUE(p.cascades.empty());
  EXPECT_EQ(HostOf(p, "minhe"), "mcu-hub");
  EXPECT_EQ(FindLoad(p, "haidong-minhe")->up_kbps, 1229);
  EXPECT_EQ(FindLoad(p, "hub-haidong")->down_kbps, 1229);
  EXPECT_EQ(FindLoad(p, "hub-hall-1")->up_kbps, 1229);
  EXPECT_EQ(p.links.size(), 3u);
  EXPECT_EQ(PortsOn(p, "mcu-hub"), 2);
  EXPECT_EQ(PortsOn(p, "mcu-haidong"), 0);
}

TEST_F(CascadePlanTest, CascadeOffInsideOneSubcentreStillUsesTheLocalMcu) {
  BookingRequest r = Meeting("会", {"minhe", "ledu"}, At(0, 9), 60);
  r.cascade = CascadeMode::kOff;
  const CascadePlan p = PlanCascade(net_, r);
  EXPECT_EQ(p.root_mcu, "mcu-haidong");
  EXPECT_EQ(FindLoad(p, "hub-haidong"), nullptr);
}

TEST_F(CascadePlanTest, ProfileSetsTheStreamOnEveryLink) {
  const CascadePlan p =
      PlanCascade(net_, Meeting("会", {"hall-1", "finance", "haidong"}, At(0, 9), 60, "hd-8m"));
  for (const LinkLoad& l : p.links) {
    EXPECT_EQ(l.up_kbps, 1995) << l.link;
    EXPECT_EQ(l.down_kbps, 1995) << l.link;
  }
  EXPECT_EQ(p.links.size(), 3u);
}

}  // namespace
}  // namespace plateau::scheduler::testing
