// A VideoMixer with in-process venues (live senders or replayed clips) and one receiver per tier:
// plain RTP handed over in memory, the way the conference layer does after SRTP.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "plateau/mcu/media/video_mixer.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/replay.hpp"
#include "plateau/terminal/media/sender.hpp"
#include "support/media/media_test_util.hpp"
#include "support/media/small_config.hpp"
#include "support/slack.hpp"

namespace plateau::mcu::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Writes a decoded frame as a binary PPM (for looking at a failure).
inline std::string DumpFrame(const terminal::media::DecodedFrame& frame, const std::string& name) {
  const std::string path = ::testing::TempDir() + name + ".ppm";
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << frame.width << " " << frame.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(frame.rgb.data()),
            static_cast<std::streamsize>(frame.rgb.size()));
  return path;
}

// With PLATEAU_MEDIA_DUMP set, tests keep the frames they checked (to look at them).
inline void MaybeDump(const std::shared_ptr<const terminal::media::DecodedFrame>& frame,
                      const std::string& name) {
  if (frame && std::getenv("PLATEAU_MEDIA_DUMP")) DumpFrame(*frame, name);
}

class MixerRig {
 public:
  explicit MixerRig(const media::VideoMixerConfig& config) : config_(config) {
    for (size_t i = 0; i < config.tiers.size(); ++i) {
      auto r = terminal::media::TerminalReceiver::Create(
          terminal::media::ReceiverConfig{96, 111, 50, false, 1000});
      EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
      receivers_.push_back(std::move(r.value()));
    }
    media::VideoMixerCallbacks callbacks;
    callbacks.on_packet = [this](const media::TierPacket& p) {
      receivers_[p.tier]->PushRtp(p.rtp);
    };
    callbacks.on_keyframe_request = [this](const std::string& venue) { OnKeyframeRequest(venue); };
    auto m = media::VideoMixer::Create(config, callbacks);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    mixer_ = std::move(m.value());
  }

  ~MixerRig() {
    // Sources first (they push into the mixer), then the mixer (it pushes into the receivers).
    std::unique_ptr<terminal::media::ReplayHub> hub;
    std::map<std::string, std::shared_ptr<terminal::media::TerminalSender>> senders;
    {
      std::lock_guard lock(mu_);
      hub = std::move(hub_);
      senders = std::move(senders_);
      senders_.clear();
    }
    hub.reset();
    senders.clear();
    mixer_.reset();
    receivers_.clear();
  }

  media::VideoMixer& mixer() { return *mixer_; }
  terminal::media::TerminalReceiver& receiver(size_t tier) { return *receivers_[tier]; }
  const media::VideoMixerConfig& config() const { return config_; }

  void AddLiveVenue(const std::string& id, const std::string& name, Rgb color, int width = 160,
                    int height = 90) {
    terminal::media::SenderConfig c;
    c.color = color;
    c.width = width;
    c.height = height;
    c.video_kbps = 150;
    c.gop_frames = 1000;  // keyframes only when asked: the mixer must ask
    c.audio = false;
    AddSenderVenue(id, name, color, c);
  }

  // A venue with any live sender configuration (a file, a pattern...) whose tile must show `color`.
  void AddSenderVenue(const std::string& id, const std::string& name, Rgb color,
                      const terminal::media::SenderConfig& c) {
    {
      std::lock_guard lock(mu_);
      colors_[id] = color;
    }
    ASSERT_TRUE(mixer_->AddVenue(id, name).ok());
    auto s = terminal::media::TerminalSender::Create(
        c, [this, id](terminal::media::MediaKind kind, std::span<const uint8_t> rtp) {
          if (kind == terminal::media::MediaKind::kVideo) mixer_->PushVideoRtp(id, rtp);
        });
    ASSERT_TRUE(s.ok()) << s.error().message;
    std::lock_guard lock(mu_);
    senders_[id] = std::shared_ptr<terminal::media::TerminalSender>(std::move(s.value()));
  }

  void AddReplayVenue(const std::string& id, const std::string& name, Rgb color,
                      std::shared_ptr<const terminal::media::EncodedClip> clip) {
    terminal::media::ReplayHub* hub = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!hub_) hub_ = std::make_unique<terminal::media::ReplayHub>();
      hub = hub_.get();
      colors_[id] = color;
    }
    ASSERT_TRUE(mixer_->AddVenue(id, name).ok());
    const auto sid = hub->AddSender(
        clip, {}, [this, id](terminal::media::MediaKind kind, std::span<const uint8_t> rtp) {
          if (kind == terminal::media::MediaKind::kVideo) mixer_->PushVideoRtp(id, rtp);
        });
    std::lock_guard lock(mu_);
    replay_ids_[id] = sid;
  }

  Rgb ColorOf(const std::string& venue) {
    std::lock_guard lock(mu_);
    return colors_.at(venue);
  }
  int KeyframeRequests(const std::string& venue) {
    std::lock_guard lock(mu_);
    return requests_[venue];
  }

  // Waits for a frame of `tier` that shows the mixer's current placements (each tile within
  // `tolerance` per channel of its venue's colour); returns it or nullptr.
  std::shared_ptr<const terminal::media::DecodedFrame> WaitForLayout(
      size_t tier, Clock::time_point deadline, std::string* why, int tolerance = kColorTolerance) {
    const auto placements = mixer_->Placements();
    // The time left bounds how long to wait, not how fast: stretched under a sanitizer.
    const auto stretched = Clock::now() + ::plateau::testing::Slack(deadline - Clock::now());
    return receivers_[tier]->WaitForFrame(
        [&](const terminal::media::DecodedFrame& f) {
          return ShowsLayout(
              f, placements, config_.canvas_width, config_.canvas_height,
              [this](const std::string& v) { return ColorOf(v); }, why, tolerance);
        },
        stretched);
  }

 private:
  // Runs on mixer threads: the sender is asked outside our lock.
  void OnKeyframeRequest(const std::string& venue) {
    std::shared_ptr<terminal::media::TerminalSender> sender;
    {
      std::lock_guard lock(mu_);
      requests_[venue]++;
      if (auto it = senders_.find(venue); it != senders_.end()) sender = it->second;
      if (auto it = replay_ids_.find(venue); it != replay_ids_.end() && hub_)
        hub_->RequestKeyframe(it->second);  // only sets a flag
    }
    if (sender) sender->RequestKeyframe();
  }

  media::VideoMixerConfig config_;
  std::vector<std::unique_ptr<terminal::media::TerminalReceiver>> receivers_;
  std::unique_ptr<media::VideoMixer> mixer_;
  std::unique_ptr<terminal::media::ReplayHub> hub_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<terminal::media::TerminalSender>> senders_;
  std::map<std::string, terminal::media::ReplayHub::SenderId> replay_ids_;
  std::map<std::string, Rgb> colors_;
  std::map<std::string, int> requests_;
};

}  // namespace plateau::mcu::testing
