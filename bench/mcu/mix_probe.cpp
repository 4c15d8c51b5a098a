#include "mix_probe.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "plateau/mcu/media/gst_util.hpp"

namespace plateau::bench {

using mcu::media::AddElement;
using mcu::media::CapsFromString;
using mcu::media::LinkChain;

terminal::media::Rgb ProbeFrame::Average(int x, int y, int box) const {
  const int x0 = std::clamp(x - box / 2, 0, std::max(0, width - 1));
  const int y0 = std::clamp(y - box / 2, 0, std::max(0, height - 1));
  const int x1 = std::clamp(x0 + box, 1, width);
  const int y1 = std::clamp(y0 + box, 1, height);
  uint64_t r = 0, g = 0, b = 0, n = 0;
  for (int yy = y0; yy < y1; ++yy) {
    for (int xx = x0; xx < x1; ++xx) {
      const size_t at =
          static_cast<size_t>(yy) * static_cast<size_t>(stride) + static_cast<size_t>(xx) * 3;
      if (at + 2 >= rgb.size()) continue;
      r += rgb[at];
      g += rgb[at + 1];
      b += rgb[at + 2];
      n++;
    }
  }
  if (n == 0) return {};
  return {static_cast<uint8_t>(r / n), static_cast<uint8_t>(g / n), static_cast<uint8_t>(b / n)};
}

struct ProbeDecoder::Impl {
  explicit Impl(OnFrame f) : on_frame(std::move(f)), pipeline("bench-probe-decoder") {}

  OnFrame on_frame;
  GstElement* appsrc = nullptr;
  std::atomic<uint64_t> frames{0};
  // RTP timestamp unwrapping (Push's thread).
  bool started = false;
  uint32_t last_ts = 0;
  int64_t ext_ts = 0;    // extended timestamp of the last packet
  int64_t first_ts = 0;  // extended timestamp that maps to PTS 0
  // Extended timestamp -> arrival of the frame's marker packet.
  std::mutex mu;
  std::map<int64_t, int64_t> arrivals;
  // Last: stopped first, before the state its threads use.
  mcu::media::OwnedPipeline pipeline;

  static GstFlowReturn OnSample(GstAppSink* sink, gpointer self) {
    return static_cast<Impl*>(self)->HandleSample(sink);
  }

  GstFlowReturn HandleSample(GstAppSink* sink) {
    mcu::media::GstSamplePtr sample(gst_app_sink_pull_sample(sink));
    if (!sample) return GST_FLOW_OK;
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    GstVideoInfo info;
    if (!buffer || !gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get())))
      return GST_FLOW_OK;
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
    ProbeFrame frame;
    frame.width = GST_VIDEO_INFO_WIDTH(&info);
    frame.height = GST_VIDEO_INFO_HEIGHT(&info);
    frame.stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
    frame.rgb = std::span<const uint8_t>(map.data, map.size);
    if (GST_BUFFER_PTS_IS_VALID(buffer)) {
      const int64_t ts =
          first_ts + static_cast<int64_t>(std::llround(static_cast<double>(GST_BUFFER_PTS(buffer)) *
                                                       90000.0 / GST_SECOND));
      std::lock_guard lock(mu);
      // Within a tick of rounding.
      auto it = arrivals.lower_bound(ts - 1);
      if (it != arrivals.end() && it->first <= ts + 1) frame.arrival_us = it->second;
      arrivals.erase(arrivals.begin(), arrivals.lower_bound(ts - 90000));
    }
    frames++;
    if (on_frame) on_frame(frame);
    gst_buffer_unmap(buffer, &map);
    return GST_FLOW_OK;
  }
};

ProbeDecoder::ProbeDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProbeDecoder::~ProbeDecoder() {
  impl_->pipeline.Stop();
}

Result<std::unique_ptr<ProbeDecoder>> ProbeDecoder::Create(OnFrame on_frame) {
  mcu::media::EnsureGstInit();
  auto impl = std::make_unique<Impl>(std::move(on_frame));
  GstBin* bin = impl->pipeline.bin();
  std::vector<GstElement*> chain;
  for (const char* factory : {"appsrc", "rtph264depay", "h264parse", "avdec_h264", "videoconvert",
                              "capsfilter", "appsink"}) {
    auto e = AddElement(bin, factory, std::string("probe-") + factory);
    if (!e) return e.error();
    chain.push_back(*e);
  }
  auto rtp_caps = CapsFromString(
      "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96");
  g_object_set(chain[0], "caps", rtp_caps.get(), "is-live", FALSE, "max-bytes",
               static_cast<guint64>(8 << 20), nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[0]), "format", "time");
  // One decoding thread: no frame-threading delay, and the probe costs one thread.
  g_object_set(chain[3], "max-threads", 1, nullptr);
  auto rgb = CapsFromString("video/x-raw,format=RGB");
  g_object_set(chain[5], "caps", rgb.get(), nullptr);
  g_object_set(chain[6], "sync", FALSE, "max-buffers", 8u, nullptr);
  for (size_t i = 1; i < chain.size(); ++i)
    if (auto s = LinkChain({chain[i - 1], chain[i]}); !s) return s.error();
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Impl::OnSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(chain[6]), &callbacks, impl.get(), nullptr);
  impl->appsrc = chain[0];
  if (auto s = impl->pipeline.Play("bench.probe_decoder"); !s) return s.error();
  return std::unique_ptr<ProbeDecoder>(new ProbeDecoder(std::move(impl)));
}

void ProbeDecoder::Push(const mcu::rtp::RtpPacket& packet, int64_t arrival_us) {
  Impl& d = *impl_;
  const uint32_t ts = packet.timestamp();
  if (!d.started) {
    d.started = true;
    d.ext_ts = ts;
    d.first_ts = ts;
  } else {
    d.ext_ts += static_cast<int32_t>(ts - d.last_ts);
  }
  d.last_ts = ts;
  if (packet.marker()) {
    std::lock_guard lock(d.mu);
    d.arrivals[d.ext_ts] = arrival_us;
  }
  const auto data = packet.data();
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, data.size(), nullptr);
  gst_buffer_fill(buffer, 0, data.data(), data.size());
  const int64_t rel = std::max<int64_t>(0, d.ext_ts - d.first_ts);
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(rel) * GST_SECOND / 90000;
  gst_app_src_push_buffer(GST_APP_SRC(d.appsrc), buffer);
}

uint64_t ProbeDecoder::frames() const {
  return impl_->frames.load();
}

double Percentile(std::vector<double> values, double percent) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(percent / 100.0 * static_cast<double>(values.size()));
  const size_t index =
      static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[index];
}

}  // namespace plateau::bench
