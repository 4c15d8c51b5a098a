// The WebRTC offer check (negotiation/webrtc/plateau/negotiation/webrtc/webrtc_offer.hpp) on offers
// captured from Debian's Chromium (tests/browser/data/), and on those offers broken one way at a
// time.
#include "plateau/negotiation/webrtc/webrtc_offer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/process.hpp"

namespace plateau::negotiation::webrtc {
namespace {

// An offer captured from Debian's Chromium (tests/browser/data/, shared with the browser test).
std::string Data(const std::string& name) {
  return ::plateau::testing::ReadSourceFile("tests/browser/data/" + name);
}

std::string Chromium() {
  return Data("chromium-offer.sdp");
}

// Drops every line that starts with `prefix` (or equals it, with `whole`).
std::string Without(const std::string& sdp, const std::string& prefix, bool whole = false) {
  std::istringstream in(sdp);
  std::string line, out;
  while (std::getline(in, line)) {
    std::string bare = line;
    if (!bare.empty() && bare.back() == '\r') bare.pop_back();
    const bool drop = whole ? bare == prefix : bare.rfind(prefix, 0) == 0;
    if (!drop) out += line + "\n";
  }
  return out;
}

std::string Replace(std::string sdp, const std::string& from, const std::string& to) {
  for (size_t at = sdp.find(from); at != std::string::npos; at = sdp.find(from, at + to.size()))
    sdp.replace(at, from.size(), to);
  return sdp;
}

void ExpectBadSdp(const std::string& sdp, const std::string& words) {
  auto r = AnalyzeOffer(sdp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_sdp");
  EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
}

TEST(WebRtcOffer, ChromiumOfferPicksConstrainedBaselinePacketizationModeOneAndOpus) {
  const std::string sdp = Chromium();
  ASSERT_FALSE(sdp.empty()) << "tests/browser/data/chromium-offer.sdp is missing";
  auto r = AnalyzeOffer(sdp);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Chromium puts the microphone first (audio m-line 0) when the page adds it first.
  EXPECT_EQ(r->audio.mline, 0);
  EXPECT_EQ(r->audio.mid, "0");
  EXPECT_EQ(r->audio.payload_type, 111);
  EXPECT_EQ(r->video.mline, 1);
  EXPECT_EQ(r->video.mid, "1");
  // 102 is baseline (42001f) and comes first; 108 is constrained baseline (42e01f): preferred.
  EXPECT_EQ(r->video.payload_type, 108);
  EXPECT_EQ(r->video.profile_level_id, "42e01f");
  EXPECT_EQ(r->mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(r->ice_ufrag, "sBri");
  EXPECT_EQ(r->fingerprint.rfind("sha-256 FD:11:46", 0), 0u) << r->fingerprint;
}

TEST(WebRtcOffer, IceRestartOfferKeepsTheFingerprintAndChangesTheUfrag) {
  auto first = AnalyzeOffer(Chromium());
  auto restart = AnalyzeOffer(Data("chromium-ice-restart-offer.sdp"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(restart.ok()) << restart.error().message;
  EXPECT_EQ(restart->fingerprint, first->fingerprint);
  EXPECT_NE(restart->ice_ufrag, first->ice_ufrag);
  EXPECT_EQ(restart->video.payload_type, first->video.payload_type);
}

TEST(WebRtcOffer, FallsBackToBaselineWithoutConstrainedBaseline) {
  auto r = AnalyzeOffer(Without(Without(Chromium(), "a=rtpmap:108 "), "a=fmtp:108 "));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->video.payload_type, 102);
  EXPECT_EQ(r->video.profile_level_id, "42001f");
}

TEST(WebRtcOffer, RefusesH264WithoutPacketizationModeOne) {
  ExpectBadSdp(Replace(Chromium(), "packetization-mode=1", "packetization-mode=0"),
               "packetization-mode=1");
}

TEST(WebRtcOffer, RefusesAnOfferWithoutOpus) {
  ExpectBadSdp(Without(Chromium(), "a=rtpmap:111 "), "opus/48000/2");
}

TEST(WebRtcOffer, RefusesAnOfferWithoutDtlsFingerprint) {
  ExpectBadSdp(Without(Chromium(), "a=fingerprint:"), "fingerprint");
}

// Found by fuzz_webrtc_offer: "a=fingerprint" with no value was taken as a fingerprint.
TEST(WebRtcOffer, RefusesAnEmptyFingerprint) {
  std::string sdp = Without(Chromium(), "a=fingerprint:");
  sdp = Replace(sdp, "a=rtcp-mux\r", "a=fingerprint\r\na=rtcp-mux\r");
  ExpectBadSdp(sdp, "fingerprint");
}

TEST(WebRtcOffer, RefusesPlainRtpProfiles) {
  ExpectBadSdp(Replace(Chromium(), "UDP/TLS/RTP/SAVPF", "RTP/SAVP"), "UDP/TLS/RTP/SAVPF");
}

TEST(WebRtcOffer, RefusesAnOfferWithoutIceCredentials) {
  ExpectBadSdp(Without(Chromium(), "a=ice-pwd:"), "ice-pwd");
}

TEST(WebRtcOffer, RefusesUnbundledMedia) {
  ExpectBadSdp(Without(Chromium(), "a=group:BUNDLE"), "BUNDLE");
  ExpectBadSdp(Replace(Chromium(), "a=group:BUNDLE 0 1", "a=group:BUNDLE 0"), "BUNDLE");
}

TEST(WebRtcOffer, RefusesAnOfferWithoutRtcpMux) {
  ExpectBadSdp(Without(Chromium(), "a=rtcp-mux", true), "rtcp-mux");
}

TEST(WebRtcOffer, RefusesWhatIsNotSdp) {
  ExpectBadSdp("", "empty");
  ExpectBadSdp("{\"type\":\"offer\"}", "not SDP");
  ExpectBadSdp(std::string("v=0\r\n\0x", 7), "NUL");
  ExpectBadSdp("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no m-lines");
  ExpectBadSdp("v=0\r\n" + std::string(kMaxOfferBytes, 'a'), "larger than");
}

TEST(WebRtcOffer, RefusesTooManyMediaLines) {
  std::string sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
  for (size_t i = 0; i <= kMaxOfferMedia; ++i) sdp += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  ExpectBadSdp(sdp, "m-lines");
}

}  // namespace
std::string Webrtcbin() {
  return Data("webrtcbin-max-bundle-offer.sdp");
}

// The offer of a GStreamer 1.22 webrtcbin with bundle-policy max-bundle (what
// docs/examples/webrtc_venue.py sends): the audio m-line is "m=audio 0 ... a=bundle-only".
TEST(WebRtcOffer, MaxBundleOfferWithABundleOnlyLineIsAccepted) {
  const std::string sdp = Webrtcbin();
  ASSERT_FALSE(sdp.empty()) << "tests/browser/data/webrtcbin-max-bundle-offer.sdp is missing";
  ASSERT_NE(sdp.find("m=audio 0 UDP/TLS/RTP/SAVPF 111"), std::string::npos);
  ASSERT_NE(sdp.find("a=bundle-only"), std::string::npos);
  auto r = AnalyzeOffer(sdp);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->video.mline, 0);
  EXPECT_EQ(r->video.mid, "video0");
  EXPECT_EQ(r->video.payload_type, 96);
  EXPECT_EQ(r->video.profile_level_id, "42c015");
  EXPECT_EQ(r->audio.mline, 1);
  EXPECT_EQ(r->audio.mid, "audio1");
  EXPECT_EQ(r->audio.payload_type, 111);
  EXPECT_EQ(r->ice_ufrag, "zNAhIq57rROroVBl5DTHx500CfIB/tyB");
  EXPECT_EQ(r->fingerprint.rfind("sha-256 A5:B9:7C", 0), 0u) << r->fingerprint;
}

// RFC 8843 lets a bundle-only m-line leave out the transport attributes: it uses the first one's.
TEST(WebRtcOffer, BundleOnlyLineNeedsNoTransportAttributesOfItsOwn) {
  const std::string sdp = Webrtcbin();
  const size_t audio = sdp.find("m=audio");
  ASSERT_NE(audio, std::string::npos);
  std::string tail = sdp.substr(audio);
  for (const char* attr : {"a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:", "a=setup:"})
    tail = Without(tail, attr);
  tail = Without(tail, "a=rtcp-mux", true);
  auto r = AnalyzeOffer(sdp.substr(0, audio) + tail);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->audio.payload_type, 111);
  EXPECT_EQ(r->ice_ufrag, "zNAhIq57rROroVBl5DTHx500CfIB/tyB");
}

TEST(WebRtcOffer, RefusesABundleWhoseEveryLineIsBundleOnly) {
  std::string sdp = Replace(Webrtcbin(), "m=video 9 ", "m=video 0 ");
  sdp = Replace(sdp, "a=mid:video0\r\n", "a=mid:video0\r\na=bundle-only\r\n");
  ExpectBadSdp(sdp, "bundle-only");
}

// Port 0 without a=bundle-only is still a rejected m-line: no usable audio is left.
TEST(WebRtcOffer, APortZeroLineWithoutBundleOnlyStaysRejected) {
  ExpectBadSdp(Without(Webrtcbin(), "a=bundle-only", true), "opus/48000/2");
}

}  // namespace plateau::negotiation::webrtc
