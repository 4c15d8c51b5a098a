// The signaling protocol's strict parser and writer.
#include "plateau/signaling/protocol.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/process.hpp"

namespace plateau::signaling::protocol {
namespace {

using nlohmann::json;

ParseFailure FailClient(const std::string& text) {
  auto p = ParseClientMessage(text);
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? ParseFailure{} : p.failure();
}

TEST(Protocol, HelloIsReadWithItsOptionalMembers) {
  auto p = ParseClientMessage(
      R"({"type":"hello","id":"h1","venue":"datong","token":"pvt_x","resume":"ab12","client":"t/1"})");
  ASSERT_TRUE(p.ok()) << p.failure().message;
  EXPECT_EQ(p.value().id, "h1");
  const auto& h = std::get<Hello>(p.value().body);
  EXPECT_EQ(h.venue, "datong");
  EXPECT_EQ(h.token, "pvt_x");
  EXPECT_EQ(h.resume, "ab12");
  EXPECT_EQ(h.client, "t/1");
}

TEST(Protocol, JoinTakesExactlyOneOfConferenceAndBooking) {
  auto by_number = ParseClientMessage(R"({"type":"join","conference":"80000001"})");
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(std::get<Join>(by_number.value().body).conference, "80000001");
  auto by_id = ParseClientMessage(R"({"type":"join","booking":42})");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(std::get<Join>(by_id.value().body).booking, 42);
  EXPECT_EQ(FailClient(R"({"type":"join"})").field, "conference");
  EXPECT_EQ(FailClient(R"({"type":"join","conference":"1","booking":1})").field, "conference");
}

TEST(Protocol, CandidateNullMarksTheEndOfCandidates) {
  auto end = ParseClientMessage(R"({"type":"candidate","candidate":null})");
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(std::get<Candidate>(end.value().body).candidate.has_value());
  auto one = ParseClientMessage(
      R"({"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}})");
  ASSERT_TRUE(one.ok()) << one.failure().message;
  const auto& c = std::get<Candidate>(one.value().body).candidate;
  ASSERT_TRUE(c);
  EXPECT_EQ(c->sdp_mid, "0");
  EXPECT_EQ(c->sdp_mline_index, 0);
  EXPECT_FALSE(c->username_fragment);
}

TEST(Protocol, HandRaisesOrLowersAndIsStrict) {
  auto up = ParseClientMessage(R"({"type":"hand","id":"h7","raised":true})");
  ASSERT_TRUE(up.ok()) << up.failure().message;
  EXPECT_EQ(up.value().id, "h7");
  EXPECT_TRUE(std::get<Hand>(up.value().body).raised);
  auto down = ParseClientMessage(R"({"type":"hand","raised":false})");
  ASSERT_TRUE(down.ok());
  EXPECT_FALSE(std::get<Hand>(down.value().body).raised);
  EXPECT_EQ(Serialize(ClientBody{Hand{false}}), R"({"raised":false,"type":"hand"})");
  EXPECT_EQ(Serialize(up.value()), R"({"id":"h7","raised":true,"type":"hand"})");
  auto missing = FailClient(R"({"type":"hand","id":3})");
  EXPECT_EQ(missing.code, "bad_message");
  EXPECT_EQ(missing.field, "raised");
  EXPECT_EQ(missing.ref, 3);
  EXPECT_EQ(FailClient(R"({"type":"hand","raised":"yes"})").field, "raised");
  EXPECT_EQ(FailClient(R"({"type":"hand","raised":1})").field, "raised");
  EXPECT_EQ(FailClient(R"({"type":"hand","raised":null})").field, "raised");
  EXPECT_EQ(FailClient(R"({"type":"hand","raised":true,"venue":"datong"})").field, "venue");
  // The server's shape is not a client message.
  EXPECT_EQ(FailClient(Serialize(ServerBody{HandEvent{"80000001", "datong", true}})).field,
            "conference");
}

TEST(Protocol, ServerHandAndParticipantHandAreStrict) {
  auto h = ParseServerMessage(
      R"({"type":"hand","conference":"80000001","venue":"datong","raised":true})");
  ASSERT_TRUE(h.ok()) << h.failure().message;
  const auto& e = std::get<HandEvent>(h.value().body);
  EXPECT_EQ(e.conference, "80000001");
  EXPECT_EQ(e.venue, "datong");
  EXPECT_TRUE(e.raised);
  auto no_venue = ParseServerMessage(R"({"type":"hand","conference":"80000001","raised":true})");
  ASSERT_FALSE(no_venue.ok());
  EXPECT_EQ(no_venue.failure().field, "venue");
  auto no_hand = ParseServerMessage(
      R"({"type":"participant","conference":"1","event":"joined","participant":{"venue":"a","name":"n","seat":1,"connected":true}})");
  ASSERT_FALSE(no_hand.ok());
  EXPECT_EQ(no_hand.failure().field, "participant.hand");
  auto with_hand = ParseServerMessage(
      R"({"type":"participant","conference":"1","event":"back","participant":{"venue":"a","name":"n","seat":1,"connected":true,"hand":true}})");
  ASSERT_TRUE(with_hand.ok()) << with_hand.failure().message;
  EXPECT_TRUE(std::get<ParticipantEvent>(with_hand.value().body).participant.hand);
}

TEST(Protocol, MalformedJsonIsBadJson) {
  EXPECT_EQ(FailClient("{\"type\":").code, "bad_json");
  EXPECT_EQ(FailClient("").code, "bad_json");
  EXPECT_EQ(FailClient("\xff\xfe").code, "bad_json");
}

// Issue 9.10: the JSON parser stops at a NUL, so a hello followed by NUL and garbage was accepted.
TEST(Protocol, BytesAfterTheObjectAreBadMessage) {
  std::string hello = R"({"type":"hello","venue":"minhe","token":"t"})";
  ASSERT_TRUE(ParseClientMessage(hello).ok());
  std::string text = hello;
  text += '\0';
  text += "garbage";
  auto f = FailClient(text);
  EXPECT_EQ(f.code, "bad_message");
  EXPECT_NE(f.message.find("NUL byte at offset " + std::to_string(hello.size())), std::string::npos)
      << f.message;
  EXPECT_FALSE(ParseServerMessage(R"({"type":"ping"})" + std::string(1, '\0')).ok());
}

TEST(Protocol, UnknownTypeIsNamedAndKeepsTheRef) {
  auto f = FailClient(R"({"type":"teleport","id":9})");
  EXPECT_EQ(f.code, "unknown_type");
  EXPECT_EQ(f.field, "type");
  EXPECT_EQ(f.ref, 9);
}

// docs/signaling.md calls the conference a number: a JSON number is its digits, and the string of
// digits still works.
TEST(Protocol, JoinTakesTheConferenceAsANumberOrAsDigits) {
  auto n = ParseClientMessage(R"({"type":"join","conference":80000042})");
  ASSERT_TRUE(n.ok()) << n.failure().message;
  EXPECT_EQ(std::get<Join>(n.value().body).conference, "80000042");
  auto s = ParseClientMessage(R"({"type":"join","conference":"80000042"})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<Join>(s.value().body).conference, "80000042");
  EXPECT_EQ(FailClient(R"({"type":"join","conference":8000.5})").field, "conference");
}

TEST(Protocol, WrongTypeMissingAndUnknownMembersNameTheField) {
  auto wrong = FailClient(R"({"type":"join","id":"x","conference":-80000001})");
  EXPECT_EQ(wrong.code, "bad_message");
  EXPECT_EQ(wrong.field, "conference");
  EXPECT_EQ(wrong.ref, "x");
  EXPECT_NE(wrong.message.find("non-negative integer or a string of digits"), std::string::npos);
  EXPECT_NE(FailClient(R"({"type":"join","conference":true})").message.find("must be a string"),
            std::string::npos);
  EXPECT_EQ(FailClient(R"({"type":"hello","venue":"datong"})").field, "token");
  EXPECT_EQ(FailClient(R"({"type":"leave","please":true})").field, "please");
  EXPECT_EQ(
      FailClient(R"({"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":"0"}})").field,
      "candidate.sdpMLineIndex");
}

TEST(Protocol, OversizedStringsAreRefused) {
  const std::string sdp(kMaxSdpBytes + 1, 'v');
  auto f = FailClient(json{{"type", "offer"}, {"sdp", sdp}}.dump());
  EXPECT_EQ(f.field, "sdp");
  EXPECT_NE(f.message.find("longer than"), std::string::npos);
  EXPECT_EQ(
      FailClient(json{{"type", "hello"}, {"venue", std::string(65, 'a')}, {"token", "t"}}.dump())
          .field,
      "venue");
  EXPECT_TRUE(
      ParseClientMessage(json{{"type", "offer"}, {"sdp", std::string(kMaxSdpBytes, 'v')}}.dump())
          .ok());
}

TEST(Protocol, OversizedAndDeepMessagesAreRefusedBeforeParsing) {
  EXPECT_EQ(FailClient(std::string(kMaxMessageBytes + 1, ' ')).code, "too_big");
  // 30,000 nested arrays would be a deep recursion for a naive parser.
  EXPECT_EQ(FailClient(std::string(30000, '[') + std::string(30000, ']')).code, "too_deep");
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseClientMessage(R"({"type":"hello","venue":"a","token":"[[[[[[[[[[[[[[["})").ok());
}

TEST(Protocol, IdIsAStringOrAnInteger) {
  EXPECT_EQ(FailClient(R"({"type":"leave","id":1.5})").field, "id");
  EXPECT_EQ(FailClient(R"({"type":"leave","id":""})").field, "id");
  EXPECT_EQ(FailClient(R"({"type":"leave","id":18446744073709551615})").field, "id");
  EXPECT_TRUE(ParseClientMessage(R"({"type":"leave","id":-3})").ok());
}

TEST(Protocol, ErrorMessageCarriesCodeFieldAndRef) {
  auto f = FailClient(R"({"type":"join","id":"r1","booking":0})");
  const ErrorMessage e = ToErrorMessage(f);
  const json j = ToJson(ServerMessage{nullptr, e});
  EXPECT_EQ(j["type"], "error");
  EXPECT_EQ(j["code"], "bad_message");
  EXPECT_EQ(j["field"], "booking");
  EXPECT_EQ(j["ref"], "r1");
}

TEST(Protocol, EveryServerMessageRoundTrips) {
  const Participant p{"datong", "大通县", 1, true, true};
  const std::vector<ServerBody> bodies = {
      Registered{"datong", "大通县", "s1", "r1", 10000, false},
      Joined{"80000001",
             1,
             "全省会议",
             {p},
             "2x2",
             1,
             "2026-11-25T14:00:00Z",
             "2026-11-25T15:00:00Z",
             true,
             {Tile{"datong", 0, 0, 0.5, 0.5}},
             "datong"},
      Invite{"80000001", 1, "t", "2026-11-25T14:00:00Z", "2026-11-25T15:00:00Z", 2},
      ParticipantEvent{"80000001", "away", p},
      Layout{"80000001", "1+5", {Tile{"datong", 0, 0, 0.5, 0.25}}},
      Speaker{"80000001", "datong"},
      Muted{"80000001", "datong", true},
      HandEvent{"80000001", "datong", true},
      HandEvent{"80000001", "datong", false},
      Ended{"80000001", 1, "operator"},
      Left{"80000001"},
      Offer{"v=0\r\n", nullptr},
      Answer{"v=0\r\n", "o1"},
      Candidate{IceCandidate{"candidate:1", "0", 0, std::nullopt}},
      Candidate{std::nullopt},
      ErrorMessage{"not_started", "later", 5, ""},
      Ping{7},
      Pong{std::nullopt},
  };
  for (const auto& body : bodies) {
    const std::string text = Serialize(body);
    auto back = ParseServerMessage(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.failure().message;
    EXPECT_EQ(TypeName(back.value().body), TypeName(body));
    EXPECT_EQ(Serialize(back.value()), text);
  }
  // The participant's hand survives the trip.
  auto joined = ParseServerMessage(Serialize(bodies[1]));
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(std::get<Joined>(joined.value().body).participants.at(0), p);
}

TEST(Protocol, ClientAndServerDirectionsAreDistinct) {
  EXPECT_EQ(FailClient(Serialize(ServerBody{Left{"1"}})).code, "unknown_type");
  auto p = ParseServerMessage(Serialize(ClientBody{Hello{"a", "t", std::nullopt, std::nullopt}}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.failure().code, "unknown_type");
}

TEST(Protocol, FormatUtcIsRfc3339) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1764079200), "2025-11-25T14:00:00Z");
}

// The corpus shared with tests/signaling/schema_check.py: the parser accepts exactly what the
// JSON Schemas in docs/signaling/schemas accept, and refuses the rest with the expected code and
// field.
TEST(Protocol, AgreesWithTheSchemaCorpus) {
  std::ifstream in(plateau::testing::SourceRoot() + "/tests/signaling/data/messages.jsonl");
  ASSERT_TRUE(in) << "corpus not found";
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    const json row = json::parse(line);
    const std::string text =
        row.contains("raw") ? row["raw"].get<std::string>() : row["msg"].dump();
    const bool client = row["dir"] == "client";
    bool ok;
    ParseFailure f;
    if (client) {
      auto p = ParseClientMessage(text);
      ok = p.ok();
      if (!ok) f = p.failure();
    } else {
      auto p = ParseServerMessage(text);
      ok = p.ok();
      if (!ok) f = p.failure();
    }
    EXPECT_EQ(ok, row["valid"].get<bool>()) << line << "\n" << f.message;
    if (!ok && !row["valid"].get<bool>()) {
      EXPECT_EQ(f.code, row["code"]) << line << "\n" << f.message;
      if (row.contains("field")) {
        EXPECT_EQ(f.field, row["field"]) << line << "\n" << f.message;
      }
    }
  }
  EXPECT_GT(rows, 50);
}

}  // namespace
}  // namespace plateau::signaling::protocol
