#include "encode_chain.hpp"

#include <gst/video/video.h>

#include <vector>

#include "plateau/common/random.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/media/h264_colour.hpp"

namespace plateau::terminal::media::detail {
namespace {

using mcu::media::AddElement;
using mcu::media::CapsFromString;
using mcu::media::LinkChain;

struct SinkContext {
  SinkHandler handler;
};

GstFlowReturn OnSample(GstAppSink* sink, gpointer user) {
  auto* ctx = static_cast<SinkContext*>(user);
  mcu::media::GstSamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  const int64_t pts =
      GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
  ctx->handler(std::span<const uint8_t>(map.data, map.size), pts);
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

void AttachSink(GstElement* appsink, bool sync, SinkHandler handler) {
  // Live sources pace themselves; a file is paced by the sink's clock sync.
  g_object_set(appsink, "sync", sync ? TRUE : FALSE, "max-buffers", 1024u, "drop", FALSE, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &OnSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, new SinkContext{std::move(handler)},
                             [](gpointer p) { delete static_cast<SinkContext*>(p); });
}

Result<std::vector<GstElement*>> AddAll(GstBin* bin, const std::string& prefix,
                                        std::initializer_list<const char*> factories) {
  std::vector<GstElement*> out;
  for (const char* f : factories) {
    auto e = AddElement(bin, f, prefix + f);
    if (!e) return e.error();
    out.push_back(*e);
  }
  return out;
}

}  // namespace

uint32_t RandomSsrc() {
  return random::NonZeroU32();
}

Result<Branch> AddVideoBranch(GstBin* bin, const VideoBranchConfig& c, bool with_source,
                              SinkHandler handler) {
  std::vector<GstElement*> chain;
  const std::string caps_text = "video/x-raw,format=I420,width=" + std::to_string(c.width) +
                                ",height=" + std::to_string(c.height) +
                                ",pixel-aspect-ratio=1/1,framerate=" + std::to_string(c.fps) + "/1";
  if (with_source) {
    auto src = AddAll(bin, "video-", {"videotestsrc", "capsfilter"});
    if (!src) return src.error();
    GstElement* testsrc = (*src)[0];
    g_object_set(testsrc, "is-live", c.live ? TRUE : FALSE, "num-buffers", c.num_buffers, nullptr);
    if (!c.pattern.empty()) {
      gst_util_set_object_arg(G_OBJECT(testsrc), "pattern", c.pattern.c_str());
    } else {
      const Rgb rgb = c.color.value_or(Rgb{128, 128, 128});
      gst_util_set_object_arg(G_OBJECT(testsrc), "pattern", "solid-color");
      const guint argb = 0xff000000u | (static_cast<guint>(rgb.r) << 16) |
                         (static_cast<guint>(rgb.g) << 8) | rgb.b;
      g_object_set(testsrc, "foreground-color", argb, nullptr);
    }
    chain = *src;
  } else {
    auto conv = AddAll(bin, "video-", {"videoconvert", "videoscale", "videorate", "capsfilter"});
    if (!conv) return conv.error();
    chain = *conv;
  }
  auto caps = CapsFromString(caps_text);
  g_object_set(chain.back(), "caps", caps.get(), nullptr);
  if (c.clock) {
    auto clock = AddElement(bin, "clockoverlay", "video-clock");
    if (!clock) return clock.error();
    const std::string font =
        "Noto Sans CJK SC " + std::to_string(std::max(8, c.height / 12)) + "px";
    g_object_set(*clock, "font-desc", font.c_str(), "auto-resize", FALSE, "shaded-background", TRUE,
                 "time-format", "%H:%M:%S", "xpad", 4, "ypad", 4, nullptr);
    gst_util_set_object_arg(G_OBJECT(*clock), "halignment", "left");
    gst_util_set_object_arg(G_OBJECT(*clock), "valignment", "top");
    chain.push_back(*clock);
  }
  auto enc = AddAll(bin, "video-", {"openh264enc", "rtph264pay", "appsink"});
  if (!enc) return enc.error();
  GstElement* encoder = (*enc)[0];
  gst_util_set_object_arg(G_OBJECT(encoder), "rate-control", "bitrate");
  g_object_set(encoder, "bitrate", static_cast<guint>(c.kbps * 1000), "gop-size",
               static_cast<guint>(c.gop_frames), "scene-change-detection", FALSE,
               "enable-frame-skip", FALSE, nullptr);
  // The SPS states the colorimetry of the encoder's input, so the MCU (and any decoder) converts
  // these pixels to RGB with the matrix they were made with (docs/media-video.md, "Colour").
  if (auto s = mcu::media::DescribeColourInSps(encoder); !s) return s.error();
  g_object_set((*enc)[1], "mtu", static_cast<guint>(c.mtu), "config-interval", -1, "pt",
               static_cast<guint>(c.payload_type), "ssrc", c.ssrc != 0 ? c.ssrc : RandomSsrc(),
               nullptr);
  chain.insert(chain.end(), enc->begin(), enc->end());
  for (size_t i = 1; i < chain.size(); ++i)
    if (auto s = LinkChain({chain[i - 1], chain[i]}); !s) return s.error();
  AttachSink(chain.back(), c.sync, std::move(handler));
  return Branch{chain.front(), encoder, chain.back()};
}

Result<Branch> AddAudioBranch(GstBin* bin, const AudioBranchConfig& c, bool with_source,
                              SinkHandler handler) {
  std::vector<GstElement*> chain;
  if (with_source) {
    auto src = AddElement(bin, "audiotestsrc", "audio-audiotestsrc");
    if (!src) return src.error();
    g_object_set(*src, "is-live", c.live ? TRUE : FALSE, "num-buffers", c.num_buffers,
                 "samplesperbuffer", 960, "freq", c.tone_hz, "volume", c.volume, nullptr);
    gst_util_set_object_arg(G_OBJECT(*src), "wave", c.tone_hz > 0 ? "sine" : "silence");
    chain.push_back(*src);
  }
  auto rest =
      AddAll(bin, "audio-",
             {"audioconvert", "audioresample", "capsfilter", "opusenc", "rtpopuspay", "appsink"});
  if (!rest) return rest.error();
  chain.insert(chain.end(), rest->begin(), rest->end());
  GstElement* capsfilter = (*rest)[2];
  auto caps = CapsFromString("audio/x-raw,format=S16LE,rate=48000,channels=1");
  g_object_set(capsfilter, "caps", caps.get(), nullptr);
  GstElement* encoder = (*rest)[3];
  g_object_set(encoder, "bitrate", c.kbps * 1000, nullptr);
  g_object_set((*rest)[4], "pt", static_cast<guint>(c.payload_type), "ssrc",
               c.ssrc != 0 ? c.ssrc : RandomSsrc(), nullptr);
  for (size_t i = 1; i < chain.size(); ++i)
    if (auto s = LinkChain({chain[i - 1], chain[i]}); !s) return s.error();
  AttachSink(chain.back(), c.sync, std::move(handler));
  return Branch{chain.front(), encoder, chain.back()};
}

void ForceKeyframe(GstElement* encoder) {
  GstPad* src = gst_element_get_static_pad(encoder, "src");
  gst_pad_send_event(src,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(src);
}

}  // namespace plateau::terminal::media::detail
