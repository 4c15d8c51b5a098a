// The reference terminal's call logic (terminal/client TerminalCall), driven with real server
// messages (serialised and re-parsed by the strict protocol parser) and real SDES SDP.
#include "plateau/terminal/client/terminal_call.hpp"

#include <gtest/gtest.h>

#include "plateau/mcu/transport/crypto_attribute.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"

namespace plateau::terminal::client {
namespace {

namespace p = signaling::protocol;
using nlohmann::json;

p::ServerMessage Msg(p::ServerBody body) {
  auto parsed = p::ParseServerMessage(p::Serialize(std::move(body)));
  EXPECT_TRUE(parsed.ok()) << parsed.failure().message;
  return parsed.value();
}

p::Registered Registered(bool resumed = false) {
  return p::Registered{"datong", "大通县", "s1", "resume-token-0123456789abcdef", 10000, resumed};
}

p::Joined Joined(const std::string& conference, bool resumed = false) {
  return p::Joined{conference,
                   1,
                   "全省防汛工作视频会议",
                   {p::Participant{"datong", "大通县", 1, true}},
                   "auto",
                   1,
                   "2026-11-25T06:00:00Z",
                   "2026-11-25T07:00:00Z",
                   resumed,
                   {},
                   std::nullopt};
}

negotiation::sdp::SdesDescription Description(uint16_t port) {
  negotiation::sdp::SdesDescription d;
  d.session_id = 7;
  d.session_version = 1;
  d.address = "127.0.0.1";
  d.port = port;
  d.video_payload_type = 96;
  d.audio_payload_type = 111;
  d.crypto = mcu::transport::MakeCryptoAttribute();
  return d;
}

template <typename T>
const T* Find(const std::vector<CallAction>& actions, size_t index = 0) {
  size_t seen = 0;
  for (const auto& a : actions)
    if (const T* t = std::get_if<T>(&a); t && seen++ == index) return t;
  return nullptr;
}

const p::ClientMessage* Sent(const std::vector<CallAction>& actions) {
  const auto* s = Find<SendMessage>(actions);
  return s ? &s->message : nullptr;
}

// Registered and seated in 80000001 with media up (generation 1); returns the offered key.
mcu::transport::CryptoAttribute InCall(TerminalCall& call) {
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  auto local = Description(40000);
  call.OnLocalPrepared(local);
  auto answer = Description(50000);
  call.OnServerMessage(Msg(p::Answer{negotiation::sdp::FormatSdes(answer), "offer-1"}));
  EXPECT_EQ(call.state(), CallState::kInCall);
  return local.crypto;
}

TEST(TerminalCall, RegisteredJoinsTheGivenConference) {
  TerminalCall call(CallConfig{"80000001"});
  auto actions = call.OnServerMessage(Msg(Registered()));
  const auto* sent = Sent(actions);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->id, "join-1");
  const auto* join = std::get_if<p::Join>(&sent->body);
  ASSERT_TRUE(join);
  EXPECT_EQ(join->conference, "80000001");
  EXPECT_EQ(call.state(), CallState::kJoining);
  EXPECT_EQ(call.snapshot().venue_name, "大通县");
}

TEST(TerminalCall, WithoutAConferenceTheFirstInviteIsAnsweredOnce) {
  TerminalCall call(CallConfig{});
  EXPECT_TRUE(call.OnServerMessage(Msg(Registered())).empty());
  EXPECT_EQ(call.state(), CallState::kWaiting);
  p::Invite invite{"80000002", 2, "t", "2026-11-25T06:00:00Z", "2026-11-25T07:00:00Z", 1};
  auto actions = call.OnServerMessage(Msg(invite));
  const auto* sent = Sent(actions);
  ASSERT_TRUE(sent);
  EXPECT_EQ(std::get<p::Join>(sent->body).conference, "80000002");
  invite.attempt = 2;
  EXPECT_TRUE(call.OnServerMessage(Msg(invite)).empty());  // a join is already on its way
  EXPECT_EQ(call.snapshot().invites, 2u);
}

TEST(TerminalCall, AnInviteToAnotherConferenceThanTheGivenOneIsIgnored) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  auto actions = call.OnServerMessage(
      Msg(p::Invite{"80000009", 9, "t", "2026-11-25T06:00:00Z", "2026-11-25T07:00:00Z", 1}));
  EXPECT_TRUE(actions.empty());
}

TEST(TerminalCall, JoinedAsksForFreshMediaAndOffersIt) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  auto actions = call.OnServerMessage(Msg(Joined("80000001")));
  ASSERT_TRUE(Find<PrepareLocal>(actions));
  EXPECT_FALSE(Find<PrepareLocal>(actions)->remote_offer);
  EXPECT_EQ(call.state(), CallState::kNegotiating);
  EXPECT_EQ(call.snapshot().seat, 1);
  auto local = Description(40000);
  auto offered = call.OnLocalPrepared(local);
  const auto* sent = Sent(offered);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->id, "offer-1");
  auto parsed = negotiation::sdp::ParseSdes(std::get<p::Offer>(sent->body).sdp);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->port, 40000);
  EXPECT_EQ(parsed->crypto.key.material, local.crypto.key.material);
}

TEST(TerminalCall, TheMatchingAnswerStartsMediaWithBothKeys) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  auto local = Description(40000);
  call.OnLocalPrepared(local);
  auto answer = Description(50000);
  auto actions =
      call.OnServerMessage(Msg(p::Answer{negotiation::sdp::FormatSdes(answer), "offer-1"}));
  const auto* start = Find<StartMedia>(actions);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->generation, 1);
  EXPECT_EQ(start->local.crypto.key.material, local.crypto.key.material);
  EXPECT_EQ(start->remote.crypto.key.material, answer.crypto.key.material);
  EXPECT_EQ(start->remote.port, 50000);
  EXPECT_EQ(call.state(), CallState::kInCall);
}

// The terminal offers GCM (tag 1) and AES_CM (tag 2); the answer's tag picks the key it sends
// with. A tag it never offered, or the right tag with another suite, is a bad answer.
TEST(TerminalCall, TheAnswersCryptoTagPicksTheOfferedAlternative) {
  namespace tr = mcu::transport;
  auto offer = Description(40000);
  offer.crypto = tr::MakeCryptoAttribute(tr::SrtpProfile::kAeadAes128Gcm, 1);
  offer.crypto_alternatives = {tr::MakeCryptoAttribute(tr::SrtpProfile::kAesCm128HmacSha1_80, 2)};
  struct Case {
    tr::SrtpProfile suite;
    uint32_t tag;
    bool ok;
  };
  for (const Case& c : {Case{tr::SrtpProfile::kAeadAes128Gcm, 1, true},
                        Case{tr::SrtpProfile::kAesCm128HmacSha1_80, 2, true},
                        Case{tr::SrtpProfile::kAesCm128HmacSha1_80, 3, false},
                        Case{tr::SrtpProfile::kAeadAes128Gcm, 2, false}}) {
    SCOPED_TRACE(std::to_string(c.tag) + " " + std::string(tr::ToString(c.suite)));
    TerminalCall call(CallConfig{"80000001"});
    call.OnServerMessage(Msg(Registered()));
    call.OnServerMessage(Msg(Joined("80000001")));
    const auto prepared = call.OnLocalPrepared(offer);
    const auto* sent = Sent(prepared);
    ASSERT_TRUE(sent);
    const std::string text = std::get<p::Offer>(sent->body).sdp;
    EXPECT_LT(text.find("a=crypto:1 AEAD_AES_128_GCM"), text.find("a=crypto:2 AES_CM_128"));
    auto answer = Description(50000);
    answer.crypto = tr::MakeCryptoAttribute(c.suite, c.tag);
    auto actions =
        call.OnServerMessage(Msg(p::Answer{negotiation::sdp::FormatSdes(answer), "offer-1"}));
    const auto* start = Find<StartMedia>(actions);
    if (!c.ok) {
      EXPECT_EQ(start, nullptr);
      EXPECT_EQ(call.state(), CallState::kFailed);
      ASSERT_TRUE(call.snapshot().failure.has_value());
      EXPECT_EQ(call.snapshot().failure->code, "bad_answer");
      continue;
    }
    ASSERT_TRUE(start);
    const auto& mine = c.tag == 1 ? offer.crypto : offer.crypto_alternatives[0];
    EXPECT_EQ(start->local.crypto.key, mine.key);
    EXPECT_EQ(start->remote.crypto.key, answer.crypto.key);
  }
}

TEST(TerminalCall, AnAnswerToAnotherOfferIsIgnored) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  call.OnLocalPrepared(Description(40000));
  EXPECT_TRUE(
      call.OnServerMessage(Msg(p::Answer{negotiation::sdp::FormatSdes(Description(1)), "offer-7"}))
          .empty());
  EXPECT_TRUE(
      call.OnServerMessage(Msg(p::Answer{negotiation::sdp::FormatSdes(Description(1)), nullptr}))
          .empty());
  EXPECT_EQ(call.state(), CallState::kNegotiating);
}

TEST(TerminalCall, AnUnusableAnswerFailsTheCall) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  call.OnLocalPrepared(Description(40000));
  auto actions = call.OnServerMessage(Msg(p::Answer{"v=0\r\nnot sdp at all\r\n", "offer-1"}));
  const auto* failed = Find<CallFailed>(actions);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error.code, "bad_answer");
  EXPECT_EQ(call.state(), CallState::kFailed);
  // Nothing afterwards changes that.
  EXPECT_TRUE(call.OnServerMessage(Msg(Joined("80000001"))).empty());
}

TEST(TerminalCall, AJoinRefusalFailsWithTheServersCode) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  auto actions = call.OnServerMessage(Msg(p::ErrorMessage{
      "not_started", "conference 80000001 opens at 2026-11-25T13:45:00Z", "join-1", ""}));
  const auto* failed = Find<CallFailed>(actions);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error.code, "not_started");
  EXPECT_NE(failed->error.message.find("opens at"), std::string::npos);
}

TEST(TerminalCall, AnErrorForSomethingElseIsRecordedButDoesNotEndTheCall) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  auto actions =
      call.OnServerMessage(Msg(p::ErrorMessage{"bad_message", "whatever", "ping-3", "ts"}));
  EXPECT_TRUE(actions.empty());
  EXPECT_EQ(call.state(), CallState::kInCall);
  EXPECT_EQ(call.snapshot().server_errors, 1u);
  EXPECT_EQ(call.snapshot().last_error, "bad_message: whatever");
}

TEST(TerminalCall, AnOfferRefusalFailsWithTheServersCode) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnServerMessage(Msg(Joined("80000001")));
  call.OnLocalPrepared(Description(40000));
  auto actions = call.OnServerMessage(
      Msg(p::ErrorMessage{"media_unavailable", "no media engine", "offer-1", "sdp"}));
  const auto* failed = Find<CallFailed>(actions);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error.code, "media_unavailable");
}

TEST(TerminalCall, AResumedSeatIsRenegotiatedWithANewOffer) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  call.OnDisconnected();
  EXPECT_FALSE(call.snapshot().connected);
  EXPECT_TRUE(call.OnServerMessage(Msg(Registered(/*resumed=*/true))).empty());
  auto actions = call.OnServerMessage(Msg(Joined("80000001", /*resumed=*/true)));
  ASSERT_TRUE(Find<PrepareLocal>(actions));
  auto offered = call.OnLocalPrepared(Description(40000));
  ASSERT_TRUE(Sent(offered));
  EXPECT_EQ(Sent(offered)->id, "offer-2");
  auto answer = call.OnServerMessage(
      Msg(p::Answer{negotiation::sdp::FormatSdes(Description(50002)), "offer-2"}));
  const auto* start = Find<StartMedia>(answer);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->generation, 2);
  EXPECT_EQ(call.snapshot().resumes, 1u);
  EXPECT_TRUE(call.snapshot().connected);
}

TEST(TerminalCall, ASessionLostDuringTheDropJoinsAgain) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  call.OnDisconnected();
  auto actions = call.OnServerMessage(Msg(Registered(/*resumed=*/false)));
  const auto* sent = Sent(actions);
  ASSERT_TRUE(sent);
  EXPECT_EQ(std::get<p::Join>(sent->body).conference, "80000001");
  EXPECT_EQ(sent->id, "join-2");
  EXPECT_EQ(call.snapshot().rejoins, 1u);
}

TEST(TerminalCall, AJoinLostInTheDropIsSentAgainAfterTheResume) {
  TerminalCall call(CallConfig{"80000001"});
  call.OnServerMessage(Msg(Registered()));
  call.OnDisconnected();
  auto actions = call.OnServerMessage(Msg(Registered(/*resumed=*/true)));
  ASSERT_TRUE(Sent(actions));
  EXPECT_TRUE(std::holds_alternative<p::Join>(Sent(actions)->body));
}

TEST(TerminalCall, EndedFinishesTheCall) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  auto actions = call.OnServerMessage(Msg(p::Ended{"80000001", 1, "time"}));
  const auto* ended = Find<CallEnded>(actions);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->reason, "time");
  EXPECT_EQ(call.state(), CallState::kEnded);
  EXPECT_TRUE(call.OnServerMessage(Msg(Registered())).empty());
}

TEST(TerminalCall, AnotherConferencesEndIsNotOurs) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  EXPECT_TRUE(call.OnServerMessage(Msg(p::Ended{"80000002", 2, "time"})).empty());
  EXPECT_EQ(call.state(), CallState::kInCall);
}

TEST(TerminalCall, LayoutSpeakerMuteAndPresenceAreTracked) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  call.OnServerMessage(Msg(p::Layout{
      "80000001", "2", {p::Tile{"datong", 0, 0, 0.5, 1}, p::Tile{"minhe", 0.5, 0, 0.5, 1}}}));
  call.OnServerMessage(Msg(p::Speaker{"80000001", "minhe"}));
  call.OnServerMessage(Msg(p::Muted{"80000001", "minhe", true}));
  call.OnServerMessage(
      Msg(p::ParticipantEvent{"80000001", "joined", p::Participant{"minhe", "民和县", 2, true}}));
  call.OnServerMessage(
      Msg(p::ParticipantEvent{"80000001", "away", p::Participant{"minhe", "民和县", 2, false}}));
  const auto& s = call.snapshot();
  EXPECT_EQ(s.layout, "2");
  ASSERT_EQ(s.tiles.size(), 2u);
  EXPECT_EQ(s.tiles[1].venue, "minhe");
  EXPECT_DOUBLE_EQ(s.tiles[1].x, 0.5);
  EXPECT_EQ(s.speaker, "minhe");
  EXPECT_EQ(s.muted.count("minhe"), 1u);
  ASSERT_EQ(s.participants.count("minhe"), 1u);
  EXPECT_FALSE(s.participants.at("minhe").connected);
  call.OnServerMessage(
      Msg(p::ParticipantEvent{"80000001", "left", p::Participant{"minhe", "民和县", 2, false}}));
  EXPECT_EQ(call.snapshot().participants.count("minhe"), 0u);
}

TEST(TerminalCall, RaisedHandsAreRecordedOnTheParticipantsAndChangeNothingElse) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  const auto generation = call.snapshot().generation;
  call.OnServerMessage(Msg(
      p::ParticipantEvent{"80000001", "joined", p::Participant{"minhe", "民和县", 2, true, true}}));
  EXPECT_TRUE(call.snapshot().participants.at("minhe").hand);
  EXPECT_TRUE(call.OnServerMessage(Msg(p::HandEvent{"80000001", "datong", true})).empty());
  EXPECT_TRUE(call.snapshot().participants.at("datong").hand);
  EXPECT_TRUE(call.OnServerMessage(Msg(p::HandEvent{"80000001", "minhe", false})).empty());
  EXPECT_FALSE(call.snapshot().participants.at("minhe").hand);
  // Another conference's hands and unknown venues are ignored.
  EXPECT_TRUE(call.OnServerMessage(Msg(p::HandEvent{"80000002", "datong", false})).empty());
  EXPECT_TRUE(call.OnServerMessage(Msg(p::HandEvent{"80000001", "ledu", true})).empty());
  EXPECT_TRUE(call.snapshot().participants.at("datong").hand);
  EXPECT_EQ(call.snapshot().participants.count("ledu"), 0u);
  EXPECT_EQ(call.state(), CallState::kInCall);
  EXPECT_EQ(call.snapshot().generation, generation);
}

TEST(TerminalCall, AServerOfferIsAnsweredAndRestartsMedia) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  auto server = Description(50010);
  server.SetDirection(negotiation::sdp::Direction::kSendOnly);
  auto actions = call.OnServerMessage(Msg(p::Offer{negotiation::sdp::FormatSdes(server), nullptr}));
  const auto* prepare = Find<PrepareLocal>(actions);
  ASSERT_TRUE(prepare);
  ASSERT_TRUE(prepare->remote_offer);
  auto answered = call.OnLocalPrepared(Description(40000));
  const auto* sent = Sent(answered);
  ASSERT_TRUE(sent);
  auto answer = negotiation::sdp::ParseSdes(std::get<p::Answer>(sent->body).sdp);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->video_direction, negotiation::sdp::Direction::kRecvOnly);
  EXPECT_EQ(answer->audio_direction, negotiation::sdp::Direction::kRecvOnly);
  const auto* start = Find<StartMedia>(answered);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->generation, 2);
  EXPECT_EQ(start->remote.port, 50010);
}

TEST(TerminalCall, LeaveSaysLeaveAndEnds) {
  TerminalCall call(CallConfig{"80000001"});
  InCall(call);
  auto actions = call.Leave();
  ASSERT_TRUE(Sent(actions));
  EXPECT_TRUE(std::holds_alternative<p::Leave>(Sent(actions)->body));
  ASSERT_TRUE(Find<CallEnded>(actions));
  EXPECT_EQ(call.state(), CallState::kEnded);
}

}  // namespace
}  // namespace plateau::terminal::client
