// SDES SDP (negotiation/sdp): what the reference terminal offers and the server answers.
#include "plateau/negotiation/sdp/sdes_sdp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plateau/mcu/transport/srtp_session.hpp"
#include "support/sdes_sample.hpp"

namespace sdp = plateau::negotiation::sdp;
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
  d.SetDirection(sdp::Direction::kSendRecv);
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
  EXPECT_EQ(d->video_direction, sdp::Direction::kSendRecv);
  EXPECT_EQ(d->audio_direction, sdp::Direction::kSendRecv);
  EXPECT_EQ(tr::FormatCryptoAttribute(d->crypto), kKeyA);
  ASSERT_EQ(d->lines.size(), 2u);
  EXPECT_EQ(d->lines[0].use, sdp::LineUse::kVideo);
  EXPECT_EQ(d->lines[0].mid, "0");
  EXPECT_EQ(d->lines[1].use, sdp::LineUse::kAudio);
  EXPECT_EQ(d->lines[1].mid, "1");
  EXPECT_TRUE(d->bundle);
}

TEST(SdesSdp, FormatThenParseGivesTheSameDescription) {
  for (auto dir : {sdp::Direction::kSendRecv, sdp::Direction::kSendOnly, sdp::Direction::kRecvOnly,
                   sdp::Direction::kInactive}) {
    sdp::SdesDescription d = Description();
    d.SetDirection(dir);
    const std::string text = sdp::FormatSdes(d);
    auto back = sdp::ParseSdes(text);
    ASSERT_TRUE(back) << back.error().message << "\n" << text;
    EXPECT_EQ(back->session_id, d.session_id);
    EXPECT_EQ(back->session_version, d.session_version);
    EXPECT_EQ(back->address, d.address);
    EXPECT_EQ(back->port, d.port);
    EXPECT_EQ(back->video_payload_type, d.video_payload_type);
    EXPECT_EQ(back->audio_payload_type, d.audio_payload_type);
    EXPECT_EQ(back->video_direction, dir);
    EXPECT_EQ(back->audio_direction, dir);
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
  ASSERT_EQ(d->lines.size(), 3u);
  EXPECT_EQ(d->lines[0].use, sdp::LineUse::kRejected);
  EXPECT_EQ(d->lines[0].reason, "disabled (port 0)");
  EXPECT_EQ(d->lines[1].use, sdp::LineUse::kAudio);
  EXPECT_EQ(d->lines[2].use, sdp::LineUse::kRejected);
  EXPECT_EQ(d->lines[2].media, "application");
  EXPECT_EQ(d->lines[2].format, "webrtc-datachannel");
}

TEST(SdesSdp, MediaLevelConnectionAndSessionDirectionApply) {
  std::string s = Replace(Offer(), "c=IN IP4 127.0.0.1\r\n", "a=recvonly\r\n");
  s = Replace(s, "a=mid:0\r\n", "c=IN IP4 10.1.2.3\r\na=mid:0\r\n");
  s = Replace(s, "a=mid:1\r\n", "c=IN IP4 10.1.2.3\r\na=mid:1\r\n");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->address, "10.1.2.3");
  EXPECT_EQ(d->video_direction, sdp::Direction::kRecvOnly);
  EXPECT_EQ(d->audio_direction, sdp::Direction::kRecvOnly);
}

TEST(SdesSdp, SeveralCryptoAlternativesTakeTheFirst) {
  std::string s = Offer("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" +
                            std::string(kKeyB).substr(std::string(kKeyB).find(':') + 1) + "\r\n",
                        "");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->crypto.tag, 1u);
}

// Plateau's terminal offers AEAD_AES_128_GCM (tag 1) then AES_CM_128_HMAC_SHA1_80 (tag 2) on each
// line; the parser takes GCM, and the answer keeps tag 1.
TEST(SdesSdp, OfferedAlternativesAreWrittenInOrderAndTheFirstIsTaken) {
  sdp::SdesDescription d = ::plateau::testing::LoopbackSdes();
  d.crypto = tr::MakeCryptoAttribute(tr::SrtpProfile::kAeadAes128Gcm, 1);
  d.crypto_alternatives = {tr::MakeCryptoAttribute(tr::SrtpProfile::kAesCm128HmacSha1_80, 2)};
  const std::string text = sdp::FormatSdes(d);
  size_t gcm = 0, cm = 0;
  for (size_t at = text.find("a=crypto:1 AEAD_AES_128_GCM"); at != std::string::npos;
       at = text.find("a=crypto:1 AEAD_AES_128_GCM", at + 1))
    ++gcm;
  for (size_t at = text.find("a=crypto:2 AES_CM_128_HMAC_SHA1_80"); at != std::string::npos;
       at = text.find("a=crypto:2 AES_CM_128_HMAC_SHA1_80", at + 1))
    ++cm;
  EXPECT_EQ(gcm, 2u) << text;  // on both lines
  EXPECT_EQ(cm, 2u) << text;
  auto parsed = sdp::ParseSdes(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->crypto.key, d.crypto.key);
  EXPECT_TRUE(parsed->crypto_alternatives.empty());
  EXPECT_EQ(sdp::AnswerTo(*parsed).crypto.tag, 1u);
}

TEST(SdesSdp, AnswerDirectionMirrorsTheOffer) {
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kSendRecv), sdp::Direction::kSendRecv);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kSendOnly), sdp::Direction::kRecvOnly);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kRecvOnly), sdp::Direction::kSendOnly);
  EXPECT_EQ(sdp::AnswerDirection(sdp::Direction::kInactive), sdp::Direction::kInactive);
}

// ---- Answers (RFC 3264 section 6): every offered m-line, in order, unusable ones with port 0 ----

// The answer the server would send to `offer`: AnswerTo plus its own session, address, port, key.
std::string AnswerText(const sdp::SdesDescription& offer) {
  sdp::SdesDescription a = sdp::AnswerTo(offer);
  a.session_id = 77;
  a.session_version = 1;
  a.address = "192.0.2.10";
  a.port = 40000;
  a.crypto = tr::ParseCryptoAttribute(kKeyB).value();
  return sdp::FormatSdes(a);
}

// The m= lines of a description, in order.
std::vector<std::string> MediaLines(const std::string& sdp) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = sdp.find("m=", at)) != std::string::npos) {
    if (at == 0 || sdp[at - 1] == '\n') out.push_back(sdp.substr(at, sdp.find("\r\n", at) - at));
    at += 2;
  }
  return out;
}

TEST(SdesSdpAnswer, MirrorsEveryOfferedLineInOrderWithPortZeroForTheUnusable) {
  // A SIP room system: audio first, camera video, BFCP, a second video line (content slides),
  // a data channel. Only the first audio and video lines can be used.
  const std::string offer = std::string(
                                "v=0\r\n"
                                "o=room 9 1 IN IP4 10.63.4.20\r\n"
                                "s=call\r\n"
                                "c=IN IP4 10.63.4.20\r\n"
                                "t=0 0\r\n"
                                "a=group:BUNDLE a v slides\r\n"
                                "m=audio 6000 RTP/SAVP 0 111\r\n"
                                "a=mid:a\r\n"
                                "a=rtpmap:0 PCMU/8000\r\n"
                                "a=rtpmap:111 opus/48000/2\r\n"
                                "a=rtcp-mux\r\n"
                                "a=crypto:") +
                            kKeyA +
                            "\r\n"
                            "m=video 6000 RTP/SAVP 97\r\n"
                            "a=mid:v\r\n"
                            "a=rtpmap:97 H264/90000\r\n"
                            "a=fmtp:97 packetization-mode=1\r\n"
                            "a=rtcp-mux\r\n"
                            "a=crypto:" +
                            kKeyA +
                            "\r\n"
                            "m=application 6010 TCP/BFCP *\r\n"
                            "a=floorctrl:c-only\r\n"
                            "m=video 6000 RTP/SAVP 97\r\n"
                            "a=mid:slides\r\n"
                            "a=content:slides\r\n"
                            "a=rtpmap:97 H264/90000\r\n"
                            "a=fmtp:97 packetization-mode=1\r\n"
                            "a=rtcp-mux\r\n"
                            "a=crypto:" +
                            kKeyA +
                            "\r\n"
                            "m=application 6000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                            "a=mid:dc\r\n";
  EXPECT_FALSE(sdp::IsDtlsOffer(offer)) << "a data channel line does not make it WebRTC";
  auto d = sdp::ParseSdes(offer);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->audio_payload_type, 111);
  EXPECT_EQ(d->video_payload_type, 97);
  ASSERT_EQ(d->lines.size(), 5u);
  EXPECT_EQ(d->lines[2].reason, "m=application is not audio or video");
  EXPECT_NE(d->lines[3].reason.find("a second m=video line"), std::string::npos);
  EXPECT_EQ(d->lines[4].reason, "m=application is not audio or video");
  EXPECT_TRUE(d->bundle);

  const std::string crypto = std::string("a=crypto:") + kKeyB + "\r\n";
  EXPECT_EQ(AnswerText(*d),
            "v=0\r\n"
            "o=- 77 1 IN IP4 192.0.2.10\r\n"
            "s=-\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "a=group:BUNDLE a v\r\n"
            "m=audio 40000 RTP/SAVP 111\r\n"
            "a=mid:a\r\n"
            "a=rtpmap:111 opus/48000/2\r\n"
            "a=rtcp-mux\r\n" +
                crypto +
                "a=sendrecv\r\n"
                "m=video 40000 RTP/SAVP 97\r\n"
                "a=mid:v\r\n"
                "a=rtpmap:97 H264/90000\r\n"
                "a=fmtp:97 profile-level-id=42e01f;packetization-mode=1\r\n"
                "a=rtcp-fb:97 nack\r\n"
                "a=rtcp-fb:97 nack pli\r\n"
                "a=rtcp-fb:97 ccm fir\r\n"
                "a=rtcp-mux\r\n" +
                crypto +
                "a=sendrecv\r\n"
                "m=application 0 TCP/BFCP *\r\n"
                "m=video 0 RTP/SAVP 97\r\n"
                "a=mid:slides\r\n"
                "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                "a=mid:dc\r\n");
  // The answer parses back to the same lines, and answering it again gives the same text.
  auto back = sdp::ParseSdes(AnswerText(*d));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->lines.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(back->lines[i].use, d->lines[i].use) << i;
    EXPECT_EQ(back->lines[i].mid, d->lines[i].mid) << i;
    EXPECT_EQ(back->lines[i].media, d->lines[i].media) << i;
    EXPECT_EQ(back->lines[i].proto, d->lines[i].proto) << i;
    EXPECT_EQ(back->lines[i].format, d->lines[i].format) << i;
  }
}

// An offer with one line unusable for a given reason: the offer is accepted, that line rejected.
struct LineRejection {
  const char* name;
  std::string sdp;
  size_t line;         // index of the rejected m-line
  const char* reason;  // a part of its reason
};

class SdesSdpRejectsLine : public ::testing::TestWithParam<LineRejection> {};

TEST_P(SdesSdpRejectsLine, AndAnswersItWithPortZero) {
  const LineRejection& r = GetParam();
  auto d = sdp::ParseSdes(r.sdp);
  ASSERT_TRUE(d) << r.name << ": " << d.error().message;
  ASSERT_GT(d->lines.size(), r.line);
  EXPECT_EQ(d->lines[r.line].use, sdp::LineUse::kRejected);
  EXPECT_NE(d->lines[r.line].reason.find(r.reason), std::string::npos)
      << r.name << ": \"" << d->lines[r.line].reason << "\"";
  const std::string answer = AnswerText(*d);
  const auto offered = MediaLines(r.sdp);
  const auto answered = MediaLines(answer);
  ASSERT_EQ(answered.size(), offered.size()) << answer;
  for (size_t i = 0; i < offered.size(); ++i) {
    // Same media, in the same order; port 0 exactly for the rejected lines.
    EXPECT_EQ(answered[i].substr(0, answered[i].find(' ')),
              offered[i].substr(0, offered[i].find(' ')));
    const bool zero = answered[i].find(" 0 ") == answered[i].find(' ');
    EXPECT_EQ(zero, d->lines[i].use == sdp::LineUse::kRejected) << answered[i];
  }
  // The answer does not put the rejected line in its BUNDLE group.
  if (!d->lines[r.line].mid.empty()) {
    const size_t group = answer.find("a=group:BUNDLE");
    ASSERT_NE(group, std::string::npos);
    const std::string g = answer.substr(group, answer.find("\r\n", group) - group) + " ";
    EXPECT_EQ(g.find(" " + d->lines[r.line].mid + " "), std::string::npos) << g;
  }
}

std::vector<LineRejection> LineRejections() {
  const std::string o = Offer();
  const std::string video_crypto = std::string("a=crypto:") + kKeyA + "\r\n";
  return {
      {"video_vp8_only",
       Replace(Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000"),
               "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n", ""),
       0, "no H.264"},
      {"video_single_nal", Replace(o, "packetization-mode=1", "packetization-mode=0"), 0,
       "without packetization-mode=1"},
      {"video_plain_rtp", Replace(o, "m=video 5004 RTP/SAVP", "m=video 5004 RTP/AVP"), 0,
       "plain RTP is refused"},
      {"video_savpf", Replace(o, "m=video 5004 RTP/SAVP", "m=video 5004 RTP/SAVPF"), 0,
       "only RTP/SAVP"},
      {"video_no_crypto", Replace(o, video_crypto, ""), 0, "no a=crypto line"},
      {"video_unknown_suite_only",
       Replace(
           o, video_crypto,
           "a=crypto:1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"),
       0, "no usable a=crypto"},
      {"video_unencrypted_only",
       Replace(o, video_crypto, std::string("a=crypto:") + kKeyA + " UNENCRYPTED_SRTP\r\n"), 0,
       "no usable a=crypto"},
      {"video_pt_in_rtcp_range",
       ReplaceAll(Replace(o, "RTP/SAVP 96", "RTP/SAVP 72"), ":96 ", ":72 "), 0, "no H.264"},
      {"audio_g711_only",
       Replace(Replace(o, "RTP/SAVP 111", "RTP/SAVP 0 8"), "a=rtpmap:111 opus/48000/2",
               "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000"),
       1, "no Opus"},
      {"audio_opus_mono", Replace(o, "opus/48000/2", "opus/48000/1"), 1, "no Opus"},
      {"audio_disabled", Replace(o, "m=audio 5004", "m=audio 0"), 1, "disabled (port 0)"},
      {"second_video_slides",
       o +
           "m=video 5004 RTP/SAVP 96\r\na=mid:2\r\na=content:slides\r\na=rtpmap:96 H264/90000\r\n"
           "a=fmtp:96 packetization-mode=1\r\na=rtcp-mux\r\na=crypto:" +
           kKeyA + "\r\n",
       2, "a second m=video line"},
      {"second_audio",
       o +
           "m=audio 5004 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-mux\r\n"
           "a=crypto:" +
           kKeyA + "\r\n",
       2, "a second m=audio line"},
      {"bfcp_over_tls_with_fingerprint",
       o + "m=application 5070 TCP/TLS/BFCP *\r\na=fingerprint:sha-256 "
           "AB:CD\r\na=setup:actpass\r\n",
       2, "not audio or video"},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, SdesSdpRejectsLine, ::testing::ValuesIn(LineRejections()),
                         [](const ::testing::TestParamInfo<LineRejection>& info) {
                           return std::string(info.param.name);
                         });

TEST(SdesSdpAnswer, AudioOnlyOfferGetsAnAudioOnlyAnswer) {
  const std::string o = Offer();
  // The terminal's audio line alone (no m=video at all).
  const std::string audio_only =
      Replace(o, o.substr(o.find("m=video"), o.find("m=audio") - o.find("m=video")), "");
  auto d = sdp::ParseSdes(Replace(audio_only, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1"));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->video_payload_type);
  EXPECT_EQ(d->audio_payload_type, 111);
  const std::string answer = AnswerText(*d);
  EXPECT_EQ(MediaLines(answer), std::vector<std::string>{"m=audio 40000 RTP/SAVP 111"});
  EXPECT_NE(answer.find("a=group:BUNDLE 1\r\n"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("H264"), std::string::npos);
}

TEST(SdesSdpAnswer, VideoOnlyOfferGetsAVideoOnlyAnswer) {
  const std::string o = Offer();
  auto d = sdp::ParseSdes(o.substr(0, o.find("m=audio")));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->video_payload_type, 96);
  EXPECT_FALSE(d->audio_payload_type);
  const std::string answer = AnswerText(*d);
  EXPECT_EQ(MediaLines(answer), std::vector<std::string>{"m=video 40000 RTP/SAVP 96"});
  EXPECT_EQ(answer.find("opus"), std::string::npos);
  // The video line's key is the one used (no audio line to agree with).
  EXPECT_EQ(tr::FormatCryptoAttribute(d->crypto), kKeyA);
}

TEST(SdesSdpAnswer, EachLineGetsTheComplementaryDirection) {
  using D = sdp::Direction;
  struct Case {
    std::string video_attr, audio_attr, session_attr;
    D offer_video, offer_audio, answer_video, answer_audio;
  };
  const std::vector<Case> cases = {
      {"", "", "", D::kSendRecv, D::kSendRecv, D::kSendRecv, D::kSendRecv},
      // An overflow viewing room: receives the conference, sends nothing.
      {"", "", "a=recvonly\r\n", D::kRecvOnly, D::kRecvOnly, D::kSendOnly, D::kSendOnly},
      // A venue without a camera: it only receives video, and talks.
      {"a=recvonly\r\n", "a=sendrecv\r\n", "", D::kRecvOnly, D::kSendRecv, D::kSendOnly,
       D::kSendRecv},
      {"a=sendonly\r\n", "a=recvonly\r\n", "", D::kSendOnly, D::kRecvOnly, D::kRecvOnly,
       D::kSendOnly},
      // Media level overrides session level; inactive answers inactive.
      {"a=inactive\r\n", "", "a=sendonly\r\n", D::kInactive, D::kSendOnly, D::kInactive,
       D::kRecvOnly},
  };
  for (const Case& c : cases) {
    std::string s = Offer(c.video_attr, c.audio_attr);
    if (!c.session_attr.empty()) s = Replace(s, "t=0 0\r\n", "t=0 0\r\n" + c.session_attr);
    auto d = sdp::ParseSdes(s);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->video_direction, c.offer_video) << s;
    EXPECT_EQ(d->audio_direction, c.offer_audio) << s;
    auto a = sdp::ParseSdes(AnswerText(*d));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->video_direction, c.answer_video) << s;
    EXPECT_EQ(a->audio_direction, c.answer_audio) << s;
  }
}

TEST(SdesSdpAnswer, NoBundleAndNoMidsInTheOfferNoneInTheAnswer) {
  std::string s = Replace(Offer(), "a=group:BUNDLE 0 1\r\n", "");
  s = Replace(Replace(s, "a=mid:0\r\n", ""), "a=mid:1\r\n", "");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->bundle);
  const std::string answer = AnswerText(*d);
  EXPECT_EQ(answer.find("a=group"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("a=mid"), std::string::npos) << answer;
  EXPECT_EQ(MediaLines(answer).size(), 2u);
  // A group that leaves out a used line's mid is no BUNDLE of the used lines either.
  auto partial = sdp::ParseSdes(Replace(Offer(), "a=group:BUNDLE 0 1", "a=group:BUNDLE 0"));
  ASSERT_TRUE(partial) << partial.error().message;
  EXPECT_FALSE(partial->bundle);
}

TEST(SdesSdpAnswer, CryptoAlternativesSkipTheUnusableAndAgreeAcrossLines) {
  // Video offers an unsupported suite first, then key A (tag 2); audio offers key A only.
  std::string s = Replace(Offer(), std::string("a=crypto:") + kKeyA + "\r\n",
                          "a=crypto:1 F8_128_HMAC_SHA1_80 "
                          "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
                          "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
                          "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n");
  auto d = sdp::ParseSdes(s);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->crypto.tag, 2u);
  EXPECT_TRUE(d->video_payload_type && d->audio_payload_type);
  EXPECT_EQ(sdp::AnswerTo(*d).crypto.tag, 2u);
  // Audio offers key B first and key A second: A (the video line's) is agreed on.
  std::string t = Offer();
  const std::string a_line = std::string("a=crypto:") + kKeyA + "\r\n";
  t.replace(
      t.rfind(a_line), a_line.size(),
      std::string("a=crypto:") + kKeyB + "\r\na=crypto:2" + std::string(kKeyA).substr(1) + "\r\n");
  auto e = sdp::ParseSdes(t);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(tr::FormatCryptoAttribute(e->crypto), kKeyA);
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
      {"no_crypto_at_all", ReplaceAll(o, std::string("a=crypto:") + kKeyA + "\r\n", ""),
       "no a=crypto"},
      {"crypto_bad_base64", ReplaceAll(o, "inline:PS1u", "inline:P!1u"),
       "line 7 m=video: no usable a=crypto (line 12: a=crypto: "},
      {"crypto_unknown_suite", ReplaceAll(o, "AES_CM_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80"),
       "no usable a=crypto"},
      {"crypto_unencrypted", ReplaceAll(o, kKeyA, std::string(kKeyA) + " UNENCRYPTED_SRTP"),
       "no usable a=crypto"},
      {"crypto_differs", std::string(o).replace(o.rfind(kKeyA), std::string(kKeyA).size(), kKeyB),
       "differs between the video and audio"},
      {"different_ports", Replace(o, "m=audio 5004", "m=audio 5006"), "different ports"},
      {"port_count", Replace(o, "m=video 5004", "m=video 5004/2"), "port counts"},
      {"port_range", Replace(o, "m=video 5004", "m=video 70000"), "0..65535"},
      {"no_rtcp_mux_video", Replace(o, "a=rtcp-mux\r\n", ""), "no a=rtcp-mux"},
      {"no_rtcp_mux_audio",
       o.substr(0, o.rfind("a=rtcp-mux\r\n")) + o.substr(o.rfind("a=rtcp-mux\r\n") + 12),
       "m=audio has no a=rtcp-mux"},
      {"h264_mode0",
       Replace(Replace(o, "packetization-mode=1", "packetization-mode=0"), "m=audio 5004",
               "m=audio 0"),
       "line 7 m=video: H.264 is offered without packetization-mode=1"},
      {"h264_no_fmtp",
       Replace(Replace(o, "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n", ""),
               "m=audio 5004", "m=audio 0"),
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
      {"no_usable_codec",
       Replace(Replace(o, "a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000"),
               "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 G722/8000"),
       "no usable media"},
      {"opus_mono_only",
       Replace(Replace(o, "m=video 5004", "m=video 0"), "opus/48000/2", "opus/48000/1"),
       "no usable media"},
      {"all_disabled", ReplaceAll(o, " 5004 ", " 0 "), "no usable media"},
      {"no_crypto_anywhere_other_lines_off",
       Replace(Replace(o, std::string("a=crypto:") + kKeyA + "\r\n", ""), "m=audio 5004",
               "m=audio 0"),
       "line 7 m=video: no a=crypto line: SDES keys are required; line 12 m=audio: disabled"},
      {"only_application",
       Replace(Replace(o, "m=video 5004 RTP/SAVP 96", "m=application 5004 TCP/BFCP *"),
               "m=audio 5004", "m=audio 0"),
       "m=application is not audio or video"},
      {"same_payload_type",
       ReplaceAll(ReplaceAll(o, "RTP/SAVP 111", "RTP/SAVP 96"), "rtpmap:111", "rtpmap:96"),
       "both use payload type 96"},
      {"duplicate_mid", Replace(o, "a=mid:1", "a=mid:0"), "a=mid:0 names two m-lines"},
      {"second_mid", Offer("a=mid:x\r\n"), "a second a=mid"},
      {"bad_mid", Replace(o, "a=mid:1", "a=mid:a,b"), "token characters"},
      {"long_mid", Replace(o, "a=mid:1", "a=mid:" + std::string(33, 'm')), "a=mid must be"},
      {"long_m_field",
       Replace(o, "m=video 5004 RTP/SAVP 96", "m=video 5004 RTP/SAVP " + std::string(65, '9')),
       "longer than 64"},
      {"too_many_lines",
       [&] {
         std::string s = o;
         for (int i = 0; i < 31; ++i) s += "m=application 0 TCP/BFCP *\r\n";
         return s;
       }(),
       "more than 32 m= lines"},
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
