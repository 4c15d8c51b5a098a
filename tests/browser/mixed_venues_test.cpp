// WebRTC and SDES venues in one meeting on one `plateau serve`, joining and leaving in both orders
// for three rounds. The WebRTC venue is docs/examples/webrtc_venue.py (GStreamer's webrtcbin with
// bundle-policy max-bundle, run by /usr/bin/python3), the SDES venue is `plateau terminal`. Both
// decode the mix with their own decoders and report what they see and hear; every round checks it
// by content: each venue sees the other's colour in its tile and hears the other's tone, and the
// venue that stays keeps receiving fresh pictures after the other one has left.
//
// It guards two faults: the server refused every SDES offer ("srtp_init") once a WebRTC leg had
// loaded GStreamer's srtp plugin (libsrtp's kernel is shared per process, see
// docs/media-transport.md), and a max-bundle offer ("m=audio 0 ... a=bundle-only") was refused
// as bad_sdp. Suite `media`.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/terminal_report.hpp"
#include "terminal/app/fixture.hpp"

namespace plateau::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Whether `venue`'s tile in the report shows `want` (within 60 per channel).
bool TileShows(const json& report, const std::string& venue, Rgb want) {
  return ::plateau::testing::TileShows(report, venue, want, 60);
}

constexpr double kHeard = -30.0;  // a mixed tone arrives around -14 dBov
const Rgb kRed{255, 0, 0};        // datong, the SDES venue, 440 Hz
const Rgb kMagenta{255, 0, 255};  // minhe, the WebRTC venue, 660 Hz
constexpr auto kJoin = seconds(45);

// A child process with stdout and stderr in files (exec'd by the shell, so signals reach it).
class Process {
 public:
  Process(const std::string& dir, const std::string& name, const std::vector<std::string>& argv)
      : out_(dir + "/" + name + ".out"), err_(dir + "/" + name + ".err") {
    std::string cmd = "exec";
    for (const auto& a : argv) cmd += " '" + a + "'";
    cmd += " >'" + out_ + "' 2>'" + err_ + "'";
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sh", "-c", cmd});
  }
  // SIGTERM: the venue sends `leave` and exits; returns the exit code (-1 on timeout).
  int Leave() {
    process_->Signal(SIGTERM);
    return process_->Wait(seconds(20));
  }
  bool running() { return process_->running(); }
  std::string Logs() const {
    return "--- stderr:\n" + Slurp(err_) + "\n--- stdout:\n" + Slurp(out_);
  }

 private:
  std::string out_, err_;
  std::unique_ptr<ChildProcess> process_;
};

class MixedVenues : public ServerFixture {
 protected:
  std::unique_ptr<Process> StartWebRtcVenue(const std::string& number, const std::string& report) {
    return std::make_unique<Process>(
        Dir(), "minhe-" + std::to_string(++starts_),
        std::vector<std::string>{
            "/usr/bin/python3", SourceRoot() + "/docs/examples/webrtc_venue.py",
            "--server",         Url(),
            "--venue",          "minhe",
            "--token",          Token("minhe"),
            "--conference",     number,
            "--color",          "#ff00ff",
            "--tone",           "660",
            "--probe-hz",       "440",
            "--probe-hz",       "660",
            "--expect",         "datong=#ff0000",
            "--expect-tone",    "440",
            "--report",         report});
  }
  std::unique_ptr<Process> StartSdesVenue(const std::string& number, const std::string& report) {
    std::vector<std::string> argv = {PlateauBinary(), "terminal"};
    for (const auto& a : TerminalArgs("datong")) argv.push_back(a);
    argv.insert(argv.end(), {"--conference", number, "--color", "#ff0000", "--tone", "440",
                             "--probe-hz", "440,660", "--size", "320x180", "--fps", "15",
                             "--stats-json", report, "--stats-interval", "0.5"});
    return std::make_unique<Process>(Dir(), "datong-" + std::to_string(++starts_), argv);
  }

  // Waits until `pred(report)` holds for the report at `path`; fails with both venues' logs.
  template <typename Pred>
  bool Await(const std::string& what, const std::string& path, Pred pred, Process& a,
             Process* b = nullptr) {
    auto last = WaitForReport(path, pred, kJoin);
    if (last && pred(*last)) return true;
    ADD_FAILURE() << what << "\nlast report of " << path << ": " << (last ? last->dump() : "none")
                  << "\n"
                  << a.Logs() << (b ? "\n" + b->Logs() : "") << "\n--- serve:\n"
                  << ServeLog().substr(ServeLog().size() > 20000 ? ServeLog().size() - 20000 : 0);
    return false;
  }

  int starts_ = 0;
};

TEST_F(MixedVenues, WebRtcAndSdesVenuesJoinAndLeaveInBothOrdersForThreeRounds) {
  StartServer();
  json booking = Book({"datong", "minhe"});
  const std::string number = booking["conference_number"];
  ASSERT_EQ(number.size(), 8u) << booking.dump();

  auto each_sees_the_other = [&](const std::string& sdes_report, const std::string& web_report,
                                 Process& sdes, Process& web) {
    return Await(
               "the SDES venue must see the WebRTC venue's magenta and hear its 660 Hz",
               sdes_report,
               [](const json& r) {
                 return TileShows(r, "minhe", kMagenta) && Probe(r, 660) > kHeard;
               },
               sdes, &web) &&
           Await(
               "the WebRTC venue must see the SDES venue's red and hear its 440 Hz", web_report,
               [](const json& r) {
                 return TileShows(r, "datong", kRed) && Probe(r, 440) > kHeard &&
                        !r["expectations_met_s"].is_null();
               },
               web, &sdes);
  };

  for (int round = 1; round <= 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string tag = std::to_string(round);

    // Order 1: the WebRTC venue first (its leg loads GStreamer's srtp plugin into the server),
    // then the SDES venue; the WebRTC venue leaves while the SDES venue stays.
    {
      const std::string web_report = Dir() + "/minhe-a" + tag + ".json";
      const std::string sdes_report = Dir() + "/datong-a" + tag + ".json";
      auto web = StartWebRtcVenue(number, web_report);
      ASSERT_TRUE(Await(
          "the WebRTC venue alone must receive the mix", web_report,
          [](const json& r) { return FramesDecoded(r) > 10; }, *web));
      auto sdes = StartSdesVenue(number, sdes_report);
      ASSERT_TRUE(each_sees_the_other(sdes_report, web_report, *sdes, *web));
      ASSERT_EQ(web->Leave(), 0) << web->Logs();
      // The WebRTC leg has ended: the live SDES session must carry on (fresh pictures of its own
      // red tile, decoded after the other venue left).
      const int frames_then = FramesDecoded(*ReadReport(sdes_report));
      ASSERT_TRUE(Await(
          "the SDES venue must keep receiving after the WebRTC venue left", sdes_report,
          [&](const json& r) {
            return FramesDecoded(r) > frames_then + 30 && TileShows(r, "datong", kRed);
          },
          *sdes));
      ASSERT_EQ(sdes->Leave(), 0) << sdes->Logs();
    }

    // Order 2: the SDES venue first (after a WebRTC leg has come and gone), then the WebRTC
    // venue; the SDES venue leaves while the WebRTC venue stays.
    {
      const std::string web_report = Dir() + "/minhe-b" + tag + ".json";
      const std::string sdes_report = Dir() + "/datong-b" + tag + ".json";
      auto sdes = StartSdesVenue(number, sdes_report);
      ASSERT_TRUE(Await(
          "the SDES venue alone must receive the mix", sdes_report,
          [](const json& r) { return FramesDecoded(r) > 10 && TileShows(r, "datong", kRed); },
          *sdes));
      auto web = StartWebRtcVenue(number, web_report);
      ASSERT_TRUE(each_sees_the_other(sdes_report, web_report, *sdes, *web));
      ASSERT_EQ(sdes->Leave(), 0) << sdes->Logs();
      const int frames_then = FramesDecoded(*ReadReport(web_report));
      ASSERT_TRUE(Await(
          "the WebRTC venue must keep receiving after the SDES venue left", web_report,
          [&](const json& r) {
            return FramesDecoded(r) > frames_then + 30 && TileShows(r, "minhe", kMagenta);
          },
          *web));
      ASSERT_EQ(web->Leave(), 0) << web->Logs();
    }
  }
  EXPECT_EQ(ServeLog().find("srtp_init"), std::string::npos) << ServeLog();
}

}  // namespace
}  // namespace plateau::testing
