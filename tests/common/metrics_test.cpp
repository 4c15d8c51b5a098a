// common/'s Prometheus registry: the text /metrics serves, one type per name, and removing the
// series of something that ended.
#include "plateau/common/metrics.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace plateau::metrics {
namespace {

TEST(Metrics, RendersTheExpositionFormat) {
  Registry r;
  r.GetCounter("plateau_x_total", "Things", {{"kind", "a"}})->Inc(2);
  r.GetGauge("plateau_y", "Level")->Set(1.5);
  EXPECT_EQ(r.RenderText(),
            "# HELP plateau_x_total Things\n"
            "# TYPE plateau_x_total counter\n"
            "plateau_x_total{kind=\"a\"} 2\n"
            "# HELP plateau_y Level\n"
            "# TYPE plateau_y gauge\n"
            "plateau_y 1.5\n");
}

TEST(Metrics, ANameIsEitherACounterOrAGaugeNeverBoth) {
  Registry r;
  r.GetCounter("plateau_x_total", "Things", {{"kind", "a"}});
  try {
    r.GetGauge("plateau_x_total", "Things", {{"kind", "b"}});
    FAIL() << "a gauge was registered under a counter's name";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("plateau_x_total is a counter"), std::string::npos)
        << e.what();
  }
  r.GetGauge("plateau_y", "Level");
  EXPECT_THROW(r.GetCounter("plateau_y", "Level"), std::logic_error);
  // Nothing changed: no gauge series appeared under the counter's TYPE line.
  EXPECT_EQ(r.RenderText().find("kind=\"b\""), std::string::npos) << r.RenderText();
  // The same type again is fine and returns the same series.
  EXPECT_EQ(r.GetCounter("plateau_x_total", "", {{"kind", "a"}}),
            r.GetCounter("plateau_x_total", "", {{"kind", "a"}}));
}

TEST(Metrics, RemovingASeriesStopsRenderingItAndKeepsItsPointerValid) {
  Registry r;
  Gauge* a = r.GetGauge("plateau_conference_venues", "Venues", {{"conference", "a"}});
  Gauge* b = r.GetGauge("plateau_conference_venues", "Venues", {{"conference", "b"}});
  a->Set(3);
  b->Set(4);
  EXPECT_TRUE(r.Remove("plateau_conference_venues", {{"conference", "a"}}));
  EXPECT_FALSE(r.Remove("plateau_conference_venues", {{"conference", "a"}}));
  EXPECT_FALSE(r.Remove("plateau_nothing", {}));
  a->Set(5);  // a late update through the old pointer is harmless and not rendered
  EXPECT_EQ(r.RenderText(),
            "# HELP plateau_conference_venues Venues\n"
            "# TYPE plateau_conference_venues gauge\n"
            "plateau_conference_venues{conference=\"b\"} 4\n");
  // The family goes with its last series; registering again starts a fresh series at zero.
  EXPECT_TRUE(r.Remove("plateau_conference_venues", {{"conference", "b"}}));
  EXPECT_EQ(r.RenderText(), "");
  Gauge* again = r.GetGauge("plateau_conference_venues", "Venues", {{"conference", "a"}});
  EXPECT_NE(again, a);
  EXPECT_EQ(again->Value(), 0);
}

}  // namespace
}  // namespace plateau::metrics
