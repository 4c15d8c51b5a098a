// The terminal's value types: colours as the CLI and tests write them.
#include <gtest/gtest.h>

#include "plateau/terminal/media/types.hpp"

namespace plateau::terminal::media {
namespace {

TEST(TerminalColor, ParsesTheThreeSpellings) {
  EXPECT_EQ(*ParseRgb("#ff8000"), (Rgb{255, 128, 0}));
  EXPECT_EQ(*ParseRgb("00FF10"), (Rgb{0, 255, 16}));
  EXPECT_EQ(*ParseRgb("1,2,255"), (Rgb{1, 2, 255}));
  EXPECT_EQ(FormatRgb(Rgb{255, 128, 0}), "#ff8000");
  for (const char* bad : {"", "#fff", "red", "1,2", "1,2,256", "-1,2,3", "#gg0000", "1,,2"}) {
    auto r = ParseRgb(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_color");
  }
}

TEST(TerminalColor, DistanceIsTheLargestChannelDifference) {
  EXPECT_EQ(ColorDistance(Rgb{10, 20, 30}, Rgb{10, 20, 30}), 0);
  EXPECT_EQ(ColorDistance(Rgb{0, 255, 30}, Rgb{10, 0, 40}), 255);
}

}  // namespace
}  // namespace plateau::terminal::media
