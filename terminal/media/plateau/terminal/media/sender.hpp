// The reference terminal's live sender: a solid colour or a test pattern with an on-screen clock
// and a sine tone, or a media file, encoded with OpenH264 (rate-control=bitrate, constrained
// baseline, packetization-mode 1) and Opus, handed out as plain RTP packets.
//
//   videotestsrc (is-live) -> clockoverlay -> openh264enc -> rtph264pay -> appsink -> on_packet
//   audiotestsrc sine      -> opusenc -> rtpopuspay -> appsink -> on_packet
//   (file: filesrc -> decodebin -> the same encoders, paced at real time, looped by segment
//    seeks so RTP sequence numbers and timestamps run on without a jump; a kind the file lacks
//    comes from the live source above: the colour/pattern, or the tone (0 = silence))
//
// Threads: on_packet runs on a GStreamer streaming thread (one for video, one for audio); it must
// not block. Control methods from one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "plateau/common/result.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::terminal::media {

struct SenderConfig {
  // Picture: a solid colour (default mid grey), or a videotestsrc pattern name ("smpte", "ball",
  // ...) when `pattern` is set, or a media file when `file` is set (video and audio from the file;
  // if it has only one of them, the other comes from the colour/pattern or the tone).
  std::optional<Rgb> color = Rgb{128, 128, 128};
  std::string pattern;
  std::string file;
  // A file plays over and over, seamlessly (true), or once and then its streams stop (false).
  bool loop = true;
  bool clock = true;  // clockoverlay in the top-left corner
  int width = 640;
  int height = 360;
  int fps = 30;
  int video_kbps = 800;
  int gop_frames = 60;
  // Sound: a sine tone (Hz); 0 sends silence. `audio` false sends no audio stream at all.
  bool audio = true;
  double tone_hz = 440.0;
  double tone_volume = 0.3;
  int audio_kbps = 32;
  int mtu = 1200;
  StreamIds ids;
};

struct SenderStats {
  uint64_t video_packets = 0;
  uint64_t video_bytes = 0;
  uint64_t video_frames = 0;
  uint64_t keyframes = 0;
  uint64_t audio_packets = 0;
  uint64_t audio_bytes = 0;
  bool ended = false;       // a file reached its end (play once) or failed while playing
  uint64_t file_loops = 0;  // times a looping file went back to its start
  bool file_video = false;  // the video (audio) stream comes from the file
  bool file_audio = false;
};

class TerminalSender {
 public:
  // Builds and starts sending. Errors: "bad_config", "gstreamer", "bad_file" (missing, not a
  // media file, no decoder for its codecs, no audio or video in it: found before it returns,
  // by reading the file up to its first picture and sound).
  static Result<std::unique_ptr<TerminalSender>> Create(const SenderConfig& config,
                                                        PacketCallback on_packet);
  ~TerminalSender();  // stops; no callback runs after it returns
  TerminalSender(const TerminalSender&) = delete;
  TerminalSender& operator=(const TerminalSender&) = delete;

  // The MCU asked for a keyframe (PLI/FIR): the encoder makes one now.
  void RequestKeyframe();
  SenderStats Stats() const;
  uint32_t video_ssrc() const;
  uint32_t audio_ssrc() const;

  struct Impl;

 private:
  explicit TerminalSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plateau::terminal::media
