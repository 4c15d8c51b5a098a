#include "plateau/terminal/media/receiver.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "plateau/mcu/audio/tone.hpp"
#include "plateau/mcu/media/gst_util.hpp"

namespace plateau::terminal::media {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kAudioRate = 48000;

}  // namespace

Rgb DecodedFrame::Average(int x, int y, int box) const {
  if (width <= 0 || height <= 0 || rgb.size() < static_cast<size_t>(width) * height * 3) return {};
  box = std::max(1, box);
  const int x0 = std::clamp(x - box / 2, 0, width - 1);
  const int y0 = std::clamp(y - box / 2, 0, height - 1);
  const int x1 = std::clamp(x0 + box, 1, width);
  const int y1 = std::clamp(y0 + box, 1, height);
  uint64_t sum[3] = {0, 0, 0};
  uint64_t n = 0;
  for (int yy = y0; yy < y1; ++yy) {
    const uint8_t* row = rgb.data() + (static_cast<size_t>(yy) * width + x0) * 3;
    for (int xx = x0; xx < x1; ++xx, row += 3, ++n) {
      sum[0] += row[0];
      sum[1] += row[1];
      sum[2] += row[2];
    }
  }
  if (n == 0) return {};
  return Rgb{static_cast<uint8_t>(sum[0] / n), static_cast<uint8_t>(sum[1] / n),
             static_cast<uint8_t>(sum[2] / n)};
}

struct TerminalReceiver::Impl {
  ReceiverConfig config;
  mcu::media::OwnedPipeline pipeline{"terminal-receiver"};
  GstElement* video_src = nullptr;
  GstElement* audio_src = nullptr;
  std::atomic<uint64_t> video_packets{0}, audio_packets{0}, unknown_packets{0};

  mutable std::mutex mu;
  mutable std::condition_variable frame_cv;
  std::shared_ptr<const DecodedFrame> latest;
  uint64_t frames = 0;
  uint64_t keyframes = 0;
  std::deque<Clock::time_point> recent;   // arrivals in the last second
  std::deque<int16_t> audio;              // the last audio_window_ms
  std::deque<GstClockTime> keyframe_pts;  // access units h264parse marked as keyframes
  uint64_t audio_samples = 0;
  std::string stream_colorimetry;   // from h264parse's caps
  std::string decoded_colorimetry;  // from avdec_h264's caps

  // The colorimetry field of a caps event ("" when absent), into `out` under `mu`.
  static GstPadProbeReturn OnCaps(GstPad* pad, GstPadProbeInfo* info, gpointer user) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
    GstCaps* caps = nullptr;
    gst_event_parse_caps(event, &caps);
    const GstStructure* s =
        caps && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
    const char* name = s ? gst_structure_get_string(s, "colorimetry") : nullptr;
    auto* self = static_cast<Impl*>(user);
    const bool parsed = g_object_get_data(G_OBJECT(pad), "plateau-parsed") != nullptr;
    std::lock_guard lock(self->mu);
    (parsed ? self->stream_colorimetry : self->decoded_colorimetry) = name ? name : "";
    return GST_PAD_PROBE_OK;
  }

  static GstFlowReturn OnVideoSample(GstAppSink* sink, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    mcu::media::GstSamplePtr sample(gst_app_sink_pull_sample(sink));
    if (!sample) return GST_FLOW_OK;
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get()))) return GST_FLOW_OK;
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    GstVideoFrame vframe;
    if (!buffer || !gst_video_frame_map(&vframe, &info, buffer, GST_MAP_READ)) return GST_FLOW_OK;
    auto frame = std::make_shared<DecodedFrame>();
    frame->width = GST_VIDEO_INFO_WIDTH(&info);
    frame->height = GST_VIDEO_INFO_HEIGHT(&info);
    frame->arrival = Clock::now();
    const size_t row_bytes = static_cast<size_t>(frame->width) * 3;
    frame->rgb.resize(row_bytes * frame->height);
    const auto* data = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&vframe, 0));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vframe, 0);
    for (int y = 0; y < frame->height; ++y)
      std::copy_n(data + static_cast<size_t>(y) * stride, row_bytes,
                  frame->rgb.data() + row_bytes * y);
    gst_video_frame_unmap(&vframe);
    {
      std::lock_guard lock(self->mu);
      frame->index = ++self->frames;
      const GstClockTime pts = GST_BUFFER_PTS(buffer);
      auto it = std::find(self->keyframe_pts.begin(), self->keyframe_pts.end(), pts);
      frame->keyframe = it != self->keyframe_pts.end();
      if (frame->keyframe) self->keyframe_pts.erase(it);
      self->recent.push_back(frame->arrival);
      while (!self->recent.empty() &&
             frame->arrival - self->recent.front() > std::chrono::seconds(1))
        self->recent.pop_front();
      self->latest = std::move(frame);
    }
    self->frame_cv.notify_all();
    return GST_FLOW_OK;
  }

  // Counts keyframes where the stream is parsed (decoders do not flag their output reliably) and
  // remembers their timestamps to flag the decoded frame.
  static GstPadProbeReturn OnParsed(GstPad*, GstPadProbeInfo* info, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (buffer && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
      {
        std::lock_guard lock(self->mu);
        self->keyframes++;
        self->keyframe_pts.push_back(GST_BUFFER_PTS(buffer));
        while (self->keyframe_pts.size() > 64) self->keyframe_pts.pop_front();
      }
      self->frame_cv.notify_all();
    }
    return GST_PAD_PROBE_OK;
  }

  static GstFlowReturn OnAudioSample(GstAppSink* sink, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    mcu::media::GstSamplePtr sample(gst_app_sink_pull_sample(sink));
    if (!sample) return GST_FLOW_OK;
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    GstMapInfo map;
    if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
    const auto* pcm = reinterpret_cast<const int16_t*>(map.data);
    const size_t n = map.size / sizeof(int16_t);
    {
      std::lock_guard lock(self->mu);
      self->audio.insert(self->audio.end(), pcm, pcm + n);
      const size_t keep = static_cast<size_t>(self->config.audio_window_ms) * kAudioRate / 1000;
      while (self->audio.size() > keep) self->audio.pop_front();
      self->audio_samples += n;
    }
    gst_buffer_unmap(buffer, &map);
    self->frame_cv.notify_all();
    return GST_FLOW_OK;
  }

  Result<GstElement*> BuildBranch(const std::string& prefix, const std::string& rtp_caps,
                                  std::initializer_list<const char*> middle,
                                  const std::string& out_caps, GstAppSinkCallbacks callbacks) {
    GstBin* bin = pipeline.bin();
    std::vector<GstElement*> chain;
    auto add = [&](const char* f) -> Status {
      auto e = mcu::media::AddElement(bin, f, prefix + f);
      if (!e) return e.error();
      chain.push_back(*e);
      return Status::Ok();
    };
    if (auto s = add("appsrc"); !s) return s.error();
    if (auto s = add("rtpjitterbuffer"); !s) return s.error();
    for (const char* f : middle)
      if (auto s = add(f); !s) return s.error();
    if (auto s = add("capsfilter"); !s) return s.error();
    if (auto s = add("appsink"); !s) return s.error();
    auto caps = mcu::media::CapsFromString(rtp_caps);
    g_object_set(chain[0], "caps", caps.get(), "is-live", TRUE, "do-timestamp", TRUE, "max-bytes",
                 static_cast<guint64>(4 * 1024 * 1024), nullptr);
    gst_util_set_object_arg(G_OBJECT(chain[0]), "format", "time");
    gst_util_set_object_arg(G_OBJECT(chain[0]), "leaky-type", "upstream");
    g_object_set(chain[1], "latency", static_cast<guint>(config.jitter_latency_ms), nullptr);
    auto ocaps = mcu::media::CapsFromString(out_caps);
    g_object_set(chain[chain.size() - 2], "caps", ocaps.get(), nullptr);
    g_object_set(chain.back(), "sync", FALSE, "async", FALSE, "max-buffers", 64u, "drop", TRUE,
                 nullptr);
    gst_app_sink_set_callbacks(GST_APP_SINK(chain.back()), &callbacks, this, nullptr);
    for (size_t i = 1; i < chain.size(); ++i)
      if (auto s = mcu::media::LinkChain({chain[i - 1], chain[i]}); !s) return s.error();
    return chain[0];
  }

  std::vector<int16_t> AudioWindow(int window_ms) const {
    std::lock_guard lock(mu);
    const size_t want =
        std::min(audio.size(), static_cast<size_t>(std::max(1, window_ms)) * kAudioRate / 1000);
    return std::vector<int16_t>(audio.end() - static_cast<std::ptrdiff_t>(want), audio.end());
  }
};

TerminalReceiver::TerminalReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TerminalReceiver::~TerminalReceiver() {
  if (impl_) impl_->pipeline.Stop();
}

Result<std::unique_ptr<TerminalReceiver>> TerminalReceiver::Create(const ReceiverConfig& config) {
  if (config.video_payload_type > 127 || config.audio_payload_type > 127 ||
      config.video_payload_type == config.audio_payload_type)
    return Error{"bad_config", "payload types must be distinct, 0..127"};
  if (config.jitter_latency_ms < 0 || config.jitter_latency_ms > 2000 ||
      config.audio_window_ms < 20 || config.audio_window_ms > 10000)
    return Error{"bad_config", "jitter latency 0..2000 ms, audio window 20..10000 ms"};
  mcu::media::EnsureGstInit();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  GstAppSinkCallbacks video_cb{};
  video_cb.new_sample = &Impl::OnVideoSample;
  auto video = impl->BuildBranch(
      "video-",
      "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=" +
          std::to_string(config.video_payload_type),
      {"rtph264depay", "h264parse", "avdec_h264", "videoconvert"}, "video/x-raw,format=RGB",
      video_cb);
  if (!video) return video.error();
  impl->video_src = *video;
  GstElement* parse = gst_bin_get_by_name(impl->pipeline.bin(), "video-h264parse");
  GstPad* parsed = gst_element_get_static_pad(parse, "src");
  gst_pad_add_probe(parsed, GST_PAD_PROBE_TYPE_BUFFER, &Impl::OnParsed, impl.get(), nullptr);
  g_object_set_data(G_OBJECT(parsed), "plateau-parsed", impl.get());
  gst_pad_add_probe(parsed, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Impl::OnCaps, impl.get(),
                    nullptr);
  gst_object_unref(parsed);
  gst_object_unref(parse);
  GstElement* decoder = gst_bin_get_by_name(impl->pipeline.bin(), "video-avdec_h264");
  GstPad* decoded = gst_element_get_static_pad(decoder, "src");
  gst_pad_add_probe(decoded, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Impl::OnCaps, impl.get(),
                    nullptr);
  gst_object_unref(decoded);
  gst_object_unref(decoder);
  if (config.audio) {
    GstAppSinkCallbacks audio_cb{};
    audio_cb.new_sample = &Impl::OnAudioSample;
    auto audio = impl->BuildBranch(
        "audio-",
        "application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=" +
            std::to_string(config.audio_payload_type),
        {"rtpopusdepay", "opusdec", "audioconvert", "audioresample"},
        "audio/x-raw,format=S16LE,rate=48000,channels=1", audio_cb);
    if (!audio) return audio.error();
    impl->audio_src = *audio;
  }
  if (auto s = impl->pipeline.Play("terminal.receiver"); !s) return s.error();
  return std::unique_ptr<TerminalReceiver>(new TerminalReceiver(std::move(impl)));
}

void TerminalReceiver::PushRtp(std::span<const uint8_t> packet) {
  Impl& m = *impl_;
  if (packet.size() < 12 || (packet[0] >> 6) != 2 || packet.size() > 65536) {
    m.unknown_packets++;
    return;
  }
  const uint8_t pt = packet[1] & 0x7F;
  GstElement* target = nullptr;
  if (pt == m.config.video_payload_type) {
    target = m.video_src;
    m.video_packets++;
  } else if (pt == m.config.audio_payload_type && m.audio_src) {
    target = m.audio_src;
    m.audio_packets++;
  } else {
    m.unknown_packets++;
    return;
  }
  GstBuffer* buffer = gst_buffer_new_memdup(packet.data(), packet.size());
  gst_app_src_push_buffer(GST_APP_SRC(target), buffer);
}

ReceiverStats TerminalReceiver::Stats() const {
  ReceiverStats s;
  s.video_packets = impl_->video_packets.load();
  s.audio_packets = impl_->audio_packets.load();
  s.unknown_packets = impl_->unknown_packets.load();
  std::lock_guard lock(impl_->mu);
  s.frames_decoded = impl_->frames;
  s.keyframes = impl_->keyframes;
  if (impl_->latest) {
    s.width = impl_->latest->width;
    s.height = impl_->latest->height;
  }
  const auto now = Clock::now();
  s.fps =
      static_cast<double>(std::count_if(impl_->recent.begin(), impl_->recent.end(), [&](auto t) {
        return now - t <= std::chrono::seconds(1);
      }));
  s.audio_samples = impl_->audio_samples;
  s.stream_colorimetry = impl_->stream_colorimetry;
  s.decoded_colorimetry = impl_->decoded_colorimetry;
  return s;
}

std::shared_ptr<const DecodedFrame> TerminalReceiver::LatestFrame() const {
  std::lock_guard lock(impl_->mu);
  return impl_->latest;
}

std::shared_ptr<const DecodedFrame> TerminalReceiver::WaitForFrame(
    const std::function<bool(const DecodedFrame&)>& predicate, SteadyTime deadline,
    uint64_t after_index) const {
  std::unique_lock lock(impl_->mu);
  uint64_t checked = after_index;
  while (true) {
    if (impl_->latest && impl_->latest->index > checked) {
      auto frame = impl_->latest;
      checked = frame->index;
      lock.unlock();
      if (predicate(*frame)) return frame;
      lock.lock();
      continue;
    }
    if (impl_->frame_cv.wait_until(lock, deadline) == std::cv_status::timeout &&
        !(impl_->latest && impl_->latest->index > checked))
      return nullptr;
  }
}

bool TerminalReceiver::WaitForKeyframes(uint64_t count, SteadyTime deadline) const {
  std::unique_lock lock(impl_->mu);
  return impl_->frame_cv.wait_until(lock, deadline, [&] { return impl_->keyframes >= count; });
}

bool TerminalReceiver::WaitForAudio(int window_ms, SteadyTime deadline) const {
  std::unique_lock lock(impl_->mu);
  const uint64_t want = static_cast<uint64_t>(std::max(0, window_ms)) * kAudioRate / 1000;
  return impl_->frame_cv.wait_until(lock, deadline, [&] { return impl_->audio_samples >= want; });
}

double TerminalReceiver::ToneLevelDbov(double hz, int window_ms) const {
  const auto pcm = impl_->AudioWindow(window_ms);
  if (pcm.empty()) return -127.0;
  return mcu::audio::ToneDetector::LevelDbov(pcm, hz, kAudioRate);
}

double TerminalReceiver::AudioLevelDbov(int window_ms) const {
  const auto pcm = impl_->AudioWindow(window_ms);
  if (pcm.empty()) return -127.0;
  return mcu::audio::RmsDbov(pcm);
}

}  // namespace plateau::terminal::media
