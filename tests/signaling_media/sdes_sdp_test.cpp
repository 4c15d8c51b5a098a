// SDES SDP (signaling/sdp): what the reference terminal offers and the server answers.
#include "plateau/signaling/sdes_sdp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sdp = plateau::signaling::sdp;
namespace tr = plateau::mcu::transport;

namespace {

// A fixed key so the texts below are exact.
constexpr const char* kKeyA =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr const char* kKeyB =
    "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

std::string Offer(const std::string& video_extra = "", const std::string& audio_extra = "") {
  return std::string(
             "v=0\r\n"
             "o=- 42 1 IN IP4 127.0.0.1\r\n"
             "s=-\r\n"
             "c=IN IP4 127.0.0.1\r\n"
             "t=0 0\r\n"
             "a=group:BUNDLE 0 1\r\n"
             "m=video 5004 RTP/SAVP 96\r\n"
             "a=mid:0\r\n"
             "a=rtpmap:96 H264/90000\r\n"
             "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"
             "a=rtcp-mux\r\n"
             "a=crypto:") +
         kKeyA + "\r\n" + video_extra +
         "m=audio 5004 RTP/SAVP 111\r\n"
         "a=mid:1\r\n"
         "a=rtpmap:111 opus/48000/2\r\n"
         "a=rtcp-mux\r\n"
         "a=crypto:" +
         kKeyA + "\r\n" + audio_extra;
}

// Replaces the first occurrence of `from` with `to` (the test fails if there is none).
std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture has no " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

sdp::SdesDescription Description() {
  sdp::SdesDescription d;
  d.session_id = 4611686018427387903ULL;
  d.session_version = 7;
  d.address = "192.0.2.10";
  d.port = 40000;
  d.video_payload_type = 102;
  d.audio_payload_type = 109;
  d.direction = sdp::Direction::kSendRecv;
  d.crypto = tr::MakeCryptoAttribute();
  return d;
}

}  // namespace

TEST(SdesSdp, ParsesTheReferenceTerminalsOffer) {
  auto d = sdp::ParseSdes(Offer());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->session_id, 42u);
  EXPECT_EQ(d->session_version, 1u);
  EXPECT_EQ(d->address, "127.0.0.1");
  EXPECT_EQ(d->port, 5004);
  EXPECT_EQ(d->video_payload_type, 96);
  EXPECT_EQ(d->audio_payload_type, 111);
  EXPECT_EQ(d->direction, sdp::Direction::kSendRecv);
  EXPECT_EQ(tr::FormatCryptoAttribute(d->crypto), kKeyA);
}

TEST(SdesSdp, FormatThenParseGivesTheSameDescription) {
  for (auto dir : {sdp::Direction::kSendRecv, sdp::Direction::kSendOnly, sdp::Direction::kRecvOnly,
                   sdp::Direction::kInactive}) {
    sdp::SdesDescription d = Description();
    d.direction = dir;
    const std::string text = sdp::FormatSdes(d);
    auto back = sdp::ParseSdes(text);
    ASSERT_TRUE(back) << back.error().message << "\n" << text;
    EXPECT_EQ(back->session_id, d.session_id);
    EXPECT_EQ(back->session_version, d.session_version);
    EXPECT_EQ(back->address, d.address);
    EXPECT_EQ(back->port, d.port);
    EXPECT_EQ(back->video_payload_type, d.video_payload_type);
    EXPECT_EQ(back->audio_payload_type, d.audio_payload_type);
    EXPECT_EQ(back->direction, dir);
    EXPECT_EQ(back->crypto.key, d.crypto.key);
    EXPECT_EQ(back->crypto.tag, d.crypto.tag);
    // Formatting what was parsed gives the same text again.
    EXPECT_EQ(sdp::FormatSdes(*back), text);
  }
}

TEST(SdesSdp, FormatWritesTheDocumentedShape) {
  sdp::SdesDescription d = Description();
  const std::string text = sdp::FormatSdes(d);
  const std::string crypto = "a=crypto:" + tr::FormatCryptoAttribute(d.crypto) + "\r\n";
  EXPECT_EQ(text,
            "v=0\r\n"
            "o=- 4611686018427387903 7 IN IP4 192.0.2.10\r\n"
            "s=-\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "a=group:BUNDLE 0 1\r\n"
            "m=video 40000 RTP/SAVP 102\r\n"
            "a=mid:0\r\n"
            "a=rtpmap:102 H264/90000\r\n"
            "a=fmtp:102 profile-level-id=42e01f;packetization-mode=1\r\n"
            "a=rtcp-fb:102 nack\r\n"
            "a=rtcp-fb:102 nack pli\r\n"
            "a=rtcp-fb:102 ccm fir\r\n"
            "a=rtcp-mux\r\n" +
                crypto +
                "a=sendrecv\r\n"
                "m=audio 40000 RTP/SAVP 109\r\n"
                "a=mid:1\r\n"
                "a=rtpmap:109 opus/48000/2\r\n"
                "a=rtcp-mux\r\n" +
                crypto + "a=sendrecv\r\n");
}

TEST(SdesSdp, AudioOnlyAndVideoOnlyRoundTrip) {
  sdp::SdesDescription a = Description();
  a.video_payload_type.reset();
  auto pa = sdp::ParseSdes(sdp::FormatSdes(a));
  ASSERT_TRUE(pa) << pa.error().message;
  EXPECT_FALSE(pa->video_payload_type);
  EXPECT_EQ(pa->audio_payload_type, 109);
  EXPECT_NE(sdp::FormatSdes(a).find("a=group:BUNDLE 1\r\n"), std::string::npos);

  sdp::SdesDescription v = Description();
  v.audio_payload_type.reset();
  auto pv = sdp::ParseSdes(sdp::FormatSdes(v));
  ASSERT_TRUE(pv) << pv.error().message;
  EXPECT_EQ(pv->video_payload_type, 102);
  EXPECT_FALSE(pv->audio_payload_type);
}

TEST(SdesSdp, AcceptsLfLineEndsAndTrailingBlankLines) {
  auto d = sdp::ParseSdes(ReplaceAll(Offer(), "\r\n", "\n") + "\n\n");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->port, 5004);
}

TEST(SdesSdp, PicksTheFirstUsablePayloadTypeAndIgnoresOtherCodecs) {
  std::string s = Replace(Offer(), "m=video 5004 RTP/SAVP 96", "m=video 5004 RTP/SAVP 100 97 98");
  s = Replace(s, "a=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1",
              "a=rtpmap:100 VP8/90000\r\n"
              "a=rtpmap:97 h264/90000\r\na=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n"
              "a=rtpmap:98 H264/90000\r\na=fmtp:98 packetization-mode=1");
  s = Replace(s, "m=audio 5004 RTP/SAVP 111", "m=audio 5004 RTP/SAVP 0 8 112");
  s = Replace(s, "a=rtpmap:111 opus/48000/2", "a=rtpmap:112 OPUS/48000/2");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->video_payload_type, 97);
  EXPECT_EQ(d->audio_payload_type, 112);
}

TEST(SdesSdp, AVideoLineWithoutH264IsIgnoredNotRefused) {
  std::string s = Replace(Offer(), "m=video 5004 RTP/SAVP 96", "m=video 5004 RTP/SAVP 100");
  s = Replace(s, "a=rtpmap:96 H264/90000", "a=rtpmap:100 VP8/90000");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->video_payload_type);
  EXPECT_EQ(d->audio_payload_type, 111);
}

TEST(SdesSdp, DisabledLinesAndOtherMediaAreSkipped) {
  // A port-0 video line with another profile and an application line do not matter.
  std::string s = Replace(Offer(), "m=video 5004 RTP/SAVP 96", "m=video 0 RTP/AVP 96");
  s += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->video_payload_type);
  EXPECT_EQ(d->audio_payload_type, 111);
}

TEST(SdesSdp, MediaLevelConnectionAndSessionDirectionApply) {
  std::string s = Replace(Offer(), "c=IN IP4 127.0.0.1\r\n", "a=recvonly\r\n");
  s = Replace(s, "a=mid:0\r\n", "c=IN IP4 10.1.2.3\r\na=mid:0\r\n");
  s = Replace(s, "a=mid:1\r\n", "c=IN IP4 10.1.2.3\r\na=mid:1\r\n");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->address, "10.1.2.3");
  EXPECT_EQ(d->direction, sdp::Direction::kRecvOnly);
}

TEST(SdesSdp, SeveralCryptoAlternativesTakeTheFirst) {
  std::string s = Offer("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" +
                            std::string(kKeyB).substr(std::string(kKeyB).find(':') + 1) + "\r\n",
                        "");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->crypto.tag, 1u);
}

TEST(SdesSdp, AnswerDirectionMirrorsTheOffer) {
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kSendRecv), sdp::Direction::kSendRecv);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kSendOnly), sdp::Direction::kRecvOnly);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kRecvOnly), sdp::Direction::kSendOnly);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kInactive), sdp::Direction::kInactive);
}

struct Rejection {
  const char* name;
  std::string sdp;
  const char* message;  // a part of the error message
};

class SdesSdpRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(SdesSdpRejects, WithBadSdpNamingTheProblem) {
  const Rejection& r = GetParam();
  auto d = sdp::ParseSdes(r.sdp);
  ASSERT_FALSE(d) << r.name << " was accepted";
  EXPECT_EQ(d.error().code, "bad_sdp");
  EXPECT_NE(d.error().message.find(r.message), std::string::npos)
      << r.name << ": \"" << d.error().message << "\" does not contain \"" << r.message << "\"";
}

std::vector<Rejection> Rejections() {
  const std::string o = Offer();
  std::vector<Rejection> v = {
      {"empty", "", "empty"},
      {"not_sdp", "hello world", "not SDP"},
      {"json", "{\"sdp\":1}", "not SDP"},
      {"wrong_version", Replace(o, "v=0", "v=1"), "not SDP"},
      {"too_big", o + std::string(17 * 1024, 'a'), "at most 16384"},
      {"no_origin", Replace(o, "o=- 42 1 IN IP4 127.0.0.1\r\n", ""), "o="},
      {"bad_origin", Replace(o, "o=- 42 1", "o=- x 1"), "line 2: o="},
      {"second_version", Replace(o, "s=-", "v=0"), "line 3: a second v="},
      {"not_a_line", Replace(o, "s=-", "garbage"), "line 3: not an SDP line"},
      {"control_char", Replace(o, "s=-", std::string("s=\x01")), "control character"},
      {"empty_line_inside", Replace(o, "s=-\r\n", "s=-\r\n\r\n"), "empty line"},
      {"plain_rtp", ReplaceAll(o, "RTP/SAVP", "RTP/AVP"), "plain RTP is refused"},
      {"savpf", ReplaceAll(o, "RTP/SAVP", "RTP/SAVPF"), "only RTP/SAVP"},
      {"dtls_profile", ReplaceAll(o, "RTP/SAVP", "UDP/TLS/RTP/SAVPF"), "DTLS-SRTP"},
      {"no_crypto_video", Replace(o, std::string("a=crypto:") + kKeyA + "\r\n", ""),
       "line 7: m=video has no a=crypto"},
      {"no_crypto_at_all", ReplaceAll(o, std::string("a=crypto:") + kKeyA + "\r\n", ""),
       "no a=crypto"},
      {"crypto_bad_base64", Replace(o, "inline:PS1u", "inline:P!1u"), "a=crypto"},
      {"crypto_unknown_suite", Replace(o, "AES_CM_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80"),
       "a=crypto"},
      {"crypto_unencrypted", Replace(o, kKeyA, std::string(kKeyA) + " UNENCRYPTED_SRTP"),
       "a=crypto"},
      {"crypto_differs", std::string(o).replace(o.rfind(kKeyA), std::string(kKeyA).size(), kKeyB),
       "differs between the video and audio"},
      {"different_ports", Replace(o, "m=audio 5004", "m=audio 5006"), "different ports"},
      {"port_count", Replace(o, "m=video 5004", "m=video 5004/2"), "port counts"},
      {"port_range", Replace(o, "m=video 5004", "m=video 70000"), "0..65535"},
      {"no_rtcp_mux_video", Replace(o, "a=rtcp-mux\r\n", ""), "no a=rtcp-mux"},
      {"no_rtcp_mux_audio",
       o.substr(0, o.rfind("a=rtcp-mux\r\n")) + o.substr(o.rfind("a=rtcp-mux\r\n") + 12),
       "m=audio has no a=rtcp-mux"},
      {"h264_mode0", Replace(o, "packetization-mode=1", "packetization-mode=0"),
       "packetization-mode=1"},
      {"h264_no_fmtp", Replace(o, "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n", ""),
       "packetization-mode=1"},
      {"ipv6", ReplaceAll(o, "c=IN IP4 127.0.0.1", "c=IN IP6 ::1"), "IPv6"},
      {"fqdn", Replace(o, "c=IN IP4 127.0.0.1", "c=IN IP4 terminal.example"), "IPv4 literal"},
      {"bad_octet", Replace(o, "c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.256"), "IPv4 literal"},
      {"multicast", Replace(o, "c=IN IP4 127.0.0.1", "c=IN IP4 224.2.1.1/127"), "multicast"},
      {"multicast_plain", Replace(o, "c=IN IP4 127.0.0.1", "c=IN IP4 239.1.1.1"), "multicast"},
      {"no_connection", Replace(o, "c=IN IP4 127.0.0.1\r\n", ""), "no connection address"},
      {"two_connections", Replace(o, "t=0 0", "c=IN IP4 127.0.0.1"), "second session-level c="},
      {"different_addresses",
       Replace(Replace(o, "a=mid:0\r\n", "c=IN IP4 10.0.0.1\r\n"), "a=mid:1\r\n",
               "c=IN IP4 10.0.0.2\r\n"),
       "different addresses"},
      {"different_directions", Offer("a=sendonly\r\n", "a=recvonly\r\n"), "different directions"},
      {"no_usable_codec",
       Replace(Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000"),
               "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 G722/8000"),
       "no usable media"},
      {"opus_mono_only",
       Replace(Replace(o, "m=video 5004", "m=video 0"), "opus/48000/2", "opus/48000/1"),
       "no usable media"},
      {"all_disabled", ReplaceAll(o, " 5004 ", " 0 "), "no usable media"},
      {"second_video",
       o + "m=video 5004 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n"
           "a=fmtp:96 packetization-mode=1\r\na=rtcp-mux\r\n",
       "a second usable m=video"},
      {"bad_rtpmap", Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:96"), "a=rtpmap"},
      {"rtpmap_pt_range", Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:200 H264/90000"),
       "a=rtpmap"},
      {"rtpmap_no_clock", Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:96 H264"), "clock rate"},
      {"bad_fmtp", Replace(o, "a=fmtp:96 profile", "a=fmtp:x profile"), "a=fmtp"},
      {"short_media_line", Replace(o, "m=video 5004 RTP/SAVP 96", "m=video 5004"), "m= must be"},
      {"media_before_origin",
       Replace(Replace(o, "o=- 42 1 IN IP4 127.0.0.1\r\n", ""), "s=-", "m=video 5004 RTP/SAVP 96"),
       "m= before the o= line"},
  };
  return v;
}

INSTANTIATE_TEST_SUITE_P(Table, SdesSdpRejects, ::testing::ValuesIn(Rejections()),
                         [](const ::testing::TestParamInfo<Rejection>& info) {
                           return std::string(info.param.name);
                         });

TEST(SdesSdp, IsDtlsOfferRecognisesWebRtcOffers) {
  EXPECT_FALSE(sdp::IsDtlsOffer(Offer()));
  EXPECT_FALSE(sdp::IsDtlsOffer(""));
  EXPECT_FALSE(sdp::IsDtlsOffer("garbage"));
  EXPECT_TRUE(sdp::IsDtlsOffer(ReplaceAll(Offer(), "RTP/SAVP", "UDP/TLS/RTP/SAVPF")));
  EXPECT_TRUE(sdp::IsDtlsOffer(ReplaceAll(Offer(), "RTP/SAVP", "UDP/TLS/RTP/SAVP")));
  EXPECT_TRUE(sdp::IsDtlsOffer(ReplaceAll(Offer(), "RTP/SAVP", "TCP/DTLS/RTP/SAVPF")));
  // An a=fingerprint line makes it DTLS whatever the profile says.
  EXPECT_TRUE(sdp::IsDtlsOffer(Offer("a=fingerprint:sha-256 AB:CD\r\n")));
  EXPECT_TRUE(sdp::IsDtlsOffer("v=0\nA=FINGERPRINT:sha-256 00\n"));
  // A browser's offer, abridged.
  const std::string chrome =
      "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123456789\r\n"
      "a=fingerprint:sha-256 "
      "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:"
      "DE:F0\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
      "a=rtpmap:111 opus/48000/2\r\n";
  EXPECT_TRUE(sdp::IsDtlsOffer(chrome));
  EXPECT_EQ(sdp::DtlsFingerprint(chrome),
            "sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:"
            "56:78:9A:BC:DE:F0");
  EXPECT_FALSE(sdp::DtlsFingerprint(Offer()));
  // And it is refused by the SDES parser with a pointer to WebRTC.
  auto d = sdp::ParseSdes(chrome);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("DTLS-SRTP"), std::string::npos) << d.error().message;
}
