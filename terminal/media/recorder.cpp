#include "plateau/terminal/media/recorder.hpp"

#include <gst/app/gstappsrc.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "plateau/mcu/media/gst_util.hpp"

namespace plateau::terminal::media {

struct MixRecorder::Impl {
  RecorderConfig config;
  mcu::media::OwnedPipeline pipeline{"terminal-recorder"};
  GstElement* video_src = nullptr;
  GstElement* audio_src = nullptr;
  std::atomic<uint64_t> video_packets{0}, audio_packets{0}, other_packets{0};
  std::mutex finish_mu;
  std::atomic<bool> finished{false};

  Result<GstElement*> Branch(GstElement* mux, const std::string& prefix, const std::string& caps,
                             std::initializer_list<const char*> middle) {
    GstBin* bin = pipeline.bin();
    std::vector<GstElement*> chain;
    for (const char* f : {"appsrc", "rtpjitterbuffer"}) {
      auto e = mcu::media::AddElement(bin, f, prefix + f);
      if (!e) return e.error();
      chain.push_back(*e);
    }
    for (const char* f : middle) {
      auto e = mcu::media::AddElement(bin, f, prefix + f);
      if (!e) return e.error();
      chain.push_back(*e);
    }
    auto q = mcu::media::AddElement(bin, "queue", prefix + "queue");
    if (!q) return q.error();
    chain.push_back(*q);
    auto c = mcu::media::CapsFromString(caps);
    g_object_set(chain[0], "caps", c.get(), "is-live", TRUE, "do-timestamp", TRUE, "max-bytes",
                 static_cast<guint64>(8 * 1024 * 1024), nullptr);
    gst_util_set_object_arg(G_OBJECT(chain[0]), "format", "time");
    gst_util_set_object_arg(G_OBJECT(chain[0]), "leaky-type", "upstream");
    g_object_set(chain[1], "latency", static_cast<guint>(config.jitter_latency_ms), nullptr);
    for (size_t i = 1; i < chain.size(); ++i)
      if (auto s = mcu::media::LinkChain({chain[i - 1], chain[i]}); !s) return s.error();
    if (!gst_element_link(chain.back(), mux))
      return Error{"gstreamer", "cannot link " + prefix + "queue to the Matroska muxer"};
    return chain[0];
  }
};

MixRecorder::MixRecorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MixRecorder::~MixRecorder() {
  if (impl_) {
    (void)Finish(std::chrono::seconds(2));
    impl_->pipeline.Stop();
  }
}

Result<std::unique_ptr<MixRecorder>> MixRecorder::Create(const RecorderConfig& config) {
  if (config.path.empty()) return Error{"bad_config", "no recording path"};
  if (config.video_payload_type > 127 || config.audio_payload_type > 127 ||
      config.video_payload_type == config.audio_payload_type)
    return Error{"bad_config", "payload types must be distinct, 0..127"};
  {
    std::ofstream probe(config.path, std::ios::binary | std::ios::trunc);
    if (!probe) return Error{"record_file", "cannot write " + config.path};
  }
  mcu::media::EnsureGstInit();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  GstBin* bin = impl->pipeline.bin();
  auto mux = mcu::media::AddElement(bin, "matroskamux", "mux");
  if (!mux) return mux.error();
  auto sink = mcu::media::AddElement(bin, "filesink", "file");
  if (!sink) return sink.error();
  g_object_set(*sink, "location", config.path.c_str(), "sync", FALSE, "async", FALSE, nullptr);
  if (!gst_element_link(*mux, *sink)) return Error{"gstreamer", "cannot link matroskamux"};
  auto video =
      impl->Branch(*mux, "video-",
                   "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=" +
                       std::to_string(config.video_payload_type),
                   {"rtph264depay", "h264parse"});
  if (!video) return video.error();
  impl->video_src = *video;
  auto audio =
      impl->Branch(*mux, "audio-",
                   "application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=" +
                       std::to_string(config.audio_payload_type),
                   {"rtpopusdepay", "opusparse"});
  if (!audio) return audio.error();
  impl->audio_src = *audio;
  if (auto s = impl->pipeline.Play("terminal.recorder"); !s) return s.error();
  return std::unique_ptr<MixRecorder>(new MixRecorder(std::move(impl)));
}

void MixRecorder::PushRtp(std::span<const uint8_t> packet) {
  Impl& m = *impl_;
  if (m.finished) return;
  if (packet.size() < 12 || (packet[0] >> 6) != 2 || packet.size() > 65536) {
    m.other_packets++;
    return;
  }
  const uint8_t pt = packet[1] & 0x7F;
  GstElement* target = nullptr;
  if (pt == m.config.video_payload_type) {
    target = m.video_src;
    m.video_packets++;
  } else if (pt == m.config.audio_payload_type) {
    target = m.audio_src;
    m.audio_packets++;
  } else {
    m.other_packets++;
    return;
  }
  gst_app_src_push_buffer(GST_APP_SRC(target), gst_buffer_new_memdup(packet.data(), packet.size()));
}

Status MixRecorder::Finish(std::chrono::milliseconds timeout) {
  std::lock_guard lock(impl_->finish_mu);
  if (impl_->finished.exchange(true)) return Status::Ok();
  gst_app_src_end_of_stream(GST_APP_SRC(impl_->video_src));
  gst_app_src_end_of_stream(GST_APP_SRC(impl_->audio_src));
  const bool complete = impl_->pipeline.WaitForEos(timeout);
  impl_->pipeline.Stop();
  if (!complete)
    return Error{"record_file", "the recording " + impl_->config.path +
                                    " was not finalised in time (it may lack its index)"};
  return Status::Ok();
}

RecorderStats MixRecorder::Stats() const {
  RecorderStats s;
  s.video_packets = impl_->video_packets;
  s.audio_packets = impl_->audio_packets;
  s.other_packets = impl_->other_packets;
  std::error_code ec;
  const auto size = std::filesystem::file_size(impl_->config.path, ec);
  s.bytes_written = ec ? 0 : size;
  s.finished = impl_->finished;
  return s;
}

Status WritePng(const DecodedFrame& frame, const std::string& path) {
  if (frame.width <= 0 || frame.height <= 0 ||
      frame.rgb.size() != static_cast<size_t>(frame.width) * frame.height * 3)
    return Error{"bad_frame", "the frame has no picture"};
  {
    std::ofstream probe(path, std::ios::binary | std::ios::trunc);
    if (!probe) return Error{"record_file", "cannot write " + path};
  }
  mcu::media::EnsureGstInit();
  mcu::media::OwnedPipeline pipeline("terminal-snapshot");
  GstBin* bin = pipeline.bin();
  std::vector<GstElement*> chain;
  for (const char* f : {"appsrc", "videoconvert", "pngenc", "filesink"}) {
    auto e = mcu::media::AddElement(bin, f, f);
    if (!e) return e.error();
    chain.push_back(*e);
  }
  auto caps =
      mcu::media::CapsFromString("video/x-raw,format=RGB,width=" + std::to_string(frame.width) +
                                 ",height=" + std::to_string(frame.height) + ",framerate=0/1");
  g_object_set(chain[0], "caps", caps.get(), nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[0]), "format", "time");
  g_object_set(chain[2], "snapshot", TRUE, nullptr);
  g_object_set(chain[3], "location", path.c_str(), nullptr);
  for (size_t i = 1; i < chain.size(); ++i)
    if (auto s = mcu::media::LinkChain({chain[i - 1], chain[i]}); !s) return s;
  if (auto s = pipeline.Play("terminal.snapshot"); !s) return s;
  // RGB rows in GStreamer are padded to 4 bytes.
  const size_t row = static_cast<size_t>(frame.width) * 3;
  const size_t stride = (row + 3) & ~static_cast<size_t>(3);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, stride * frame.height, nullptr);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref(buffer);
    return Error{"gstreamer", "cannot map a buffer"};
  }
  for (int y = 0; y < frame.height; ++y)
    std::copy_n(frame.rgb.data() + row * y, row, map.data + stride * y);
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = 0;
  gst_app_src_push_buffer(GST_APP_SRC(chain[0]), buffer);
  gst_app_src_end_of_stream(GST_APP_SRC(chain[0]));
  if (!pipeline.WaitForEos(std::chrono::seconds(5)))
    return Error{"record_file", "the snapshot " + path + " was not written"};
  return Status::Ok();
}

}  // namespace plateau::terminal::media
