// The reference terminal's recording of what it received: the mix exactly as the MCU sent it,
// H.264 and Opus remuxed (not re-encoded) into one Matroska file, plus PNG snapshots of decoded
// frames.
//
//   video RTP -> appsrc -> rtpjitterbuffer -> rtph264depay -> h264parse -> queue -> matroskamux
//   audio RTP -> appsrc -> rtpjitterbuffer -> rtpopusdepay -> opusparse -> queue -> (same mux)
//   matroskamux -> filesink DIR/mix.mkv
//
// Threads: PushRtp from any thread; Finish from one thread (it waits for the muxer to write its
// index, so the file is complete and seekable).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "plateau/common/result.hpp"
#include "plateau/terminal/media/receiver.hpp"

namespace plateau::terminal::media {

struct RecorderConfig {
  std::string path;  // the .mkv file to write (its directory must exist)
  uint8_t video_payload_type = 96;
  uint8_t audio_payload_type = 111;
  int jitter_latency_ms = 100;
};

struct RecorderStats {
  uint64_t video_packets = 0;
  uint64_t audio_packets = 0;
  uint64_t other_packets = 0;  // not RTP, or another payload type: not recorded
  uint64_t bytes_written = 0;  // size of the file so far
  bool finished = false;
};

class MixRecorder {
 public:
  // Errors: "bad_config", "gstreamer" (an element is missing), "record_file" (cannot open).
  static Result<std::unique_ptr<MixRecorder>> Create(const RecorderConfig& config);
  ~MixRecorder();  // finishes if Finish was not called
  MixRecorder(const MixRecorder&) = delete;
  MixRecorder& operator=(const MixRecorder&) = delete;

  // One plain RTP packet of the received mix (routed by payload type; copied).
  void PushRtp(std::span<const uint8_t> packet);
  // Ends both streams and waits (up to `timeout`) until the file is complete. Idempotent.
  Status Finish(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  RecorderStats Stats() const;

  struct Impl;

 private:
  explicit MixRecorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes one decoded frame as a PNG file. Errors: "bad_frame", "gstreamer", "record_file".
Status WritePng(const DecodedFrame& frame, const std::string& path);

}  // namespace plateau::terminal::media
