#include "plateau/mcu/media/h264_colour.hpp"

#include <atomic>
#include <mutex>
#include <optional>

#include "plateau/common/log.hpp"
#include "plateau/mcu/media/gst_util.hpp"

namespace plateau::mcu::media {
namespace {

constexpr const char* kProbeKey = "plateau-colour-description";

// Shared by the encoder's two probes (both on its streaming thread in practice; the lock keeps it
// right whatever thread an encoder pushes from). Owned by the encoder (g_object_set_data_full).
struct ColourProbe {
  std::mutex mu;
  std::optional<rtp::H264ColourDescription> colour;  // from the last input caps
  bool warned = false;
  std::atomic<uint64_t> rewritten{0};
  std::atomic<uint64_t> failures{0};
};

GstPadProbeReturn OnInputEvent(GstPad*, GstPadProbeInfo* info, gpointer user) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  GstVideoInfo video;
  // gst_video_info_from_caps fills a colorimetry the caps leave out with GStreamer's default for
  // the size: the one the encoder's source used to make the pixels.
  if (!caps || !gst_video_info_from_caps(&video, caps)) return GST_PAD_PROBE_OK;
  auto* probe = static_cast<ColourProbe*>(user);
  std::lock_guard lock(probe->mu);
  probe->colour = H264ColourOf(video.colorimetry);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn OnOutputBuffer(GstPad* pad, GstPadProbeInfo* info, gpointer user) {
  auto* probe = static_cast<ColourProbe*>(user);
  std::optional<rtp::H264ColourDescription> colour;
  {
    std::lock_guard lock(probe->mu);
    colour = probe->colour;
  }
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!colour || !buffer) return GST_PAD_PROBE_OK;
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  auto rewrite = rtp::WriteH264AnnexBColour(std::span<const uint8_t>(map.data, map.size), *colour);
  gst_buffer_unmap(buffer, &map);
  if (!rewrite) {
    probe->failures++;
    std::lock_guard lock(probe->mu);
    if (!probe->warned) {
      probe->warned = true;
      GstObjectPtr<GstElement> encoder(gst_pad_get_parent_element(pad));
      const std::string name = encoder ? GST_OBJECT_NAME(encoder.get()) : "?";
      log::Warn("h264_colour.sps_unchanged",
                {{"encoder", name}, {"message", rewrite.error().message}});
    }
    return GST_PAD_PROBE_OK;
  }
  if (!rewrite->bytes) return GST_PAD_PROBE_OK;  // no SPS in this buffer
  const std::vector<uint8_t>& bytes = *rewrite->bytes;
  GstBuffer* out = gst_buffer_new_allocate(nullptr, bytes.size(), nullptr);
  gst_buffer_fill(out, 0, bytes.data(), bytes.size());
  gst_buffer_copy_into(
      out, buffer,
      static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                      GST_BUFFER_COPY_META),
      0, static_cast<gsize>(-1));
  gst_buffer_unref(buffer);
  GST_PAD_PROBE_INFO_DATA(info) = out;
  probe->rewritten += rewrite->sps_rewritten;
  return GST_PAD_PROBE_OK;
}

}  // namespace

rtp::H264ColourDescription H264ColourOf(const GstVideoColorimetry& c) {
  rtp::H264ColourDescription out;
  out.colour_primaries = static_cast<uint8_t>(gst_video_color_primaries_to_iso(c.primaries));
  out.transfer_characteristics =
      static_cast<uint8_t>(gst_video_transfer_function_to_iso(c.transfer));
  out.matrix_coefficients = static_cast<uint8_t>(gst_video_color_matrix_to_iso(c.matrix));
  out.full_range = c.range == GST_VIDEO_COLOR_RANGE_0_255;
  return out;
}

Status DescribeColourInSps(GstElement* encoder) {
  GstObjectPtr<GstPad> sink(gst_element_get_static_pad(encoder, "sink"));
  GstObjectPtr<GstPad> src(gst_element_get_static_pad(encoder, "src"));
  if (!sink || !src)
    return Error{"gstreamer", "the H.264 encoder has no sink/src pad to describe its colour on"};
  auto* probe = new ColourProbe;
  g_object_set_data_full(G_OBJECT(encoder), kProbeKey, probe,
                         [](gpointer p) { delete static_cast<ColourProbe*>(p); });
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &OnInputEvent, probe, nullptr);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, &OnOutputBuffer, probe, nullptr);
  return Status::Ok();
}

ColourDescriptionStats ColourDescriptionStatsOf(GstElement* encoder) {
  ColourDescriptionStats out;
  auto* probe = static_cast<ColourProbe*>(g_object_get_data(G_OBJECT(encoder), kProbeKey));
  if (!probe) return out;
  out.sps_rewritten = probe->rewritten.load();
  out.failures = probe->failures.load();
  return out;
}

}  // namespace plateau::mcu::media
