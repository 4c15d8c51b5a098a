#include "plateau/terminal/media/replay.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <thread>

#include "encode_chain.hpp"
#include "plateau/common/log.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::terminal::media {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kVideoClock = 90000;
constexpr uint32_t kAudioClock = 48000;
// Packets handed out per pass: after a stall everything due would otherwise be batched at once,
// and the batch (reused, never shrunk) kept the largest stall's worth of packets for good.
constexpr size_t kMaxBatch = 256;

}  // namespace

EncodedClip::EncodedClip(ClipConfig config, std::vector<Packet> packets, int64_t duration_us,
                         size_t video_frames, size_t keyframes)
    : config_(std::move(config)),
      packets_(std::move(packets)),
      duration_us_(duration_us),
      video_frames_(video_frames),
      keyframes_(keyframes) {}

Result<std::shared_ptr<const EncodedClip>> EncodedClip::Generate(const ClipConfig& c) {
  auto bad = [](const std::string& m) { return Error{"bad_config", m}; };
  if (c.width < 16 || c.height < 16 || c.width % 2 || c.height % 2 || c.width > 3840 ||
      c.height > 2160)
    return bad("clip size must be even, between 16x16 and 3840x2160");
  if (c.fps < 1 || c.fps > 60) return bad("fps must be 1..60");
  if (!(c.seconds >= 0.2 && c.seconds <= 60)) return bad("a clip lasts 0.2..60 s");
  if (c.video_kbps < 32 || c.video_kbps > 20000 || c.gop_frames < 1 || c.mtu < 200 || c.mtu > 1460)
    return bad("video bitrate 32..20000 kbit/s, gop >= 1, mtu 200..1460");
  if (c.tone_hz < 0 || c.tone_hz > 20000) return bad("tone must be 0..20000 Hz");

  mcu::media::EnsureGstInit();
  mcu::media::OwnedPipeline pipeline("clip");
  std::mutex mu;
  struct Raw {
    std::vector<uint8_t> rtp;
    int64_t pts_ns;
  };
  std::vector<Raw> video, audio;
  const int frames = static_cast<int>(std::lround(c.seconds * c.fps));
  const int audio_buffers = static_cast<int>(std::lround(c.seconds * 50));

  detail::VideoBranchConfig v;
  v.live = false;
  v.color = c.color;
  v.pattern = c.pattern;
  v.clock = c.clock;
  v.width = c.width;
  v.height = c.height;
  v.fps = c.fps;
  v.kbps = c.video_kbps;
  v.gop_frames = c.gop_frames;
  v.mtu = c.mtu;
  v.num_buffers = frames;
  v.ssrc = 1;
  auto vb = detail::AddVideoBranch(pipeline.bin(), v, true,
                                   [&](std::span<const uint8_t> rtp, int64_t pts) {
                                     std::lock_guard lock(mu);
                                     video.push_back(Raw{{rtp.begin(), rtp.end()}, pts});
                                   });
  if (!vb) return vb.error();
  if (c.audio) {
    detail::AudioBranchConfig a;
    a.live = false;
    a.tone_hz = c.tone_hz;
    a.kbps = c.audio_kbps;
    a.num_buffers = audio_buffers;
    a.ssrc = 2;
    auto ab = detail::AddAudioBranch(pipeline.bin(), a, true,
                                     [&](std::span<const uint8_t> rtp, int64_t pts) {
                                       std::lock_guard lock(mu);
                                       audio.push_back(Raw{{rtp.begin(), rtp.end()}, pts});
                                     });
    if (!ab) return ab.error();
  }
  if (auto s = pipeline.Play("terminal.clip"); !s) return s.error();
  if (!pipeline.WaitForEos(std::chrono::seconds(120)))
    return Error{"gstreamer", "encoding the clip failed or timed out (see the log)"};
  pipeline.Stop();

  std::vector<Packet> packets;
  size_t video_frames = 0;
  size_t keyframes = 0;
  auto add = [&](const std::vector<Raw>& raws, MediaKind kind) {
    bool first = true;
    uint32_t first_ts = 0;
    bool have_kf = false;
    uint32_t kf_ts = 0;
    for (const Raw& r : raws) {
      auto p = mcu::rtp::RtpPacket::Parse(r.rtp);
      if (!p) continue;
      if (first) {
        first_ts = p->timestamp();
        first = false;
      }
      Packet out;
      out.kind = kind;
      out.offset_us = std::max<int64_t>(0, r.pts_ns / 1000);
      out.timestamp_offset = p->timestamp() - first_ts;
      if (kind == MediaKind::kVideo) {
        if (p->marker()) video_frames++;
        if (mcu::rtp::IsH264KeyframeStart(p->payload()) && (!have_kf || kf_ts != p->timestamp())) {
          have_kf = true;
          kf_ts = p->timestamp();
          out.keyframe_start = true;
          keyframes++;
        }
      }
      out.rtp = r.rtp;
      packets.push_back(std::move(out));
    }
  };
  add(video, MediaKind::kVideo);
  add(audio, MediaKind::kAudio);
  std::stable_sort(packets.begin(), packets.end(),
                   [](const Packet& a, const Packet& b) { return a.offset_us < b.offset_us; });
  if (packets.empty() || keyframes == 0)
    return Error{"gstreamer", "the clip encoder produced no keyframe"};
  const int64_t duration_us = static_cast<int64_t>(std::llround(frames * 1e6 / c.fps));
  log::Debug("terminal.clip",
             {{"packets", packets.size()}, {"frames", video_frames}, {"keyframes", keyframes}});
  return std::shared_ptr<const EncodedClip>(
      new EncodedClip(c, std::move(packets), duration_us, video_frames, keyframes));
}

// ---------------------------------------------------------------------------------------------

namespace {

struct ReplaySender {
  ReplayHub::SenderId id = 0;
  std::shared_ptr<const EncodedClip> clip;
  StreamIds ids;
  PacketCallback on_packet;
  Clock::time_point start;
  size_t cursor = 0;
  uint64_t loop = 0;
  int64_t skipped_us = 0;  // clip time skipped by keyframe jumps
  uint16_t video_seq = 0;
  uint16_t audio_seq = 0;
  uint32_t video_ts_base = 0;
  uint32_t audio_ts_base = 0;
  bool keyframe_pending = false;
  std::atomic<bool> removed{false};
  ReplayStats stats;

  // Clip time (from the sender's start) of the packet at the cursor.
  int64_t CursorTimeUs() const {
    return static_cast<int64_t>(loop) * clip->duration_us() + clip->packets()[cursor].offset_us -
           skipped_us;
  }
  Clock::time_point Due() const { return start + std::chrono::microseconds(CursorTimeUs()); }

  void JumpToNextKeyframe() {
    const auto& packets = clip->packets();
    const int64_t from = clip->packets()[cursor].offset_us;
    for (size_t i = cursor + 1; i < packets.size(); ++i) {
      if (packets[i].kind == MediaKind::kVideo && packets[i].keyframe_start) {
        skipped_us += packets[i].offset_us - from;
        cursor = i;
        stats.keyframe_jumps++;
        return;
      }
    }
    // None left in this loop: the clip's first packet is a keyframe.
    skipped_us += clip->duration_us() - from;
    loop++;
    cursor = 0;
    stats.loops++;
    stats.keyframe_jumps++;
  }
};

}  // namespace

struct ReplayHub::Impl {
  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable idle;
  bool stop = false;
  bool busy = false;  // callbacks running outside the lock
  SenderId next_id = 1;
  std::map<SenderId, std::shared_ptr<ReplaySender>> senders;
  std::thread thread;

  struct Out {
    std::shared_ptr<ReplaySender> sender;
    MediaKind kind;
    std::vector<uint8_t> bytes;
  };

  void Run() {
    std::vector<Out> batch;
    std::unique_lock lock(mu);
    while (!stop) {
      const auto now = Clock::now();
      const auto horizon = now + std::chrono::microseconds(500);
      size_t used = 0;
      std::optional<Clock::time_point> next;
      for (auto& [id, s] : senders) {
        if (s->keyframe_pending) {
          s->keyframe_pending = false;
          s->JumpToNextKeyframe();
          // The keyframe goes out now, not at its old clip time.
          s->start = now - std::chrono::microseconds(s->CursorTimeUs());
        }
        const auto& packets = s->clip->packets();
        while (used < kMaxBatch && s->Due() <= horizon) {
          const EncodedClip::Packet& p = packets[s->cursor];
          if (used == batch.size()) batch.push_back(Out{});
          Out& out = batch[used++];
          out.sender = s;
          out.kind = p.kind;
          out.bytes.assign(p.rtp.begin(), p.rtp.end());
          const int64_t clip_us =
              static_cast<int64_t>(s->loop) * s->clip->duration_us() + p.offset_us - s->skipped_us;
          if (p.kind == MediaKind::kVideo) {
            const uint32_t ts =
                s->video_ts_base +
                static_cast<uint32_t>((clip_us - p.offset_us) * kVideoClock / 1000000) +
                p.timestamp_offset;
            mcu::rtp::RewriteRtpHeader(out.bytes,
                                       mcu::rtp::RtpRewrite{s->ids.video_payload_type, std::nullopt,
                                                            s->video_seq++, ts, s->ids.video_ssrc});
            s->stats.video_packets++;
          } else {
            const uint32_t ts =
                s->audio_ts_base +
                static_cast<uint32_t>((clip_us - p.offset_us) * kAudioClock / 1000000) +
                p.timestamp_offset;
            mcu::rtp::RewriteRtpHeader(out.bytes,
                                       mcu::rtp::RtpRewrite{s->ids.audio_payload_type, std::nullopt,
                                                            s->audio_seq++, ts, s->ids.audio_ssrc});
            s->stats.audio_packets++;
          }
          s->stats.bytes += out.bytes.size();
          if (++s->cursor == packets.size()) {
            s->cursor = 0;
            s->loop++;
            s->stats.loops++;
          }
        }
        const auto due = s->Due();
        if (!next || due < *next) next = due;
      }
      if (used > 0) {
        busy = true;
        lock.unlock();
        for (size_t i = 0; i < used; ++i) {
          Out& out = batch[i];
          if (!out.sender->removed.load() && out.sender->on_packet)
            out.sender->on_packet(out.kind, out.bytes);
          out.sender.reset();
        }
        lock.lock();
        busy = false;
        idle.notify_all();
        continue;  // time has moved: look again before sleeping
      }
      if (next)
        wake.wait_until(lock, *next);
      else
        wake.wait(lock);
    }
  }
};

ReplayHub::ReplayHub() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->Run(); });
}

ReplayHub::~ReplayHub() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

ReplayHub::SenderId ReplayHub::AddSender(std::shared_ptr<const EncodedClip> clip, StreamIds ids,
                                         PacketCallback on_packet) {
  auto s = std::make_shared<ReplaySender>();
  s->clip = std::move(clip);
  if (ids.video_ssrc == 0) ids.video_ssrc = detail::RandomSsrc();
  if (ids.audio_ssrc == 0) ids.audio_ssrc = detail::RandomSsrc();
  s->ids = ids;
  s->on_packet = std::move(on_packet);
  s->start = Clock::now();
  s->video_seq = static_cast<uint16_t>(detail::RandomSsrc());
  s->audio_seq = static_cast<uint16_t>(detail::RandomSsrc());
  s->video_ts_base = detail::RandomSsrc();
  s->audio_ts_base = detail::RandomSsrc();
  SenderId id;
  {
    std::lock_guard lock(impl_->mu);
    id = impl_->next_id++;
    s->id = id;
    impl_->senders[id] = std::move(s);
  }
  impl_->wake.notify_all();
  return id;
}

void ReplayHub::RemoveSender(SenderId id) {
  std::unique_lock lock(impl_->mu);
  auto it = impl_->senders.find(id);
  if (it == impl_->senders.end()) return;
  it->second->removed = true;
  impl_->senders.erase(it);
  // No callback of this sender may run after we return (unless we are inside one).
  if (std::this_thread::get_id() != impl_->thread.get_id())
    impl_->idle.wait(lock, [this] { return !impl_->busy; });
}

void ReplayHub::RequestKeyframe(SenderId id) {
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->senders.find(id);
    if (it == impl_->senders.end()) return;
    it->second->keyframe_pending = true;
  }
  impl_->wake.notify_all();
}

std::optional<ReplayStats> ReplayHub::Stats(SenderId id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->senders.find(id);
  if (it == impl_->senders.end()) return std::nullopt;
  return it->second->stats;
}

size_t ReplayHub::sender_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->senders.size();
}

}  // namespace plateau::terminal::media
