// The video half of one conference's media engine: continuous-presence mixing of H.264 RTP from
// many venues, encoded once per output tier.
//
//   PushVideoRtp(venue) -> [visible?] -> slot k: appsrc -> rtpjitterbuffer -> rtph264depay ->
//     h264parse -> openh264dec -> videoconvert -> videoscale -> caps(tile) -> textoverlay(name)
//     -> compositor pad k (position/size from TileLayout)
//   black live background -> compositor (canvas, 30 fps) -> tee -> per tier: queue -> videoscale
//     -> openh264enc (rate-control=bitrate) -> rtph264pay (mtu) -> appsink -> OnPacket(tier, rtp)
//
// Only venues visible in the layout are decoded: the mixer owns a fixed set of decode slots (one
// per tile of the largest layout, 16), each bound to at most one venue. Packets of hidden venues
// are inspected (keyframes counted) and dropped. When a venue becomes visible it is bound to a free
// slot, its packets are dropped until a keyframe starts, and OnKeyframeRequest(venue) asks the
// conference for one (a PLI); the request repeats every `keyframe_retry_ms` until one arrives.
// Each slot rewrites sequence numbers and timestamps so its jitter buffer and decoder see one
// continuous stream whatever venue it carries. A slot's tile stays transparent until the first
// frame of its current venue reaches the compositor, so no stale picture is shown under a new name.
//
// Threads:
//  - Control methods (AddVenue, RemoveVenue, SetLayout, SetSpeaker, SetVenueOrder,
//    RequestKeyframe, Stats, Placements, Stop) must be called from ONE control thread at a time
//    (the conference's strand). They never block on media and take effect on the next composed
//    frame (well within one second) without restarting the pipeline.
//  - PushVideoRtp may be called from any thread (typically the transport's receive thread),
//    concurrently with the control methods.
//  - OnPacket runs on the tier's GStreamer streaming thread (one thread per tier; packets of one
//    tier arrive in order). It must not block and must not call the mixer's control methods: copy
//    the bytes or hand them to the transport, and post anything else to the control strand.
//  - OnKeyframeRequest runs on the calling thread of a control method or PushVideoRtp, or on a
//    slot's streaming thread (the depayloader saw loss); never with a mixer lock held. It must only
//    post (e.g. asio::post to the conference strand, which sends a PLI).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/media/tile_layout.hpp"

namespace plateau::mcu::media {

// One output encoding of the mix. The canvas is scaled to width x height and encoded once.
struct TierConfig {
  std::string name;         // "8m", "2m", ...: unique, non-empty
  int width = 1280;         // even
  int height = 720;         // even
  int bitrate_kbps = 1800;  // openh264enc rate-control=bitrate
  int gop_frames = 300;     // natural keyframe interval (receivers ask for more with PLI)
  int mtu = 1200;           // rtph264pay
  uint8_t payload_type = 96;
  uint32_t ssrc = 0;  // 0: random
  // Encoding at start. An idle tier's branch drops the canvas before scaling, so it costs no
  // encode; SetTierActive starts it (with a keyframe) when its first receiver arrives.
  bool active = true;
};

struct VideoMixerConfig {
  int canvas_width = 1280;  // the compositor's canvas (tiles are laid out on it); even
  int canvas_height = 720;
  int fps = 30;
  // Decode slots built at start (1..16): at most this many tiles are decoded and shown. 16 fits
  // every layout; a cascade sub-centre's engine (layout "1") needs one.
  int slots = 16;
  std::vector<TierConfig> tiers = {
      {"8m", 1280, 720, 1800, 300, 1200, 96, 0},
      {"2m", 640, 360, 1100, 300, 1200, 96, 0},
  };
  // Jitter buffer latency per slot. Loss recovery (NACK) happens before the mixer, in transport.
  int jitter_latency_ms = 50;
  // Caption font (Pango description, family only; size follows the tile height).
  std::string caption_font = "Noto Sans CJK SC";
  bool captions = true;
  // A receiver's keyframe request forces one on the tier at most this often.
  int tier_keyframe_min_interval_ms = 500;
  // While a newly visible venue has not sent a keyframe, the request is repeated this often.
  int keyframe_retry_ms = 300;
};

// One packet of a tier's output. `rtp` is valid only during the callback.
struct TierPacket {
  size_t tier = 0;             // index into VideoMixerConfig::tiers
  std::string_view tier_name;  // its name
  std::span<const uint8_t> rtp;
};

struct VideoMixerCallbacks {
  std::function<void(const TierPacket&)> on_packet;
  std::function<void(const std::string& venue)> on_keyframe_request;
};

struct VenueVideoStats {
  std::string venue;
  std::string display_name;
  bool visible = false;
  bool decoding = false;       // bound to a decode slot
  std::optional<size_t> tile;  // its tile while visible
  bool waiting_for_keyframe = false;
  uint64_t packets = 0;  // accepted (well-formed H.264 RTP)
  uint64_t bytes = 0;
  uint64_t malformed = 0;          // dropped: not H.264 RTP
  uint64_t dropped_hidden = 0;     // dropped because the venue is not visible
  uint64_t dropped_waiting = 0;    // dropped while waiting for a keyframe
  uint64_t keyframes = 0;          // keyframe starts seen (visible or not)
  uint64_t keyframe_requests = 0;  // OnKeyframeRequest calls for this venue
  uint64_t frames_decoded = 0;     // frames of this venue that reached the compositor
};

struct TierStats {
  std::string name;
  int width = 0;
  int height = 0;
  uint64_t frames_encoded = 0;
  uint64_t keyframes = 0;  // IDR frames produced (natural or forced)
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t keyframe_requests = 0;          // RequestKeyframe calls
  uint64_t keyframes_forced = 0;           // requests that forced one
  uint64_t keyframe_requests_limited = 0;  // requests dropped by the rate limit
  bool active = true;                      // encoding (false: idle, no receivers)
};

struct VideoMixerStats {
  size_t active_decoders = 0;  // slots bound to a venue == visible tiles
  size_t slots = 0;            // decode slots in the pipeline
  uint64_t frames_composed = 0;
  LayoutKind layout = LayoutKind::kAuto;  // the effective layout
  std::optional<std::string> speaker;
  std::vector<VenueVideoStats> venues;  // in venue order
  std::vector<TierStats> tiers;
  uint64_t pipeline_errors = 0;
  uint64_t unknown_venue_packets = 0;  // PushVideoRtp for a venue not in the mixer
};

class VideoMixer {
 public:
  // Builds and starts the pipeline (the canvas runs at `fps` with a black background from the
  // start). Errors: "bad_config" (sizes, tier names), "gstreamer" (a missing element: the message
  // names the element and the Debian package that ships it). `clock` (kept by reference, must
  // outlive the mixer) is the only time the mixer reads itself; GStreamer runs on its own clock.
  static Result<std::unique_ptr<VideoMixer>> Create(
      const VideoMixerConfig& config, VideoMixerCallbacks callbacks,
      const plateau::Clock& clock = SystemClock::Instance());
  ~VideoMixer();  // stops the pipeline; no callback runs after it returns
  VideoMixer(const VideoMixer&) = delete;
  VideoMixer& operator=(const VideoMixer&) = delete;

  // `display_name` is the tile caption (Chinese names are fine). Errors as TileLayout.
  Status AddVenue(const std::string& venue, const std::string& display_name);
  Status RemoveVenue(const std::string& venue);
  void SetLayout(LayoutKind kind);
  Status SetSpeaker(const std::optional<std::string>& venue);
  Status SetVenueOrder(const std::vector<std::string>& order);

  // One plain (already decrypted) RTP packet of the venue's H.264 stream. Unknown venues and
  // malformed packets are counted and dropped. Any thread.
  void PushVideoRtp(const std::string& venue, std::span<const uint8_t> packet);

  // A receiver of `tier` asked for a keyframe (PLI/FIR). Returns true if a keyframe was forced,
  // false if rate-limited (one was forced less than tier_keyframe_min_interval_ms ago).
  // Error "unknown_tier".
  Result<bool> RequestKeyframe(std::string_view tier);
  // Starts or stops encoding `tier` (see TierConfig::active). A tier that starts begins with a
  // keyframe (not rate-limited). Idempotent; any thread. Error "unknown_tier".
  Status SetTierActive(std::string_view tier, bool active);

  // The current tiles (what the next composed frames show).
  std::vector<Placement> Placements() const;
  const VideoMixerConfig& config() const;
  VideoMixerStats Stats() const;

  struct Impl;

 private:
  explicit VideoMixer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plateau::mcu::media
