// LinkMeter: the flows' byte counters become kbit/s per link and direction, beside the
// reservations, in the registry it was given.
#include "plateau/negotiation/conference/link_meter.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace plateau::negotiation::conference {
namespace {

using namespace std::chrono_literals;

MediaFlow Flow(std::string id, std::vector<std::string> links, uint64_t up, uint64_t down) {
  MediaFlow f;
  f.booking = 7;
  f.id = std::move(id);
  f.links = std::move(links);
  f.bytes_up = up;
  f.bytes_down = down;
  return f;
}

TEST(LinkMeter, BytesPerLinkAndDirectionBecomeKbpsBesideTheReservation) {
  metrics::Registry registry;
  LinkMeter meter(registry, {"hub-haidong", "haidong-minhe", "haidong-ledu", "hub-golog"});
  const Clock::MonoTime t0{};
  const std::map<std::string, std::pair<int64_t, int64_t>> reserved = {
      {"hub-haidong", {1229, 1229}}, {"haidong-minhe", {1229, 1229}}};
  // The first sample is the baseline: nothing measured yet.
  meter.Sample({Flow("minhe", {"haidong-minhe"}, 1000, 2000),
                Flow("mcu-haidong", {"hub-haidong"}, 5000, 6000)},
               reserved, t0);
  EXPECT_EQ(meter.Rates().at("hub-haidong").measured_up_kbps, 0);
  EXPECT_EQ(meter.Rates().at("hub-haidong").reserved_up_kbps, 1229);

  // Two seconds later: minhe sent 250,000 bytes and received 300,000 (1,000 / 1,200 kbit/s); the
  // leg carried 275,000 up and 290,000 down; ledu joined (its baseline).
  meter.Sample({Flow("minhe", {"haidong-minhe"}, 251000, 302000),
                Flow("mcu-haidong", {"hub-haidong"}, 280000, 296000),
                Flow("ledu", {"haidong-ledu"}, 9000, 9000)},
               reserved, t0 + 2s);
  auto rates = meter.Rates();
  EXPECT_DOUBLE_EQ(rates.at("haidong-minhe").measured_up_kbps, 1000);
  EXPECT_DOUBLE_EQ(rates.at("haidong-minhe").measured_down_kbps, 1200);
  EXPECT_DOUBLE_EQ(rates.at("hub-haidong").measured_up_kbps, 1100);
  EXPECT_DOUBLE_EQ(rates.at("hub-haidong").measured_down_kbps, 1160);
  EXPECT_EQ(rates.at("haidong-ledu").measured_up_kbps, 0);
  EXPECT_EQ(rates.at("hub-golog").measured_down_kbps, 0);
  EXPECT_EQ(rates.at("hub-golog").reserved_down_kbps, 0);
  const std::string text = registry.RenderText();
  EXPECT_NE(text.find("plateau_link_measured_kbps{direction=\"up\",link=\"hub-haidong\"} 1100"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("plateau_link_reserved_kbps{direction=\"down\",link=\"haidong-minhe\"} 1229"),
            std::string::npos)
      << text;

  // minhe left and came back (its counters start again); the meeting's media stopped on ledu's
  // link (no flow): its rate falls to zero, and nothing is negative.
  meter.Sample({Flow("minhe", {"haidong-minhe"}, 125000, 0),
                Flow("mcu-haidong", {"hub-haidong"}, 280000, 296000)},
               {}, t0 + 3s);
  rates = meter.Rates();
  EXPECT_DOUBLE_EQ(rates.at("haidong-minhe").measured_up_kbps, 1000);
  EXPECT_DOUBLE_EQ(rates.at("haidong-minhe").measured_down_kbps, 0);
  EXPECT_DOUBLE_EQ(rates.at("hub-haidong").measured_up_kbps, 0);
  EXPECT_EQ(rates.at("haidong-ledu").measured_up_kbps, 0);
  EXPECT_EQ(rates.at("hub-haidong").reserved_up_kbps, 0);  // no meeting's media runs
}

}  // namespace
}  // namespace plateau::negotiation::conference
