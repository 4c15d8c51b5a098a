// `plateau terminal` against the real `plateau serve` (and against scripted servers that
// misbehave): refusals, usage errors, TLS, and garbage from the server. Suite `integration`: no
// media flows.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "plateau/signaling/protocol.hpp"
#include "scripted_server.hpp"

namespace plateau::testing {
namespace {

namespace p = signaling::protocol;
using nlohmann::json;
using std::chrono::seconds;

class TerminalCli : public ServerFixture {
 protected:
  RunResult Terminal(std::vector<std::string> args) {
    std::vector<std::string> argv = {PlateauBinary(), "terminal"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  // The TLS server has no plain /healthz: wait for it through the terminal itself (a refused
  // connection fails at once), bounded. Until the server has written its self-signed certificate
  // (atomically, before it listens) a `--ca` pointing at it cannot be read yet: also "not up".
  RunResult TerminalOnceListening(const std::vector<std::string>& args) {
    RunResult r;
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    do {
      r = Terminal(args);
      const bool not_up = r.err.find("cannot connect") != std::string::npos ||
                          r.err.find("cannot read " + Data() + "/tls/") != std::string::npos;
      if (!not_up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }
  static std::vector<std::string> Plus(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
};

TEST_F(TerminalCli, AWrongTokenExitsThreeAndSaysUnauthorized) {
  StartServer();
  Token("datong");
  RunResult r = Terminal({"--server", Url(), "--venue", "datong", "--token", "pvt_wrong",
                          "--conference", "80000001", "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("the server refused hello for venue \"datong\": unauthorized"),
            std::string::npos)
      << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["state"], "failed");
  EXPECT_EQ(report["error"]["code"], "unauthorized");
}

TEST_F(TerminalCli, AVenueNotOnTheBookingExitsThreeNotInvited) {
  StartServer();
  json booking = Book({"datong", "huangzhong"});
  RunResult r = Terminal(Plus(TerminalArgs("huangyuan"),
                              {"--conference", booking["conference_number"], "--seconds", "5"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("not_invited"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, AMeetingNotOpenYetExitsThreeWithTheOpeningTime) {
  StartServer();
  json booking = Book({"datong", "huangzhong"}, 3 * 3600, 4 * 3600);
  RunResult r = Terminal(Plus(TerminalArgs("datong"),
                              {"--conference", booking["conference_number"], "--seconds", "5"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("not_started"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("opens at"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, AnUnknownConferenceExitsThree) {
  StartServer();
  RunResult r =
      Terminal(Plus(TerminalArgs("datong"), {"--conference", "89999999", "--seconds", "5"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("unknown_conference"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, NoServerExitsOneAndNamesTheAddress) {
  const int port = FreePort();
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(port) + "/ws", "--venue",
                          "datong", "--token", "pvt_x", "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect to ws://127.0.0.1:" + std::to_string(port) + "/ws"),
            std::string::npos)
      << r.err;
}

TEST_F(TerminalCli, AnUpgradeToAnotherPathIsNamed) {
  StartServer();
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(port_) + "/nope",
                          "--venue", "datong", "--token", "pvt_x", "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("declined the WebSocket upgrade"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, UsageErrorsExitTwoAndSayWhy) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<std::string> base = {"--venue", "datong", "--token", "pvt_x"};
  for (const Case& c : {
           Case{Plus({"--server", "ftp://h/"}, base), "unsupported scheme"},
           Case{Plus({"--server", "ws://h/", "--sample", "1;2"}, base), "--sample"},
           Case{Plus({"--server", "ws://h/", "--probe-hz", "abc"}, base), "--probe-hz"},
           Case{Plus({"--server", "ws://h/", "--insecure"}, base), "only apply to wss"},
           Case{Plus({"--server", "wss://h/", "--insecure", "--ca", "x.pem"}, base), "contradict"},
           Case{Plus({"--server", "ws://h/", "--color", "purple"}, base), "--color"},
           Case{Plus({"--server", "ws://h/", "--conference", "80a"}, base), "digits"},
           Case{{"--server", "ws://h/", "--venue", "datong"}, "token is needed"},
           Case{Plus({"--server", "ws://h/", "--file-once"}, base), "--file-once needs --file"},
           Case{Plus({"--server", "ws://h/", "--file", "/nonexistent/briefing.mkv"}, base),
                "is not a readable file"},
       }) {
    RunResult r = Terminal(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.says << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

// A --file that is not media fails before the terminal connects anywhere: exit 1, the file named.
TEST_F(TerminalCli, AFileThatIsNotMediaExitsOneBeforeConnecting) {
  const std::string path = Dir() + "/agenda.mp4";
  std::ofstream(path) << "Agenda: 1. budget 2. roads\n";
  // Nothing listens there: a terminal that tried to join would say "cannot connect".
  const std::string url = "ws://127.0.0.1:" + std::to_string(FreePort()) + "/ws";
  RunResult r = Terminal(
      {"--server", url, "--venue", "datong", "--token", "pvt_x", "--file", path, "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("plateau terminal: media file " + path + " cannot be played"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("cannot connect"), std::string::npos) << r.err;
}

// ---- TLS ----

TEST_F(TerminalCli, WssWithTheServersCertificateRegisters) {
  StartServer({"--tls", "on"}, /*wait=*/false);
  const std::string wss = "wss://localhost:" + std::to_string(port_) + "/ws";
  // Registered over wss (the certificate verified against the server's own file), then refused
  // by the join rules: a refusal only a registered venue can get.
  RunResult r = TerminalOnceListening(
      Plus(TerminalArgs("huangyuan", wss),
           {"--ca", Data() + "/tls/cert.pem", "--conference", "89999999", "--seconds", "5"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("unknown_conference"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, WssRefusesAnUntrustedCertificateUnlessInsecure) {
  StartServer({"--tls", "on"}, /*wait=*/false);
  const std::string wss = "wss://localhost:" + std::to_string(port_) + "/ws";
  RunResult r = TerminalOnceListening(
      Plus(TerminalArgs("datong", wss), {"--conference", "89999999", "--seconds", "5"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("certificate is not trusted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--ca"), std::string::npos) << r.err;
  RunResult insecure = Terminal(Plus(TerminalArgs("datong", wss),
                                     {"--insecure", "--conference", "89999999", "--seconds", "5"}));
  EXPECT_EQ(insecure.exit_code, 3) << insecure.err;
  EXPECT_NE(insecure.err.find("unknown_conference"), std::string::npos) << insecure.err;
}

// ---- a server that misbehaves ----

std::string RegisteredText(const std::string& resume_token) {
  return p::Serialize(p::ServerBody{
      p::Registered{"datong", "大通县", "s1", resume_token, 10000, /*resumed=*/false}});
}

std::string JoinedText() {
  return p::Serialize(p::ServerBody{p::Joined{"80000001",
                                              1,
                                              "t",
                                              {p::Participant{"datong", "大通县", 1, true}},
                                              "auto",
                                              1,
                                              "2026-11-25T06:00:00Z",
                                              "2026-11-25T07:00:00Z",
                                              false,
                                              {},
                                              std::nullopt}});
}

std::string TypeOf(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>()
                                                                      : "";
}

TEST_F(TerminalCli, AServerThatDoesNotSpeakThePlateauProtocolIsNamed) {
  ScriptedWsServer server([](int, const std::string&) {
    return std::vector<ScriptedReply>{{"HTTP/1.1 200 OK but not JSON"}};
  });
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws",
                          "--venue", "datong", "--token", "pvt_x", "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("does not speak Plateau signaling v1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad_json"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, GarbageAfterRegistrationIsCountedAndSkipped) {
  ScriptedWsServer server([](int, const std::string& in) {
    const std::string type = TypeOf(in);
    if (type == "hello")
      return std::vector<ScriptedReply>{
          {RegisteredText("r1")},
          {"{not json"},
          {R"({"type":"registered","venue":7})"},
          {R"({"type":"teleport","to":"mars"})"},
          {std::string("\x01\x02\x03", 3), /*binary=*/true},
          {R"({"type":"layout","conference":"80000001","layout":"2x2","tiles":[{"venue":"a","x":"left"}]})"}};
    if (type == "join") return std::vector<ScriptedReply>{{JoinedText()}};
    if (type == "offer") {
      json id = json::parse(in)["id"];
      return std::vector<ScriptedReply>{
          {p::Serialize(p::ServerBody{p::ErrorMessage{"media_unavailable", "no engine", id, ""}})}};
    }
    return std::vector<ScriptedReply>{};
  });
  const std::string stats = Dir() + "/garbage.json";
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws",
                          "--venue", "datong", "--token", "pvt_x", "--conference", "80000001",
                          "--seconds", "10", "--stats-json", stats});
  // The valid messages still drove the call: joined, offered, refused by the (scripted) server.
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("media_unavailable"), std::string::npos) << r.err;
  auto report = ReadReport(stats);
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["signaling"]["bad_messages"], 5) << report->dump();
  EXPECT_EQ((*report)["seat"], 1);
  EXPECT_EQ((*report)["signaling"]["offers"], 1);
}

TEST_F(TerminalCli, AnOversizedMessageDropsTheConnectionAndTheTerminalResumes) {
  ScriptedWsServer server([](int connection, const std::string& in) {
    if (TypeOf(in) != "hello") return std::vector<ScriptedReply>{};
    if (connection == 1)
      return std::vector<ScriptedReply>{{RegisteredText("resume-me-0123456789")},
                                        {std::string(100 * 1024, 'x')}};
    return std::vector<ScriptedReply>{
        {p::Serialize(p::ServerBody{p::ErrorMessage{"unauthorized", "no", "hello-2", ""}})}};
  });
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws",
                          "--venue", "datong", "--token", "pvt_x", "--seconds", "10"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const auto received = server.received();
  ASSERT_GE(received.size(), 2u);
  json second = json::parse(received.back().second);
  EXPECT_EQ(received.back().first, 2);
  EXPECT_EQ(second["type"], "hello");
  EXPECT_EQ(second["resume"], "resume-me-0123456789");
  EXPECT_NE(r.err.find("over 65536 bytes"), std::string::npos) << r.err;
}

TEST_F(TerminalCli, HeartbeatsBothWaysAndSilenceForThreeOfThemIsADeadConnection) {
  ScriptedWsServer server([](int connection, const std::string& in) {
    if (TypeOf(in) != "hello") return std::vector<ScriptedReply>{};
    if (connection == 1)
      return std::vector<ScriptedReply>{
          {p::Serialize(p::ServerBody{
              p::Registered{"datong", "大通县", "s1", "resume-after-silence", 500, false}})},
          {p::Serialize(p::ServerBody{p::Ping{5}})}};
    // Then silence: no pong, nothing. The second connection is refused to end the run.
    return std::vector<ScriptedReply>{
        {p::Serialize(p::ServerBody{p::ErrorMessage{"unauthorized", "no", "hello-2", ""}})}};
  });
  RunResult r = Terminal({"--server", "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws",
                          "--venue", "datong", "--token", "pvt_x", "--seconds", "20"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  int pongs = 0, pings = 0;
  json second_hello;
  for (const auto& [connection, text] : server.received()) {
    json j = json::parse(text);
    if (connection == 1 && j["type"] == "pong" && j["ts"] == 5) ++pongs;
    if (connection == 1 && j["type"] == "ping") ++pings;
    if (connection == 2 && j["type"] == "hello") second_hello = j;
  }
  EXPECT_EQ(pongs, 1);  // the server's ping answered
  EXPECT_GE(pings, 2);  // our own heartbeat every heartbeat_ms
  EXPECT_EQ(second_hello["resume"], "resume-after-silence");
  EXPECT_NE(r.err.find("nothing heard from the server"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plateau::testing
