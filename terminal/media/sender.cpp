#include "plateau/terminal/media/sender.hpp"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "encode_chain.hpp"
#include "plateau/common/log.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::terminal::media {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long reading a file up to its first picture and sound may take before it counts as bad.
constexpr auto kPrerollTimeout = std::chrono::seconds(10);
// Consecutive loops that sent nothing before a looping file is given up (an empty file would
// otherwise restart as fast as the CPU allows).
constexpr int kMaxEmptyLoops = 5;

// Keeps one RTP stream moving forward when its source goes back to the start of a file: sequence
// numbers always count up by one, and timestamps follow the source's running time (and so the
// wall clock) without going back. Segment seeks keep the payloader's timeline continuous, so this
// normally changes nothing. It repairs two things:
//  - audio at a loop point that overlaps the previous packet (the decoder's output runs a little
//    past the end of the file: Opus pre-skip, AAC padding): an audio packet that starts more than
//    half a packet before the previous one ends is dropped (one 20 ms packet at the loop point);
//    shifting it instead would make the timeline run ahead of the clock by 20 ms every loop. A
//    video frame is shifted to one tick after the previous frame (never dropped: later frames
//    reference it);
//  - the jump back to zero after a flushing seek (demuxers without segment seeking) or any jump
//    back of more than half a second: the stream is re-anchored, its timestamp advancing by the
//    wall-clock time since its last packet.
// Apply() runs on the stream's streaming thread only; Restart() from any thread.
class RtpContinuity {
 public:
  // `packet_step`: the duration of one packet (audio) in clock units, or 0 for video (one frame
  // spans several packets; a frame's first packet follows one with the marker bit).
  RtpContinuity(uint32_t clock_rate, uint32_t packet_step)
      : clock_rate_(clock_rate), packet_step_(packet_step) {}

  void Restart() { restart_ = true; }

  // The packet to send (`rtp` itself, or a rewritten copy), or an empty span: drop it.
  std::span<const uint8_t> Apply(std::span<const uint8_t> rtp) {
    if (rtp.size() < 12) return rtp;
    const auto now = SteadyClock::now();
    const uint16_t seq = static_cast<uint16_t>(rtp[2] << 8 | rtp[3]);
    const uint32_t ts = static_cast<uint32_t>(rtp[4]) << 24 | static_cast<uint32_t>(rtp[5]) << 16 |
                        static_cast<uint32_t>(rtp[6]) << 8 | rtp[7];
    const bool marker = (rtp[1] & 0x80) != 0;
    if (!started_) {
      started_ = true;
      restart_ = false;
    } else {
      if (packet_step_ > 0 || frame_ended_) {
        const bool restart = restart_.exchange(false);
        const int32_t step = static_cast<int32_t>(ts + ts_delta_ - last_ts_);
        if (restart || step < -static_cast<int32_t>(clock_rate_ / 2)) {
          const double elapsed = std::chrono::duration<double>(now - last_at_).count();
          const auto gap = static_cast<uint32_t>(std::min(elapsed, 3600.0) * clock_rate_);
          ts_delta_ = last_ts_ + std::max<uint32_t>({1, packet_step_, gap}) - ts;
        } else if (packet_step_ > 0 && step < static_cast<int32_t>(packet_step_ / 2)) {
          return {};
        } else if (packet_step_ == 0 && step < 1) {
          ts_delta_ += static_cast<uint32_t>(1 - step);
        }
      }
      seq_delta_ = static_cast<uint16_t>(static_cast<uint16_t>(last_seq_ + 1) - seq);
    }
    last_seq_ = static_cast<uint16_t>(seq + seq_delta_);
    last_ts_ = ts + ts_delta_;
    last_at_ = now;
    frame_ended_ = marker;
    if (seq_delta_ == 0 && ts_delta_ == 0) return rtp;
    scratch_.assign(rtp.begin(), rtp.end());
    scratch_[2] = static_cast<uint8_t>(last_seq_ >> 8);
    scratch_[3] = static_cast<uint8_t>(last_seq_);
    for (int i = 0; i < 4; ++i) scratch_[4 + i] = static_cast<uint8_t>(last_ts_ >> (24 - 8 * i));
    return scratch_;
  }

 private:
  const uint32_t clock_rate_;
  const uint32_t packet_step_;
  std::atomic<bool> restart_{false};
  bool started_ = false;
  bool frame_ended_ = true;
  uint16_t last_seq_ = 0;
  uint32_t last_ts_ = 0;
  uint16_t seq_delta_ = 0;
  uint32_t ts_delta_ = 0;
  SteadyClock::time_point last_at_;
  std::vector<uint8_t> scratch_;
};

std::string GstErrorText(GstMessage* message) {
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  std::string text = error ? error->message : "unknown GStreamer error";
  if (error) g_error_free(error);
  g_free(debug);
  return text;
}

}  // namespace

struct TerminalSender::Impl {
  SenderConfig config;
  PacketCallback on_packet;
  // Live sources, or the file.
  mcu::media::OwnedPipeline pipeline{"terminal-sender"};
  // For a file: the kind it lacks, from the live sources.
  std::unique_ptr<mcu::media::OwnedPipeline> fill;
  GstElement* video_encoder = nullptr;  // where keyframe requests go
  uint32_t video_ssrc = 0;
  uint32_t audio_ssrc = 0;
  std::atomic<uint64_t> video_packets{0}, video_bytes{0}, video_frames{0}, keyframes{0};
  std::atomic<uint64_t> audio_packets{0}, audio_bytes{0};
  // Video streaming thread only.
  bool have_keyframe_ts = false;
  uint32_t last_keyframe_ts = 0;

  // ---- File playback.
  bool from_file = false;
  RtpContinuity video_line{90000, 0};
  RtpContinuity audio_line{48000, 960};  // 20 ms Opus packets
  // The encode branches, each in its own bin, kept out of the pipeline's state changes until
  // decodebin offers a stream of that kind.
  GstElement* video_bin = nullptr;
  GstElement* audio_bin = nullptr;
  std::atomic<bool> video_linked{false}, audio_linked{false};
  // Video streaming thread only: where a new segment (a loop) starts, to key it.
  GstSegment video_segment{};
  bool keyframe_at_next_buffer = false;
  // Segments that reached each branch (one per pass through the file), and how many had before
  // it started playing: the loops are counted where the new pass reaches the encoders, close to
  // when it is sent (the demuxer's segment-done comes early, as it reads ahead).
  std::atomic<uint64_t> video_segments{0}, audio_segments{0};
  std::atomic<uint64_t> video_segments_at_start{UINT64_MAX}, audio_segments_at_start{UINT64_MAX};
  // The loop thread and what the bus tells it.
  std::thread looper;
  std::mutex loop_mu;
  std::condition_variable loop_cv;
  int segment_dones = 0;
  bool eos = false;
  bool failed = false;
  bool stopping = false;
  bool segment_mode = false;  // the demuxer took a segment seek
  std::atomic<bool> ended{false};

  uint64_t Loops() const {
    const bool video = video_linked.load();
    const uint64_t seen = video ? video_segments.load() : audio_segments.load();
    const uint64_t at_start =
        video ? video_segments_at_start.load() : audio_segments_at_start.load();
    return seen > at_start ? seen - at_start : 0;
  }

  ~Impl() { Shutdown(); }

  void Shutdown() {
    {
      std::lock_guard lock(loop_mu);
      stopping = true;
    }
    loop_cv.notify_all();
    if (looper.joinable()) looper.join();
    pipeline.Stop();
    if (fill) fill->Stop();
  }

  void OnVideo(std::span<const uint8_t> rtp) {
    if (video_linked) {  // from the file
      rtp = video_line.Apply(rtp);
      if (rtp.empty()) return;
    }
    video_packets++;
    video_bytes += rtp.size();
    if (auto p = mcu::rtp::RtpPacket::Parse(rtp)) {
      if (p->marker()) video_frames++;
      if (mcu::rtp::IsH264KeyframeStart(p->payload()) &&
          (!have_keyframe_ts || last_keyframe_ts != p->timestamp())) {
        have_keyframe_ts = true;
        last_keyframe_ts = p->timestamp();
        keyframes++;
      }
    }
    if (on_packet) on_packet(MediaKind::kVideo, rtp);
  }
  void OnAudio(std::span<const uint8_t> rtp) {
    if (audio_linked) {
      rtp = audio_line.Apply(rtp);
      if (rtp.empty()) return;
    }
    audio_packets++;
    audio_bytes += rtp.size();
    if (on_packet) on_packet(MediaKind::kAudio, rtp);
  }

  // decodebin offers a decoded stream: the first raw video and the first raw audio are sent.
  static void OnPadAdded(GstElement*, GstPad* pad, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    mcu::media::GstCapsPtr caps(gst_pad_get_current_caps(pad));
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
    const char* name = s ? gst_structure_get_name(s) : "";
    GstElement* target = nullptr;
    std::atomic<bool>* linked = nullptr;
    if (g_str_has_prefix(name, "video/x-raw")) {
      target = self->video_bin;
      linked = &self->video_linked;
    } else if (g_str_has_prefix(name, "audio/x-raw")) {
      target = self->audio_bin;
      linked = &self->audio_linked;
    }
    if (!target) return;  // a kind not sent (audio off), or not decoded
    GstPad* sink = gst_element_get_static_pad(target, "sink");
    if (!gst_pad_is_linked(sink)) {
      if (!linked->exchange(true)) {
        gst_element_set_locked_state(target, FALSE);
        gst_element_sync_state_with_parent(target);
      }
      if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
        log::Warn("terminal.sender.link_failed", {{"caps", name}});
    }
    gst_object_unref(sink);
  }

  // On the video branch's input: the first picture of every loop is encoded as a keyframe, so a
  // receiver that joins or lost packets there recovers at once and the cut is clean.
  static GstPadProbeReturn OnVideoInput(GstPad*, GstPadProbeInfo* info, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
      GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
      if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
        const GstSegment* segment = nullptr;
        gst_event_parse_segment(event, &segment);
        gst_segment_copy_into(segment, &self->video_segment);
        if (self->video_segments++ > 0) self->keyframe_at_next_buffer = true;
      }
    } else if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) && self->keyframe_at_next_buffer) {
      self->keyframe_at_next_buffer = false;
      GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
      const GstClockTime running = gst_segment_to_running_time(
          &self->video_segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
      GstPad* src = gst_element_get_static_pad(self->video_encoder, "src");
      gst_pad_send_event(src, gst_video_event_new_upstream_force_key_unit(running, TRUE, 0));
      gst_object_unref(src);
    }
    return GST_PAD_PROBE_OK;
  }
  static GstPadProbeReturn OnAudioInput(GstPad*, GstPadProbeInfo* info, gpointer user) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_SEGMENT)
      static_cast<Impl*>(user)->audio_segments++;
    return GST_PAD_PROBE_OK;
  }

  // The file pipeline's bus, once it plays (on whichever thread posts): errors and warnings are
  // logged; segment-done and EOS go to the loop thread.
  static GstBusSyncReply OnFileMessage(GstBus*, GstMessage* message, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    switch (GST_MESSAGE_TYPE(message)) {
      case GST_MESSAGE_ERROR: {
        const char* source = GST_MESSAGE_SRC_NAME(message);
        log::Error("terminal.sender.error", {{"file", self->config.file},
                                             {"element", source ? source : ""},
                                             {"message", GstErrorText(message)}});
        {
          std::lock_guard lock(self->loop_mu);
          self->failed = true;
        }
        self->loop_cv.notify_all();
        break;
      }
      case GST_MESSAGE_WARNING: {
        GError* error = nullptr;
        gst_message_parse_warning(message, &error, nullptr);
        log::Warn("terminal.sender.warning",
                  {{"file", self->config.file}, {"message", error ? error->message : ""}});
        if (error) g_error_free(error);
        break;
      }
      case GST_MESSAGE_SEGMENT_DONE:
      case GST_MESSAGE_EOS: {
        {
          std::lock_guard lock(self->loop_mu);
          if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS)
            self->eos = true;
          else
            self->segment_dones++;
        }
        self->loop_cv.notify_all();
        break;
      }
      default:
        break;
    }
    return GST_BUS_DROP;
  }

  // Sends the file back to its start after each pass: a non-flushing segment seek when the
  // demuxer finished a segment (the running time, and with it the RTP timeline, carries on), or
  // a flushing seek after EOS (RtpContinuity bridges the jump), or a restart of the pipeline if
  // even that is refused.
  void LoopThread() {
    std::unique_lock lock(loop_mu);
    int handled = 0;
    uint64_t seeks = 0;
    int empty_loops = 0;
    uint64_t packets_at_loop = 0;
    while (true) {
      loop_cv.wait(lock, [&] { return stopping || failed || eos || segment_dones > handled; });
      if (stopping) return;
      if (failed) {
        ended = true;
        loop_cv.wait(lock, [&] { return stopping; });
        return;
      }
      const bool at_eos = eos;
      eos = false;
      handled = segment_dones;
      if (at_eos && !config.loop) {
        ended = true;
        log::Info("terminal.sender.file_ended", {{"file", config.file}});
        continue;
      }
      const uint64_t packets = video_packets.load() + audio_packets.load();
      empty_loops = packets == packets_at_loop ? empty_loops + 1 : 0;
      packets_at_loop = packets;
      if (empty_loops >= kMaxEmptyLoops) {
        log::Warn("terminal.sender.file_empty", {{"file", config.file}});
        ended = true;
        loop_cv.wait(lock, [&] { return stopping; });
        return;
      }
      lock.unlock();
      bool ok;
      if (!at_eos) {
        ok = gst_element_seek(pipeline.get(), 1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_SEGMENT,
                              GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE);
      } else {
        video_line.Restart();
        audio_line.Restart();
        const auto flags = static_cast<GstSeekFlags>(
            GST_SEEK_FLAG_FLUSH | (segment_mode ? GST_SEEK_FLAG_SEGMENT : GST_SEEK_FLAG_NONE));
        ok = gst_element_seek(pipeline.get(), 1.0, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET, 0,
                              GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE);
        if (!ok) {
          gst_element_set_state(pipeline.get(), GST_STATE_READY);
          ok = gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
        }
      }
      log::Debug("terminal.sender.file_seek",
                 {{"file", config.file}, {"seek", ++seeks}, {"after_eos", at_eos}, {"ok", ok}});
      lock.lock();
      if (!ok) {
        log::Error("terminal.sender.loop_failed", {{"file", config.file}});
        ended = true;
        loop_cv.wait(lock, [&] { return stopping; });
        return;
      }
    }
  }

  Status StartLive();
  Status StartFile();
  Status StartFill();
  Status Preroll(GstBus* bus, std::vector<std::string>* missing);
};

namespace {

detail::VideoBranchConfig VideoConfig(const SenderConfig& config, uint32_t ssrc, bool live) {
  detail::VideoBranchConfig v;
  v.live = live;
  v.sync = !live;
  v.color = config.color;
  v.pattern = config.pattern;
  v.clock = config.clock;
  v.width = config.width;
  v.height = config.height;
  v.fps = config.fps;
  v.kbps = config.video_kbps;
  v.gop_frames = config.gop_frames;
  v.mtu = config.mtu;
  v.payload_type = config.ids.video_payload_type;
  v.ssrc = ssrc;
  return v;
}

detail::AudioBranchConfig AudioConfig(const SenderConfig& config, uint32_t ssrc, bool live) {
  detail::AudioBranchConfig a;
  a.live = live;
  a.sync = !live;
  a.tone_hz = config.tone_hz;
  a.volume = config.tone_volume;
  a.kbps = config.audio_kbps;
  a.payload_type = config.ids.audio_payload_type;
  a.ssrc = ssrc;
  return a;
}

// Puts an encode branch (no source) into its own bin with a "sink" ghost pad, inside `parent`,
// locked in NULL until a stream arrives for it.
Result<GstElement*> AddBranchBin(GstBin* parent, const char* name,
                                 const std::function<Result<detail::Branch>(GstBin*)>& add,
                                 detail::Branch* branch) {
  GstElement* bin = gst_bin_new(name);
  auto made = add(GST_BIN(bin));
  if (!made) {
    gst_object_unref(gst_object_ref_sink(bin));
    return made.error();
  }
  *branch = *made;
  GstPad* target = gst_element_get_static_pad(made->first, "sink");
  gst_element_add_pad(bin, gst_ghost_pad_new("sink", target));
  gst_object_unref(target);
  gst_element_set_locked_state(bin, TRUE);
  gst_bin_add(parent, bin);
  return bin;
}

}  // namespace

Status TerminalSender::Impl::StartLive() {
  Impl* self = this;
  auto video =
      detail::AddVideoBranch(pipeline.bin(), VideoConfig(config, video_ssrc, true), true,
                             [self](std::span<const uint8_t> rtp, int64_t) { self->OnVideo(rtp); });
  if (!video) return video.error();
  video_encoder = video->encoder;
  if (config.audio) {
    auto audio = detail::AddAudioBranch(
        pipeline.bin(), AudioConfig(config, audio_ssrc, true), true,
        [self](std::span<const uint8_t> rtp, int64_t) { self->OnAudio(rtp); });
    if (!audio) return audio.error();
  }
  return pipeline.Play("terminal.sender");
}

// Reads the paused pipeline up to its first picture and sound: ASYNC_DONE, or the error (with
// the codecs decodebin found no decoder for).
Status TerminalSender::Impl::Preroll(GstBus* bus, std::vector<std::string>* missing) {
  const auto deadline = SteadyClock::now() + kPrerollTimeout;
  const std::string what = "media file " + config.file;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0)
      return Error{"bad_file", what + ": no picture or sound after reading it for " +
                                   std::to_string(kPrerollTimeout.count()) + " s"};
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, static_cast<GstClockTime>(left.count()),
        static_cast<GstMessageType>(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR |
                                    GST_MESSAGE_ELEMENT));
    if (!message) continue;
    const GstMessageType type = GST_MESSAGE_TYPE(message);
    if (type == GST_MESSAGE_ELEMENT) {
      const GstStructure* s = gst_message_get_structure(message);
      if (s && gst_structure_has_name(s, "missing-plugin")) {
        GstCaps* detail = nullptr;
        if (gst_structure_get(s, "detail", GST_TYPE_CAPS, &detail, nullptr) && detail) {
          gchar* text = gst_caps_to_string(detail);
          missing->push_back(text);
          g_free(text);
          gst_caps_unref(detail);
        }
      }
      gst_message_unref(message);
      continue;
    }
    if (type == GST_MESSAGE_ERROR) {
      std::string text = GstErrorText(message);
      gst_message_unref(message);
      if (!missing->empty()) {
        text = "no decoder for ";
        for (size_t i = 0; i < missing->size(); ++i) text += (i ? "; " : "") + (*missing)[i];
      }
      return Error{"bad_file", what + " cannot be played: " + text};
    }
    const bool done = GST_MESSAGE_SRC(message) == GST_OBJECT(pipeline.get());
    gst_message_unref(message);
    if (done) return Status::Ok();
  }
}

Status TerminalSender::Impl::StartFile() {
  from_file = true;
  Impl* self = this;
  detail::Branch video, audio;
  auto vbin = AddBranchBin(
      pipeline.bin(), "file-video",
      [&](GstBin* bin) {
        return detail::AddVideoBranch(
            bin, VideoConfig(config, video_ssrc, false), false,
            [self](std::span<const uint8_t> rtp, int64_t) { self->OnVideo(rtp); });
      },
      &video);
  if (!vbin) return vbin.error();
  video_bin = *vbin;
  video_encoder = video.encoder;
  {
    GstPad* in = gst_element_get_static_pad(video_bin, "sink");
    gst_pad_add_probe(in,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      &Impl::OnVideoInput, this, nullptr);
    gst_object_unref(in);
  }
  if (config.audio) {
    auto abin = AddBranchBin(
        pipeline.bin(), "file-audio",
        [&](GstBin* bin) {
          return detail::AddAudioBranch(
              bin, AudioConfig(config, audio_ssrc, false), false,
              [self](std::span<const uint8_t> rtp, int64_t) { self->OnAudio(rtp); });
        },
        &audio);
    if (!abin) return abin.error();
    audio_bin = *abin;
    GstPad* in = gst_element_get_static_pad(audio_bin, "sink");
    gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Impl::OnAudioInput, this, nullptr);
    gst_object_unref(in);
  }
  auto src = mcu::media::AddElement(pipeline.bin(), "filesrc", "file");
  if (!src) return src.error();
  auto decode = mcu::media::AddElement(pipeline.bin(), "decodebin", "decode");
  if (!decode) return decode.error();
  g_object_set(*src, "location", config.file.c_str(), nullptr);
  g_object_set(*decode, "expose-all-streams", FALSE, nullptr);
  if (auto s = mcu::media::LinkChain({*src, *decode}); !s) return s.error();
  g_signal_connect(*decode, "pad-added", G_CALLBACK(&Impl::OnPadAdded), this);

  // Paused first, with nobody handling the bus: the messages stay there to be read here.
  mcu::media::GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  std::vector<std::string> missing;
  gst_element_set_state(pipeline.get(), GST_STATE_PAUSED);
  if (auto s = Preroll(bus.get(), &missing); !s) return s;
  const bool has_video = video_linked.load();
  const bool has_audio = audio_linked.load();
  if (!has_video && !has_audio) {
    std::string text = "media file " + config.file + " has no video or audio stream to send";
    for (size_t i = 0; i < missing.size(); ++i)
      text += (i ? "; " : " (no decoder for ") + missing[i];
    return Error{"bad_file", text + (missing.empty() ? "" : ")")};
  }
  for (const auto& m : missing)
    log::Warn("terminal.sender.stream_skipped",
              {{"file", config.file}, {"why", "no decoder"}, {"caps", m}});
  // The kinds the file does not have are not part of this pipeline.
  auto drop = [&](GstElement*& bin) {
    if (!bin) return;
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_bin_remove(pipeline.bin(), bin);
    bin = nullptr;
  };
  if (!has_video) {
    drop(video_bin);
    video_encoder = nullptr;
  }
  if (!has_audio) drop(audio_bin);

  // Looping: a flushing segment seek to the start, so that the demuxer reports the end of each
  // pass (SEGMENT_DONE) instead of EOS. Demuxers that refuse it loop through EOS.
  if (config.loop) {
    segment_mode =
        gst_element_seek(pipeline.get(), 1.0, GST_FORMAT_TIME,
                         static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_SEGMENT),
                         GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE);
    if (!segment_mode) {
      // A refused seek can leave a demuxer (tsdemux) half flushed: start it afresh.
      gst_element_set_state(pipeline.get(), GST_STATE_READY);
      gst_element_set_state(pipeline.get(), GST_STATE_PAUSED);
    }
    if (auto s = Preroll(bus.get(), &missing); !s) return s;
  }
  gint64 duration = -1;
  gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration);
  gst_bus_set_flushing(bus.get(), TRUE);  // drop what was read above
  gst_bus_set_flushing(bus.get(), FALSE);
  gst_bus_set_sync_handler(bus.get(), &Impl::OnFileMessage, this, nullptr);
  // Prerolled: the segments so far (the first, and the seek's) have reached the branches, and
  // the next ones can only come once it plays.
  video_segments_at_start = video_segments.load();
  audio_segments_at_start = audio_segments.load();
  looper = std::thread([this] { LoopThread(); });
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return Error{"gstreamer", "the media file pipeline for " + config.file + " failed to start"};
  log::Info("terminal.sender.file",
            {{"file", config.file},
             {"video", has_video},
             {"audio", has_audio},
             {"loop", config.loop},
             {"segment_seek", segment_mode},
             {"duration_s", duration >= 0 ? static_cast<double>(duration) / GST_SECOND : -1.0}});
  return StartFill();
}

// What a file lacks comes from the live sources: a terminal keeps sending both streams (the
// camera picture or a slate, silence), as it would with its own camera and microphone.
Status TerminalSender::Impl::StartFill() {
  const bool need_video = !video_linked.load();
  const bool need_audio = config.audio && !audio_linked.load();
  if (!need_video && !need_audio) return Status::Ok();
  fill = std::make_unique<mcu::media::OwnedPipeline>("terminal-sender-fill");
  Impl* self = this;
  if (need_video) {
    auto video = detail::AddVideoBranch(
        fill->bin(), VideoConfig(config, video_ssrc, true), true,
        [self](std::span<const uint8_t> rtp, int64_t) { self->OnVideo(rtp); });
    if (!video) return video.error();
    video_encoder = video->encoder;
  }
  if (need_audio) {
    auto audio = detail::AddAudioBranch(
        fill->bin(), AudioConfig(config, audio_ssrc, true), true,
        [self](std::span<const uint8_t> rtp, int64_t) { self->OnAudio(rtp); });
    if (!audio) return audio.error();
  }
  return fill->Play("terminal.sender.fill");
}

TerminalSender::TerminalSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TerminalSender::~TerminalSender() {
  if (impl_) impl_->Shutdown();
}

Result<std::unique_ptr<TerminalSender>> TerminalSender::Create(const SenderConfig& config,
                                                               PacketCallback on_packet) {
  auto bad = [](const std::string& m) { return Error{"bad_config", m}; };
  if (config.width < 16 || config.height < 16 || config.width % 2 || config.height % 2 ||
      config.width > 3840 || config.height > 2160)
    return bad("video size must be even, between 16x16 and 3840x2160");
  if (config.fps < 1 || config.fps > 60) return bad("fps must be 1..60");
  if (config.video_kbps < 32 || config.video_kbps > 20000)
    return bad("video bitrate 32..20000 kbit/s");
  if (config.audio_kbps < 6 || config.audio_kbps > 510) return bad("audio bitrate 6..510 kbit/s");
  if (config.tone_hz < 0 || config.tone_hz > 20000) return bad("tone must be 0..20000 Hz");
  if (config.gop_frames < 1 || config.mtu < 200 || config.mtu > 1460)
    return bad("gop >= 1, mtu 200..1460");
  if (config.ids.video_payload_type > 127 || config.ids.audio_payload_type > 127 ||
      config.ids.video_payload_type == config.ids.audio_payload_type)
    return bad("payload types must be distinct, 0..127");
  const bool from_file = !config.file.empty();
  if (from_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config.file, ec))
      return Error{"bad_file", "media file " + config.file + " does not exist or is not a file"};
  }

  mcu::media::EnsureGstInit();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->on_packet = std::move(on_packet);
  impl->video_ssrc = config.ids.video_ssrc ? config.ids.video_ssrc : detail::RandomSsrc();
  impl->audio_ssrc = config.ids.audio_ssrc ? config.ids.audio_ssrc : detail::RandomSsrc();
  auto started = from_file ? impl->StartFile() : impl->StartLive();
  if (!started) return started.error();
  return std::unique_ptr<TerminalSender>(new TerminalSender(std::move(impl)));
}

void TerminalSender::RequestKeyframe() {
  if (impl_->video_encoder) detail::ForceKeyframe(impl_->video_encoder);
}

SenderStats TerminalSender::Stats() const {
  SenderStats s;
  s.video_packets = impl_->video_packets.load();
  s.video_bytes = impl_->video_bytes.load();
  s.video_frames = impl_->video_frames.load();
  s.keyframes = impl_->keyframes.load();
  s.audio_packets = impl_->audio_packets.load();
  s.audio_bytes = impl_->audio_bytes.load();
  s.ended = impl_->from_file ? impl_->ended.load() : impl_->pipeline.eos();
  s.file_loops = impl_->from_file ? impl_->Loops() : 0;
  s.file_video = impl_->from_file && impl_->video_linked.load();
  s.file_audio = impl_->from_file && impl_->audio_linked.load();
  return s;
}

uint32_t TerminalSender::video_ssrc() const {
  return impl_->video_ssrc;
}
uint32_t TerminalSender::audio_ssrc() const {
  return impl_->audio_ssrc;
}

}  // namespace plateau::terminal::media
