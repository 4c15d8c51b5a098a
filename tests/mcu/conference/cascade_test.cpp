// Cascading by content: a hub conference and two sub-centre conferences joined by cascade legs
// (SRTP over loopback UDP), each with its own reference terminal sending its own colour and tone.
// Every terminal decodes what it receives with avdec_h264 / opusdec: the hall and the two
// counties see the province picture with every venue's colour, and each hears the other two and
// never itself.
#include <cstdio>

#include "plateau/mcu/conference/cascade_leg.hpp"
#include "support/media/conference_rig.hpp"

namespace plateau::mcu::testing {
namespace {

using terminal::media::Rgb;

conference::ConferenceConfig SubCentreConfig(const std::string& id) {
  auto c = SmallConferenceConfig(id);
  c.layout = "1";  // what goes up is the sub-centre's speaker, full frame
  return c;
}

conference::CascadeLegSpec Leg(const std::string& mcu, const std::string& name) {
  conference::CascadeLegSpec s;
  s.child = {mcu, name};
  s.parent = {"mcu-hub", "省中心"};
  s.tier = "8m";
  return s;
}

std::string Levels(terminal::media::TerminalReceiver& r) {
  std::string out;
  for (double hz : {400.0, 700.0, 1000.0})
    out += std::to_string(static_cast<int>(r.ToneLevelDbov(hz, 400))) + " ";
  return out;
}

// Hears the tones at `heard` well above its own (`own`).
bool HearsOthersNotItself(terminal::media::TerminalReceiver& r, double own,
                          std::initializer_list<double> heard) {
  double quietest = 0;
  for (double hz : heard) quietest = std::min(quietest, r.ToneLevelDbov(hz, 400));
  return quietest > -40 && r.ToneLevelDbov(own, 400) < quietest - 20;
}

TEST(Cascade, VenuesOnTwoSubCentresSeeAndHearEachOtherAndTheHall) {
  ConferenceRig hub(SmallConferenceConfig("cascade-hub"));
  ConferenceRig haidong(SubCentreConfig("cascade-haidong"));
  ConferenceRig golog(SubCentreConfig("cascade-golog"));
  ASSERT_TRUE(hub.ok() && haidong.ok() && golog.ok());
  const Rgb red{220, 40, 40}, green{40, 200, 60}, blue{40, 60, 220};

  ASSERT_TRUE(conference::ConnectCascadeLeg(hub.conference(), haidong.conference(),
                                            Leg("mcu-haidong", "海东市")));
  ASSERT_TRUE(conference::ConnectCascadeLeg(hub.conference(), golog.conference(),
                                            Leg("mcu-golog", "果洛州")));
  TerminalOptions hall;
  hall.receive = true;
  hall.tone_hz = 400;
  hall.tone_volume = 0.5;  // the loudest: the hub's large pane stays still
  ASSERT_NE(hub.Join("hall-1", "主会场", red, hall), nullptr);
  TerminalOptions county;
  county.receive = true;
  county.tone_volume = 0.25;
  county.tone_hz = 700;
  ASSERT_NE(haidong.Join("minhe", "民和县", green, county), nullptr);
  county.tone_hz = 1000;
  ASSERT_NE(golog.Join("maqin", "玛沁县", blue, county), nullptr);

  // In the hub's picture each leg is one tile showing its sub-centre's speaker.
  auto color_of = [&](const std::string& venue) {
    return venue == "hall-1" ? red : venue == "mcu-haidong" ? green : blue;
  };
  auto sees_province = [&](terminal::media::TerminalReceiver& r, const char* name) {
    std::string why;
    const auto frame = r.WaitForFrame(
        [&](const terminal::media::DecodedFrame& f) {
          const auto placements = hub.conference().Placements();
          return placements.size() == 3 &&
                 ShowsLayout(f, placements, hub.config().video.canvas_width,
                             hub.config().video.canvas_height, color_of, &why);
        },
        Clock::now() + plateau::testing::Slack(30s));
    if (!frame) {
      auto last = r.LatestFrame();
      ADD_FAILURE() << name << " never saw the province picture: " << why
                    << (last ? " (last frame: " + DumpFrame(*last, name) + ")" : " (no frame)");
    }
    return frame != nullptr;
  };
  EXPECT_TRUE(sees_province(*hub.terminal("hall-1").receiver, "cascade-hall"));
  EXPECT_TRUE(sees_province(*haidong.terminal("minhe").receiver, "cascade-minhe"));
  EXPECT_TRUE(sees_province(*golog.terminal("maqin").receiver, "cascade-maqin"));

  // Each hears the other two, never itself: the hall through both legs, a county through its
  // sub-centre's uplink (the hub's mix minus that sub-centre) and its sub-centre's mix.
  auto& hall_rx = *hub.terminal("hall-1").receiver;
  auto& minhe_rx = *haidong.terminal("minhe").receiver;
  auto& maqin_rx = *golog.terminal("maqin").receiver;
  ASSERT_TRUE(hall_rx.WaitForAudio(600, Clock::now() + 10s));
  ASSERT_TRUE(minhe_rx.WaitForAudio(600, Clock::now() + 10s));
  ASSERT_TRUE(maqin_rx.WaitForAudio(600, Clock::now() + 10s));
  const bool heard = plateau::testing::WaitUntil(
      [&] {
        return HearsOthersNotItself(hall_rx, 400, {700, 1000}) &&
               HearsOthersNotItself(minhe_rx, 700, {400, 1000}) &&
               HearsOthersNotItself(maqin_rx, 1000, {400, 700});
      },
      20s);
  EXPECT_TRUE(heard) << "dBov at 400/700/1000 Hz: hall " << Levels(hall_rx) << "| minhe "
                     << Levels(minhe_rx) << "| maqin " << Levels(maqin_rx);
  std::printf("[ measured ] cascade tones dBov (400/700/1000 Hz): hall %s| minhe %s| maqin %s\n",
              Levels(hall_rx).c_str(), Levels(minhe_rx).c_str(), Levels(maqin_rx).c_str());

  // Each sub-centre encodes one tier (for its leg) and decodes only its own venue; the counties
  // receive the hub's picture as forwarded packets.
  const auto hs = haidong.conference().Stats();
  EXPECT_EQ(hs.video_encoders, 1u);
  EXPECT_EQ(hs.active_decoders, 1);
  const conference::VenueStats* up = nullptr;
  for (const auto& v : hs.venues)
    if (v.id == "mcu-hub") up = &v;
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE(up->uplink);
  // A second uplink is refused.
  auto again = conference::ConnectCascadeLeg(hub.conference(), haidong.conference(),
                                             Leg("mcu-haidong-2", "海东市"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "duplicate_uplink");
  EXPECT_EQ(hub.conference().Stats().venues.size(), 3u);  // nothing left behind

  conference::DisconnectCascadeLeg(hub.conference(), golog.conference(),
                                   Leg("mcu-golog", "果洛州"));
  EXPECT_EQ(hub.conference().Stats().venues.size(), 2u);
}

}  // namespace
}  // namespace plateau::mcu::testing
