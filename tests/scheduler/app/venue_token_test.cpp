// Venue tokens: random, shown once, kept only as a salted hash.
#include "plateau/scheduler/app/venue_token.hpp"

#include <gtest/gtest.h>

#include <set>

namespace plateau::scheduler::app {
namespace {

TEST(VenueToken, IsLongRandomAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = NewVenueToken();
    ASSERT_EQ(t.rfind("pvt_", 0), 0u);
    EXPECT_EQ(t.size(), 4u + 43u);  // 32 bytes in unpadded base64
    for (char c : t.substr(4))
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(VenueToken, HashIsSaltedAndNeverContainsTheToken) {
  const std::string t = NewVenueToken();
  const std::string h1 = HashVenueToken(t), h2 = HashVenueToken(t);
  EXPECT_NE(h1, h2);
  EXPECT_EQ(h1.find(t.substr(4)), std::string::npos);
  EXPECT_EQ(h1.rfind("blake2b$", 0), 0u);
  EXPECT_TRUE(VenueTokenMatches(h1, t));
  EXPECT_TRUE(VenueTokenMatches(h2, t));
}

TEST(VenueToken, WrongTokensAndMalformedHashesDoNotMatch) {
  const std::string t = NewVenueToken();
  const std::string h = HashVenueToken(t);
  EXPECT_FALSE(VenueTokenMatches(h, NewVenueToken()));
  EXPECT_FALSE(VenueTokenMatches(h, t.substr(0, t.size() - 1)));
  EXPECT_FALSE(VenueTokenMatches(h, ""));
  for (const std::string& bad : {std::string(), std::string("blake2b$"), std::string("argon2$x$y"),
                                 h.substr(0, h.size() - 2), std::string("blake2b$AAAA$AAAA"),
                                 std::string("blake2b$") + h.substr(8) + "$extra"})
    EXPECT_FALSE(VenueTokenMatches(bad, t)) << bad;
}

}  // namespace
}  // namespace plateau::scheduler::app
