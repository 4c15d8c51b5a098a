// A Conference with reference terminals on loopback, each joined the way a real venue is: the
// terminal's own VenueTransport (UDP + SRTP with the SDES keys swapped with the conference's,
// RTCP with NACK/PLI) talks to the conference's port, optionally through the lossy UdpRelay.
//
//   TerminalSender / ReplayHub -> terminal VenueTransport == SRTP/UDP ==> Conference
//   Conference == SRTP/UDP ==> terminal VenueTransport -> TerminalReceiver (avdec_h264, opusdec)
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "plateau/common/metrics.hpp"
#include "plateau/mcu/conference/conference.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/mcu/transport/venue_transport.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/replay.hpp"
#include "plateau/terminal/media/sender.hpp"
#include "support/media/mixer_rig.hpp"
#include "support/shared_slot.hpp"
#include "support/udp_relay.hpp"
#include "support/wait.hpp"

namespace plateau::mcu::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::plateau::testing::WaitUntil;

inline const char* const kNames[] = {"西宁市", "海东市", "海北州", "黄南州", "海南州", "果洛州",
                                     "玉树州", "海西州", "格尔木", "大通县", "湟中区", "湟源县",
                                     "平安区", "乐都区", "民和县", "互助县", "化隆县", "循化县",
                                     "门源县", "祁连县", "德令哈"};

// Small canvas and tiers: the suite runs on 2 shared cores.
inline conference::ConferenceConfig SmallConferenceConfig(const std::string& id) {
  conference::ConferenceConfig c;
  c.id = id;
  c.video = SmallMixerConfig();
  return c;
}

struct TerminalOptions {
  std::string tier;              // conference tier ("" = first)
  bool receive = false;          // decode what the conference sends
  conference::VenueMedia media;  // what its offer says it sends and receives (everything)
  bool audio = true;
  double tone_hz = 440;
  double tone_volume = 0.3;
  int video_kbps = 150;
  std::shared_ptr<const terminal::media::EncodedClip> clip;  // replay instead of a live sender
  std::optional<::plateau::testing::UdpRelayConfig> relay;   // lossy path both ways
};

// One reference terminal joined to the conference.
struct Terminal {
  std::string id;
  terminal::media::Rgb color;
  TerminalOptions options;
  transport::SrtpKey up_key;    // terminal -> MCU
  transport::SrtpKey down_key;  // MCU -> terminal
  conference::VenueMediaInfo info;
  std::unique_ptr<::plateau::testing::UdpRelay> relay;
  plateau::testing::SharedSlot<transport::VenueTransport> transport;  // swapped on reconnect
  std::unique_ptr<terminal::media::TerminalReceiver> receiver;
  std::mutex mu;  // guards sender (keyframe requests arrive on the terminal io thread)
  std::unique_ptr<terminal::media::TerminalSender> sender;
  std::optional<terminal::media::ReplayHub::SenderId> replay_id;
  std::atomic<uint64_t> keyframe_requests{0};
};

class ConferenceRig {
 public:
  explicit ConferenceRig(conference::ConferenceConfig config,
                         conference::ConferenceCallbacks callbacks = {})
      : config_(config),
        work_(asio::make_work_guard(io_)),
        hub_(std::make_unique<terminal::media::ReplayHub>()) {
    thread_ = std::thread([this] { io_.run(); });
    auto c = conference::Conference::Create(std::move(config), metrics_, std::move(callbacks));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (c.ok()) conference_ = std::move(c.value());
  }

  ~ConferenceRig() {
    // Sources first, then the conference (it sends to the terminals), then the terminals.
    for (auto& [id, t] : terminals_) {
      std::lock_guard lock(t->mu);
      t->sender.reset();
      if (t->replay_id) hub_->RemoveSender(*t->replay_id);
      t->replay_id.reset();
    }
    hub_.reset();
    conference_.reset();
    for (auto& [id, t] : terminals_) t->transport.load()->Close();
    work_.reset();
    io_.stop();
    thread_.join();
    terminals_.clear();
  }

  conference::Conference& conference() { return *conference_; }
  // Where the conference (and its transports) count; the terminals count elsewhere.
  metrics::Registry& metrics() { return metrics_; }
  bool ok() const { return conference_ != nullptr; }
  Terminal& terminal(const std::string& id) { return *terminals_.at(id); }
  const conference::ConferenceConfig& config() const { return config_; }
  asio::io_context& io() { return io_; }

  // Adds a venue to the conference and starts its terminal. Fails the test on any error.
  Terminal* Join(const std::string& id, const std::string& name, terminal::media::Rgb color,
                 const TerminalOptions& options = {}) {
    auto t = std::make_unique<Terminal>();
    Terminal* tp = t.get();
    t->id = id;
    t->color = color;
    t->options = options;
    t->up_key = transport::GenerateSrtpKey();
    t->down_key = transport::GenerateSrtpKey();
    conference::SdesEndpoint ep;
    ep.receive_key = t->up_key;
    ep.send_key = t->down_key;
    ep.media = options.media;
    auto info = conference_->AddVenue({id, name, options.tier, false}, ep);
    EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
    if (!info.ok()) return nullptr;
    t->info = *info;
    uint16_t port = info->local->port();
    if (options.relay) {
      t->relay = std::make_unique<::plateau::testing::UdpRelay>(port, *options.relay);
      port = t->relay->port();
    }
    if (options.receive) {
      auto r = terminal::media::TerminalReceiver::Create(
          terminal::media::ReceiverConfig{96, 111, 50, true, 1000});
      EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
      if (!r.ok()) return nullptr;
      t->receiver = std::move(r.value());
    }
    auto tr = MakeTerminalTransport(tp, port);
    if (!tr) return nullptr;
    t->transport.exchange(tr);
    terminals_[id] = std::move(t);

    auto send = [tp](terminal::media::MediaKind, std::span<const uint8_t> rtp) {
      tp->transport.load()->SendRtp(rtp);
    };
    if (options.clip) {
      std::lock_guard lock(tp->mu);
      tp->replay_id = hub_->AddSender(options.clip, {}, send);
    } else {
      terminal::media::SenderConfig sc;
      sc.color = color;
      sc.width = 160;
      sc.height = 90;
      sc.video_kbps = options.video_kbps;
      sc.gop_frames = 1000;  // keyframes only when asked: the conference must ask (PLI)
      sc.audio = options.audio;
      sc.tone_hz = options.tone_hz;
      sc.tone_volume = options.tone_volume;
      auto s = terminal::media::TerminalSender::Create(sc, send);
      EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
      if (!s.ok()) return nullptr;
      std::lock_guard lock(tp->mu);
      tp->sender = std::move(s.value());
    }
    return tp;
  }

  // The venue resumes with fresh SDES keys on a fresh conference port (Conference::ReconnectVenue):
  // the terminal swaps its transport too. Returns the conference's answer.
  Result<conference::VenueMediaInfo> Reconnect(const std::string& id) {
    Terminal* tp = terminals_.at(id).get();
    tp->up_key = transport::GenerateSrtpKey();
    tp->down_key = transport::GenerateSrtpKey();
    conference::SdesEndpoint ep;
    ep.receive_key = tp->up_key;
    ep.send_key = tp->down_key;
    auto info = conference_->ReconnectVenue(id, ep);
    if (!info.ok()) return info;
    tp->info = *info;
    auto tr = MakeTerminalTransport(tp, info->local->port());
    if (!tr) return Error{"test", "terminal transport"};
    auto old = tp->transport.exchange(tr);
    old->Close();
    return info;
  }

  // Venues joined without a terminal of this rig (external carriers) still have a colour.
  void SetColor(const std::string& venue, terminal::media::Rgb color) {
    extra_colors_[venue] = color;
  }
  terminal::media::Rgb ColorOf(const std::string& venue) {
    if (auto it = extra_colors_.find(venue); it != extra_colors_.end()) return it->second;
    return terminals_.at(venue)->color;
  }

  // Waits for a frame at `viewer` that shows the conference's current placements.
  std::shared_ptr<const terminal::media::DecodedFrame> WaitForLayout(const std::string& viewer,
                                                                     Clock::time_point deadline,
                                                                     std::string* why,
                                                                     uint64_t after_index = 0) {
    const auto placements = conference_->Placements();
    const auto& t = terminal(viewer);
    // The time left bounds how long to wait, not how fast: stretched under a sanitizer.
    const auto stretched = Clock::now() + ::plateau::testing::Slack(deadline - Clock::now());
    return t.receiver->WaitForFrame(
        [&](const terminal::media::DecodedFrame& f) {
          return ShowsLayout(
              f, placements, config_.video.canvas_width, config_.video.canvas_height,
              [this](const std::string& v) { return ColorOf(v); }, why);
        },
        stretched, after_index);
  }

  // Explains a failed wait: what the viewer has decoded and where the last frame was written.
  std::string Why(const std::string& why, const std::string& viewer, const char* name) {
    const auto& r = *terminal(viewer).receiver;
    auto frame = r.LatestFrame();
    const auto s = r.Stats();
    return why + (frame ? " (last frame: " + DumpFrame(*frame, name) + ")" : " (no frame)") +
           " packets " + std::to_string(s.video_packets) + " frames " +
           std::to_string(s.frames_decoded) + " keyframes " + std::to_string(s.keyframes);
  }

 private:
  std::shared_ptr<transport::VenueTransport> MakeTerminalTransport(Terminal* tp, uint16_t port) {
    transport::VenueTransportConfig tc;
    tc.name = "terminal-" + tp->id;
    tc.remote = transport::Endpoint(transport::IpAddress::V4({127, 0, 0, 1}), port);
    tc.send_key = tp->up_key;
    tc.receive_key = tp->down_key;
    transport::VenueTransportCallbacks cb;
    cb.on_rtp = [tp](const rtp::RtpPacket& p, const transport::RtpArrival&) {
      if (tp->receiver) tp->receiver->PushRtp(p.data());
    };
    cb.on_keyframe_request = [this, tp](uint32_t) {
      tp->keyframe_requests++;
      std::lock_guard lock(tp->mu);
      if (tp->sender) tp->sender->RequestKeyframe();
      if (tp->replay_id) hub_->RequestKeyframe(*tp->replay_id);
    };
    auto tr = transport::VenueTransport::Create(io_, tc, cb, terminal_metrics_);
    EXPECT_TRUE(tr.ok()) << (tr.ok() ? "" : tr.error().message);
    return tr.ok() ? *tr : nullptr;
  }

  conference::ConferenceConfig config_;
  // Declared before the io_context and the conference: they count in these until they are gone.
  metrics::Registry metrics_;           // the conference's
  metrics::Registry terminal_metrics_;  // the terminals' transports'
  asio::io_context io_;                 // the terminals' side
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<conference::Conference> conference_;
  std::unique_ptr<terminal::media::ReplayHub> hub_;
  std::map<std::string, std::unique_ptr<Terminal>> terminals_;
  std::map<std::string, terminal::media::Rgb> extra_colors_;
};

inline const conference::VenueStats* FindVenue(const conference::ConferenceStats& s,
                                               const std::string& id) {
  for (const auto& v : s.venues)
    if (v.id == id) return &v;
  return nullptr;
}

}  // namespace plateau::mcu::testing
