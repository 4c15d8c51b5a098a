// One live conference in the MCU: every venue's media transport, the video mixer (continuous
// presence, one encode per output tier) and the mix-minus audio mixer, joined together.
//
// A venue reaches the engine in one of two ways:
//  - SDES: the conference owns a transport::VenueTransport (UDP + SRTP with keys from the
//    control plane, RTCP with NACK/PLI). The reference terminal and other non-DTLS endpoints.
//  - External: something else carries the media (webrtcbin for browsers with ICE + DTLS-SRTP, a
//    cascade link to another MCU). It hands plain, already-authenticated RTP in with PushRtp()
//    and receives plain RTP out through its ExternalEndpoint.
//
// Threads: the conference runs its own io thread (transports, RTCP timers, the 20 ms audio tick).
// Every public method is thread-safe. Callbacks come from the conference's threads and must not
// call back into the conference synchronously (post instead).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/audio/mix_minus_mixer.hpp"
#include "plateau/mcu/media/video_mixer.hpp"
#include "plateau/mcu/transport/address.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/mcu/transport/venue_transport_stats.hpp"

namespace plateau::mcu::conference {

using transport::MediaKind;

struct ConferenceConfig {
  std::string id;               // conference number: log fields and metric labels
  std::string layout = "auto";  // initial layout (ParseLayout names)
  media::VideoMixerConfig video;
  audio::MixerConfig audio;
  // Payload types the MCU uses for what it sends when the venue did not say otherwise.
  uint8_t video_payload_type = 96;
  uint8_t audio_payload_type = 111;
  // Bound on venues in one conference (65 venues in Qinghai; the bound protects the server).
  size_t max_venues = 128;
};

// What a venue sends and receives, as negotiated (its SDP m-lines and their directions). A venue
// that sends no video has no tile (it is not in the video layout); one that sends no audio is
// never mixed and never a speaker. What it does not receive is not sent to it. Everything by
// default; an external carrier always carries everything.
struct VenueMedia {
  bool sends_video = true;
  bool sends_audio = true;
  bool receives_video = true;  // its tier's stream
  bool receives_audio = true;  // its mix
};

// SDES: the conference binds a UDP port, protects with send_key, verifies with receive_key.
struct SdesEndpoint {
  std::string bind_address = "127.0.0.1";
  uint16_t bind_port = 0;                     // 0 = any free port
  std::optional<transport::Endpoint> remote;  // else latched from the first valid packet
  // Set when `remote` comes from the venue's offer: it is used before the latch only if its address
  // is this one (the venue's signaling peer); see VenueTransportConfig::claim_trusted_address.
  std::optional<transport::IpAddress> claim_trusted_address;
  transport::SrtpKey send_key;     // what the MCU sends to the venue is protected with this
  transport::SrtpKey receive_key;  // the venue's key
  // The venue's H.264 (packetization-mode 1) and Opus payload types; only those of the kinds
  // `media` sends or receives are used.
  uint8_t video_payload_type = 96;
  uint8_t audio_payload_type = 111;
  VenueMedia media;
};

// Statistics an external carrier can report about its own leg (ICE/DTLS, RTCP it terminates).
struct ExternalLegStats {
  double rtt_ms = -1;
  int64_t lost = 0;
  double jitter_ms = 0;
  std::string state;  // e.g. "connected", "checking", "failed"
};

// An external carrier of one venue's media. Implemented outside mcu/ (signaling's WebRTC session,
// cascade links). Methods are called from the conference's threads and must not block. SendRtp
// may run on two threads at once: video on the tier's streaming thread, audio on the conference's
// io thread (each kind arrives in order).
class ExternalEndpoint {
 public:
  virtual ~ExternalEndpoint() = default;
  // Plain RTP for the venue (the conference already set PT/SSRC/seq/timestamp for this venue).
  virtual void SendRtp(MediaKind kind, std::span<const uint8_t> rtp) = 0;
  // Ask the venue for a video keyframe (the carrier sends PLI/FIR its own way).
  virtual void RequestKeyframe() = 0;
  virtual ExternalLegStats LegStats() { return {}; }
};

struct VenueSpec {
  std::string id;    // site id from the topology
  std::string name;  // display name (Chinese): the tile caption
  // Output tier name ("8m", "2m"; see VideoMixerConfig::tiers). Empty = the first tier.
  std::string tier;
  bool muted = false;  // operator mute at entry
  // The cascade leg to the parent MCU (at most one per conference; see docs/cascade.md). Its
  // video, the province picture, is forwarded to every other venue instead of being mixed (it has
  // no tile), and it alone receives this conference's picture (its speaker, layout "1"). Its
  // audio is mixed like any venue's: it hears this conference's mix minus itself.
  bool uplink = false;
};

// What the control plane tells the venue about its media (SDES answer).
struct VenueMediaInfo {
  std::optional<transport::Endpoint> local;  // SDES: where the venue sends
  uint32_t video_ssrc = 0;                   // SSRCs the MCU sends to this venue
  uint32_t audio_ssrc = 0;
  std::string tier;  // tier actually assigned
};

struct VenueStats {
  std::string id;
  std::string name;
  std::string tier;
  bool external = false;
  bool uplink = false;  // the cascade leg to the parent MCU
  bool muted = false;
  VenueMedia media;  // of the current carrier
  // Inbound (from the venue).
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  int64_t lost = 0;
  double fraction_lost = 0;
  double jitter_ms = 0;
  double rtt_ms = -1;
  // Outbound (to the venue).
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  // Video.
  bool visible = false;
  bool decoding = false;  // a decoder is running for this venue
  int tile = -1;
  uint64_t frames_decoded = 0;
  // Audio.
  double level_dbov = -127;
  bool speaking = false;       // one of the K mixed
  int audio_delay_ticks = 0;   // the mixer's current playout delay for this venue (20 ms ticks)
  double audio_jitter_ms = 0;  // the mixer's RFC 3550 jitter of this venue's audio arrivals
  // Input from this venue that never reached a mixer (SRTP auth/replay, malformed, unknown PT,
  // invalid Opus, H.264 the video mixer refused), cumulative across reconnects.
  uint64_t dropped_packets = 0;
  // Full transport statistics for SDES venues (NACK, PLI, SRTP drops ...).
  std::optional<transport::VenueTransportStats> transport;
};

struct ConferenceStats {
  std::string id;
  std::string layout;
  std::optional<std::string> speaker;  // dominant speaker (large pane)
  int active_decoders = 0;             // video decoders running
  size_t video_encoders = 0;           // one per tier
  size_t audio_encoders = 0;           // K + 1
  std::vector<VenueStats> venues;
  media::VideoMixerStats video;
  // Input that never reached a mixer: SRTP auth/replay failures, malformed, unknown PT ...
  uint64_t dropped_packets = 0;
};

struct ConferenceCallbacks {
  // Layout or placements changed (layout name, placements in tile order).
  std::function<void(const std::string& layout, const std::vector<media::Placement>& tiles)>
      on_layout;
  // The dominant speaker changed (nullopt = nobody speaks).
  std::function<void(const std::optional<std::string>& venue)> on_speaker;
};

class Conference {
 public:
  // `metrics` (kept by reference, must outlive the conference) is where the conference and the
  // transports it creates count; its `conference`-labelled series are removed from it when the
  // conference stops. `clock` (likewise) is the only time the conference, its mixers and its
  // transports read.
  static Result<std::unique_ptr<Conference>> Create(
      ConferenceConfig config, metrics::Registry& metrics, ConferenceCallbacks callbacks = {},
      const plateau::Clock& clock = SystemClock::Instance());
  virtual ~Conference() = default;

  // Adds a venue. Errors: "duplicate_venue", "unknown_tier", "too_many_venues", "bind_failed",
  // "duplicate_uplink" (a second cascade leg to a parent).
  virtual Result<VenueMediaInfo> AddVenue(const VenueSpec& venue, const SdesEndpoint& endpoint) = 0;
  virtual Result<VenueMediaInfo> AddVenue(const VenueSpec& venue,
                                          std::shared_ptr<ExternalEndpoint> endpoint) = 0;
  // Replaces a venue's carrier (resume after a dropped connection: new SDES keys, or a new
  // WebRTC session) while it keeps its tile, mute state and place in the order. When the new
  // carrier's media differ (e.g. a venue now sends video), the tile comes or goes accordingly.
  virtual Result<VenueMediaInfo> ReconnectVenue(const std::string& venue,
                                                const SdesEndpoint& endpoint) = 0;
  virtual Result<VenueMediaInfo> ReconnectVenue(const std::string& venue,
                                                std::shared_ptr<ExternalEndpoint> endpoint) = 0;
  virtual Status RemoveVenue(const std::string& venue) = 0;

  // External carriers: plain RTP from the venue (any thread; copied). Routed by payload type
  // (the external endpoint maps its negotiated PTs to the conference's video/audio PTs).
  virtual void PushRtp(const std::string& venue, std::span<const uint8_t> rtp) = 0;
  // External carriers: the venue asked for a keyframe of what it receives.
  virtual void OnKeyframeRequest(const std::string& venue) = 0;

  // Live control.
  virtual Status SetLayout(const std::string& layout) = 0;  // "auto", "1", "2", "1+5", ...
  virtual Status SetMuted(const std::string& venue, bool muted) = 0;
  virtual Status SetVenueOrder(const std::vector<std::string>& venues) = 0;
  // Pins a venue to the large pane (nullopt = voice-activated again). Error "no_video" for a venue
  // that sends no video.
  virtual Status PinSpeaker(const std::optional<std::string>& venue) = 0;

  virtual std::vector<media::Placement> Placements() const = 0;
  virtual ConferenceStats Stats() const = 0;
  virtual const std::string& id() const = 0;
};

}  // namespace plateau::mcu::conference
