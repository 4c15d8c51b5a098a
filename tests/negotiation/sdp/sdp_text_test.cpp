// The SDP tokenizer (negotiation/sdp/sdp_text.hpp): lines, types, attributes, fmtp parameters.
#include "plateau/negotiation/sdp/sdp_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sdp = plateau::negotiation::sdp;

namespace {

std::vector<sdp::SdpLine> AllLines(std::string_view text) {
  std::vector<sdp::SdpLine> out;
  sdp::SdpLineReader reader(text);
  while (auto line = reader.Next()) out.push_back(*line);
  return out;
}

TEST(SdpText, SplitsCrlfAndLfLinesIntoTypeAndValue) {
  const auto lines = AllLines("v=0\r\no=- 1 2 IN IP4 127.0.0.1\nm=audio 9 RTP/SAVP 111");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[0].type, 'v');
  EXPECT_EQ(lines[0].value, "0");
  EXPECT_EQ(lines[1].type, 'o');
  EXPECT_EQ(lines[1].value, "- 1 2 IN IP4 127.0.0.1");
  EXPECT_EQ(lines[2].number, 3u);
  EXPECT_EQ(lines[2].type, 'm');
  EXPECT_EQ(lines[2].value, "audio 9 RTP/SAVP 111");
}

TEST(SdpText, LineThatIsNotLetterEqualsValueHasNoType) {
  const auto lines = AllLines("A=upper\r\nx\r\n=0\r\n\r\n");
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& line : lines) EXPECT_EQ(line.type, 0) << line.text;
  EXPECT_EQ(lines[0].text, "A=upper");
  EXPECT_TRUE(lines[3].text.empty());
}

TEST(SdpText, RestIsWhatFollowsTheLastLineRead) {
  sdp::SdpLineReader reader("v=0\r\n\r\n\r\n");
  ASSERT_TRUE(reader.Next());
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.rest(), "\r\n");
}

TEST(SdpText, SplitsAttributesIntoNameAndValue) {
  const auto rtpmap = sdp::SplitAttribute("rtpmap:96 H264/90000");
  EXPECT_EQ(rtpmap.name, "rtpmap");
  EXPECT_TRUE(rtpmap.has_value);
  EXPECT_EQ(rtpmap.value, "96 H264/90000");
  const auto mux = sdp::SplitAttribute("rtcp-mux");
  EXPECT_EQ(mux.name, "rtcp-mux");
  EXPECT_FALSE(mux.has_value);
}

TEST(SdpText, ReadsFmtpParametersInOrderTrimmed) {
  const auto params = sdp::FmtpParameters(" profile-level-id=42e01f ; x ;packetization-mode = 1");
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "profile-level-id");
  EXPECT_EQ(params[0].second, "42e01f");
  EXPECT_EQ(params[1].first, "packetization-mode");
  EXPECT_EQ(params[1].second, "1");
}

}  // namespace
