// Load: all 65 Qinghai venues join one conference on loopback, each sending pre-encoded H.264 +
// Opus (one ReplayHub, one clip encoded once) and receiving the mix without decoding it. The
// terminals are in-process TerminalSessions (the CLI's library) on one io thread; the server is
// the real `plateau serve`. Join time per venue is measured from the WebSocket connect to: hello
// answered (registered), joined, the SDES answer, the first SRTP media packet from the MCU.
// Suite `load` (also run by scripts/test.sh): about 80 s.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fixture.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/terminal/client/terminal_session.hpp"
#include "plateau/terminal/media/replay.hpp"

namespace plateau::testing {
namespace {

namespace sc = plateau::terminal::client;
namespace mt = plateau::terminal::media;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

// CPU seconds (user + system) a process has used so far, from /proc (0 if unreadable).
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class TerminalLoad : public ServerFixture {};

TEST_F(TerminalLoad, SixtyFiveVenuesJoinOneConferenceWithinTenSecondsAndStayAMinute) {
  StartServer({"--max-connections-per-address", "100"});  // all 65 come from 127.0.0.1
  const std::vector<std::string> venues = AllVenues(port_);
  ASSERT_EQ(venues.size(), 65u);
  json booking = Book(venues);
  const std::string number = booking["conference_number"];
  ASSERT_FALSE(number.empty()) << booking.dump();

  // One clip, encoded once, replayed by every venue with its own SSRCs.
  mt::ClipConfig clip_config;
  clip_config.color = mt::Rgb{40, 120, 200};
  clip_config.clock = true;
  clip_config.width = 640;
  clip_config.height = 360;
  clip_config.seconds = 2.0;
  clip_config.video_kbps = 600;
  auto clip = mt::EncodedClip::Generate(clip_config);
  ASSERT_TRUE(clip) << clip.error().message;
  mt::ReplayHub hub;

  metrics::Registry registry;  // the terminals' transports count here; outlives the io_context
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  struct Terminal {
    std::shared_ptr<sc::TerminalSession> session;
    std::atomic<uint64_t> replay_id{0};
    std::atomic<bool> finished{false};
  };
  std::vector<std::unique_ptr<Terminal>> terminals;
  for (const auto& venue : venues) {
    auto t = std::make_unique<Terminal>();
    sc::TerminalSessionConfig config;
    config.signaling.url = sc::ServerUrl{false, "127.0.0.1", static_cast<uint16_t>(port_), "/ws"};
    config.signaling.venue = venue;
    config.signaling.token = Token(venue);
    config.call.conference = number;
    sc::TerminalSessionCallbacks cb;
    Terminal* raw = t.get();
    cb.on_keyframe_request = [&hub, raw] { hub.RequestKeyframe(raw->replay_id); };
    cb.on_media = [&hub, raw](int) { hub.RequestKeyframe(raw->replay_id); };
    cb.on_finished = [raw](const std::optional<Error>&) { raw->finished = true; };
    auto session = sc::TerminalSession::Create(io, registry, config, std::move(cb));
    ASSERT_TRUE(session) << session.error().message;
    t->session = *session;
    terminals.push_back(std::move(t));
  }
  for (auto& t : terminals) {
    std::shared_ptr<sc::TerminalSession> s = t->session;
    t->replay_id =
        hub.AddSender(*clip, mt::StreamIds{},
                      [s](mt::MediaKind, std::span<const uint8_t> rtp) { s->SendRtp(rtp); });
  }

  // All 65 connect at once.
  const auto start = Clock::now();
  for (auto& t : terminals) t->session->Start();
  auto all_have_media = [&] {
    for (auto& t : terminals)
      if (t->session->Status().timings.first_media_ms < 0) return false;
    return true;
  };
  while (!all_have_media() && Clock::now() - start < seconds(10))
    std::this_thread::sleep_for(milliseconds(50));
  std::vector<double> registered, joined, answered, media;
  for (size_t i = 0; i < terminals.size(); ++i) {
    const auto st = terminals[i]->session->Status();
    EXPECT_GE(st.timings.first_media_ms, 0)
        << venues[i] << " has no media after 10 s: state " << sc::ToString(st.call.state)
        << (st.failure ? " " + st.failure->message : "");
    if (st.timings.first_media_ms < 0) continue;
    registered.push_back(st.timings.registered_ms);
    joined.push_back(st.timings.joined_ms);
    answered.push_back(st.timings.answer_ms);
    media.push_back(st.timings.first_media_ms);
  }
  ASSERT_EQ(media.size(), 65u);
  json figures;
  for (auto& [name, v] :
       std::vector<std::pair<std::string, std::vector<double>*>>{{"registered", &registered},
                                                                 {"joined", &joined},
                                                                 {"answer", &answered},
                                                                 {"first_media", &media}}) {
    figures[name] = {{"p50_ms", std::round(Percentile(*v, 0.5))},
                     {"p95_ms", std::round(Percentile(*v, 0.95))},
                     {"max_ms", std::round(Percentile(*v, 1.0))}};
    RecordProperty(name + "_p50_ms", static_cast<int>(Percentile(*v, 0.5)));
    RecordProperty(name + "_p95_ms", static_cast<int>(Percentile(*v, 0.95)));
  }
  std::cout << "join times (ms from connect, 65 venues): " << figures.dump() << std::endl;

  // Stay a minute: every venue stays seated and keeps receiving the mix, checked every 10 s.
  const double server_cpu_start = CpuSeconds(server_->pid());
  const double self_cpu_start = CpuSeconds(getpid());
  const auto stay_start = Clock::now();
  std::vector<uint64_t> last(terminals.size());
  for (size_t i = 0; i < terminals.size(); ++i)
    last[i] = terminals[i]->session->Status().rtp_in_total;
  for (int round = 1; round <= 6; ++round) {
    const auto until = Clock::now() + seconds(10);
    while (Clock::now() < until) {
      bool any_finished = false;
      for (auto& t : terminals) any_finished = any_finished || t->finished;
      ASSERT_FALSE(any_finished) << "a terminal left the conference during the minute";
      std::this_thread::sleep_for(milliseconds(200));
    }
    for (size_t i = 0; i < terminals.size(); ++i) {
      const auto st = terminals[i]->session->Status();
      EXPECT_GT(st.rtp_in_total, last[i]) << venues[i] << " received nothing in round " << round;
      EXPECT_EQ(st.call.state, sc::CallState::kInCall) << venues[i];
      EXPECT_EQ(st.signaling.drops, 0u) << venues[i];
      last[i] = st.rtp_in_total;
    }
  }
  uint64_t sent = 0, received = 0;
  for (auto& t : terminals) {
    const auto st = t->session->Status();
    sent += st.rtp_out_total;
    received += st.rtp_in_total;
  }
  const double stay_s = std::chrono::duration<double>(Clock::now() - stay_start).count();
  const double server_cores = (CpuSeconds(server_->pid()) - server_cpu_start) / stay_s;
  const double terminal_cores = (CpuSeconds(getpid()) - self_cpu_start) / stay_s;
  RecordProperty("server_cpu_cores_x100", static_cast<int>(server_cores * 100));
  RecordProperty("terminals_cpu_cores_x100", static_cast<int>(terminal_cores * 100));
  std::cout << "cpu during the minute: server " << server_cores << " cores, 65 terminals "
            << terminal_cores << " cores" << std::endl;
  std::cout << "packets: sent " << sent << ", received " << received << " over "
            << std::chrono::duration_cast<seconds>(Clock::now() - start).count() << " s"
            << std::endl;

  for (auto& t : terminals) hub.RemoveSender(t->replay_id);
  for (auto& t : terminals) t->session->Leave();
  const auto deadline = Clock::now() + seconds(10);
  auto all_finished = [&] {
    for (auto& t : terminals)
      if (!t->finished) return false;
    return true;
  };
  while (!all_finished() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_TRUE(all_finished());
  work.reset();
  io.stop();
  io_thread.join();
  terminals.clear();
}

}  // namespace
}  // namespace plateau::testing
