// Signaling against the real `plateau serve` over loopback, with a real WebSocket client: venue
// tokens from `plateau venue-token`, meetings booked through the REST API.
#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/process.hpp"
#include "support/serve_fixture.hpp"
#include "support/ws_client.hpp"

namespace plateau::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class Signaling : public ServeFixture {
 protected:
  void Start(std::vector<std::string> extra = {}) { StartServer(std::move(extra), /*wait=*/false); }
  void StartPlain() { StartServer(); }

  std::unique_ptr<WsClient> Connect(WsClient::Options options = {}) {
    std::string error;
    auto c = WsClient::Connect(port_, options, &error);
    EXPECT_TRUE(c) << error;
    return c;
  }

  // Connects and registers `venue` with a fresh token.
  std::unique_ptr<WsClient> Registered(const std::string& venue, json* registered = nullptr) {
    auto c = Connect();
    if (!c) return nullptr;
    json r = Hello(*c, venue, Token(venue));
    EXPECT_EQ(r["type"], "registered") << r.dump();
    if (registered) *registered = r;
    return c;
  }

  // The peer keeps being served: ping -> pong.
  static bool StillServed(WsClient& c) {
    c.SendJson({{"type", "ping"}, {"ts", 42}});
    auto pong = c.WaitFor("pong", seconds(5));
    return pong && (*pong)["ts"] == 42;
  }
};

TEST_F(Signaling, HelloWithTheVenueTokenRegisters) {
  StartPlain();
  json r;
  auto c = Registered("datong", &r);
  ASSERT_TRUE(c);
  EXPECT_EQ(r["venue"], "datong");
  EXPECT_EQ(r["name"], "大通县");
  EXPECT_EQ(r["resumed"], false);
  EXPECT_EQ(r["protocol"], 1);
  EXPECT_GE(r["resume_token"].get<std::string>().size(), 32u);
  EXPECT_GT(r["heartbeat_ms"].get<int>(), 0);
}

TEST_F(Signaling, WrongTokenIsUnauthorizedAndRepeatedFailuresClose) {
  StartPlain();
  IssueToken("datong");
  auto c = Connect();
  ASSERT_TRUE(c);
  for (int i = 0; i < 3; ++i) {
    json r = Hello(*c, "datong", "pvt_not-the-token");
    EXPECT_EQ(r["type"], "error");
    EXPECT_EQ(r["code"], "unauthorized");
    EXPECT_EQ(r["ref"], "hello-1");
  }
  ASSERT_TRUE(c->WaitClosed(seconds(5)));
  EXPECT_EQ(c->close_code(), 1008);
  EXPECT_EQ(c->close_reason(), "too many failed hellos");
  // An unknown venue reads exactly like a wrong token.
  auto d = Connect();
  json r = Hello(*d, "no-such-venue", "pvt_whatever");
  EXPECT_EQ(r["code"], "unauthorized");
}

TEST_F(Signaling, MessagesBeforeHelloAreRefused) {
  StartPlain();
  auto c = Connect();
  c->SendJson({{"type", "join"}, {"id", 7}, {"conference", "80000001"}});
  auto e = c->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "not_registered");
  EXPECT_EQ((*e)["ref"], 7);
}

TEST_F(Signaling, JoinBeforeTheSetUpBufferIsNotStarted) {
  StartPlain();
  json booking = Book({"datong", "huangzhong"}, 3 * 3600, 4 * 3600);
  auto c = Registered("datong");
  c->SendJson({{"type", "join"}, {"id", "j"}, {"conference", booking["conference_number"]}});
  auto e = c->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "not_started");
  EXPECT_EQ((*e)["ref"], "j");
  EXPECT_NE((*e)["message"].get<std::string>().find("opens at"), std::string::npos);
}

TEST_F(Signaling, VenueNotOnTheBookingIsNotInvited) {
  StartPlain();
  json booking = Book({"datong", "huangzhong"}, 60, 3600);
  auto c = Registered("huangyuan");
  c->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  auto e = c->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "not_invited");
}

TEST_F(Signaling, UnknownConferenceIsNamed) {
  StartPlain();
  auto c = Registered("datong");
  c->SendJson({{"type", "join"}, {"conference", "89999999"}});
  auto e = c->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "unknown_conference");
}

TEST_F(Signaling, VenuesJoinABookedMeetingInItsWindowAndSeeEachOther) {
  StartPlain();
  // Starts in 5 minutes: open now thanks to the 15-minute set-up buffer.
  json booking = Book({"datong", "huangzhong"}, 300, 3600);
  const std::string number = booking["conference_number"];
  auto a = Registered("datong");
  auto b = Registered("huangzhong");
  a->SendJson({{"type", "join"}, {"conference", number}});
  auto ja = a->WaitFor("joined", seconds(5));
  ASSERT_TRUE(ja);
  EXPECT_EQ((*ja)["conference"], number);
  EXPECT_EQ((*ja)["booking"], booking["id"]);
  EXPECT_EQ((*ja)["seat"], 1);
  ASSERT_EQ((*ja)["participants"].size(), 1u);

  b->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  auto jb = b->WaitFor("joined", seconds(5));
  ASSERT_TRUE(jb);
  EXPECT_EQ((*jb)["seat"], 2);
  ASSERT_EQ((*jb)["participants"].size(), 2u);
  EXPECT_EQ((*jb)["participants"][0]["venue"], "datong");
  EXPECT_EQ((*jb)["participants"][0]["name"], "大通县");
  EXPECT_EQ((*jb)["participants"][1]["venue"], "huangzhong");

  auto p = a->WaitFor("participant", seconds(5));
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["event"], "joined");
  EXPECT_EQ((*p)["participant"]["venue"], "huangzhong");
  EXPECT_EQ((*p)["participant"]["seat"], 2);

  // Leaving: the leaver gets `left`, the other sees it go.
  b->SendJson({{"type", "leave"}});
  ASSERT_TRUE(b->WaitFor("left", seconds(5)));
  auto gone = a->WaitFor("participant", seconds(5));
  ASSERT_TRUE(gone);
  EXPECT_EQ((*gone)["event"], "left");
}

TEST_F(Signaling, RegisteredVenuesAreInvitedWhenTheirConferenceOpens) {
  StartPlain();
  auto a = Registered("datong");
  json booking = Book({"datong", "huangzhong"}, 120, 3600);
  auto invite = a->WaitFor("invite", seconds(10));
  ASSERT_TRUE(invite);
  EXPECT_EQ((*invite)["conference"], booking["conference_number"]);
  EXPECT_EQ((*invite)["attempt"], 1);
  // A venue registering while the conference is open is invited at once.
  auto b = Registered("huangzhong");
  auto invite_b = b->WaitFor("invite", seconds(5));
  ASSERT_TRUE(invite_b);
  EXPECT_EQ((*invite_b)["booking"], booking["id"]);
}

TEST_F(Signaling, InvalidSdpIsRefusedWithBadSdpAndTheConnectionStays) {
  StartPlain();
  json booking = Book({"datong", "huangzhong"}, 300, 3600);
  auto a = Registered("datong");
  a->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  ASSERT_TRUE(a->WaitFor("joined", seconds(5)));
  a->SendJson({{"type", "offer"}, {"id", "o1"}, {"sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}});
  auto e = a->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "bad_sdp");
  EXPECT_EQ((*e)["ref"], "o1");
  EXPECT_FALSE((*e)["message"].get<std::string>().empty());
  EXPECT_TRUE(StillServed(*a));
}

TEST_F(Signaling, MalformedJsonAndUnknownTypesGetErrorsAndTheConnectionStays) {
  StartPlain();
  auto a = Registered("datong");
  a->Send("{\"type\": \"join\", ");
  auto e1 = a->WaitFor("error", seconds(5));
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["code"], "bad_json");
  a->SendJson({{"type", "teleport"}, {"id", "x1"}});
  auto e2 = a->WaitFor("error", seconds(5));
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["code"], "unknown_type");
  EXPECT_EQ((*e2)["ref"], "x1");
  a->SendJson({{"type", "join"}, {"id", "x2"}, {"conference", true}});
  auto e3 = a->WaitFor("error", seconds(5));
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["code"], "bad_message");
  EXPECT_EQ((*e3)["field"], "conference");
  // A number is what the docs call the conference: accepted (and looked up: none here).
  a->SendJson({{"type", "join"}, {"id", "x3"}, {"conference", 80000999}});
  auto e4 = a->WaitFor("error", seconds(5));
  ASSERT_TRUE(e4);
  EXPECT_EQ((*e4)["code"], "unknown_conference");
  EXPECT_EQ((*e4)["ref"], "x3");
  EXPECT_TRUE(StillServed(*a));
}

// Issue 9.10: the JSON parser stopped at a NUL, so a hello followed by a NUL and garbage
// registered the venue. It is bad_message now, and nothing is registered.
TEST_F(Signaling, AMessageWithBytesAfterItsObjectIsBadMessage) {
  StartPlain();
  auto a = Connect();
  ASSERT_TRUE(a);
  std::string hello =
      json{{"type", "hello"}, {"venue", "datong"}, {"token", Token("datong")}}.dump();
  hello += '\0';
  hello += "garbage";
  a->Send(hello);
  auto e = a->Next(seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error") << e->dump();
  EXPECT_EQ((*e)["code"], "bad_message") << e->dump();
  EXPECT_NE((*e)["message"].get<std::string>().find("NUL byte"), std::string::npos) << e->dump();
  EXPECT_EQ(Hello(*a, "datong", Token("datong"))["type"], "registered");
}

TEST_F(Signaling, FrameOver64KiBClosesWithAReasonAndOthersAreStillServed) {
  StartPlain();
  auto other = Registered("huangzhong");
  auto a = Registered("datong");
  a->Send("{\"type\":\"ping\",\"pad\":\"" + std::string(100 * 1024, 'x') + "\"}");
  ASSERT_TRUE(a->WaitClosed(seconds(10)));
  EXPECT_EQ(a->close_code(), 1009);
  EXPECT_EQ(a->close_reason(), "message larger than 65536 bytes");
  EXPECT_TRUE(StillServed(*other));
  // A message just under the limit is still read (and refused for its unknown member).
  auto b = Connect();
  b->Send("{\"type\":\"ping\",\"pad\":\"" + std::string(60 * 1024, 'x') + "\"}");
  auto e = b->WaitFor("error", seconds(5));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "bad_message");
  EXPECT_EQ((*e)["field"], "pad");
}

TEST_F(Signaling, MessageFloodIsRateLimitedThenClosedAndOthersAreStillServed) {
  StartPlain();
  auto other = Registered("huangzhong");
  auto a = Registered("datong");
  for (int i = 0; i < 500; ++i) a->SendJson({{"type", "ping"}, {"ts", i}});
  auto e = a->WaitFor("error", seconds(10));
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "rate_limited");
  ASSERT_TRUE(a->WaitClosed(seconds(10)));
  EXPECT_EQ(a->close_code(), 1008);
  EXPECT_EQ(a->close_reason(), "message rate limit exceeded");
  EXPECT_TRUE(StillServed(*other));
  // The flood is visible in the metrics.
  HttpReply m = Http(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find("plateau_signaling_errors_total{code=\"rate_limited\"} 1"),
            std::string::npos);
}

TEST_F(Signaling, CutConnectionResumesTheSameSeatWithinFiveSeconds) {
  StartPlain();
  json booking = Book({"datong", "huangzhong"}, 300, 3600);
  json reg;
  auto a = Registered("datong", &reg);
  auto b = Registered("huangzhong");
  a->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  auto ja = a->WaitFor("joined", seconds(5));
  ASSERT_TRUE(ja);
  b->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  ASSERT_TRUE(b->WaitFor("joined", seconds(5)));
  const int seat = (*ja)["seat"];
  // A raised hand reaches the other venue and the sender, and survives the cut.
  a->SendJson({{"type", "hand"}, {"id", "h1"}, {"raised", true}});
  for (auto* v : {a.get(), b.get()}) {
    auto hand = v->WaitFor("hand", seconds(5));
    ASSERT_TRUE(hand);
    EXPECT_EQ((*hand)["venue"], "datong");
    EXPECT_EQ((*hand)["raised"], true);
  }

  a->Cut();
  auto away = b->WaitFor("participant", seconds(5));
  ASSERT_TRUE(away);
  EXPECT_EQ((*away)["event"], "away");
  EXPECT_EQ((*away)["participant"]["connected"], false);

  const auto cut_at = std::chrono::steady_clock::now();
  auto c = Connect();
  ASSERT_TRUE(c);
  json resumed = Hello(*c, "datong", Token("datong"), reg["resume_token"]);
  ASSERT_EQ(resumed["type"], "registered") << resumed.dump();
  EXPECT_EQ(resumed["resumed"], true);
  EXPECT_EQ(resumed["session"], reg["session"]);
  EXPECT_NE(resumed["resume_token"], reg["resume_token"]);  // rotated
  auto rejoined = c->WaitFor("joined", seconds(5));
  ASSERT_TRUE(rejoined);
  const auto took = std::chrono::steady_clock::now() - cut_at;
  EXPECT_LT(took, seconds(5));
  RecordProperty("resume_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(took).count()));
  EXPECT_EQ((*rejoined)["seat"], seat);
  EXPECT_EQ((*rejoined)["resumed"], true);
  bool hand_kept = false;
  for (const auto& p : (*rejoined)["participants"])
    if (p["venue"] == "datong") hand_kept = p["hand"] == true;
  EXPECT_TRUE(hand_kept) << rejoined->dump();
  auto back = b->WaitFor("participant", seconds(5));
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)["event"], "back");
  EXPECT_EQ((*back)["participant"]["seat"], seat);
  EXPECT_EQ((*back)["participant"]["hand"], true);
}

// Signaling only (no media): all 65 venues of the province register and join one conference over
// 65 concurrent connections; every one gets its seat and sees the full roll. The join times
// (hello sent -> joined received) are recorded as properties for docs/signaling.md.
TEST_F(Signaling, AllSixtyFiveVenuesRegisterAndJoinOneConference) {
  // All from 127.0.0.1: above the default of 32 connections per address.
  Start({"--max-connections-per-address", "100"});
  ASSERT_TRUE(WaitHealthy(port_, seconds(20)));
  const std::vector<std::string> venues = plateau::testing::AllVenues(port_);
  ASSERT_EQ(venues.size(), 65u);
  json booking = Book(venues, 300, 3600);
  ASSERT_TRUE(booking.contains("id")) << booking.dump();
  std::vector<std::string> tokens;
  for (const auto& v : venues) tokens.push_back(Token(v));

  std::vector<std::unique_ptr<WsClient>> clients;
  for (size_t i = 0; i < venues.size(); ++i) clients.push_back(Connect());
  std::vector<std::chrono::steady_clock::time_point> sent(venues.size());
  for (size_t i = 0; i < venues.size(); ++i) {
    sent[i] = std::chrono::steady_clock::now();
    clients[i]->SendJson({{"type", "hello"}, {"venue", venues[i]}, {"token", tokens[i]}});
    clients[i]->SendJson({{"type", "join"}, {"booking", booking["id"]}});
  }
  std::vector<double> join_ms;
  std::vector<size_t> roll(venues.size());
  std::set<int> seats;
  for (size_t i = 0; i < venues.size(); ++i) {
    auto j = clients[i]->WaitFor("joined", seconds(10));
    ASSERT_TRUE(j) << venues[i];
    join_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent[i])
            .count());
    seats.insert((*j)["seat"].get<int>());
    roll[i] = (*j)["participants"].size();
  }
  EXPECT_EQ(seats.size(), 65u);
  std::sort(join_ms.begin(), join_ms.end());
  RecordProperty("join_ms_p50", static_cast<int>(join_ms[join_ms.size() / 2]));
  RecordProperty("join_ms_p95", static_cast<int>(join_ms[join_ms.size() * 95 / 100]));
  RecordProperty("join_ms_max", static_cast<int>(join_ms.back()));
  // Presence: the roll at a venue's own join plus the joins it hears about afterwards is everyone.
  for (size_t i = 0; i < clients.size(); ++i) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (roll[i] < 65 && std::chrono::steady_clock::now() < deadline) {
      auto p = clients[i]->WaitFor("participant", milliseconds(500));
      if (p && (*p)["event"] == "joined") ++roll[i];
    }
    EXPECT_EQ(roll[i], 65u) << venues[i];
  }
  HttpReply m = Http(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find("plateau_signaling_venues_connected 65"), std::string::npos);
}

TEST_F(Signaling, PlainServingOnANonLoopbackAddressIsRefused) {
  port_ = FreePort();
  RunResult r = RunCommand({PlateauBinary(), "serve", "--config", Config(), "--data", Data(),
                            "--listen", "0.0.0.0:" + std::to_string(port_), "--tls", "off"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plain http/ws is only allowed on a loopback address"), std::string::npos)
      << r.err;
}

TEST_F(Signaling, WssOnLoopbackWithTheGeneratedSelfSignedCertificate) {
  Start({"--tls", "on"});
  const std::string cert = Data() + "/tls/cert.pem";
  // Ready when https answers (curl trusts exactly the generated certificate).
  const std::string url = "https://localhost:" + std::to_string(port_) + "/healthz";
  const std::string resolve = "localhost:" + std::to_string(port_) + ":127.0.0.1";
  RunResult https;
  for (int i = 0; i < 100; ++i) {
    https =
        RunCommand({"curl", "-sS", "--max-time", "5", "--cacert", cert, "--resolve", resolve, url});
    if (https.exit_code == 0) break;
    std::this_thread::sleep_for(milliseconds(100));  // polling for readiness, not for an assertion
  }
  ASSERT_EQ(https.exit_code, 0) << https.err;
  EXPECT_NE(https.out.find("\"status\":\"ok\""), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(Data() + "/tls/key.pem"));
  EXPECT_EQ(std::filesystem::status(Data() + "/tls/key.pem").permissions() &
                (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  // Plain HTTP to the TLS port is told to use https.
  HttpReply plain = Http(port_, "GET", "/healthz");
  EXPECT_EQ(plain.status, 400);
  EXPECT_NE(plain.body.find("https_required"), std::string::npos);

  WsClient::Options tls;
  tls.tls = true;
  tls.ca_file = cert;
  auto c = Connect(tls);
  ASSERT_TRUE(c);
  json r = Hello(*c, "datong", IssueToken("datong"));
  EXPECT_EQ(r["type"], "registered") << r.dump();
  EXPECT_TRUE(StillServed(*c));
  c.reset();

  // A restart reuses the certificate.
  std::ifstream before(cert);
  const std::string pem((std::istreambuf_iterator<char>(before)), {});
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->Wait(seconds(5)), 0) << ServeLog();
  Start({"--tls", "on"});  // on a new port
  const std::string url2 = "https://localhost:" + std::to_string(port_) + "/healthz";
  const std::string resolve2 = "localhost:" + std::to_string(port_) + ":127.0.0.1";
  for (int i = 0; i < 100; ++i) {
    https = RunCommand(
        {"curl", "-sS", "--max-time", "5", "--cacert", cert, "--resolve", resolve2, url2});
    if (https.exit_code == 0) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(https.exit_code, 0) << https.err << ServeLog();
  std::ifstream after(cert);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(after)), {}), pem);
}

TEST_F(Signaling, UpgradeOnAnotherPathIs404) {
  StartPlain();
  WsClient::Options o;
  o.path = "/not-ws";
  std::string error;
  auto c = WsClient::Connect(port_, o, &error);
  EXPECT_FALSE(c);
  EXPECT_TRUE(WaitHealthy(port_, seconds(2)));
}

TEST_F(Signaling, MetricsCountConnectionsMessagesAndErrors) {
  StartPlain();
  auto a = Registered("datong");
  a->SendJson({{"type", "teleport"}});
  ASSERT_TRUE(a->WaitFor("error", seconds(5)));
  HttpReply m = Http(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find("plateau_signaling_venues_connected 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("plateau_signaling_messages_total{direction=\"in\",type=\"hello\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("plateau_signaling_errors_total{code=\"unknown_type\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace plateau::testing
