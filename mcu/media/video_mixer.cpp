#include "plateau/mcu/media/video_mixer.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gstaggregator.h>
#include <gst/video/video.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <set>

#include "plateau/common/log.hpp"
#include "plateau/common/random.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/media/h264_colour.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::media {
namespace {

using MonoTime = plateau::Clock::MonoTime;

// One decode slot per tile of the largest layout (4x4).
constexpr size_t kMaxSlots = 16;  // the largest layout (4x4)
constexpr uint8_t kSlotPayloadType = 96;
// Custom serialized event pushed in front of a slot's first packet for a new venue, so the tile is
// shown only once frames of that venue reach the compositor.
constexpr const char* kGenerationEvent = "plateau-slot-generation";
// The canvas's colorimetry (GStreamer's name): see Build.
constexpr const char* kCanvasColorimetry = "bt601";
// The chroma siting of the canvas and of every tile. A decoder whose input caps state a
// colorimetry (our venues' SPS do) leaves the chroma site out of its output caps, so a slot's
// tile had none while the background had "jpeg" (GStreamer's default when neither is stated): the
// compositor's output caps changed when the first venue showed, and each tier's encoder restarted
// with an extra keyframe. Stating it on both keeps the canvas's caps fixed, and as the tiles match
// the canvas the compositor converts nothing. Only the label changes (videoscale passes the
// pixels through); solid-colour tiles do not depend on it.
constexpr const char* kChromaSite = "jpeg";

// Any thread (slot and tier building, PushVideoRtp), any mixer.
uint32_t RandomU32() {
  return random::U32();
}

int64_t MsSince(MonoTime since, MonoTime now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
}

// Every compositor input (the decode slots and the background) is stamped on arrival, so the live
// compositor composes on its clock and shows each input's newest frame, never waiting for one.
//
// Why: the compositor (GstVideoAggregator) composes output frame [t, t + 1/fps) once every input
// has a frame queued or the clock reaches t + its latency, and it takes at most one queued frame
// per input per output frame. A frame that starts before t is then "late": it is shown, but the
// output frame waits (GST_AGGREGATOR_FLOW_NEED_DATA) for the next frame of every input, after it
// already took their current ones. A venue that delivers two frames within one output frame
// (a phase jump, jitter, a burst after loss, a CPU stall) thus delayed its change, and the whole
// canvas, by one more frame: half of the bench's colour changes showed 33-70 ms later than the
// others. An input with no frames (a slot whose venue left the screen or stopped sending) made
// every output frame wait for the full deadline.
//
// The fix: a frame that reaches the compositor at running time `now` is stamped
// `now - latency` (`gst_aggregator_get_latency`: the `latency` property plus the one output frame
// that videoaggregator adds), i.e. the start of the output frame the compositor is due to compose
// now. It is therefore due at the first composition after it arrives and never counts as "in the
// future". When the clock reaches the deadline the compositor drains every late frame (keeping the
// newest), which is also what it does when not all inputs have a frame. No duration: decoders set
// one only when the stream carries a frame rate, and a duration would make the aggregator keep an
// older frame instead of draining it. Each input answers the latency query itself (live, no
// latency) since its frames are stamped on arrival.
GstClockTime ArrivalStamp(GstPad* pad, GstElement* compositor) {
  const GstClockTime now = gst_element_get_current_running_time(compositor);
  if (!GST_CLOCK_TIME_IS_VALID(now)) return GST_CLOCK_TIME_NONE;
  GstClockTime running = now;
  const GstClockTime latency = gst_aggregator_get_latency(GST_AGGREGATOR(compositor));
  if (GST_CLOCK_TIME_IS_VALID(latency)) running = now > latency ? now - latency : 0;
  GstClockTime pts = running;
  if (GstEvent* event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(event, &segment);
    if (segment && segment->format == GST_FORMAT_TIME) {
      const guint64 position =
          gst_segment_position_from_running_time(segment, GST_FORMAT_TIME, running);
      if (position != static_cast<guint64>(-1)) pts = position;
    }
    gst_event_unref(event);
  }
  return pts;
}

void StampOnArrival(GstPad* pad, GstPadProbeInfo* info) {
  GstElement* compositor = GST_ELEMENT(GST_OBJECT_PARENT(pad));
  const GstClockTime pts = compositor ? ArrivalStamp(pad, compositor) : GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
}

// Upstream latency queries of a compositor input: live, none (frames are stamped on arrival).
GstPadProbeReturn AnswerInputLatency(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  if (!query || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) return GST_PAD_PROBE_OK;
  gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_HANDLED;
}

GstPadProbeReturn OnBackgroundFrame(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  StampOnArrival(pad, info);
  return GST_PAD_PROBE_OK;
}

void WatchCompositorInput(GstPad* pad) {
  gst_pad_add_probe(
      pad,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PUSH),
      &AnswerInputLatency, nullptr, nullptr);
}

}  // namespace

struct Slot {
  size_t index = 0;
  GstElement* appsrc = nullptr;
  GstElement* decoder = nullptr;
  GstElement* scale_caps = nullptr;
  GstElement* overlay = nullptr;
  // Requested and linked when the slot first carries a venue, then kept: idle chains linked to a
  // starting compositor race with its first latency query and can stall it.
  GstPad* compositor_pad = nullptr;  // a reference we own
  uint32_t ssrc = 0;

  // Guarded by VideoMixer::Impl::mu.
  std::string venue;  // empty when free
  bool waiting_for_keyframe = false;
  bool have_output = false;  // a packet went out of this slot (ever)
  uint16_t last_out_seq = 0;
  uint32_t last_out_ts = 0;
  MonoTime last_out_time;
  uint16_t seq_delta = 0;
  uint32_t ts_delta = 0;
  Rect rect;
  std::string caption;
  uint64_t frames_at_bind = 0;

  // Shared with the compositor pad probe (a streaming thread). alpha_mu is a leaf lock held only
  // around the generation check and the pad's alpha: a probe that passed the check cannot set the
  // alpha back to 1 after Bind/Unbind set it to 0 for a new binding. The counters are atomics.
  Mutex alpha_mu;
  std::atomic<uint64_t> generation{0};  // current binding (0: free)
  std::atomic<uint64_t> arrived{0};     // generation whose event reached the compositor
  std::atomic<uint64_t> shown{0};       // generation whose frames are on screen
  std::atomic<uint64_t> frames{0};      // frames shown, all bindings

  // For the depayloader's loss keyframe requests (streaming thread). Leaf lock: that thread takes
  // only this one, never the mixer's mu.
  Mutex name_mu;
  std::string venue_for_requests PLATEAU_GUARDED_BY(name_mu);
  MonoTime last_loss_request PLATEAU_GUARDED_BY(name_mu);
};

struct Tier {
  size_t index = 0;
  TierConfig config;
  GstElement* valve = nullptr;  // drop=TRUE while idle
  GstElement* encoder = nullptr;
  GstElement* appsink = nullptr;
  std::atomic<bool> active{true};
  Mutex mu;  // RequestKeyframe and SetTierActive may come from any thread; leaf
  MonoTime last_forced PLATEAU_GUARDED_BY(mu);
  bool forced_once PLATEAU_GUARDED_BY(mu) = false;
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> keyframes{0};
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> forced{0};
  std::atomic<uint64_t> limited{0};
  // Streaming thread only.
  bool have_keyframe_ts = false;
  uint32_t last_keyframe_ts = 0;
};

struct VenueState {
  std::string display_name;
  std::optional<size_t> slot;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t malformed = 0;
  uint64_t dropped_hidden = 0;
  uint64_t dropped_waiting = 0;
  uint64_t keyframes = 0;
  uint64_t keyframe_requests = 0;
  uint64_t frames_decoded = 0;  // from earlier bindings
  MonoTime last_request;
  bool have_keyframe_ts = false;
  uint32_t last_keyframe_ts = 0;
};

struct VideoMixer::Impl {
  VideoMixerConfig config;
  const plateau::Clock& clock;  // every time the mixer reads (keyframe rate limits, restamping)
  VideoMixerCallbacks callbacks;
  OwnedPipeline pipeline{"video-mixer"};
  GstElement* compositor = nullptr;
  std::vector<std::unique_ptr<Slot>> slots;  // config.slots of them, built at start
  std::vector<std::unique_ptr<Tier>> tiers;
  std::atomic<uint64_t> frames_composed{0};
  std::atomic<uint64_t> unknown_venue_packets{0};

  // Layout, venues, slot bindings and rewrite state: taken by the control calls (under the
  // conference's mu_) and PushVideoRtp; before a slot's alpha_mu and name_mu. The Slot fields
  // "guarded by VideoMixer::Impl::mu" are not checked (a Slot cannot name its mixer's lock); the
  // *Locked helpers that touch them require it.
  mutable Mutex mu;
  TileLayout layout PLATEAU_GUARDED_BY(mu);
  std::map<std::string, VenueState> venues PLATEAU_GUARDED_BY(mu);
  std::vector<Placement> placements PLATEAU_GUARDED_BY(mu);
  uint64_t next_generation PLATEAU_GUARDED_BY(mu) = 1;
  // A slot joined the compositor: redistribute latency.
  bool latency_changed PLATEAU_GUARDED_BY(mu) = false;

  Impl(const VideoMixerConfig& c, const plateau::Clock& clk)
      : config(c), clock(clk), layout(c.canvas_width, c.canvas_height) {}

  Status Build();
  // The compositor asks for its upstream latency when it starts, which can race with the slots
  // still starting up (the query fails and a live aggregator then waits for data that idle slots
  // never send). Once everything plays, ask again until the answer is valid.
  Status SettleLatency();
  Status BuildSlot(size_t index);
  Status LinkSlotLocked(Slot& slot) PLATEAU_REQUIRES(mu);
  Status BuildTier(size_t index, GstElement* tee);
  // Recomputes placements and binds/unbinds slots. Returns the venues to ask for a keyframe, which
  // the caller passes to RequestKeyframes once it released `mu`.
  std::vector<std::string> ApplyLayoutLocked() PLATEAU_REQUIRES(mu);
  void BindLocked(Slot& slot, const std::string& venue) PLATEAU_REQUIRES(mu);
  void UnbindLocked(Slot& slot) PLATEAU_REQUIRES(mu);
  void PlaceLocked(Slot& slot, const Rect& rect, const std::string& caption) PLATEAU_REQUIRES(mu);
  // PushVideoRtp's steps. The venue's state with the packet counted, or nullptr when the venue is
  // unknown or the packet malformed (counted there).
  VenueState* CountArrivalLocked(const std::string& venue,
                                 const std::optional<rtp::RtpPacket>& packet,
                                 const std::optional<rtp::H264PayloadInfo>& info, size_t size)
      PLATEAU_REQUIRES(mu);
  // The slot waits for a keyframe: a keyframe start opens the slot's stream; anything else is
  // dropped. True when the venue should be asked for a keyframe (rate-limited).
  bool AwaitKeyframeLocked(Slot& slot, VenueState& state, const rtp::RtpPacket& packet,
                           const rtp::H264PayloadInfo& info, MonoTime now) PLATEAU_REQUIRES(mu);
  void StartSlotStreamLocked(Slot& slot, const rtp::RtpPacket& keyframe, MonoTime now)
      PLATEAU_REQUIRES(mu);
  // Renumbers the packet into the slot's stream and pushes it into the slot's appsrc.
  void ForwardToSlotLocked(Slot& slot, const rtp::RtpPacket& packet, std::span<const uint8_t> bytes,
                           MonoTime now) PLATEAU_REQUIRES(mu);
  // Takes mu briefly; recalculates latency and calls back without it.
  void RequestKeyframes(const std::vector<std::string>& venues) PLATEAU_EXCLUDES(mu);

  static GstPadProbeReturn OnCompositorPadData(GstPad* pad, GstPadProbeInfo* info, gpointer slot);
  static GstPadProbeReturn OnUpstreamEvent(GstPad* pad, GstPadProbeInfo* info, gpointer user);
  static GstPadProbeReturn OnComposedFrame(GstPad* pad, GstPadProbeInfo* info, gpointer user);
  static GstFlowReturn OnTierSample(GstAppSink* sink, gpointer tier_ptr);
};

namespace {

struct TierSinkContext {
  VideoMixer::Impl* impl;
  Tier* tier;
};

}  // namespace

Status VideoMixer::Impl::Build() {
  GstBin* bin = pipeline.bin();
  // force-live is construct-only: without it the compositor decides liveness from a latency
  // query that can fail while the idle slots start, and then waits for data forever.
  const char* names[] = {"name", "force-live"};
  GValue values[2] = {G_VALUE_INIT, G_VALUE_INIT};
  g_value_init(&values[0], G_TYPE_STRING);
  g_value_set_string(&values[0], "compositor");
  g_value_init(&values[1], G_TYPE_BOOLEAN);
  g_value_set_boolean(&values[1], TRUE);
  compositor = gst_element_factory_make_with_properties("compositor", 2, names, values);
  g_value_unset(&values[0]);
  g_value_unset(&values[1]);
  if (!compositor)
    return Error{"gstreamer",
                 "GStreamer element \"compositor\" is missing; install gstreamer1.0-plugins-base"};
  gst_bin_add(bin, compositor);
  gst_util_set_object_arg(G_OBJECT(compositor), "background", "black");
  // Output timestamps start at the first input buffer. With "zero" the live compositor
  // occasionally never produced a first frame when it started (measured: ~1 start in 15).
  gst_util_set_object_arg(G_OBJECT(compositor), "start-time-selection", "first");
  // Inputs report no latency and are stamped on arrival (StampOnArrival), so output frame
  // [t, t + 1/fps) is composed at t + 1/fps (videoaggregator's own latency) from the newest frame
  // of each input. Slots that never received data are skipped.
  g_object_set(compositor, "ignore-inactive-pads", TRUE, "latency", static_cast<guint64>(0),
               "min-upstream-latency", static_cast<guint64>(0), nullptr);

  // Black live background: keeps the canvas running at `fps` with no venue at all. Tiny and
  // transparent: the compositor's own black background does the filling.
  auto bg = AddElement(bin, "videotestsrc", "background");
  auto bg_caps = AddElement(bin, "capsfilter", "background-caps");
  if (!bg) return bg.error();
  if (!bg_caps) return bg_caps.error();
  gst_util_set_object_arg(G_OBJECT(*bg), "pattern", "black");
  g_object_set(*bg, "is-live", TRUE, nullptr);
  auto caps = CapsFromString(
      "video/x-raw,format=I420,width=16,height=16,framerate=" + std::to_string(config.fps) + "/1");
  g_object_set(*bg_caps, "caps", caps.get(), nullptr);
  if (auto s = LinkChain({*bg, *bg_caps}); !s) return s;
  GstPad* bg_src = gst_element_get_static_pad(*bg_caps, "src");
  GstPad* bg_sink = gst_element_request_pad_simple(compositor, "sink_%u");
  g_object_set(bg_sink, "alpha", 0.0, "zorder", 0u, nullptr);
  WatchCompositorInput(bg_sink);
  gst_pad_add_probe(bg_sink, GST_PAD_PROBE_TYPE_BUFFER, &OnBackgroundFrame, nullptr, nullptr);
  const bool bg_linked = gst_pad_link(bg_src, bg_sink) == GST_PAD_LINK_OK;
  gst_object_unref(bg_src);
  gst_object_unref(bg_sink);
  if (!bg_linked) return Error{"gstreamer", "cannot link the background to the compositor"};

  slots.resize(static_cast<size_t>(config.slots));
  for (size_t i = 0; i < slots.size(); ++i)
    if (auto s = BuildSlot(i); !s) return s;

  auto canvas_caps = AddElement(bin, "capsfilter", "canvas-caps");
  auto tee = AddElement(bin, "tee", "tiers");
  if (!canvas_caps) return canvas_caps.error();
  if (!tee) return tee.error();
  // The canvas is BT.601 (limited range) whatever the venues send: the compositor converts a
  // venue's tile only when its decoded colorimetry differs (BT.601 is what 640x360 venues, the
  // common case, decode to, so usually nothing is converted), and the canvas never renegotiates
  // when a venue joins. The tiers' SPS say so (DescribeColourInSps).
  auto ccaps =
      CapsFromString("video/x-raw,format=I420,width=" + std::to_string(config.canvas_width) +
                     ",height=" + std::to_string(config.canvas_height) +
                     ",pixel-aspect-ratio=1/1,framerate=" + std::to_string(config.fps) +
                     "/1,colorimetry=" + kCanvasColorimetry + ",chroma-site=" + kChromaSite);
  g_object_set(*canvas_caps, "caps", ccaps.get(), nullptr);
  if (auto s = LinkChain({compositor, *canvas_caps, *tee}); !s) return s;
  GstPad* composed = gst_element_get_static_pad(*canvas_caps, "src");
  gst_pad_add_probe(composed, GST_PAD_PROBE_TYPE_BUFFER, &Impl::OnComposedFrame, this, nullptr);
  gst_object_unref(composed);

  for (size_t i = 0; i < config.tiers.size(); ++i)
    if (auto s = BuildTier(i, *tee); !s) return s;
  return Status::Ok();
}

Status VideoMixer::Impl::SettleLatency() {
  gst_element_get_state(pipeline.get(), nullptr, nullptr, 5 * GST_SECOND);
  GstPad* src = gst_element_get_static_pad(compositor, "src");
  bool ok = false;
  for (int attempt = 0; attempt < 100 && !ok; ++attempt) {
    GstQuery* query = gst_query_new_latency();
    ok = gst_pad_query(src, query);
    gst_query_unref(query);
    if (!ok) g_usleep(10000);
  }
  gst_object_unref(src);
  if (!ok) return Error{"gstreamer", "the video mixer's compositor cannot settle its latency"};
  gst_bin_recalculate_latency(pipeline.bin());
  return Status::Ok();
}

Status VideoMixer::Impl::BuildSlot(size_t index) {
  auto slot = std::make_unique<Slot>();
  slot->index = index;
  slot->ssrc = RandomU32();
  GstBin* bin = pipeline.bin();
  const std::string p = "slot" + std::to_string(index) + "-";
  std::vector<GstElement*> chain;
  for (const char* factory :
       {"appsrc", "rtpjitterbuffer", "rtph264depay", "h264parse", "openh264dec", "videoconvert",
        "videoscale", "capsfilter", "textoverlay"}) {
    auto e = AddElement(bin, factory, p + factory);
    if (!e) return e.error();
    chain.push_back(*e);
  }
  GstElement* appsrc = chain[0];
  auto rtp_caps =
      CapsFromString("application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=" +
                     std::to_string(kSlotPayloadType));
  g_object_set(appsrc, "caps", rtp_caps.get(), "is-live", TRUE, "do-timestamp", TRUE, "max-bytes",
               static_cast<guint64>(2 * 1024 * 1024), nullptr);
  gst_util_set_object_arg(G_OBJECT(appsrc), "format", "time");
  gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "upstream");
  g_object_set(chain[1], "latency", static_cast<guint>(config.jitter_latency_ms), nullptr);
  g_object_set(chain[2], "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
  auto tile_caps = CapsFromString(
      std::string("video/x-raw,width=16,height=16,pixel-aspect-ratio=1/1,chroma-site=") +
      kChromaSite);
  g_object_set(chain[7], "caps", tile_caps.get(), nullptr);
  g_object_set(chain[8], "text", "", "auto-resize", FALSE, "shaded-background", TRUE, "silent",
               config.captions ? FALSE : TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[8]), "valignment", "bottom");
  gst_util_set_object_arg(G_OBJECT(chain[8]), "halignment", "center");
  for (size_t i = 1; i < chain.size(); ++i)
    if (auto s = LinkChain({chain[i - 1], chain[i]}); !s) return s;

  slot->appsrc = appsrc;
  slot->decoder = chain[4];
  slot->scale_caps = chain[7];
  slot->overlay = chain[8];
  GstPad* appsrc_pad = gst_element_get_static_pad(appsrc, "src");
  gst_pad_add_probe(appsrc_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &Impl::OnUpstreamEvent,
                    slot.get(), nullptr);
  gst_object_unref(appsrc_pad);
  // The probes get the slot; the loss handler also needs the mixer.
  g_object_set_data(G_OBJECT(appsrc), "plateau-impl", this);
  slots[index] = std::move(slot);
  return Status::Ok();
}

Status VideoMixer::Impl::LinkSlotLocked(Slot& slot) {
  if (slot.compositor_pad) return Status::Ok();
  GstPad* pad = gst_element_request_pad_simple(compositor, "sink_%u");
  if (!pad) return Error{"gstreamer", "the compositor refused a new input"};
  g_object_set(pad, "alpha", 0.0, "zorder", static_cast<guint>(slot.index + 1), nullptr);
  gst_pad_add_probe(
      pad,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      &Impl::OnCompositorPadData, &slot, nullptr);
  WatchCompositorInput(pad);
  GstPad* src = gst_element_get_static_pad(slot.overlay, "src");
  const bool linked = gst_pad_link(src, pad) == GST_PAD_LINK_OK;
  gst_object_unref(src);
  if (!linked) {
    gst_element_release_request_pad(compositor, pad);
    gst_object_unref(pad);
    return Error{"gstreamer", "cannot link decode slot " + std::to_string(slot.index)};
  }
  slot.compositor_pad = pad;
  slot.rect = Rect{};
  latency_changed = true;
  return Status::Ok();
}

Status VideoMixer::Impl::BuildTier(size_t index, GstElement* tee) {
  auto tier = std::make_unique<Tier>();
  tier->index = index;
  tier->config = config.tiers[index];
  const TierConfig& t = tier->config;
  GstBin* bin = pipeline.bin();
  const std::string p = "tier-" + t.name + "-";
  std::vector<GstElement*> chain;
  for (const char* factory :
       {"valve", "queue", "videoscale", "capsfilter", "openh264enc", "rtph264pay", "appsink"}) {
    auto e = AddElement(bin, factory, p + factory);
    if (!e) return e.error();
    chain.push_back(*e);
  }
  // An idle tier drops the canvas at the tee: no scaling, no encoding. Sticky events (caps,
  // segment) still pass, so the branch is negotiated when it starts.
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  g_object_set(chain[0], "drop", t.active ? FALSE : TRUE, nullptr);
  tier->active = t.active;
  // A slow encoder drops its oldest frame instead of stalling the compositor and other tiers.
  g_object_set(chain[1], "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[1]), "leaky", "downstream");
  auto caps = CapsFromString("video/x-raw,width=" + std::to_string(t.width) +
                             ",height=" + std::to_string(t.height) + ",pixel-aspect-ratio=1/1");
  g_object_set(chain[3], "caps", caps.get(), nullptr);
  // The rate is held, whatever the picture: bitrate mode with max-bitrate at the same rate, and
  // frame skipping when the encoder's buffer would overflow (without it, a busy picture runs at
  // many times the rate: docs/media-video.md "Holding the rate").
  gst_util_set_object_arg(G_OBJECT(chain[4]), "rate-control", "bitrate");
  g_object_set(chain[4], "bitrate", static_cast<guint>(t.bitrate_kbps * 1000), "max-bitrate",
               static_cast<guint>(t.bitrate_kbps * 1000), "gop-size",
               static_cast<guint>(t.gop_frames), "scene-change-detection", FALSE,
               "enable-frame-skip", TRUE, nullptr);
  // openh264enc's SPS has no colour description: decoders would guess (docs/media-video.md).
  if (auto s = DescribeColourInSps(chain[4]); !s) return s;
  g_object_set(chain[5], "mtu", static_cast<guint>(t.mtu), "config-interval", -1, "pt",
               static_cast<guint>(t.payload_type), "ssrc", t.ssrc != 0 ? t.ssrc : RandomU32(),
               nullptr);
  g_object_set(chain[6], "sync", FALSE, "async", FALSE, "max-buffers", 256u, "drop", TRUE, nullptr);
  if (auto s =
          LinkChain({tee, chain[0], chain[1], chain[2], chain[3], chain[4], chain[5], chain[6]});
      !s)
    return s;
  tier->valve = chain[0];
  tier->encoder = chain[4];
  tier->appsink = chain[6];
  auto* ctx = new TierSinkContext{this, tier.get()};
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Impl::OnTierSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(chain[6]), &callbacks, ctx,
                             [](gpointer p) { delete static_cast<TierSinkContext*>(p); });
  tiers.push_back(std::move(tier));
  return Status::Ok();
}

GstFlowReturn VideoMixer::Impl::OnTierSample(GstAppSink* sink, gpointer ctx_ptr) {
  auto* ctx = static_cast<TierSinkContext*>(ctx_ptr);
  Tier& tier = *ctx->tier;
  GstSamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  const std::span<const uint8_t> bytes(map.data, map.size);
  if (auto packet = rtp::RtpPacket::Parse(bytes)) {
    if (packet->marker()) tier.frames++;
    if (auto info = rtp::InspectH264Payload(packet->payload());
        info && info->keyframe_start &&
        (!tier.have_keyframe_ts || tier.last_keyframe_ts != packet->timestamp())) {
      tier.have_keyframe_ts = true;
      tier.last_keyframe_ts = packet->timestamp();
      tier.keyframes++;
    }
  }
  tier.packets++;
  tier.bytes += map.size;
  if (ctx->impl->callbacks.on_packet)
    ctx->impl->callbacks.on_packet(TierPacket{tier.index, tier.config.name, bytes});
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

GstPadProbeReturn VideoMixer::Impl::OnComposedFrame(GstPad*, GstPadProbeInfo*, gpointer user) {
  static_cast<Impl*>(user)->frames_composed++;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn VideoMixer::Impl::OnCompositorPadData(GstPad* pad, GstPadProbeInfo* info,
                                                        gpointer slot_ptr) {
  Slot& slot = *static_cast<Slot*>(slot_ptr);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM) return GST_PAD_PROBE_OK;
    const GstStructure* s = gst_event_get_structure(event);
    if (!s || !gst_structure_has_name(s, kGenerationEvent)) return GST_PAD_PROBE_OK;
    guint64 generation = 0;
    if (gst_structure_get_uint64(s, "generation", &generation)) slot.arrived = generation;
    return GST_PAD_PROBE_DROP;
  }
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  {
    MutexLock lock(slot.alpha_mu);
    const uint64_t current = slot.generation.load();
    // Frames of a venue the slot no longer carries, or from before its keyframe, never show.
    if (current == 0 || slot.arrived.load() != current) return GST_PAD_PROBE_DROP;
    if (slot.shown.load() != current) {
      if (!buffer || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
        return GST_PAD_PROBE_DROP;
      slot.shown = current;
      g_object_set(pad, "alpha", 1.0, nullptr);
    }
  }
  slot.frames++;
  StampOnArrival(pad, info);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn VideoMixer::Impl::OnUpstreamEvent(GstPad* pad, GstPadProbeInfo* info,
                                                    gpointer slot_ptr) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
  // The depayloader saw loss: ask the venue for a keyframe (rate-limited per slot).
  Slot& slot = *static_cast<Slot*>(slot_ptr);
  GstElement* appsrc = GST_ELEMENT(gst_pad_get_parent(pad));
  auto* impl =
      appsrc ? static_cast<Impl*>(g_object_get_data(G_OBJECT(appsrc), "plateau-impl")) : nullptr;
  if (appsrc) gst_object_unref(appsrc);
  std::string venue;
  {
    MutexLock lock(slot.name_mu);
    const auto now = impl ? impl->clock.Monotonic() : SystemClock::Instance().Monotonic();
    if (!slot.venue_for_requests.empty() &&
        MsSince(slot.last_loss_request, now) >= (impl ? impl->config.keyframe_retry_ms : 300)) {
      slot.last_loss_request = now;
      venue = slot.venue_for_requests;
    }
  }
  if (impl && !venue.empty() && impl->callbacks.on_keyframe_request) {
    log::Debug("video_mixer.loss_keyframe_request", {{"venue", venue}});
    impl->callbacks.on_keyframe_request(venue);
  }
  return GST_PAD_PROBE_DROP;
}

void VideoMixer::Impl::PlaceLocked(Slot& slot, const Rect& rect, const std::string& caption) {
  if (!(slot.rect == rect)) {
    slot.rect = rect;
    auto caps = CapsFromString("video/x-raw,width=" + std::to_string(rect.width) +
                               ",height=" + std::to_string(rect.height) +
                               ",pixel-aspect-ratio=1/1,chroma-site=" + kChromaSite);
    g_object_set(slot.scale_caps, "caps", caps.get(), nullptr);
    g_object_set(slot.compositor_pad, "xpos", rect.x, "ypos", rect.y, "width", rect.width, "height",
                 rect.height, nullptr);
    const int font_px = std::max(8, rect.height / 10);
    const std::string font = config.caption_font + " " + std::to_string(font_px) + "px";
    const int pad = std::max(2, rect.height / 40);
    g_object_set(slot.overlay, "font-desc", font.c_str(), "xpad", pad, "ypad", pad, nullptr);
  }
  if (slot.caption != caption) {
    slot.caption = caption;
    g_object_set(slot.overlay, "text", caption.c_str(), nullptr);
  }
}

void VideoMixer::Impl::BindLocked(Slot& slot, const std::string& venue) {
  slot.venue = venue;
  slot.waiting_for_keyframe = true;
  {
    MutexLock lock(slot.alpha_mu);
    slot.generation = next_generation++;
    g_object_set(slot.compositor_pad, "alpha", 0.0, nullptr);
  }
  slot.frames_at_bind = slot.frames.load();
  {
    MutexLock lock(slot.name_mu);
    slot.venue_for_requests = venue;
  }
  venues[venue].slot = slot.index;
}

void VideoMixer::Impl::UnbindLocked(Slot& slot) {
  if (slot.venue.empty()) return;
  auto it = venues.find(slot.venue);
  if (it != venues.end()) {
    it->second.slot.reset();
    it->second.frames_decoded += slot.frames.load() - slot.frames_at_bind;
  }
  slot.venue.clear();
  slot.waiting_for_keyframe = false;
  {
    MutexLock lock(slot.alpha_mu);
    slot.generation = 0;
    g_object_set(slot.compositor_pad, "alpha", 0.0, nullptr);
  }
  MutexLock lock(slot.name_mu);
  slot.venue_for_requests.clear();
}

std::vector<std::string> VideoMixer::Impl::ApplyLayoutLocked() {
  placements = layout.Placements();
  std::set<std::string> visible;
  for (const auto& p : placements) visible.insert(p.venue);
  for (auto& slot : slots)
    if (!slot->venue.empty() && !visible.count(slot->venue)) UnbindLocked(*slot);
  std::vector<std::string> requests;
  const auto now = clock.Monotonic();
  for (const auto& p : placements) {
    VenueState& venue = venues[p.venue];
    if (!venue.slot) {
      Slot* free_slot = nullptr;
      for (auto& slot : slots)
        if (slot->venue.empty()) {
          free_slot = slot.get();
          break;
        }
      if (!free_slot) continue;  // more tiles than slots (a small `slots`): left empty
      if (auto linked = LinkSlotLocked(*free_slot); !linked) {
        log::Error("video_mixer.slot_link_failed", {{"message", linked.error().message}});
        continue;
      }
      BindLocked(*free_slot, p.venue);
      venue.keyframe_requests++;
      venue.last_request = now;
      requests.push_back(p.venue);
    }
    PlaceLocked(*slots[*venue.slot], p.rect, venue.display_name);
  }
  return requests;
}

void VideoMixer::Impl::RequestKeyframes(const std::vector<std::string>& venues_to_ask) {
  bool recalculate = false;
  {
    MutexLock lock(mu);
    std::swap(recalculate, latency_changed);
  }
  if (recalculate) gst_bin_recalculate_latency(pipeline.bin());
  if (!callbacks.on_keyframe_request) return;
  for (const auto& v : venues_to_ask) callbacks.on_keyframe_request(v);
}

// ---------------------------------------------------------------------------------------------

VideoMixer::VideoMixer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VideoMixer::~VideoMixer() {
  if (!impl_) return;
  impl_->pipeline.Stop();
  for (auto& slot : impl_->slots)
    if (slot && slot->compositor_pad) gst_object_unref(slot->compositor_pad);
}

Result<std::unique_ptr<VideoMixer>> VideoMixer::Create(const VideoMixerConfig& config,
                                                       VideoMixerCallbacks callbacks,
                                                       const plateau::Clock& clock) {
  auto bad = [](const std::string& m) { return Error{"bad_config", m}; };
  if (config.canvas_width < 16 || config.canvas_height < 16 || config.canvas_width % 2 ||
      config.canvas_height % 2 || config.canvas_width > 3840 || config.canvas_height > 2160)
    return bad("the canvas must be even-sized, between 16x16 and 3840x2160");
  if (config.fps < 1 || config.fps > 60) return bad("fps must be 1..60");
  if (config.slots < 1 || static_cast<size_t>(config.slots) > kMaxSlots)
    return bad("slots must be 1.." + std::to_string(kMaxSlots));
  if (config.tiers.empty()) return bad("at least one output tier is needed");
  std::set<std::string> names;
  for (const auto& t : config.tiers) {
    if (t.name.empty() || !names.insert(t.name).second)
      return bad("tier names must be non-empty and unique");
    if (t.width < 16 || t.height < 16 || t.width % 2 || t.height % 2 || t.width > 3840 ||
        t.height > 2160)
      return bad("tier " + t.name + ": size must be even, between 16x16 and 3840x2160");
    if (t.bitrate_kbps < 32 || t.bitrate_kbps > 20000)
      return bad("tier " + t.name + ": bitrate must be 32..20000 kbit/s");
    if (t.gop_frames < 1 || t.mtu < 200 || t.mtu > 1460 || t.payload_type > 127)
      return bad("tier " + t.name + ": gop >= 1, mtu 200..1460, payload type 0..127");
  }
  if (config.jitter_latency_ms < 0 || config.jitter_latency_ms > 1000)
    return bad("jitter latency must be 0..1000 ms");
  if (config.tier_keyframe_min_interval_ms < 0 || config.keyframe_retry_ms < 50)
    return bad("keyframe intervals out of range");

  EnsureGstInit();
  auto impl = std::make_unique<Impl>(config, clock);
  impl->callbacks = std::move(callbacks);
  if (auto s = impl->Build(); !s) return s.error();
  if (auto s = impl->pipeline.Play("video_mixer"); !s) return s.error();
  if (auto s = impl->SettleLatency(); !s) return s.error();
  log::Info("video_mixer.start", {{"canvas", std::to_string(config.canvas_width) + "x" +
                                                 std::to_string(config.canvas_height)},
                                  {"fps", config.fps},
                                  {"tiers", config.tiers.size()},
                                  {"slots", config.slots}});
  return std::unique_ptr<VideoMixer>(new VideoMixer(std::move(impl)));
}

Status VideoMixer::AddVenue(const std::string& venue, const std::string& display_name) {
  std::vector<std::string> requests;
  {
    MutexLock lock(impl_->mu);
    if (auto s = impl_->layout.AddVenue(venue); !s) return s;
    impl_->venues[venue].display_name = display_name;
    requests = impl_->ApplyLayoutLocked();
  }
  impl_->RequestKeyframes(requests);
  return Status::Ok();
}

Status VideoMixer::RemoveVenue(const std::string& venue) {
  std::vector<std::string> requests;
  {
    MutexLock lock(impl_->mu);
    if (auto s = impl_->layout.RemoveVenue(venue); !s) return s;
    auto it = impl_->venues.find(venue);
    if (it != impl_->venues.end() && it->second.slot)
      impl_->UnbindLocked(*impl_->slots[*it->second.slot]);
    impl_->venues.erase(venue);
    requests = impl_->ApplyLayoutLocked();
  }
  impl_->RequestKeyframes(requests);
  return Status::Ok();
}

void VideoMixer::SetLayout(LayoutKind kind) {
  std::vector<std::string> requests;
  {
    MutexLock lock(impl_->mu);
    impl_->layout.SetLayout(kind);
    requests = impl_->ApplyLayoutLocked();
  }
  impl_->RequestKeyframes(requests);
}

Status VideoMixer::SetSpeaker(const std::optional<std::string>& venue) {
  std::vector<std::string> requests;
  {
    MutexLock lock(impl_->mu);
    if (auto s = impl_->layout.SetSpeaker(venue); !s) return s;
    requests = impl_->ApplyLayoutLocked();
  }
  impl_->RequestKeyframes(requests);
  return Status::Ok();
}

Status VideoMixer::SetVenueOrder(const std::vector<std::string>& order) {
  std::vector<std::string> requests;
  {
    MutexLock lock(impl_->mu);
    if (auto s = impl_->layout.SetVenueOrder(order); !s) return s;
    requests = impl_->ApplyLayoutLocked();
  }
  impl_->RequestKeyframes(requests);
  return Status::Ok();
}

// A venue's packet on its way to a decode slot: parse (outside the lock), count it against its
// venue, drop it if the venue is not shown, hold the slot until a keyframe starts, then renumber it
// into the slot's continuous stream and push it.
void VideoMixer::PushVideoRtp(const std::string& venue, std::span<const uint8_t> bytes) {
  Impl& m = *impl_;
  const auto packet = rtp::RtpPacket::Parse(bytes);
  const auto info = packet ? rtp::InspectH264Payload(packet->payload()) : std::nullopt;
  bool ask = false;
  {
    MutexLock lock(m.mu);
    VenueState* state = m.CountArrivalLocked(venue, packet, info, bytes.size());
    if (state == nullptr) return;  // unknown venue or malformed: counted
    if (!state->slot) {
      state->dropped_hidden++;
      return;
    }
    Slot& slot = *m.slots[*state->slot];
    const auto now = m.clock.Monotonic();
    if (slot.waiting_for_keyframe) ask = m.AwaitKeyframeLocked(slot, *state, *packet, *info, now);
    if (!slot.waiting_for_keyframe) m.ForwardToSlotLocked(slot, *packet, bytes, now);
  }
  if (ask && m.callbacks.on_keyframe_request) m.callbacks.on_keyframe_request(venue);
}

VenueState* VideoMixer::Impl::CountArrivalLocked(const std::string& venue,
                                                 const std::optional<rtp::RtpPacket>& packet,
                                                 const std::optional<rtp::H264PayloadInfo>& info,
                                                 size_t size) {
  auto it = venues.find(venue);
  if (it == venues.end()) {
    unknown_venue_packets++;
    return nullptr;
  }
  VenueState& state = it->second;
  if (!packet || !info) {
    state.malformed++;
    return nullptr;
  }
  state.packets++;
  state.bytes += size;
  if (info->keyframe_start &&
      (!state.have_keyframe_ts || state.last_keyframe_ts != packet->timestamp())) {
    state.have_keyframe_ts = true;
    state.last_keyframe_ts = packet->timestamp();
    state.keyframes++;
  }
  return &state;
}

bool VideoMixer::Impl::AwaitKeyframeLocked(Slot& slot, VenueState& state,
                                           const rtp::RtpPacket& packet,
                                           const rtp::H264PayloadInfo& info, MonoTime now) {
  if (info.keyframe_start) {
    StartSlotStreamLocked(slot, packet, now);
    return false;
  }
  state.dropped_waiting++;
  if (MsSince(state.last_request, now) < config.keyframe_retry_ms) return false;
  state.last_request = now;
  state.keyframe_requests++;
  return true;
}

// Continue the slot's output stream where it left off, whatever venue it carried.
void VideoMixer::Impl::StartSlotStreamLocked(Slot& slot, const rtp::RtpPacket& keyframe,
                                             MonoTime now) {
  slot.waiting_for_keyframe = false;
  const uint16_t out_seq = slot.have_output ? static_cast<uint16_t>(slot.last_out_seq + 1)
                                            : static_cast<uint16_t>(RandomU32());
  const uint32_t out_ts =
      slot.have_output
          ? slot.last_out_ts +
                static_cast<uint32_t>(std::max<int64_t>(1, MsSince(slot.last_out_time, now)) * 90)
          : RandomU32();
  slot.seq_delta = static_cast<uint16_t>(out_seq - keyframe.sequence_number());
  slot.ts_delta = out_ts - keyframe.timestamp();
  GstStructure* s = gst_structure_new(kGenerationEvent, "generation", G_TYPE_UINT64,
                                      static_cast<guint64>(slot.generation.load()), nullptr);
  gst_element_send_event(slot.appsrc, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s));
}

void VideoMixer::Impl::ForwardToSlotLocked(Slot& slot, const rtp::RtpPacket& packet,
                                           std::span<const uint8_t> bytes, MonoTime now) {
  const uint16_t seq = static_cast<uint16_t>(packet.sequence_number() + slot.seq_delta);
  const uint32_t ts = packet.timestamp() + slot.ts_delta;
  if (!slot.have_output || rtp::IsNewerSequenceNumber(seq, slot.last_out_seq)) {
    slot.last_out_seq = seq;
    slot.last_out_ts = ts;
    slot.last_out_time = now;
  }
  slot.have_output = true;
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, bytes.size(), nullptr);
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    std::copy(bytes.begin(), bytes.end(), map.data);
    rtp::RewriteRtpHeader(std::span<uint8_t>(map.data, map.size),
                          rtp::RtpRewrite{kSlotPayloadType, std::nullopt, seq, ts, slot.ssrc});
    gst_buffer_unmap(buffer, &map);
    gst_app_src_push_buffer(GST_APP_SRC(slot.appsrc), buffer);  // takes the buffer
  } else {
    gst_buffer_unref(buffer);
  }
}

Result<bool> VideoMixer::RequestKeyframe(std::string_view tier_name) {
  for (auto& tier : impl_->tiers) {
    if (tier->config.name != tier_name) continue;
    tier->requests++;
    const auto now = impl_->clock.Monotonic();
    {
      MutexLock lock(tier->mu);
      if (tier->forced_once &&
          MsSince(tier->last_forced, now) < impl_->config.tier_keyframe_min_interval_ms) {
        tier->limited++;
        return false;
      }
      tier->forced_once = true;
      tier->last_forced = now;
    }
    tier->forced++;
    GstPad* src = gst_element_get_static_pad(tier->encoder, "src");
    gst_pad_send_event(src,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(src);
    return true;
  }
  return Error{"unknown_tier", "no output tier named \"" + std::string(tier_name) + "\""};
}

Status VideoMixer::SetTierActive(std::string_view tier_name, bool active) {
  for (auto& tier : impl_->tiers) {
    if (tier->config.name != tier_name) continue;
    {
      MutexLock lock(tier->mu);
      if (tier->active.load() == active) return Status::Ok();
      tier->active = active;
      if (active) {
        tier->forced_once = true;
        tier->last_forced = impl_->clock.Monotonic();
      }
    }
    if (active) {
      // The encoder's next frame is a keyframe: receivers joining a tier that was idle decode
      // from the first frame (the request travels up to the encoder before the valve opens).
      tier->forced++;
      GstPad* src = gst_element_get_static_pad(tier->encoder, "src");
      gst_pad_send_event(src,
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
      gst_object_unref(src);
    }
    g_object_set(tier->valve, "drop", active ? FALSE : TRUE, nullptr);
    log::Info("video_mixer.tier_active", {{"tier", tier->config.name}, {"active", active}});
    return Status::Ok();
  }
  return Error{"unknown_tier", "no output tier named \"" + std::string(tier_name) + "\""};
}

std::vector<Placement> VideoMixer::Placements() const {
  MutexLock lock(impl_->mu);
  return impl_->placements;
}

const VideoMixerConfig& VideoMixer::config() const {
  return impl_->config;
}

VideoMixerStats VideoMixer::Stats() const {
  const Impl& m = *impl_;
  VideoMixerStats out;
  out.slots = m.slots.size();
  out.frames_composed = m.frames_composed.load();
  out.pipeline_errors = m.pipeline.errors();
  out.unknown_venue_packets = m.unknown_venue_packets.load();
  {
    MutexLock lock(m.mu);
    out.layout = m.layout.effective_layout();
    out.speaker = m.layout.speaker();
    for (const auto& slot : m.slots)
      if (slot && !slot->venue.empty()) out.active_decoders++;
    std::map<std::string, size_t> tiles;
    for (const auto& p : m.placements) tiles[p.venue] = p.tile;
    for (const auto& id : m.layout.venues()) {
      const VenueState& v = m.venues.at(id);
      VenueVideoStats s;
      s.venue = id;
      s.display_name = v.display_name;
      if (auto t = tiles.find(id); t != tiles.end()) {
        s.visible = true;
        s.tile = t->second;
      }
      s.decoding = v.slot.has_value();
      s.packets = v.packets;
      s.bytes = v.bytes;
      s.malformed = v.malformed;
      s.dropped_hidden = v.dropped_hidden;
      s.dropped_waiting = v.dropped_waiting;
      s.keyframes = v.keyframes;
      s.keyframe_requests = v.keyframe_requests;
      s.frames_decoded = v.frames_decoded;
      if (v.slot) {
        const Slot& slot = *m.slots[*v.slot];
        s.waiting_for_keyframe = slot.waiting_for_keyframe;
        s.frames_decoded += slot.frames.load() - slot.frames_at_bind;
      }
      out.venues.push_back(std::move(s));
    }
  }
  for (const auto& tier : m.tiers) {
    TierStats t;
    t.name = tier->config.name;
    t.width = tier->config.width;
    t.height = tier->config.height;
    t.frames_encoded = tier->frames.load();
    t.keyframes = tier->keyframes.load();
    t.packets = tier->packets.load();
    t.bytes = tier->bytes.load();
    t.keyframe_requests = tier->requests.load();
    t.keyframes_forced = tier->forced.load();
    t.keyframe_requests_limited = tier->limited.load();
    t.active = tier->active.load();
    out.tiers.push_back(std::move(t));
  }
  return out;
}

}  // namespace plateau::mcu::media
