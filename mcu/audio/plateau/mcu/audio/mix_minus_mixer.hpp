// MixMinusMixer: the MCU's audio engine for one conference.
//
// Every venue's Opus is decoded (48 kHz mono) and its level measured; the K loudest venues above a
// voice threshold become "speakers" (K = 3 by default, with hold time and hysteresis so the
// speaker does not flap). Each speaker receives a mix-minus (the other speakers, never its own
// voice); every other venue receives ONE shared encode of the mix of all speakers. Encoders are a
// fixed pool of K + 1 bound to the listener stream and to the K speaker slots, so encoder state
// stays continuous and audio cost grows with K, not with the number of venues. Each venue's
// playout (jitter queue, decode, FEC/PLC, adaptive delay) is a VenuePlayout of its own
// (venue_playout.hpp); the mixer owns one per venue and only measures, selects, mixes and encodes.
//
// Time: the mixer does not pace itself. The caller calls Tick() once per 20 ms of wall time
// (if it falls behind, it calls Tick() repeatedly to catch up); every duration in MixerConfig is
// counted in ticks of 20 ms of audio. PushOpus() and Tick() take the monotonic time of the
// packet's arrival and of the tick (default: now on the injected plateau::Clock); the adaptive
// playout delay is planned from them. Tests pass simulated times (or a ManualClock) and
// therefore run without sleeping.
//
// Threads: PushOpus() may be called from any thread, concurrently with everything else (it copies
// the payload into a small bounded per-venue inbox under a mutex). Every other member function
// must be called by one thread at a time (the conference calls them with its mu_ held: the tick
// from its io thread, control from any thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/audio/opus_codec.hpp"
#include "plateau/mcu/audio/venue_playout.hpp"

namespace plateau::mcu::audio {

// The caller's name for a venue (a slot index or the venue's SSRC: anything unique in the mixer).
using VenueId = std::uint32_t;

// The type of arrival and tick times (plateau::Clock::Monotonic()'s); time is read only through
// the plateau::Clock the mixer is given, never from this type.
using MixerClock = std::chrono::steady_clock;

// kSampleRate (48 kHz), kFrameSamples (960 = 20 ms = one Tick), kMaxOpusPayload: opus_codec.hpp.

struct MixerConfig {
  int speakers = 3;                   // K: how many of the loudest venues are mixed
  double voice_threshold_dbov = -50;  // a venue below this (smoothed) level never becomes a speaker
  // Floor contests compare activity: the mean frame level (dB) over the last challenge_ticks.
  double hysteresis_db = 6;  // a challenger's activity must beat a speaker's by this ...
  int challenge_ticks = 10;  // ... averaged over this many ticks (200 ms)
  int hold_ticks = 50;       // a new speaker keeps its slot at least this long (1 s)
  int release_ticks = 100;   // a speaker below the threshold this long frees its slot (2 s)
  // Playout (each venue's VenuePlayout; see PlayoutConfig): a talk spurt's first packet is
  // played this many ticks after the tick that drains it. Adaptive (default): chosen per venue
  // at each spurt's start from the venue's measured arrival jitter and arrival phase against the
  // tick, within [min, max]; raised during a spurt when a packet arrives after its audio was
  // concealed, lowered by one frame in quiet audio when the arrivals show a whole tick to spare.
  // Fixed: always jitter_delay_ticks.
  bool adaptive_delay = true;
  int jitter_delay_ticks = 1;  // the fixed delay (adaptive_delay = false)
  int min_delay_ticks = 0;     // adaptive bounds
  int max_delay_ticks = 5;
  int max_queue_ticks = 10;       // queued audio beyond this (200 ms) is dropped to catch up
  int idle_after_missing = 10;    // after this many missing frames a venue stops concealing
  int bitrate_bps = 32000;        // per encoded stream (mono)
  int complexity = 5;             // Opus encoder complexity 0..10 (5: speech quality, cheap)
  bool inband_fec = true;         // encode with in-band FEC (receivers can recover one loss)
  int expected_loss_percent = 5;  // tells the encoder how much FEC to spend
};

// Validates a MixerConfig (ranges, K >= 1); the mixer is only built from a valid one.
Status ValidateMixerConfig(const MixerConfig& config);
// The playout part of a MixerConfig (what each venue's VenuePlayout is built with).
PlayoutConfig PlayoutConfigOf(const MixerConfig& config);

// One encoded 20 ms Opus frame. The listener frame is ONE object shared by every listener.
struct EncodedFrame {
  std::vector<std::uint8_t> opus;  // RTP payload (RFC 7587), mono, 20 ms; empty only if the
                                   // encoder failed (logged): send nothing then
  std::uint32_t timestamp = 0;     // mixer timeline, 48 kHz units, +960 per tick, starts at 0
  int stream = 0;                  // 0 = the shared listener mix; 1..K = speaker slot mix-minus
};

// What one venue receives this tick.
struct VenueOutput {
  VenueId venue = 0;
  std::shared_ptr<const EncodedFrame> frame;  // never null; shared among listeners
  bool speaker = false;                       // true: frame is this venue's own mix-minus
};

struct VenueLevel {
  VenueId venue = 0;
  double level_dbov = -127;  // smoothed RMS level of the venue's decoded input, dBov
  bool speaker = false;
  bool muted = false;
};

// The result of one Tick(); valid until the next Tick() (copy the shared_ptrs to keep frames).
struct MixTick {
  std::uint64_t tick = 0;            // 0, 1, 2, ...
  std::uint32_t timestamp = 0;       // == tick * 960 (mod 2^32): the 48 kHz output timeline
  std::vector<VenueOutput> outputs;  // one per venue, ascending VenueId
  std::vector<VenueId> speakers;     // current speakers, loudest first (size <= K)
  std::optional<VenueId> dominant;   // the venue for the video layout's large pane
  std::vector<VenueLevel> levels;    // one per venue, ascending VenueId
};

struct VenueAudioStats {
  VenueId venue = 0;
  std::uint64_t packets = 0;         // accepted into the inbox
  std::uint64_t bytes = 0;           // payload bytes accepted
  std::uint64_t malformed = 0;       // invalid Opus (at PushOpus or at decode), dropped
  std::uint64_t inbox_overflow = 0;  // dropped because the owner thread did not drain in time
  std::uint64_t late = 0;            // arrived after their playout time, dropped
  std::uint64_t stretches = 0;       // late packets played by raising the delay mid-spurt
  std::uint64_t shrinks = 0;         // 20 ms frames skipped to lower the delay mid-spurt
  std::uint64_t duplicates = 0;      // same timestamp already queued, dropped
  std::uint64_t queue_overflow = 0;  // dropped to keep the jitter queue within max_queue_ticks
  std::uint64_t frames_decoded = 0;  // 20 ms frames decoded from real packets
  std::uint64_t fec_frames = 0;      // frames recovered from the next packet's in-band FEC
  std::uint64_t plc_frames = 0;      // frames concealed (packet missing, no FEC)
  std::uint64_t resyncs = 0;         // timestamp jumps over 1 s: the stream restarted
  int delay_ticks = 0;               // current playout delay (ticks after the draining tick)
  double jitter_ms = 0;              // RFC 3550 interarrival jitter of the venue's packets
  double jitter_spread_ms = 0;       // 97th percentile of arrival delay over its minimum (~10 s)
  double level_dbov = -127;
  bool speaker = false;
  bool muted = false;
  bool active = false;  // decoding now (receiving or concealing), not idle
};

struct MixerStats {
  std::size_t venues = 0;
  std::size_t decoders = 0;  // venues decoding now (each venue owns one decoder)
  std::size_t encoders = 0;  // always K + 1, whatever the number of venues
  std::uint64_t ticks = 0;
  std::uint64_t encodes = 0;               // Opus encode calls so far
  std::uint64_t speaker_changes = 0;       // venues that became a speaker
  std::vector<VenueAudioStats> per_venue;  // ascending VenueId
};

enum class PushResult {
  kQueued,        // will be played at its timestamp
  kMalformed,     // not a valid Opus packet (counted on the venue)
  kUnknownVenue,  // no such venue (e.g. removed while packets were in flight)
  kInboxFull,     // the owner thread is not draining; dropped (counted on the venue)
};

class MixMinusMixer {
 public:
  // `config` must pass ValidateMixerConfig (use Create() for a Result instead of a throw).
  // `clock` (kept by reference, must outlive the mixer) gives the default arrival and tick times.
  explicit MixMinusMixer(const MixerConfig& config = {},
                         const plateau::Clock& clock = SystemClock::Instance());
  static Result<std::unique_ptr<MixMinusMixer>> Create(
      const MixerConfig& config, const plateau::Clock& clock = SystemClock::Instance());
  ~MixMinusMixer();
  MixMinusMixer(const MixMinusMixer&) = delete;
  MixMinusMixer& operator=(const MixMinusMixer&) = delete;

  // Owner thread. AddVenue fails with "duplicate_venue"; RemoveVenue with "unknown_venue".
  Status AddVenue(VenueId venue);
  Status RemoveVenue(VenueId venue);
  // An operator's mute: the venue still hears the conference but is never mixed or a speaker.
  Status SetMuted(VenueId venue, bool muted);

  // Any thread. One RTP packet's Opus payload (RFC 7587) with its RTP timestamp (48 kHz) and
  // sequence number, received at `arrival` (pass the socket's receive time when known). The
  // payload is copied; nothing is kept after return.
  PushResult PushOpus(VenueId venue, std::uint32_t rtp_timestamp, std::uint16_t seq,
                      std::span<const std::uint8_t> payload, MixerClock::time_point arrival);
  // The same, arrived now (the clock's Monotonic()).
  PushResult PushOpus(VenueId venue, std::uint32_t rtp_timestamp, std::uint16_t seq,
                      std::span<const std::uint8_t> payload);

  // Owner thread, every 20 ms: drains the inboxes, takes each venue's next 20 ms frame from its
  // jitter queue (decode, in-band FEC or PLC), measures levels, picks speakers, mixes, encodes.
  // `now` is when the inboxes are drained (catch-up ticks may share one time).
  const MixTick& Tick(MixerClock::time_point now);
  const MixTick& Tick();  // now: the clock's Monotonic()

  const MixerConfig& config() const { return config_; }
  std::size_t encoder_count() const;
  MixerStats Stats() const;  // owner thread

 private:
  struct Venue;
  struct Inbox;
  struct Stream;  // one encoder and its output: the listener mix or one speaker slot

  void UpdateLevel(Venue& v);
  void SelectSpeakers();
  void SelectDominant();
  void MixAndEncode();
  void Release(Venue& v);
  void Promote(Venue& v, std::size_t slot);

  MixerConfig config_;
  const plateau::Clock& clock_;
  std::map<VenueId, std::unique_ptr<Venue>> venues_;  // owner thread

  mutable std::mutex inbox_mu_;  // guards inboxes_ and every Inbox (PushOpus vs. owner thread)
  std::map<VenueId, std::shared_ptr<Inbox>> inboxes_;

  std::unique_ptr<Stream> listener_;            // stream 0
  std::vector<std::unique_ptr<Stream>> slots_;  // streams 1..K
  std::vector<Venue*> slot_venue_;              // which venue holds each slot (nullptr: free)
  std::optional<VenueId> dominant_;
  std::uint64_t dominant_since_ = 0;
  std::uint64_t tick_ = 0;
  TickGrid grid_;  // when each tick drains, for the playouts' delay planning
  std::uint64_t encodes_ = 0;
  std::uint64_t speaker_changes_ = 0;
  MixTick out_;
  std::vector<std::int32_t> mix_;  // sum of the speakers' frames this tick
  std::vector<std::int16_t> pcm_;  // scratch: one encoder's input
};

}  // namespace plateau::mcu::audio
