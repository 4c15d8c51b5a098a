// signaling_bench: does starting meetings stall the listener? (issue 9, item 4)
//
// An in-process `plateau serve` (the real HttpServer, Switchboard, ConferenceMedia and
// BookingService on SQLite, the Qinghai network) with --threads listener threads. Venues of one
// meeting are seated; a probe measures, every 20 ms, `GET /healthz` on a keep-alive connection and
// a WebSocket `ping` -> `pong` of a seated venue. Then, per round, 5 other meetings start at once:
// one venue of each sends its first SDES offer (each starts an engine conference: GStreamer
// pipelines, OpenH264 encoders), the answers come back, the conferences are ended, the venues
// rejoin. Probes while meetings start ("start") are compared with probes while nothing happens
// ("idle"), both in the same run, in two modes:
//   listener: the media calls run on a listener thread (as before the fix: what the Switchboard did
//             when a listener thread delivered the offer; emulated by posting each call onto the
//             listener's io_context and waiting for it);
//   executor: as built (the Switchboard's own media executor thread).
//
//   build/bench/signaling/signaling_bench --threads 1 --rounds 5 [--json]
// Figures: docs/bench.md. A benchmark, never a test: nothing here asserts a time.
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "plateau/common/base64.hpp"
#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"
#include "plateau/listener/server.hpp"
#include "plateau/negotiation/conference/conference_media.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "plateau/signaling/scheduler_binding.hpp"
#include "plateau/signaling/switchboard.hpp"
#include "ws_client.hpp"

namespace {

namespace asio = boost::asio;
namespace sig = plateau::signaling;
namespace listener = plateau::listener;
namespace sch = plateau::scheduler;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Figures {
  std::vector<double> healthz, ping;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

json Summary(const std::vector<double>& v) {
  return {{"n", v.size()},
          {"p50_ms", Percentile(v, 0.5)},
          {"p99_ms", Percentile(v, 0.99)},
          {"max_ms", v.empty() ? NAN : *std::max_element(v.begin(), v.end())}};
}

// Runs each negotiator call on a listener thread (posted onto the io_context; the caller waits):
// the listener thread is busy for the whole call, as it was when the Switchboard ran media calls
// on the thread that delivered the message.
class OnListenerThread final : public sig::MediaNegotiator {
 public:
  OnListenerThread(sig::MediaNegotiator& inner, asio::io_context& io) : inner_(inner), io_(io) {}
  void Attach(sig::MediaEvents* events) override { inner_.Attach(events); }
  void ConferenceOpened(const sig::Meeting& m) override {
    Run([&] { inner_.ConferenceOpened(m); });
  }
  void ConferenceEnded(const sig::Meeting& m) override {
    Run([&] { inner_.ConferenceEnded(m); });
  }
  void Offer(const sig::MediaSeat& s, std::string sdp, AnswerCallback done) override {
    Run([&] { inner_.Offer(s, std::move(sdp), std::move(done)); });
  }
  plateau::Status Answer(const sig::MediaSeat& s, std::string sdp) override {
    plateau::Status st = plateau::Status::Ok();
    Run([&] { st = inner_.Answer(s, std::move(sdp)); });
    return st;
  }
  plateau::Status Candidate(const sig::MediaSeat& s,
                            std::optional<sig::protocol::IceCandidate> c) override {
    plateau::Status st = plateau::Status::Ok();
    Run([&] { st = inner_.Candidate(s, std::move(c)); });
    return st;
  }
  void SeatHeld(const sig::MediaSeat& s) override {
    Run([&] { inner_.SeatHeld(s); });
  }
  void SeatReleased(const sig::MediaSeat& s) override {
    Run([&] { inner_.SeatReleased(s); });
  }

 private:
  template <typename F>
  void Run(F&& f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  sig::MediaNegotiator& inner_;
  asio::io_context& io_;
};

std::string RandomKeyBase64() {  // 30 bytes (AES_CM_128 key || salt)
  std::array<uint8_t, 30> key{};
  plateau::random::Bytes(key);
  return plateau::base64::Encode(key);
}

std::string SdesOffer(uint16_t port) {
  const std::string key = RandomKeyBase64();
  std::string s =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "a=group:BUNDLE 0 1\r\n";
  s += "m=video " + std::to_string(port) +
       " RTP/SAVP 96\r\na=mid:0\r\na=rtpmap:96 H264/90000\r\n"
       "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\na=rtcp-mux\r\n"
       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
       key + "\r\na=sendrecv\r\n";
  s += "m=audio " + std::to_string(port) +
       " RTP/SAVP 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-mux\r\n"
       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
       key + "\r\na=sendrecv\r\n";
  return s;
}

// GET /healthz on one keep-alive connection; the latency of each request.
class HealthProbe {
 public:
  explicit HealthProbe(uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  double Get() {
    const auto t0 = Clock::now();
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    asio::write(socket_, asio::buffer(req));
    const size_t head = asio::read_until(socket_, buf_, "\r\n\r\n");
    std::string headers(asio::buffers_begin(buf_.data()),
                        asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(head));
    buf_.consume(head);
    size_t length = 0;
    if (auto at = headers.find("Content-Length: "); at != std::string::npos)
      length = std::stoul(headers.substr(at + 16));
    if (buf_.size() < length)
      asio::read(socket_, buf_, asio::transfer_exactly(length - buf_.size()));
    buf_.consume(length);
    return Ms(Clock::now() - t0);
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  asio::streambuf buf_;
};

struct Options {
  std::string config;
  int threads = 2;
  int rounds = 5;
  int meetings = 5;
  double idle_seconds = 3;
  bool json_out = false;
};

// Every venue that takes part: the seated meeting's and one pair per starting meeting.
const std::vector<std::string> kSeated = {"finance", "public-security", "education",
                                          "civil-affairs"};
const std::vector<std::vector<std::string>> kStarting = {
    {"pingan", "minhe"}, {"menyuan", "qilian"},     {"tongren", "jainca"}, {"gonghe", "tongde"},
    {"maqin", "baima"},  {"yushu-county", "zadoi"}, {"delingha", "golmud"}};

std::unique_ptr<plateau::testing::WsClient> Seat(uint16_t port, const std::string& venue,
                                                 const std::string& token, int64_t booking) {
  std::string error;
  auto c = plateau::testing::WsClient::Connect(port, &error);
  if (!c) throw std::runtime_error("connect: " + error);
  c->SendJson({{"type", "hello"}, {"venue", venue}, {"token", token}});
  if (!c->WaitFor("registered", 10s)) throw std::runtime_error(venue + ": no registered");
  c->SendJson({{"type", "join"}, {"booking", booking}});
  if (!c->WaitFor("joined", 10s)) throw std::runtime_error(venue + ": no joined");
  return c;
}

json RunMode(const std::string& mode, const Options& o, sch::app::BookingService& bookings,
             const std::map<std::string, std::string>& tokens, int64_t seated_booking,
             const std::vector<int64_t>& starting_bookings) {
  // This mode's server counts here (a fresh registry per mode); declared before the io_context.
  plateau::metrics::Registry registry;
  asio::io_context io;
  listener::Router router;
  router.Add("GET", "/healthz", [](const listener::HttpRequest&) {
    return listener::HttpResponse::Json(200, {{"status", "ok"}});
  });
  listener::HttpServer server(io, router, registry);
  const plateau::Clock& clock = plateau::SystemClock::Instance();
  sig::BookingVenueAuthenticator auth(bookings);
  sig::BookingConferenceDirectory directory(bookings);
  sig::AdmittedVenues admitted;
  plateau::negotiation::conference::ConferenceMediaConfig mc;
  for (const auto& p : bookings.network().profiles())
    mc.profiles.push_back({p.id, p.width, p.height, p.video_kbps, p.audio_kbps});
  auto media = plateau::negotiation::conference::ConferenceMedia::Create(mc, registry);
  if (!media) throw std::runtime_error(media.error().message);
  OnListenerThread on_listener(**media, io);
  sig::MediaNegotiator& negotiator =
      mode == "listener" ? static_cast<sig::MediaNegotiator&>(on_listener) : **media;
  auto board = std::make_shared<sig::Switchboard>(sig::SwitchboardSettings{}, clock, registry, auth,
                                                  directory, negotiator, admitted);
  board->Start();
  server.SetWebSocketEndpoint("/ws", board);
  listener::PeriodicTimer ticker(io, 500ms, [&board] { board->Tick(); });
  if (auto st = server.Listen("127.0.0.1:0"); !st) throw std::runtime_error(st.error().message);
  const uint16_t port = server.port();
  std::vector<std::thread> listeners;
  for (int i = 0; i < o.threads; ++i) listeners.emplace_back([&io] { io.run(); });

  std::vector<std::unique_ptr<plateau::testing::WsClient>> seated;
  for (const auto& v : kSeated) seated.push_back(Seat(port, v, tokens.at(v), seated_booking));
  std::vector<std::unique_ptr<plateau::testing::WsClient>> starters;
  for (int i = 0; i < o.meetings; ++i) {
    const std::string& v = kStarting[static_cast<size_t>(i)][0];
    starters.push_back(Seat(port, v, tokens.at(v), starting_bookings[static_cast<size_t>(i)]));
  }

  // The probe: /healthz and a seated venue's ping, every 20 ms, into the current phase's figures.
  std::mutex mu;
  std::map<std::string, Figures> figures;
  std::string phase = "idle";
  std::atomic<bool> stop{false};
  std::thread probe([&] {
    HealthProbe health(port);
    int64_t n = 0;
    while (!stop) {
      std::string ph;
      {
        std::lock_guard lock(mu);
        ph = phase;
      }
      const double h = health.Get();
      auto& ws = *seated[static_cast<size_t>(n) % seated.size()];
      const auto t0 = Clock::now();
      ws.SendJson({{"type", "ping"}, {"ts", ++n}});
      double p = NAN;
      while (auto m = ws.WaitFor("pong", 30s)) {
        if ((*m)["ts"] == n) {
          p = Ms(Clock::now() - t0);
          break;
        }
      }
      if (!ph.empty()) {
        std::lock_guard lock(mu);
        figures[ph].healthz.push_back(h);
        if (!std::isnan(p)) figures[ph].ping.push_back(p);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  auto set_phase = [&](std::string p) {
    std::lock_guard lock(mu);
    phase = std::move(p);
  };

  std::vector<double> answers;  // offer sent -> answer received, per meeting
  std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
  for (int round = 0; round < o.rounds; ++round) {
    set_phase("start");
    const auto t0 = Clock::now();
    for (auto& s : starters) s->SendJson({{"type", "offer"}, {"sdp", SdesOffer(40000)}});
    for (auto& s : starters) {
      if (!s->WaitFor("answer", 60s)) throw std::runtime_error("no answer");
      answers.push_back(Ms(Clock::now() - t0));
    }
    set_phase("");
    // End the conferences (the engine's go with them) and seat the venues again for the next
    // round; then measure idle again.
    for (int i = 0; i < o.meetings; ++i)
      board->EndConference(starting_bookings[static_cast<size_t>(i)], "operator");
    for (auto& s : starters)
      if (!s->WaitFor("ended", 30s)) throw std::runtime_error("no ended");
    board->WaitForMedia();
    for (int i = 0; i < o.meetings; ++i) {
      starters[static_cast<size_t>(i)]->SendJson(
          {{"type", "join"}, {"booking", starting_bookings[static_cast<size_t>(i)]}});
      if (!starters[static_cast<size_t>(i)]->WaitFor("joined", 30s))
        throw std::runtime_error("no joined again");
    }
    set_phase("idle");
    std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
  }
  stop = true;
  probe.join();
  seated.clear();
  starters.clear();
  board->Stop();  // first: in "listener" mode a media call waits for the io_context
  ticker.Stop();
  server.Stop();
  io.stop();
  for (auto& t : listeners) t.join();

  json out = {{"mode", mode}, {"threads", o.threads}, {"answer", Summary(answers)}};
  for (const auto& [ph, f] : figures)
    out[ph] = {{"healthz", Summary(f.healthz)}, {"ws_ping", Summary(f.ping)}};
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.config = "configs/qinghai.toml";  // run from the source root, like scripts/bench.sh
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "signaling_bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads")
      o.threads = std::stoi(next());
    else if (a == "--rounds")
      o.rounds = std::stoi(next());
    else if (a == "--meetings")
      o.meetings = std::stoi(next());
    else if (a == "--idle-seconds")
      o.idle_seconds = std::stod(next());
    else if (a == "--config")
      o.config = next();
    else if (a == "--json")
      o.json_out = true;
    else {
      std::cerr << "usage: signaling_bench [--threads N] [--rounds N] [--meetings 1..7] "
                   "[--idle-seconds S] [--config FILE] [--json]\n";
      return 2;
    }
  }
  if (o.meetings < 1 || o.meetings > static_cast<int>(kStarting.size()) || o.threads < 1) {
    std::cerr << "signaling_bench: --meetings 1.." << kStarting.size() << ", --threads >= 1\n";
    return 2;
  }
  plateau::log::SetLevel(plateau::log::Level::kWarn);
  auto config = plateau::scheduler::config::LoadFile(o.config);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 2;
  }
  auto network = plateau::scheduler::config::BuildNetwork(*config);
  if (!network) {
    std::cerr << network.error().message << "\n";
    return 2;
  }
  char dir_template[] = "/tmp/plateau-signaling-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) return 1;
  int rc = 0;
  try {
    auto store = sch::store::SqliteBookingStore::Open(std::string(dir) + "/plateau.db");
    if (!store) throw std::runtime_error(store.error().message);
    plateau::metrics::Registry booking_metrics;  // not rendered
    sch::app::BookingService bookings(*network, **store, plateau::SystemClock::Instance(),
                                      booking_metrics);
    std::map<std::string, std::string> tokens;
    auto book = [&](std::vector<std::string> venues) {
      sch::BookingRequest q;
      q.title = "bench";
      q.organiser = "bench";
      q.region = "hub";
      q.start = bookings.Now() + 120;  // open now (15-minute set-up buffer)
      q.end = q.start + 3600;
      q.venues = std::move(venues);
      q.main_venue = q.venues.front();
      q.profile = "sd-1m";
      q.priority = sch::Priority::kProvincial;
      auto b = bookings.Create(q);
      if (!b) throw std::runtime_error("booking: " + b.error().message);
      for (const auto& v : q.venues) tokens[v] = *bookings.IssueVenueToken(v);
      return b->booking.id;
    };
    const int64_t seated = book(kSeated);
    std::vector<int64_t> starting;
    for (int i = 0; i < o.meetings; ++i)
      starting.push_back(book(kStarting[static_cast<size_t>(i)]));

    json results = json::array();
    for (const std::string mode : {"listener", "executor"}) {
      results.push_back(RunMode(mode, o, bookings, tokens, seated, starting));
    }
    if (o.json_out) {
      std::cout << results.dump(2) << "\n";
    } else {
      std::printf("%d meetings start at once, %d rounds, %d listener thread(s); ms\n", o.meetings,
                  o.rounds, o.threads);
      std::printf("%-9s %-6s %26s %26s\n", "media on", "phase", "/healthz p50 / p99 / max",
                  "ws ping p50 / p99 / max");
      for (const auto& r : results) {
        for (const char* ph : {"idle", "start"}) {
          if (!r.contains(ph)) continue;
          auto f = [&](const char* what, const char* k) { return r[ph][what][k].get<double>(); };
          std::printf("%-9s %-6s %10.1f %7.1f %7.1f %10.1f %7.1f %7.1f\n",
                      r["mode"].get<std::string>().c_str(), ph, f("healthz", "p50_ms"),
                      f("healthz", "p99_ms"), f("healthz", "max_ms"), f("ws_ping", "p50_ms"),
                      f("ws_ping", "p99_ms"), f("ws_ping", "max_ms"));
        }
        std::printf("%-9s answers: p50 %.0f ms, max %.0f ms after the offers\n",
                    r["mode"].get<std::string>().c_str(), r["answer"]["p50_ms"].get<double>(),
                    r["answer"]["max_ms"].get<double>());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "signaling_bench: " << e.what() << "\n";
    rc = 1;
  }
  std::filesystem::remove_all(dir);
  return rc;
}
