#include "mix_baseline.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>

#include "cpu_meter.hpp"
#include "plateau/common/log.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::bench {
namespace {

using mcu::media::AddElement;
using mcu::media::CapsFromString;
using mcu::media::LinkChain;
using terminal::media::EncodedClip;
using terminal::media::MediaKind;
using Clock = std::chrono::steady_clock;

// Feeds one venue's clip (one media kind) into an appsrc from the appsrc's own thread, looping
// the clip with continuous sequence numbers and timestamps until `end_us` of media.
struct Feeder {
  std::shared_ptr<const EncodedClip> clip;
  std::vector<size_t> packets;  // indices of this kind's packets in the clip
  uint8_t payload_type = 96;
  uint32_t clock_rate = 90000;
  uint32_t ssrc = 1;
  int64_t end_us = 0;
  size_t cursor = 0;
  uint64_t loop = 0;
  uint16_t seq = 0;
  bool done = false;

  static void OnNeedData(GstAppSrc* src, guint, gpointer self) {
    static_cast<Feeder*>(self)->Feed(src);
  }

  void Feed(GstAppSrc* src) {
    if (done) return;
    const auto& all = clip->packets();
    for (int n = 0; n < 64; ++n) {
      if (packets.empty()) break;
      const EncodedClip::Packet& p = all[packets[cursor]];
      const int64_t t_us = static_cast<int64_t>(loop) * clip->duration_us() + p.offset_us;
      if (t_us >= end_us) break;
      GstBuffer* buffer = gst_buffer_new_allocate(nullptr, p.rtp.size(), nullptr);
      GstMapInfo map;
      gst_buffer_map(buffer, &map, GST_MAP_WRITE);
      std::copy(p.rtp.begin(), p.rtp.end(), map.data);
      const uint32_t ts = static_cast<uint32_t>(loop * static_cast<uint64_t>(clip->duration_us()) *
                                                clock_rate / 1000000) +
                          p.timestamp_offset;
      mcu::rtp::RewriteRtpHeader(std::span<uint8_t>(map.data, map.size),
                                 mcu::rtp::RtpRewrite{payload_type, std::nullopt, seq++, ts, ssrc});
      gst_buffer_unmap(buffer, &map);
      GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(t_us) * 1000;
      GST_BUFFER_DTS(buffer) = GST_BUFFER_PTS(buffer);
      gst_app_src_push_buffer(src, buffer);
      if (++cursor == packets.size()) {
        cursor = 0;
        loop++;
      }
    }
    const bool finished =
        packets.empty() ||
        static_cast<int64_t>(loop) * clip->duration_us() + all[packets[cursor]].offset_us >= end_us;
    if (finished) {
      done = true;
      gst_app_src_end_of_stream(src);
    }
  }
};

GstPadProbeReturn CountBuffer(GstPad*, GstPadProbeInfo*, gpointer counter) {
  static_cast<std::atomic<uint64_t>*>(counter)->fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

class Builder {
 public:
  explicit Builder(const BaselineConfig& c) : c_(c), pipeline_("bench-baseline") {}

  Status Build();
  Result<BaselineFigures> Run();

 private:
  GstBin* bin() const { return pipeline_.bin(); }
  std::string Name(const std::string& prefix) { return prefix + "-" + std::to_string(next_++); }
  Result<GstElement*> Add(const char* factory, const std::string& prefix) {
    return AddElement(bin(), factory, Name(prefix));
  }
  Result<GstElement*> AddAppSrc(const BaselineVenue& v, MediaKind kind, uint32_t ssrc);
  Status AddVideoVenue(const BaselineVenue& v, size_t index, GstElement* compositor);
  Status AddAudioVenue(const BaselineVenue& v, size_t index, GstElement* mixer);
  Status AddVideoReceiver(GstElement* tee, const mcu::media::TierConfig& tier);
  Status AddAudioReceiver(GstElement* tee);
  Status LinkToRequestPad(GstElement* from, GstElement* to, GstPad** out = nullptr);

  const BaselineConfig& c_;
  int next_ = 0;
  std::deque<Feeder> feeders_;
  std::deque<std::atomic<uint64_t>> video_frames_;
  std::deque<std::atomic<uint64_t>> audio_frames_;
  BaselineFigures figures_;
  // Last: destroyed (stopped) first, before the feeders and counters its threads use.
  mcu::media::OwnedPipeline pipeline_;
};

Status Builder::LinkToRequestPad(GstElement* from, GstElement* to, GstPad** out) {
  GstPad* sink = gst_element_request_pad_simple(to, "sink_%u");
  if (!sink) return Error{"gstreamer", std::string("no request pad on ") + GST_ELEMENT_NAME(to)};
  GstPad* src = gst_element_get_static_pad(from, "src");
  const bool ok = src && gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  if (src) gst_object_unref(src);
  if (out)
    *out = sink;
  else
    gst_object_unref(sink);
  if (!ok)
    return Error{"gstreamer", std::string("cannot link ") + GST_ELEMENT_NAME(from) + " to " +
                                  GST_ELEMENT_NAME(to)};
  return Status::Ok();
}

Result<GstElement*> Builder::AddAppSrc(const BaselineVenue& v, MediaKind kind, uint32_t ssrc) {
  auto src = Add("appsrc", kind == MediaKind::kVideo ? "vsrc" : "asrc");
  if (!src) return src.error();
  Feeder& f = feeders_.emplace_back();
  f.clip = v.clip;
  f.payload_type = kind == MediaKind::kVideo ? 96 : 111;
  f.clock_rate = kind == MediaKind::kVideo ? 90000 : 48000;
  f.ssrc = ssrc;
  f.end_us = static_cast<int64_t>(c_.media_seconds * 1e6);
  for (size_t i = 0; i < v.clip->packets().size(); ++i)
    if (v.clip->packets()[i].kind == kind) f.packets.push_back(i);
  const std::string caps =
      kind == MediaKind::kVideo
          ? "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
          : "application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111";
  auto gcaps = CapsFromString(caps);
  g_object_set(*src, "caps", gcaps.get(), "is-live", FALSE, "max-bytes",
               static_cast<guint64>(1 << 20), nullptr);
  gst_util_set_object_arg(G_OBJECT(*src), "format", "time");
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = &Feeder::OnNeedData;
  gst_app_src_set_callbacks(GST_APP_SRC(*src), &callbacks, &f, nullptr);
  return *src;
}

Status Builder::AddVideoVenue(const BaselineVenue& v, size_t index, GstElement* compositor) {
  auto src = AddAppSrc(v, MediaKind::kVideo, static_cast<uint32_t>(1000 + index));
  auto depay = Add("rtph264depay", "depay");
  auto parse = Add("h264parse", "parse");
  auto dec = Add(c_.decoder.c_str(), "dec");
  for (const auto* e : {&src, &depay, &parse, &dec})
    if (!*e) return e->error();
  if (c_.decoder == "avdec_h264") g_object_set(*dec, "max-threads", 1, nullptr);
  if (auto s = LinkChain({*src, *depay, *parse, *dec}); !s) return s;
  figures_.video_decoders++;
  if (!v.tile) {
    // The stock way decodes venues nobody sees as well.
    auto sink = Add("fakesink", "hidden");
    if (!sink) return sink.error();
    g_object_set(*sink, "sync", FALSE, nullptr);
    return LinkChain({*dec, *sink});
  }
  const auto rects = mcu::media::TileRects(c_.layout, c_.canvas_width, c_.canvas_height);
  if (*v.tile >= rects.size()) return Error{"bad_config", "tile outside the layout"};
  const mcu::media::Rect r = rects[*v.tile];
  auto convert = Add("videoconvert", "convert");
  auto scale = Add("videoscale", "scale");
  auto caps = Add("capsfilter", "tile");
  auto overlay = Add("textoverlay", "caption");
  for (const auto* e : {&convert, &scale, &caps, &overlay})
    if (!*e) return e->error();
  auto tile_caps = CapsFromString("video/x-raw,width=" + std::to_string(r.width) + ",height=" +
                                  std::to_string(r.height) + ",pixel-aspect-ratio=1/1");
  g_object_set(*caps, "caps", tile_caps.get(), nullptr);
  const std::string font =
      c_.caption_font + " " + std::to_string(std::max(8, r.height / 10)) + "px";
  g_object_set(*overlay, "text", v.name.c_str(), "font-desc", font.c_str(), "shaded-background",
               TRUE, "silent", c_.captions ? FALSE : TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(*overlay), "valignment", "bottom");
  gst_util_set_object_arg(G_OBJECT(*overlay), "halignment", "center");
  if (auto s = LinkChain({*dec, *convert, *scale, *caps, *overlay}); !s) return s;
  GstPad* pad = nullptr;
  if (auto s = LinkToRequestPad(*overlay, compositor, &pad); !s) {
    if (pad) gst_object_unref(pad);
    return s;
  }
  g_object_set(pad, "xpos", r.x, "ypos", r.y, "width", r.width, "height", r.height, nullptr);
  gst_object_unref(pad);
  return Status::Ok();
}

Status Builder::AddAudioVenue(const BaselineVenue& v, size_t index, GstElement* mixer) {
  auto src = AddAppSrc(v, MediaKind::kAudio, static_cast<uint32_t>(5000 + index));
  auto depay = Add("rtpopusdepay", "adepay");
  auto dec = Add("opusdec", "adec");
  auto convert = Add("audioconvert", "aconvert");
  auto resample = Add("audioresample", "aresample");
  auto caps = Add("capsfilter", "acaps");
  for (const auto* e : {&src, &depay, &dec, &convert, &resample, &caps})
    if (!*e) return e->error();
  auto mono = CapsFromString("audio/x-raw,format=S16LE,rate=48000,channels=1");
  g_object_set(*caps, "caps", mono.get(), nullptr);
  if (auto s = LinkChain({*src, *depay, *dec, *convert, *resample, *caps}); !s) return s;
  figures_.audio_decoders++;
  return LinkToRequestPad(*caps, mixer);
}

Status Builder::AddVideoReceiver(GstElement* tee, const mcu::media::TierConfig& t) {
  auto queue = Add("queue", "vq");
  auto enc = Add("openh264enc", "venc");
  auto pay = Add("rtph264pay", "vpay");
  auto sink = Add("fakesink", "vout");
  for (const auto* e : {&queue, &enc, &pay, &sink})
    if (!*e) return e->error();
  // Small queues keep the tee's branches in step (no unbounded buffering of raw frames).
  g_object_set(*queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  // The same encoder settings as the MCU's tiers.
  gst_util_set_object_arg(G_OBJECT(*enc), "rate-control", "bitrate");
  g_object_set(*enc, "bitrate", static_cast<guint>(t.bitrate_kbps * 1000), "gop-size",
               static_cast<guint>(t.gop_frames), "scene-change-detection", FALSE,
               "enable-frame-skip", FALSE, nullptr);
  g_object_set(*pay, "mtu", static_cast<guint>(t.mtu), "config-interval", -1, nullptr);
  g_object_set(*sink, "sync", FALSE, nullptr);
  if (auto s = LinkChain({tee, *queue, *enc, *pay, *sink}); !s) return s;
  GstPad* pad = gst_element_get_static_pad(*enc, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &CountBuffer, &video_frames_.emplace_back(0),
                    nullptr);
  gst_object_unref(pad);
  figures_.video_encoders++;
  return Status::Ok();
}

Status Builder::AddAudioReceiver(GstElement* tee) {
  auto queue = Add("queue", "aq");
  auto enc = Add("opusenc", "aenc");
  auto pay = Add("rtpopuspay", "apay");
  auto sink = Add("fakesink", "aout");
  for (const auto* e : {&queue, &enc, &pay, &sink})
    if (!*e) return e->error();
  g_object_set(*queue, "max-size-buffers", 8u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  g_object_set(*enc, "bitrate", c_.audio_bitrate_bps, "complexity", c_.audio_complexity, nullptr);
  g_object_set(*sink, "sync", FALSE, nullptr);
  if (auto s = LinkChain({tee, *queue, *enc, *pay, *sink}); !s) return s;
  GstPad* pad = gst_element_get_static_pad(*enc, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &CountBuffer, &audio_frames_.emplace_back(0),
                    nullptr);
  gst_object_unref(pad);
  figures_.audio_encoders++;
  return Status::Ok();
}

Status Builder::Build() {
  if (c_.venues.empty() || c_.tiers.empty() || c_.media_seconds <= 0 || c_.fps <= 0)
    return Error{"bad_config", "the baseline needs venues, tiers, fps and a media length"};
  // Video: every venue decoded; the visible ones composed.
  auto compositor = Add("compositor", "compositor");
  auto canvas = Add("capsfilter", "canvas");
  auto tee = Add("tee", "canvas-tee");
  for (const auto* e : {&compositor, &canvas, &tee})
    if (!*e) return e->error();
  gst_util_set_object_arg(G_OBJECT(*compositor), "background", "black");
  auto canvas_caps =
      CapsFromString("video/x-raw,format=I420,width=" + std::to_string(c_.canvas_width) +
                     ",height=" + std::to_string(c_.canvas_height) +
                     ",pixel-aspect-ratio=1/1,framerate=" + std::to_string(c_.fps) + "/1");
  g_object_set(*canvas, "caps", canvas_caps.get(), nullptr);
  if (auto s = LinkChain({*compositor, *canvas, *tee}); !s) return s;
  for (size_t i = 0; i < c_.venues.size(); ++i) {
    if (!c_.venues[i].clip) return Error{"bad_config", "a venue without a clip"};
    if (auto s = AddVideoVenue(c_.venues[i], i, *compositor); !s) return s;
  }
  // One encoder per receiving venue, at its tier's size. Each tier's scaling is done once and
  // shared by its receivers (kinder to the baseline than one scaler per receiver).
  for (size_t t = 0; t < c_.tiers.size(); ++t) {
    const auto& tier = c_.tiers[t];
    const auto receivers = std::count_if(c_.venues.begin(), c_.venues.end(),
                                         [t](const BaselineVenue& v) { return v.tier == t; });
    if (receivers == 0) continue;
    GstElement* source = *tee;
    if (tier.width != c_.canvas_width || tier.height != c_.canvas_height) {
      auto queue = Add("queue", "tq");
      auto scale = Add("videoscale", "tscale");
      auto caps = Add("capsfilter", "tcaps");
      auto tier_tee = Add("tee", "ttee");
      for (const auto* e : {&queue, &scale, &caps, &tier_tee})
        if (!*e) return e->error();
      g_object_set(*queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
                   static_cast<guint64>(0), nullptr);
      auto tcaps = CapsFromString("video/x-raw,width=" + std::to_string(tier.width) + ",height=" +
                                  std::to_string(tier.height) + ",pixel-aspect-ratio=1/1");
      g_object_set(*caps, "caps", tcaps.get(), nullptr);
      if (auto s = LinkChain({*tee, *queue, *scale, *caps, *tier_tee}); !s) return s;
      source = *tier_tee;
    }
    for (const auto& v : c_.venues)
      if (v.tier == t)
        if (auto s = AddVideoReceiver(source, tier); !s) return s;
  }
  // Audio: every venue decoded and mixed; one encode per receiver.
  auto mixer = Add("audiomixer", "audiomixer");
  auto mixed = Add("capsfilter", "mixed");
  auto atee = Add("tee", "mix-tee");
  for (const auto* e : {&mixer, &mixed, &atee})
    if (!*e) return e->error();
  auto mono = CapsFromString("audio/x-raw,format=S16LE,rate=48000,channels=1");
  g_object_set(*mixed, "caps", mono.get(), nullptr);
  if (auto s = LinkChain({*mixer, *mixed, *atee}); !s) return s;
  for (size_t i = 0; i < c_.venues.size(); ++i)
    if (auto s = AddAudioVenue(c_.venues[i], i, *mixer); !s) return s;
  for (size_t i = 0; i < c_.venues.size(); ++i)
    if (auto s = AddAudioReceiver(*atee); !s) return s;
  return Status::Ok();
}

Result<BaselineFigures> Builder::Run() {
  // Everything is built; PAUSED prerolls (and starts the encoders) before the clock starts.
  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = Clock::now();
  if (auto s = pipeline_.Play("bench.baseline"); !s) return s.error();
  const bool eos = pipeline_.WaitForEos(
      std::chrono::milliseconds(static_cast<int64_t>(c_.max_wall_seconds * 1000)));
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = ProcessCpuSeconds() - cpu0;
  pipeline_.Stop();
  if (pipeline_.errors() > 0)
    return Error{"gstreamer", "the baseline pipeline failed (see the log)"};
  BaselineFigures& f = figures_;
  f.completed = eos;
  f.wall_seconds = wall;
  f.cpu_seconds = cpu;
  f.frames_expected = static_cast<uint64_t>(c_.media_seconds * c_.fps + 0.5);
  f.frames_min = UINT64_MAX;
  for (const auto& n : video_frames_) f.frames_min = std::min<uint64_t>(f.frames_min, n.load());
  if (video_frames_.empty()) f.frames_min = 0;
  f.media_seconds = static_cast<double>(f.frames_min) / c_.fps;
  f.cpu_cores = f.media_seconds > 0 ? cpu / f.media_seconds : 0;
  f.process_cores = wall > 0 ? cpu / wall : 0;
  f.fps_reached = wall > 0 ? static_cast<double>(f.frames_min) / wall : 0;
  f.realtime = f.fps_reached >= 29.0;
  return f;
}

}  // namespace

Result<BaselineFigures> RunStockBaseline(const BaselineConfig& config) {
  mcu::media::EnsureGstInit();
  Builder builder(config);
  if (auto s = builder.Build(); !s) return s.error();
  auto figures = builder.Run();
  if (figures)
    log::Info("bench.baseline", {{"venues", config.venues.size()},
                                 {"media_seconds", figures->media_seconds},
                                 {"wall_seconds", figures->wall_seconds},
                                 {"cpu_cores", figures->cpu_cores},
                                 {"fps_reached", figures->fps_reached}});
  return figures;
}

}  // namespace plateau::bench
