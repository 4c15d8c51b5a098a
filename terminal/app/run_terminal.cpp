#include "plateau/terminal/app/run_terminal.hpp"

#include <signal.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/terminal/client/server_url.hpp"
#include "plateau/terminal/client/terminal_options.hpp"
#include "plateau/terminal/client/terminal_session.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/recorder.hpp"
#include "plateau/terminal/media/sender.hpp"

namespace plateau::terminal::app {
namespace {

namespace sc = plateau::terminal::client;
namespace mt = plateau::terminal::media;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What the command line asked for, checked.
struct TerminalPlan {
  sc::TerminalSessionConfig session;
  mt::SenderConfig sender;
  std::vector<sc::PixelPoint> samples;
  std::vector<double> probes;
  std::string record_dir;
  std::string stats_json;
  std::chrono::milliseconds stats_interval{1000};
  std::optional<std::chrono::milliseconds> duration;
};

// Codes this process decides on its own; any other failure code is the server's refusal.
bool IsLocalFailure(const std::string& code) {
  static const std::set<std::string> local = {
      "connect",    "tls",           "connection_lost", "closed_by_server", "bad_server",
      "bad_answer", "media_refused", "media_bind",      "media_address",    "crypto"};
  return local.count(code) > 0;
}

Result<TerminalPlan> Plan(const TerminalOptions& o) {
  TerminalPlan plan;
  auto url = sc::ParseServerUrl(o.server);
  if (!url) return Error{"usage", "--server: " + url.error().message};
  if (o.insecure && !o.ca.empty())
    return Error{"usage", "--insecure and --ca contradict each other: choose one"};
  if (!url->tls && (o.insecure || !o.ca.empty()))
    return Error{"usage", "--insecure and --ca only apply to wss:// (or https://) servers"};
  auto& sig = plan.session.signaling;
  sig.url = *url;
  sig.venue = o.venue;
  sig.token = o.token;
  if (!o.token_file.empty()) {
    if (!o.token.empty()) return Error{"usage", "give --token or --token-file, not both"};
    std::ifstream in(o.token_file);
    if (!in) return Error{"usage", "cannot read --token-file " + o.token_file};
    std::getline(in, sig.token);
    while (!sig.token.empty() && (sig.token.back() == '\r' || sig.token.back() == ' '))
      sig.token.pop_back();
  }
  if (sig.token.empty()) return Error{"usage", "a venue token is needed: --token or --token-file"};
  sig.tls.insecure = o.insecure;
  sig.tls.ca_file = o.ca;
  if (!o.conference.empty()) {
    if (o.conference.size() > signaling::protocol::kMaxConferenceChars ||
        o.conference.find_first_not_of("0123456789") != std::string::npos)
      return Error{"usage", "--conference must be a conference number (digits)"};
    plan.session.call.conference = o.conference;
  }
  plan.session.media_address = o.media_address;

  mt::SenderConfig& s = plan.sender;
  // With --file, the colour/pattern and the tone are what is sent for a kind the file lacks.
  if (!o.file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.file, ec))
      return Error{"usage", "--file " + o.file + " is not a readable file"};
    s.file = o.file;
    s.loop = !o.file_once;
  } else if (o.file_once) {
    return Error{"usage", "--file-once needs --file"};
  }
  if (!o.pattern.empty()) {
    s.pattern = o.pattern;
    s.color.reset();
  } else if (!o.color.empty()) {
    auto rgb = mt::ParseRgb(o.color);
    if (!rgb) return Error{"usage", "--color: " + rgb.error().message};
    s.color = *rgb;
  }
  s.clock = !o.no_clock;
  if (o.tone_hz < 0 || o.tone_hz > 20000)
    return Error{"usage", "--tone must be 0 (silence) .. 20000 Hz"};
  s.tone_hz = !o.file.empty() && !o.tone_given ? 0.0 : o.tone_hz;
  int w = 0, h = 0;
  char x = 0;
  std::istringstream size(o.size);
  if (!(size >> w >> x >> h) || x != 'x' || w < 16 || h < 16 || w > 1920 || h > 1088 || w % 2 ||
      h % 2)
    return Error{"usage", "--size must be WIDTHxHEIGHT, even, 16x16 .. 1920x1088"};
  s.width = w;
  s.height = h;
  if (o.fps < 1 || o.fps > 60) return Error{"usage", "--fps must be 1..60"};
  s.fps = o.fps;
  if (o.video_kbps < 50 || o.video_kbps > 8000)
    return Error{"usage", "--video-kbps must be 50..8000"};
  s.video_kbps = o.video_kbps;

  for (const auto& text : o.samples) {
    auto p = sc::ParsePixelPoint(text);
    if (!p) return Error{"usage", p.error().message};
    plan.samples.push_back(*p);
  }
  if (!o.probe_hz.empty()) {
    auto probes = sc::ParseProbeFrequencies(o.probe_hz);
    if (!probes) return Error{"usage", probes.error().message};
    plan.probes = *probes;
  } else if (s.tone_hz > 0) {
    plan.probes = {s.tone_hz};  // at least say whether we hear ourselves
  }
  if (o.seconds < 0 || o.seconds > 7 * 86400) return Error{"usage", "--seconds must be >= 0"};
  if (o.seconds > 0)
    plan.duration = std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000));
  if (o.stats_interval < 0 || o.stats_interval > 3600)
    return Error{"usage", "--stats-interval must be 0..3600 seconds"};
  plan.stats_interval = std::chrono::milliseconds(static_cast<int64_t>(o.stats_interval * 1000));
  plan.stats_json = o.stats_json;
  plan.record_dir = o.record;
  return plan;
}

json Round(double v, double step = 0.1) {
  return std::round(v / step) * step;
}

// The report (docs/terminal.md, "The stats JSON").
json Report(const TerminalPlan& plan, const sc::TerminalSessionStatus& st,
            const mt::TerminalSender* sender, const mt::TerminalReceiver* receiver,
            const mt::MixRecorder* recorder, double elapsed_s, bool final_report) {
  const auto& call = st.call;
  json r;
  r["venue"] = plan.session.signaling.venue;
  r["name"] = call.venue_name;
  r["server"] = sc::FormatServerUrl(plan.session.signaling.url);
  r["state"] = std::string(sc::ToString(call.state));
  r["final"] = final_report;
  r["elapsed_s"] = Round(elapsed_s);
  r["connected"] = call.connected;
  r["conference"] = call.conference;
  r["booking"] = call.booking;
  r["title"] = call.title;
  r["seat"] = call.seat;
  json participants = json::array();
  for (const auto& [id, p] : call.participants)
    participants.push_back({{"venue", p.venue},
                            {"name", p.name},
                            {"seat", p.seat},
                            {"connected", p.connected},
                            {"hand", p.hand}});
  r["participants"] = participants;
  r["layout"] = call.layout;
  r["speaker"] = call.speaker ? json(*call.speaker) : json(nullptr);
  r["muted"] = call.muted;
  const auto& sig = st.signaling;
  r["signaling"] = {{"connects", sig.connects},
                    {"registrations", sig.registrations},
                    {"resumes", call.resumes},
                    {"rejoins", call.rejoins},
                    {"drops", sig.drops},
                    {"invites", call.invites},
                    {"offers", call.offers},
                    {"answers", call.answers},
                    {"messages_in", sig.messages_in},
                    {"messages_out", sig.messages_out},
                    {"bad_messages", sig.bad_messages},
                    {"rtt_ms", Round(sig.rtt_ms)},
                    {"last_error", call.last_error}};
  r["join"] = {{"registered_ms", Round(st.timings.registered_ms)},
               {"joined_ms", Round(st.timings.joined_ms)},
               {"answer_ms", Round(st.timings.answer_ms)},
               {"first_media_ms", Round(st.timings.first_media_ms)}};
  json media = {{"generation", call.generation},
                {"local", st.media_local},
                {"remote", st.media_remote},
                {"packets_in_total", st.rtp_in_total},
                {"packets_in_generation", st.rtp_in_current},
                {"packets_out_total", st.rtp_out_total},
                {"keyframe_requests", st.keyframe_requests},
                {"last_resume_to_media_ms", Round(st.last_resume_to_media_ms)}};
  if (st.transport) {
    const auto& t = *st.transport;
    media["transport"] = {{"packets_in", t.packets_in},
                          {"bytes_in", t.bytes_in},
                          {"packets_out", t.packets_out},
                          {"bytes_out", t.bytes_out},
                          {"lost", t.lost},
                          {"jitter_ms", Round(t.jitter_ms)},
                          {"rtt_ms", Round(t.rtt_ms)},
                          {"nacks_sent", t.nacks_sent},
                          {"nacks_received", t.nacks_received},
                          {"retransmitted", t.retransmitted},
                          {"plis_received", t.plis_received},
                          {"plis_sent", t.plis_sent},
                          {"dropped_auth", t.dropped_auth},
                          {"dropped_replay", t.dropped_replay},
                          {"dropped_malformed", t.dropped_malformed}};
  }
  r["media"] = media;
  if (sender) {
    const auto s = sender->Stats();
    r["sent"] = {{"video_frames", s.video_frames}, {"video_packets", s.video_packets},
                 {"keyframes", s.keyframes},       {"audio_packets", s.audio_packets},
                 {"file_video", s.file_video},     {"file_audio", s.file_audio},
                 {"file_loops", s.file_loops},     {"file_ended", s.ended}};
  }
  std::shared_ptr<const mt::DecodedFrame> frame;
  if (receiver) {
    const auto v = receiver->Stats();
    frame = receiver->LatestFrame();
    r["video"] = {{"frames_decoded", v.frames_decoded},
                  {"keyframes", v.keyframes},
                  {"width", v.width},
                  {"height", v.height},
                  {"fps", Round(v.fps)},
                  {"packets", v.video_packets}};
    json audio = {{"level_dbov", Round(receiver->AudioLevelDbov(500))},
                  {"samples", v.audio_samples},
                  {"packets", v.audio_packets}};
    json probes = json::array();
    for (double hz : plan.probes)
      probes.push_back({{"hz", hz}, {"dbov", Round(receiver->ToneLevelDbov(hz, 500))}});
    audio["probes"] = probes;
    r["audio"] = audio;
  }
  json tiles = json::array();
  for (const auto& t : call.tiles) {
    json tile = {{"venue", t.venue}, {"x", t.x}, {"y", t.y}, {"w", t.w}, {"h", t.h}};
    if (frame) {
      const int cx = static_cast<int>((t.x + t.w / 2) * frame->width);
      const int cy = static_cast<int>((t.y + t.h / 2) * frame->height);
      const int box =
          std::max(4, static_cast<int>(std::min(t.w * frame->width, t.h * frame->height) / 4));
      tile["px"] = {cx, cy};
      tile["rgb"] = mt::FormatRgb(frame->Average(cx, cy, box));
    }
    tiles.push_back(tile);
  }
  r["tiles"] = tiles;
  json samples = json::array();
  for (const auto& p : plan.samples) {
    json sample = {{"x", p.x}, {"y", p.y}};
    if (frame) sample["rgb"] = mt::FormatRgb(frame->Average(p.x, p.y, 8));
    samples.push_back(sample);
  }
  r["samples"] = samples;
  if (recorder) {
    const auto rs = recorder->Stats();
    r["record"] = {{"dir", plan.record_dir},
                   {"file", "mix.mkv"},
                   {"video_packets", rs.video_packets},
                   {"audio_packets", rs.audio_packets},
                   {"bytes", rs.bytes_written}};
  }
  if (st.failure) r["error"] = {{"code", st.failure->code}, {"message", st.failure->message}};
  if (!st.end_reason.empty()) r["end_reason"] = st.end_reason;
  return r;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << text << "\n";
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int RunTerminal(const TerminalOptions& options) {
  auto planned = Plan(options);
  if (!planned) {
    std::cerr << "plateau terminal: " << planned.error().message << "\n";
    return 2;
  }
  TerminalPlan& plan = *planned;
  if (!plan.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(plan.record_dir, ec);
    if (ec) {
      std::cerr << "plateau terminal: cannot create --record " << plan.record_dir << ": "
                << ec.message() << "\n";
      return 2;
    }
  }

  // Receiving side first: packets may arrive as soon as the answer is in.
  mt::ReceiverConfig rc;
  rc.video_payload_type = plan.session.video_payload_type;
  rc.audio_payload_type = plan.session.audio_payload_type;
  auto receiver = mt::TerminalReceiver::Create(rc);
  if (!receiver) {
    std::cerr << "plateau terminal: " << receiver.error().message << "\n";
    return 1;
  }
  std::unique_ptr<mt::MixRecorder> recorder;
  if (!plan.record_dir.empty()) {
    mt::RecorderConfig recfg;
    recfg.path = (std::filesystem::path(plan.record_dir) / "mix.mkv").string();
    recfg.video_payload_type = plan.session.video_payload_type;
    recfg.audio_payload_type = plan.session.audio_payload_type;
    auto rec = mt::MixRecorder::Create(recfg);
    if (!rec) {
      std::cerr << "plateau terminal: --record: " << rec.error().message << "\n";
      return 1;
    }
    recorder = std::move(*rec);
  }

  // The session's transport counts here; nothing renders it (a terminal serves no /metrics).
  // Declared before the io_context, which it must outlive.
  metrics::Registry transport_metrics;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  bool interrupted = false;
  std::optional<Error> failure;

  mt::TerminalReceiver* rx = receiver->get();
  mt::MixRecorder* rec = recorder.get();
  std::shared_ptr<mt::TerminalSender> sender_slot;  // set below; read by on_media/on_keyframe
  std::mutex sender_mu;
  auto with_sender = [&](auto fn) {
    std::lock_guard lock(sender_mu);
    if (sender_slot) fn(*sender_slot);
  };

  sc::TerminalSessionCallbacks callbacks;
  callbacks.on_rtp = [rx, rec](const mcu::rtp::RtpPacket& packet,
                               const mcu::transport::RtpArrival&) {
    rx->PushRtp(packet.data());
    if (rec) rec->PushRtp(packet.data());
  };
  callbacks.on_keyframe_request = [&] {
    with_sender([](mt::TerminalSender& s) { s.RequestKeyframe(); });
  };
  // New keys: the MCU decodes us from the next keyframe, so send one now.
  callbacks.on_media = [&](int) {
    with_sender([](mt::TerminalSender& s) { s.RequestKeyframe(); });
  };
  callbacks.on_finished = [&](const std::optional<Error>& why) {
    std::lock_guard lock(mu);
    finished = true;
    failure = why;
    cv.notify_all();
  };
  auto session =
      sc::TerminalSession::Create(io, transport_metrics, plan.session, std::move(callbacks));
  if (!session) {
    std::cerr << "plateau terminal: " << session.error().message << "\n";
    return session.error().code == "bad_config" ? 2 : 1;
  }
  std::shared_ptr<sc::TerminalSession> s = std::move(*session);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::lock_guard lock(mu);
    interrupted = true;
    cv.notify_all();
  });
  std::thread io_thread([&io] { io.run(); });

  // A media file is read up to its first picture and sound here, before joining: a file that
  // cannot be played fails now (exit 1) rather than in the call.
  auto sender = mt::TerminalSender::Create(
      plan.sender, [s](mt::MediaKind, std::span<const uint8_t> rtp) { s->SendRtp(rtp); });
  if (!sender) {
    std::cerr << "plateau terminal: " << sender.error().message << "\n";
    s->Close();
    work.reset();
    io.stop();
    io_thread.join();
    return 1;
  }
  {
    std::lock_guard lock(sender_mu);
    sender_slot = std::move(*sender);
  }
  const auto started = Clock::now();
  s->Start();
  log::Info("terminal.start", {{"venue", plan.session.signaling.venue},
                               {"server", sc::FormatServerUrl(plan.session.signaling.url)},
                               {"conference", plan.session.call.conference.value_or("")}});

  auto report = [&](bool final_report) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    std::lock_guard lock(sender_mu);
    return Report(plan, s->Status(), sender_slot.get(), rx, rec, elapsed, final_report);
  };
  auto write_stats = [&](const json& r) {
    if (plan.stats_json.empty()) return;
    if (!WriteFileAtomically(plan.stats_json, r.dump()))
      log::Warn("terminal.stats_write_failed", {{"path", plan.stats_json}});
  };

  // Wait for the end: --seconds, a signal, or the session finishing (ended / failed).
  {
    std::unique_lock lock(mu);
    auto next_stats = Clock::now() + plan.stats_interval;
    while (!finished && !interrupted) {
      auto wake = next_stats;
      if (plan.duration) wake = std::min(wake, started + *plan.duration);
      if (plan.stats_interval.count() == 0)
        wake = plan.duration ? started + *plan.duration : Clock::now() + std::chrono::hours(1);
      cv.wait_until(lock, wake);
      if (finished || interrupted) break;
      if (plan.duration && Clock::now() >= started + *plan.duration) break;
      if (plan.stats_interval.count() > 0 && Clock::now() >= next_stats) {
        lock.unlock();
        write_stats(report(false));
        lock.lock();
        next_stats = Clock::now() + plan.stats_interval;
      }
    }
  }
  // What we saw and heard, before leaving changes it.
  json final = report(true);
  bool was_in_call;
  {
    std::unique_lock lock(mu);
    was_in_call = s->Status().call.generation > 0;
    if (!finished) {
      lock.unlock();
      s->Leave();
      lock.lock();
      cv.wait_for(lock, std::chrono::seconds(3), [&] { return finished; });
    }
  }
  {
    std::lock_guard lock(sender_mu);
    sender_slot.reset();  // no more packets into the session
  }
  const auto status = s->Status();
  if (status.failure)
    final["error"] = {{"code", status.failure->code}, {"message", status.failure->message}};
  final["state"] = std::string(sc::ToString(status.call.state));
  if (!status.end_reason.empty()) final["end_reason"] = status.end_reason;
  work.reset();
  s->Close();
  io.stop();
  io_thread.join();
  s.reset();  // released on this thread once the io_context has stopped

  if (recorder) {
    auto st = recorder->Finish();
    if (!st) log::Warn("terminal.record_incomplete", {{"why", st.error().message}});
    if (auto frame = rx->LatestFrame()) {
      auto png =
          mt::WritePng(*frame, (std::filesystem::path(plan.record_dir) / "last.png").string());
      if (!png) log::Warn("terminal.snapshot_failed", {{"why", png.error().message}});
    }
    final["record"]["bytes"] = recorder->Stats().bytes_written;
    final["record"]["snapshot"] = "last.png";
  }
  write_stats(final);
  std::cout << final.dump() << std::endl;

  std::optional<Error> why;
  {
    std::lock_guard lock(mu);
    why = failure;
  }
  if (why && why->code != "closed") {
    std::cerr << "plateau terminal: " << why->message << "\n";
    return IsLocalFailure(why->code) ? 1 : 3;
  }
  if (!was_in_call)
    std::cerr << "plateau terminal: the call never started (state "
              << final["state"].get<std::string>() << ")\n";
  return 0;
}

}  // namespace plateau::terminal::app
