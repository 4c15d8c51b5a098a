// ConferenceMedia's refusals: everything that is answered before the engine runs (no GStreamer
// pipeline is started here, so these also run under ASan+UBSan in the unit suite).
#include <gtest/gtest.h>

#include "media_test_support.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/negotiation/conference/conference_media.hpp"
#include "plateau/negotiation/sdp/sdes_sdp.hpp"
#include "support/sdes_sample.hpp"

namespace plateau::signaling::testing {
namespace {

namespace tr = plateau::mcu::transport;
namespace sdp = plateau::negotiation::sdp;

std::string GoodOffer() {
  sdp::SdesDescription d = ::plateau::testing::LoopbackSdes();
  d.crypto = tr::MakeCryptoAttribute();
  return sdp::FormatSdes(d);
}

const char* kBrowserOffer =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=fingerprint:sha-256 12:34\r\na=setup:actpass\r\na=mid:0\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n";

class ConferenceMediaRefuses : public ::testing::Test {
 protected:
  void SetUp() override {
    negotiation::conference::ConferenceMediaConfig c;
    c.profiles = SmallProfiles();
    auto m = negotiation::conference::ConferenceMedia::Create(c, metrics_);
    ASSERT_TRUE(m) << m.error().message;
    media_ = std::move(m.value());
    media_->Attach(&events_);
    meeting_ = TestMeeting(7);
    media_->ConferenceOpened(meeting_);
    seat_ = SeatFor(meeting_, "datong", "大通县", 1, 11);
  }
  metrics::Registry metrics_;  // declared before the negotiator, which counts in it
  RecordingEvents events_;
  std::unique_ptr<negotiation::conference::ConferenceMedia> media_;
  Meeting meeting_;
  MediaSeat seat_;
};

TEST_F(ConferenceMediaRefuses, AnInvalidSdpWithTheParsersMessageAndStartsNothing) {
  auto a = OfferAndWait(*media_, seat_, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "bad_sdp");
  EXPECT_NE(a.error().message.find("no usable media"), std::string::npos) << a.error().message;
  auto plain = OfferAndWait(*media_, seat_, [] {
    std::string s = GoodOffer();
    for (size_t at = s.find("RTP/SAVP"); at != std::string::npos; at = s.find("RTP/SAVP", at))
      s.replace(at, 8, "RTP/AVP");
    return s;
  }());
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, "bad_sdp");
  EXPECT_NE(plain.error().message.find("plain RTP is refused"), std::string::npos);
  EXPECT_EQ(media_->Find(meeting_.booking), nullptr);  // no engine conference was started
  // Both refusals are counted in the negotiator's own registry, and only these two (no other
  // test's offers: nothing is counted in a registry shared by the process).
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("plateau_media_offers_total{kind=\"sdes\",result=\"bad_sdp\"} 2"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("plateau_media_conferences_running"), std::string::npos) << text;
}

TEST_F(ConferenceMediaRefuses, BrowserOffersWhileWebRtcIsNotEnabled) {
  auto a = OfferAndWait(*media_, seat_, kBrowserOffer);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "media_unavailable");
  EXPECT_NE(a.error().message.find("WebRTC is not enabled"), std::string::npos);
  EXPECT_EQ(media_->Find(meeting_.booking), nullptr);
}

TEST_F(ConferenceMediaRefuses, OffersForAConferenceThatIsNotOpen) {
  MediaSeat other = seat_;
  other.booking = 99;
  other.conference = "899";
  auto a = OfferAndWait(*media_, other, GoodOffer());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "media_failed");
  EXPECT_NE(a.error().message.find("899"), std::string::npos);
}

TEST_F(ConferenceMediaRefuses, CandidatesAndAnswersWithoutANegotiation) {
  Status c = media_->Candidate(
      seat_,
      protocol::IceCandidate{"candidate:1 1 udp 1 127.0.0.1 9 typ host", "0", 0, std::nullopt});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "bad_candidate");
  Status a = media_->Answer(seat_, GoodOffer());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "bad_sdp");
}

TEST_F(ConferenceMediaRefuses, MuteWhenNothingRuns) {
  Status st = media_->SetMuted(meeting_.booking, "datong", true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "not_running");
  EXPECT_TRUE(events_.Muted().empty());
}

TEST_F(ConferenceMediaRefuses, LifecycleCallsForUnknownSeatsAreHarmless) {
  MediaSeat ghost = seat_;
  ghost.venue = "nobody";
  media_->SeatHeld(ghost);
  media_->SeatReleased(ghost);
  Meeting other = TestMeeting(123);
  media_->ConferenceEnded(other);  // never opened
  media_->ConferenceEnded(meeting_);
  media_->ConferenceEnded(meeting_);  // twice
  EXPECT_EQ(media_->Find(meeting_.booking), nullptr);
}

TEST(ConferenceMediaConfig, MediaAddressMustBeAnInterfaceAddress) {
  metrics::Registry registry;
  for (const char* bad : {"0.0.0.0", "example.org", "", "::1", "239.1.2.3", "10.0.0.1:5000"}) {
    negotiation::conference::ConferenceMediaConfig c;
    c.profiles = SmallProfiles();
    c.media_address = bad;
    auto m = negotiation::conference::ConferenceMedia::Create(c, registry);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code, "bad_media_address") << bad;
  }
  negotiation::conference::ConferenceMediaConfig ok;
  ok.profiles = SmallProfiles();
  ok.media_address = "10.63.0.5";
  EXPECT_TRUE(negotiation::conference::ConferenceMedia::Create(ok, registry));
}

// Every configured profile is one output tier of the engine, named by the profile and encoded at
// its size and video rate; nothing comes from the engine's own defaults.
TEST(ConferenceMediaConfig, EachProfileIsATierAtItsOwnRate) {
  metrics::Registry registry;
  negotiation::conference::ConferenceMediaConfig c;
  c.profiles = {{"hd-8m", 1280, 720, 1800, 64}, {"sd-1m", 640, 360, 600, 32}};
  auto m = negotiation::conference::ConferenceMedia::Create(c, registry);
  ASSERT_TRUE(m) << m.error().message;
  const auto& tiers = (*m)->config().conference.video.tiers;
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0].name, "hd-8m");
  EXPECT_EQ(tiers[0].width, 1280);
  EXPECT_EQ(tiers[0].height, 720);
  EXPECT_EQ(tiers[0].bitrate_kbps, 1800);
  EXPECT_EQ(tiers[1].name, "sd-1m");
  EXPECT_EQ(tiers[1].width, 640);
  EXPECT_EQ(tiers[1].bitrate_kbps, 600);  // not the 1,100 kbit/s tier it used to share
  ASSERT_NE((*m)->FindProfile("sd-1m"), nullptr);
  EXPECT_EQ((*m)->FindProfile("sd-1m")->audio_kbps, 32);
  EXPECT_EQ((*m)->FindProfile("uhd"), nullptr);
}

TEST(ConferenceMediaConfig, RefusesMissingOrImpossibleProfiles) {
  metrics::Registry registry;
  auto refused = [&registry](std::vector<negotiation::conference::MediaProfile> profiles) {
    negotiation::conference::ConferenceMediaConfig c;
    c.profiles = std::move(profiles);
    auto m = negotiation::conference::ConferenceMedia::Create(c, registry);
    return m ? std::string("accepted") : m.error().code + ": " + m.error().message;
  };
  EXPECT_EQ(refused({}).rfind("bad_profile", 0), 0u);
  EXPECT_NE(refused({{"a", 640, 360, 600, 32}, {"a", 320, 180, 300, 32}}).find("used twice"),
            std::string::npos);
  EXPECT_NE(refused({{"odd", 641, 360, 600, 32}}).find("\"odd\""), std::string::npos);
  EXPECT_NE(refused({{"slow", 640, 360, 10, 32}}).find("video_kbps"), std::string::npos);
  EXPECT_NE(refused({{"mute", 640, 360, 600, 0}}).find("audio_kbps"), std::string::npos);
}

// A meeting booked at a profile this server does not configure gets a clear media error, and no
// engine conference starts.
TEST_F(ConferenceMediaRefuses, AMeetingAtAnUnknownProfile) {
  auto meeting = TestMeeting(8, "uhd-20m");
  media_->ConferenceOpened(meeting);
  auto seat = SeatFor(meeting, "datong", "大通县", 1, 12);
  auto answer = OfferAndWait(*media_, seat, GoodOffer());
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("uhd-20m"), std::string::npos) << answer.error().message;
  EXPECT_EQ(media_->Find(8), nullptr);
}

}  // namespace
}  // namespace plateau::signaling::testing
