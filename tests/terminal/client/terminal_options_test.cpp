// The terminal's checked command-line values: the server URL, --sample and --probe-hz.
#include "plateau/terminal/client/terminal_options.hpp"

#include <gtest/gtest.h>

#include "plateau/terminal/client/server_url.hpp"

namespace plateau::terminal::client {
namespace {

TEST(ServerUrl, WsWithPortAndPath) {
  auto u = ParseServerUrl("ws://127.0.0.1:8080/ws");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, (ServerUrl{false, "127.0.0.1", 8080, "/ws"}));
}

TEST(ServerUrl, DefaultsArePort80Or443AndPathWs) {
  EXPECT_EQ(*ParseServerUrl("ws://hub.example"), (ServerUrl{false, "hub.example", 80, "/ws"}));
  EXPECT_EQ(*ParseServerUrl("WSS://hub.example/"), (ServerUrl{true, "hub.example", 443, "/ws"}));
  EXPECT_EQ(*ParseServerUrl("https://10.1.2.3:8443"), (ServerUrl{true, "10.1.2.3", 8443, "/ws"}));
  EXPECT_EQ(*ParseServerUrl("http://h:1/signal?x=1"), (ServerUrl{false, "h", 1, "/signal?x=1"}));
}

TEST(ServerUrl, Ipv6LiteralsAreBracketed) {
  auto u = ParseServerUrl("wss://[::1]:9443/ws");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9443);
  EXPECT_EQ(FormatServerUrl(*u), "wss://[::1]:9443/ws");
}

TEST(ServerUrl, BadUrlsSayWhatIsWrong) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"127.0.0.1:8080", "no scheme"},
                        Case{"ftp://h/", "unsupported scheme"}, Case{"ws://", "no host"},
                        Case{"ws://:80/ws", "no host"}, Case{"ws://h:0/", "out of range"},
                        Case{"ws://h:65536/", "out of range"}, Case{"ws://h:8x/", "not a number"},
                        Case{"ws://h:/", "empty port"}, Case{"ws://user:pw@h/", "credentials"},
                        Case{"ws://[::1/", "unterminated"}, Case{"ws://h o/", "invalid character"},
                        Case{"ws://h/a b", "invalid character"}}) {
    auto u = ParseServerUrl(c.url);
    ASSERT_FALSE(u) << c.url;
    EXPECT_EQ(u.error().code, "bad_url");
    EXPECT_NE(u.error().message.find(c.says), std::string::npos)
        << c.url << ": " << u.error().message;
  }
  EXPECT_FALSE(ParseServerUrl("ws://" + std::string(3000, 'a')));
}

TEST(TerminalOptions, SamplePointsAreWholePixels) {
  EXPECT_EQ(*ParsePixelPoint("160,90"), (PixelPoint{160, 90}));
  EXPECT_EQ(*ParsePixelPoint(" 0 , 0 "), (PixelPoint{0, 0}));
  for (const char* bad : {"", "1", "1,", ",2", "-1,2", "1.5,2", "1,2,3", "99999,1", "a,b"}) {
    auto p = ParsePixelPoint(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, "bad_sample");
  }
}

TEST(TerminalOptions, ProbeFrequenciesAreAListOfHertz) {
  auto f = ParseProbeFrequencies("440,660.5, 1000");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*f, (std::vector<double>{440, 660.5, 1000}));
  for (const char* bad : {"", "0", "-440", "440,", "abc", "30000", "1e3", "440,,660"}) {
    auto p = ParseProbeFrequencies(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, "bad_probe");
  }
  std::string many;
  for (int i = 1; i <= 33; ++i) many += std::to_string(i * 100) + ",";
  many.pop_back();
  EXPECT_FALSE(ParseProbeFrequencies(many));
}

}  // namespace
}  // namespace plateau::terminal::client
