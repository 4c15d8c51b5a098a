// Pre-encoded media for load and benchmarks: a clip of N seconds of H.264 + Opus is encoded ONCE,
// in memory, by the code (never read from files), and then replayed by any number of senders with
// real-time pacing, their own SSRCs and continuous sequence numbers and timestamps. Replaying costs
// a copy and a header rewrite per packet, so 65 senders cost almost no CPU.
//
// Threads: ReplayHub has ONE pacing thread for all its senders; every PacketCallback runs on it
// (it must not block). Hub methods are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::terminal::media {

struct ClipConfig {
  std::optional<Rgb> color = Rgb{128, 128, 128};  // solid colour, or
  std::string pattern;                            // a videotestsrc pattern when set
  bool clock = false;                             // a clock makes every frame differ
  int width = 640;
  int height = 360;
  int fps = 30;
  double seconds = 2.0;
  int video_kbps = 800;
  int gop_frames = 30;  // keyframe interval inside the clip (replay can jump to any of them)
  bool audio = true;
  double tone_hz = 440.0;
  int audio_kbps = 32;
  int mtu = 1200;
};

class EncodedClip {
 public:
  struct Packet {
    MediaKind kind = MediaKind::kVideo;
    int64_t offset_us = 0;          // when to send it, from the clip's start
    uint32_t timestamp_offset = 0;  // RTP timestamp units from the clip's first packet of its kind
    bool keyframe_start = false;    // a decoder can start here (first packet of an IDR frame)
    std::vector<uint8_t> rtp;
  };

  // Encodes the clip (faster than real time). Errors: "bad_config", "gstreamer".
  static Result<std::shared_ptr<const EncodedClip>> Generate(const ClipConfig& config);

  const ClipConfig& config() const { return config_; }
  const std::vector<Packet>& packets() const { return packets_; }  // in send order
  int64_t duration_us() const { return duration_us_; }
  size_t video_frames() const { return video_frames_; }
  size_t keyframes() const { return keyframes_; }

  // For Generate only.
  EncodedClip(ClipConfig config, std::vector<Packet> packets, int64_t duration_us,
              size_t video_frames, size_t keyframes);

 private:
  ClipConfig config_;
  std::vector<Packet> packets_;
  int64_t duration_us_ = 0;
  size_t video_frames_ = 0;
  size_t keyframes_ = 0;
};

struct ReplayStats {
  uint64_t video_packets = 0;
  uint64_t audio_packets = 0;
  uint64_t bytes = 0;
  uint64_t loops = 0;
  uint64_t keyframe_jumps = 0;  // RequestKeyframe served by jumping to the next keyframe
};

class ReplayHub {
 public:
  using SenderId = uint64_t;

  ReplayHub();
  ~ReplayHub();  // stops the pacing thread; no callback runs after it returns
  ReplayHub(const ReplayHub&) = delete;
  ReplayHub& operator=(const ReplayHub&) = delete;

  // Starts replaying `clip` in a loop with its own stream ids (0 SSRC = random).
  SenderId AddSender(std::shared_ptr<const EncodedClip> clip, StreamIds ids,
                     PacketCallback on_packet);
  void RemoveSender(SenderId id);
  // A keyframe request (PLI): the sender jumps to the clip's next keyframe now, so the receiver
  // gets one at once; timestamps stay continuous.
  void RequestKeyframe(SenderId id);
  std::optional<ReplayStats> Stats(SenderId id) const;
  size_t sender_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plateau::terminal::media
