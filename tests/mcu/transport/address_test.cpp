// The engine's neutral IP addresses and UDP endpoints (address.hpp): strict parsing of outside
// text, canonical formatting, round trips.
#include "plateau/mcu/transport/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plateau::mcu::transport {
namespace {

std::vector<uint8_t> Bytes(const IpAddress& a) {
  return {a.bytes().begin(), a.bytes().end()};
}

TEST(IpAddress, ParsesDottedQuadIpv4) {
  const auto a = IpAddress::Parse("10.63.0.5");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(Bytes(*a), (std::vector<uint8_t>{10, 63, 0, 5}));
  EXPECT_EQ(a->ToString(), "10.63.0.5");
  EXPECT_EQ(*a, IpAddress::V4({10, 63, 0, 5}));
}

TEST(IpAddress, ParsesIpv6AndWritesItCanonically) {
  const auto a = IpAddress::Parse("2001:0DB8:0:0:0:0:0:0005");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->is_v6());
  ASSERT_EQ(a->bytes().size(), 16u);
  EXPECT_EQ(a->bytes()[0], 0x20);
  EXPECT_EQ(a->bytes()[1], 0x01);
  EXPECT_EQ(a->bytes()[15], 0x05);
  EXPECT_EQ(a->ToString(), "2001:db8::5");  // RFC 5952: lower case, longest zero run as ::

  const auto loopback = IpAddress::Parse("::1");
  ASSERT_TRUE(loopback.ok());
  EXPECT_EQ(loopback->ToString(), "::1");
  const auto mapped = IpAddress::Parse("::ffff:127.0.0.1");
  ASSERT_TRUE(mapped.ok());
  EXPECT_TRUE(mapped->is_v6());
  EXPECT_EQ(mapped->ToString(), "::ffff:127.0.0.1");
  // The mapped form is a different address from the IPv4 one (as Asio compares them).
  EXPECT_NE(*mapped, IpAddress::V4({127, 0, 0, 1}));
}

TEST(IpAddress, RefusesWhatIsNotOneAddress) {
  using namespace std::string_literals;
  for (const std::string& text :
       {""s, " 10.0.0.1"s, "10.0.0.1 "s, "10.0.0"s, "10.0.0.1.2"s, "256.0.0.1"s, "010.0.0.1"s,
        "10.0.0.-1"s, "0x7f.0.0.1"s, "localhost"s, "10.0.0.1:5004"s, "[::1]"s, "::1::2"s,
        "fe80::1%eth0"s, "1:2:3:4:5:6:7:8:9"s, "10.0.0.1\0junk"s, std::string(200, '1')}) {
    const auto a = IpAddress::Parse(text);
    EXPECT_FALSE(a.ok()) << "accepted \"" << text << "\"";
    if (!a.ok()) {
      EXPECT_EQ(a.error().code, "bad_address");
      EXPECT_FALSE(a.error().message.empty());
    }
  }
}

TEST(IpAddress, KnowsUnspecifiedAndMulticast) {
  EXPECT_TRUE(IpAddress().is_unspecified());
  EXPECT_EQ(IpAddress().ToString(), "0.0.0.0");
  EXPECT_TRUE(IpAddress::Parse("::")->is_unspecified());
  EXPECT_FALSE(IpAddress::Parse("10.0.0.1")->is_unspecified());
  EXPECT_TRUE(IpAddress::Parse("224.0.0.1")->is_multicast());
  EXPECT_TRUE(IpAddress::Parse("239.255.255.255")->is_multicast());
  EXPECT_FALSE(IpAddress::Parse("223.255.255.255")->is_multicast());
  EXPECT_TRUE(IpAddress::Parse("ff02::1")->is_multicast());
  EXPECT_FALSE(IpAddress::Parse("fe80::1")->is_multicast());
}

TEST(Endpoint, ParsesAndWritesIpv4AndBracketedIpv6) {
  const auto v4 = Endpoint::Parse("127.0.0.1:5004");
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->address(), IpAddress::V4({127, 0, 0, 1}));
  EXPECT_EQ(v4->port(), 5004);
  EXPECT_EQ(v4->ToString(), "127.0.0.1:5004");

  const auto v6 = Endpoint::Parse("[2001:db8::5]:65535");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 65535);
  EXPECT_EQ(v6->ToString(), "[2001:db8::5]:65535");
  EXPECT_EQ(*v6, Endpoint(*IpAddress::Parse("2001:db8::5"), 65535));
  EXPECT_NE(*v6, Endpoint(*IpAddress::Parse("2001:db8::5"), 65534));
}

TEST(Endpoint, RefusesBadPortsAndBrackets) {
  for (const char* text :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+5",
        "127.0.0.1:5004x", "127.0.0.1:000001", ":5004", "::1:5004", "[::1]5004",
        "[::1]:", "[127.0.0.1]:5004", "[::1:5004", "host:5004", "127.0.0.1: 5004"}) {
    const auto e = Endpoint::Parse(text);
    EXPECT_FALSE(e.ok()) << "accepted \"" << text << "\"";
    if (!e.ok()) {
      EXPECT_EQ(e.error().code, "bad_endpoint");
    }
  }
}

TEST(Endpoint, RoundTripsThroughItsText) {
  for (const char* text : {"0.0.0.0:0", "10.63.0.5:5004", "255.255.255.255:65535", "[::]:0",
                           "[::ffff:10.0.0.1]:9", "[fe80::1:2]:40000"}) {
    const auto e = Endpoint::Parse(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.error().message;
    EXPECT_EQ(e->ToString(), text);
    const auto again = Endpoint::Parse(e->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *e);
  }
}

}  // namespace
}  // namespace plateau::mcu::transport
