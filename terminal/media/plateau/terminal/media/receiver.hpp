// The reference terminal's receiver: what a viewer sees and hears, measured.
//
//   video RTP -> appsrc -> rtpjitterbuffer -> rtph264depay -> h264parse -> avdec_h264 (FFmpeg,
//     independent of the MCU's OpenH264) -> videoconvert (RGB) -> appsink: frames, rate, pixels
//   audio RTP -> appsrc -> rtpjitterbuffer -> rtpopusdepay -> opusdec -> S16 mono 48 kHz -> appsink
//
// Threads: PushRtp from any thread; the queries from any thread (they copy under a lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::terminal::media {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ReceiverConfig {
  uint8_t video_payload_type = 96;
  uint8_t audio_payload_type = 111;
  int jitter_latency_ms = 50;
  bool audio = true;
  int audio_window_ms = 1000;  // how much decoded audio is kept for tone checks
};

// One decoded picture, packed RGB (3 bytes per pixel, rows of width * 3 bytes).
struct DecodedFrame {
  int width = 0;
  int height = 0;
  uint64_t index = 0;     // 1 for the first decoded frame
  SteadyTime arrival;     // when it left the decoder
  bool keyframe = false;  // decoded from an IDR access unit
  std::vector<uint8_t> rgb;

  // Average colour of the box of side `box` (clamped to the picture) centred on (x, y).
  Rgb Average(int x, int y, int box = 8) const;
};

struct ReceiverStats {
  uint64_t video_packets = 0;
  uint64_t audio_packets = 0;
  uint64_t unknown_packets = 0;  // payload type neither video nor audio, or not RTP
  uint64_t frames_decoded = 0;
  uint64_t keyframes = 0;  // IDR access units that reached the decoder
  int width = 0;
  int height = 0;
  double fps = 0.0;            // decoded frames in the last second
  uint64_t audio_samples = 0;  // decoded (48 kHz mono)
  // GStreamer's name of the colorimetry the stream's SPS states ("bt601", "bt709", ...; h264parse
  // reads it from the VUI), "" when it states none; and the one avdec_h264 puts on its output: the
  // stated one, "" when there is none (then RGB conversion takes GStreamer's default for the size:
  // BT.601 below 720 lines, BT.709 from there).
  std::string stream_colorimetry;
  std::string decoded_colorimetry;
};

class TerminalReceiver {
 public:
  // Errors: "gstreamer" (e.g. avdec_h264 missing: install gstreamer1.0-libav).
  static Result<std::unique_ptr<TerminalReceiver>> Create(const ReceiverConfig& config);
  ~TerminalReceiver();
  TerminalReceiver(const TerminalReceiver&) = delete;
  TerminalReceiver& operator=(const TerminalReceiver&) = delete;

  // One plain RTP packet; routed by payload type. Anything else is counted as unknown.
  void PushRtp(std::span<const uint8_t> packet);

  ReceiverStats Stats() const;
  // The latest decoded frame (nullptr before the first).
  std::shared_ptr<const DecodedFrame> LatestFrame() const;
  // Waits until a frame decoded after `after_index` satisfies `predicate` (evaluated on the newest
  // frame each time one arrives) or `deadline` passes; returns that frame or nullptr.
  std::shared_ptr<const DecodedFrame> WaitForFrame(
      const std::function<bool(const DecodedFrame&)>& predicate, SteadyTime deadline,
      uint64_t after_index = 0) const;
  // Waits until at least `count` keyframes have been decoded in total, or the deadline.
  bool WaitForKeyframes(uint64_t count, SteadyTime deadline) const;

  // Level of the `hz` component over the last `window_ms` of decoded audio, in dBov (Goertzel,
  // plateau::mcu::audio::ToneDetector); -127 when there is no audio yet.
  double ToneLevelDbov(double hz, int window_ms = 200) const;
  // RMS level of the same window in dBov.
  double AudioLevelDbov(int window_ms = 200) const;
  // Waits until at least `window_ms` of audio has been decoded in total, or the deadline.
  bool WaitForAudio(int window_ms, SteadyTime deadline) const;

  struct Impl;

 private:
  explicit TerminalReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plateau::terminal::media
