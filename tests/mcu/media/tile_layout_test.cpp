// TileLayout: geometry of every layout, the automatic choice, the speaker's pane, visibility.
#include "plateau/mcu/media/tile_layout.hpp"

#include <gtest/gtest.h>

#include <set>

namespace plateau::mcu::media {
namespace {

constexpr LayoutKind kAll[] = {LayoutKind::kOne,          LayoutKind::kTwo,
                               LayoutKind::kOnePlusFive,  LayoutKind::kTwoByTwo,
                               LayoutKind::kOnePlusSeven, LayoutKind::kThreeByThree,
                               LayoutKind::kFourByFour};

bool Overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

std::vector<std::string> Venues(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back("v" + std::to_string(i));
  return out;
}

TileLayout LayoutWith(int n, int w = 1280, int h = 720) {
  TileLayout layout(w, h);
  for (const auto& v : Venues(n)) EXPECT_TRUE(layout.AddVenue(v).ok());
  return layout;
}

TEST(TileLayout, NamesRoundTripAndBadNamesAreRefused) {
  for (LayoutKind k : kAll) {
    auto parsed = ParseLayout(LayoutName(k));
    ASSERT_TRUE(parsed.ok()) << LayoutName(k);
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(*ParseLayout("auto"), LayoutKind::kAuto);
  for (const char* bad : {"", "5x5", "1+6", "AUTO", "2x2 ", "4x4\n"}) {
    auto r = ParseLayout(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_layout");
  }
}

TEST(TileLayout, TileCountsMatchTheirNames) {
  EXPECT_EQ(TileCount(LayoutKind::kOne), 1u);
  EXPECT_EQ(TileCount(LayoutKind::kTwo), 2u);
  EXPECT_EQ(TileCount(LayoutKind::kOnePlusFive), 6u);
  EXPECT_EQ(TileCount(LayoutKind::kTwoByTwo), 4u);
  EXPECT_EQ(TileCount(LayoutKind::kOnePlusSeven), 8u);
  EXPECT_EQ(TileCount(LayoutKind::kThreeByThree), 9u);
  EXPECT_EQ(TileCount(LayoutKind::kFourByFour), 16u);
  for (LayoutKind k : kAll) EXPECT_EQ(TileRects(k, 1280, 720).size(), TileCount(k));
}

TEST(TileLayout, TilesAreEvenInsideTheCanvasAndDoNotOverlap) {
  for (auto [w, h] : {std::pair{1280, 720}, {640, 360}, {320, 180}, {1920, 1080}, {176, 144}}) {
    for (LayoutKind k : kAll) {
      const auto tiles = TileRects(k, w, h);
      for (size_t i = 0; i < tiles.size(); ++i) {
        const Rect& t = tiles[i];
        EXPECT_EQ(t.x % 2, 0);
        EXPECT_EQ(t.y % 2, 0);
        EXPECT_EQ(t.width % 2, 0);
        EXPECT_EQ(t.height % 2, 0);
        EXPECT_GT(t.width, 0);
        EXPECT_GT(t.height, 0);
        EXPECT_LE(t.x + t.width, w);
        EXPECT_LE(t.y + t.height, h);
        for (size_t j = i + 1; j < tiles.size(); ++j)
          EXPECT_FALSE(Overlap(t, tiles[j])) << LayoutName(k) << " tiles " << i << "," << j;
      }
    }
  }
}

TEST(TileLayout, GridsCoverTheWholeCanvas) {
  for (LayoutKind k :
       {LayoutKind::kOne, LayoutKind::kTwoByTwo, LayoutKind::kThreeByThree, LayoutKind::kFourByFour,
        LayoutKind::kOnePlusFive, LayoutKind::kOnePlusSeven}) {
    long area = 0;
    for (const Rect& t : TileRects(k, 1280, 720)) area += static_cast<long>(t.width) * t.height;
    // Even rounding may leave a pixel column/row uncovered, never more.
    EXPECT_GE(area, 1278L * 718) << LayoutName(k);
  }
}

TEST(TileLayout, LargePaneIsFirstAndLargest) {
  for (LayoutKind k : {LayoutKind::kOnePlusFive, LayoutKind::kOnePlusSeven}) {
    const auto tiles = TileRects(k, 1280, 720);
    for (size_t i = 1; i < tiles.size(); ++i) {
      EXPECT_GE(tiles[0].width, 2 * tiles[i].width - 4) << LayoutName(k);
      EXPECT_GE(tiles[0].height, 2 * tiles[i].height - 4) << LayoutName(k);
      EXPECT_LE(std::abs(tiles[i].width - tiles[1].width), 2);  // even rounding only
    }
    EXPECT_EQ(tiles[0].x, 0);
    EXPECT_EQ(tiles[0].y, 0);
  }
  const auto five = TileRects(LayoutKind::kOnePlusFive, 1280, 720);
  EXPECT_EQ(five[0], (Rect{0, 0, 852, 480}));
}

TEST(TileLayout, TwoSideBySideKeepTheAspectRatio) {
  const auto tiles = TileRects(LayoutKind::kTwo, 1280, 720);
  EXPECT_EQ(tiles[0], (Rect{0, 180, 640, 360}));
  EXPECT_EQ(tiles[1], (Rect{640, 180, 640, 360}));
}

TEST(TileLayout, AutomaticChoiceFollowsTheVenueCount) {
  const std::vector<std::pair<size_t, LayoutKind>> expected = {
      {0, LayoutKind::kOne},          {1, LayoutKind::kOne},
      {2, LayoutKind::kTwo},          {3, LayoutKind::kTwoByTwo},
      {4, LayoutKind::kTwoByTwo},     {5, LayoutKind::kOnePlusFive},
      {6, LayoutKind::kOnePlusFive},  {7, LayoutKind::kOnePlusSeven},
      {8, LayoutKind::kOnePlusSeven}, {9, LayoutKind::kThreeByThree},
      {10, LayoutKind::kFourByFour},  {16, LayoutKind::kFourByFour},
      {65, LayoutKind::kFourByFour}};
  for (auto [n, kind] : expected) {
    EXPECT_EQ(AutoLayoutFor(n), kind) << n;
    EXPECT_EQ(LayoutWith(static_cast<int>(n)).effective_layout(), kind) << n;
  }
}

TEST(TileLayout, VenuesFillTilesInOrderAndTheRestAreHidden) {
  TileLayout layout = LayoutWith(20);
  EXPECT_EQ(layout.effective_layout(), LayoutKind::kFourByFour);
  const auto placements = layout.Placements();
  ASSERT_EQ(placements.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(placements[i].venue, "v" + std::to_string(i + 1));
    EXPECT_EQ(placements[i].tile, i);
  }
  EXPECT_TRUE(layout.IsVisible("v16"));
  EXPECT_FALSE(layout.IsVisible("v17"));
  EXPECT_FALSE(layout.IsVisible("v20"));
}

TEST(TileLayout, SpeakerTakesTheLargePane) {
  TileLayout layout = LayoutWith(6);
  ASSERT_EQ(layout.effective_layout(), LayoutKind::kOnePlusFive);
  ASSERT_TRUE(layout.SetSpeaker("v4").ok());
  auto p = layout.Placements();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].venue, "v4");
  EXPECT_EQ(p[0].rect, TileRects(LayoutKind::kOnePlusFive, 1280, 720)[0]);
  EXPECT_EQ(p[1].venue, "v1");
  EXPECT_EQ(p[3].venue, "v3");
  EXPECT_EQ(p[4].venue, "v5");
}

TEST(TileLayout, HiddenSpeakerBecomesVisibleAndPushesTheLastOneOut) {
  TileLayout layout = LayoutWith(20);
  ASSERT_TRUE(layout.SetSpeaker("v20").ok());
  EXPECT_TRUE(layout.IsVisible("v20"));
  EXPECT_EQ(layout.Placements()[0].venue, "v20");
  EXPECT_FALSE(layout.IsVisible("v16"));
  EXPECT_TRUE(layout.IsVisible("v15"));
}

TEST(TileLayout, SetLayoutOverridesTheAutomaticChoice) {
  TileLayout layout = LayoutWith(6);
  layout.SetLayout(LayoutKind::kTwoByTwo);
  EXPECT_EQ(layout.effective_layout(), LayoutKind::kTwoByTwo);
  EXPECT_EQ(layout.Placements().size(), 4u);
  EXPECT_FALSE(layout.IsVisible("v5"));
  layout.SetLayout(LayoutKind::kAuto);
  EXPECT_EQ(layout.effective_layout(), LayoutKind::kOnePlusFive);
  layout.SetLayout(LayoutKind::kFourByFour);
  EXPECT_EQ(layout.Placements().size(), 6u);  // empty tiles stay empty
}

TEST(TileLayout, RemovingTheSpeakerClearsIt) {
  TileLayout layout = LayoutWith(3);
  ASSERT_TRUE(layout.SetSpeaker("v2").ok());
  ASSERT_TRUE(layout.RemoveVenue("v2").ok());
  EXPECT_FALSE(layout.speaker().has_value());
  EXPECT_EQ(layout.Placements()[0].venue, "v1");
  EXPECT_EQ(layout.effective_layout(), LayoutKind::kTwo);
}

TEST(TileLayout, BadRequestsAreRefusedAndChangeNothing) {
  TileLayout layout = LayoutWith(3);
  const auto before = layout.Placements();
  EXPECT_EQ(layout.AddVenue("v1").error().code, "duplicate_venue");
  EXPECT_EQ(layout.AddVenue("").error().code, "bad_venue");
  EXPECT_EQ(layout.RemoveVenue("nope").error().code, "unknown_venue");
  EXPECT_EQ(layout.SetSpeaker("nope").error().code, "unknown_venue");
  EXPECT_EQ(layout.SetVenueOrder({"v1", "v2"}).error().code, "bad_order");
  EXPECT_EQ(layout.SetVenueOrder({"v1", "v2", "v2"}).error().code, "bad_order");
  EXPECT_EQ(layout.SetVenueOrder({"v1", "v2", "x"}).error().code, "bad_order");
  EXPECT_EQ(layout.Placements(), before);
  EXPECT_FALSE(layout.speaker().has_value());
}

TEST(TileLayout, VenueOrderDecidesWhoIsVisible) {
  TileLayout layout = LayoutWith(5);
  layout.SetLayout(LayoutKind::kTwoByTwo);
  ASSERT_TRUE(layout.SetVenueOrder({"v5", "v4", "v3", "v2", "v1"}).ok());
  const auto p = layout.Placements();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].venue, "v5");
  EXPECT_FALSE(layout.IsVisible("v1"));
}

}  // namespace
}  // namespace plateau::mcu::media
