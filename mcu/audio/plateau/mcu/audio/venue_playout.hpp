// VenuePlayout: one venue's audio playout, the part of the audio path that turns packets arriving
// at network times into one 20 ms frame per mixer tick (as libwebrtc's NetEq sits apart from its
// mixer). It owns the venue's Opus decoder and jitter queue; it reorders, drops late and
// duplicate packets, recovers single losses from in-band FEC, conceals the rest (PLC), and plans
// its playout delay from the venue's measured arrivals (adaptive delay: chosen at each talk spurt's
// start, stretched when a packet comes after its audio was concealed, shrunk in audio nobody
// hears). It knows nothing of levels, speakers or encoding: MixMinusMixer owns one per venue.
//
// Time: a playout has no clock. Every call says which tick is being produced and when that tick
// drains its inbox (TickTime, from the mixer's TickGrid); packets carry their arrival time in
// milliseconds on the same (steady) time base. Tests pass simulated times.
//
// Threads: none of its own; one thread at a time (the mixer's owner thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/mcu/audio/opus_codec.hpp"

namespace plateau::mcu::audio {

// How long a playout waits for a venue's packets (durations in ticks of 20 ms).
struct PlayoutConfig {
  // Adaptive (default): the delay is chosen per venue at each spurt's start from the venue's
  // measured arrival jitter and arrival phase against the tick, within [min, max]; raised during
  // a spurt when a packet arrives after its audio was concealed, lowered by one frame in quiet
  // audio when the arrivals show a whole tick to spare. Fixed: always jitter_delay_ticks.
  bool adaptive_delay = true;
  int jitter_delay_ticks = 1;   // the fixed delay (adaptive_delay = false)
  int min_delay_ticks = 0;      // adaptive bounds
  int max_delay_ticks = 5;      //
  int max_queue_ticks = 10;     // queued audio beyond this (200 ms) is dropped to catch up
  int idle_after_missing = 10;  // after this many missing frames a venue stops concealing
};

// Validates a PlayoutConfig; VenuePlayout::Create refuses an invalid one.
Status ValidatePlayoutConfig(const PlayoutConfig& config);

// The tick being produced and when it drains (ms on the arrivals' time base; TickGrid::DrainMs).
struct TickTime {
  std::uint64_t tick = 0;
  double drain_ms = 0;
};

// The conservative drain time of each tick: the earliest drain seen for the tick grid (tick 0's
// time), the minimum of (tick time - tick x 20 ms) over the last 50..100 ticks, so a late tick
// does not make arrivals look earlier than they are. One per mixer, shared by its playouts.
class TickGrid {
 public:
  // Tick `tick` drains its inboxes at `now_ms`. Call once per tick, in tick order.
  void Update(std::uint64_t tick, double now_ms);
  // The drain time to plan with for `tick`.
  double DrainMs(std::uint64_t tick) const;

 private:
  double cur_ = std::numeric_limits<double>::infinity();
  double prev_ = std::numeric_limits<double>::infinity();
};

// How one venue's packets arrive relative to their RTP timestamps. A packet's transit is its
// arrival time minus its timestamp (ms, on an arbitrary per-venue origin); the network (and the
// receiving thread) added `transit - min transit` to it. Tracked per packet:
//  - jitter: RFC 3550 interarrival jitter (reported; comparable with RTCP's);
//  - lo: the minimum transit, allowed to rise 1 ms/s so sender clock skew does not pin it;
//  - spread: the 97th percentile of transit - lo, from a histogram of 1 ms bins that forgets
//    (x 0.998 per packet: ~10 s of talk), so one hiccup (a stalled thread) does not set the plan
//    for long; what a spurt's delay plans for, with a safety factor;
//  - margin: each packet that came too late raises it so the plan covers that packet with 5 ms
//    to spare; it decays by half over ~140 packets (3 s of talk).
// Unlike RFC 3550 jitter, transit - lo is not fooled by a constant rate difference: packets
// replayed faster than real time (tests, benchmarks, a sender catching up) show no deviation.
class ArrivalEstimator {
 public:
  static constexpr int kSpreadBins = 256;  // 1 ms bins: 0..255 ms of delay over the minimum

  // Returns the packet's transit. A deviation beyond `restart_ms` (or 1 s) is taken for a
  // restarted sender or a timestamp that did not follow the sender's clock: the estimate starts
  // over from this packet (reanchored() says so) instead of planning for it.
  double Add(double arrival_ms, std::uint32_t rtp_timestamp, double restart_ms);
  // A packet with this transit came after its audio had been concealed.
  void Late(double transit, double cap_ms);

  // The latest transit to plan for.
  double high() const;
  double jitter() const { return jitter_; }
  double spread() const { return spread_; }
  double margin() const { return margin_; }
  std::uint64_t count() const { return count_; }
  bool reanchored() const { return reanchored_; }

 private:
  void UpdateSpread();

  bool reanchored_ = false;
  std::uint64_t count_ = 0;
  std::uint32_t ref_rtp_ = 0;
  std::int64_t ref_ext_ = 0;
  double last_transit_ = 0;
  double lo_ = 0;
  std::array<double, kSpreadBins> bins_{};
  double total_ = 0;
  double weight_ = 1;
  double spread_ = 0;
  double margin_ = 0;
  double jitter_ = 0;
};

// One received Opus packet, already checked (OpusPacketSamples) at the edge.
struct PlayoutPacket {
  std::uint32_t timestamp = 0;  // RTP timestamp, 48 kHz
  int samples = 0;              // its duration, 48 kHz samples
  std::vector<std::uint8_t> payload;
  double arrival_ms = 0;  // on the TickTime time base
};

struct PlayoutStats {
  std::uint64_t malformed = 0;       // parsed but would not decode (concealed instead)
  std::uint64_t late = 0;            // arrived after their playout time, dropped
  std::uint64_t stretches = 0;       // late packets played by raising the delay mid-spurt
  std::uint64_t shrinks = 0;         // 20 ms frames skipped to lower the delay mid-spurt
  std::uint64_t duplicates = 0;      // same timestamp already queued, dropped
  std::uint64_t queue_overflow = 0;  // dropped to keep the queue within max_queue_ticks
  std::uint64_t frames_decoded = 0;  // 20 ms frames decoded from real packets
  std::uint64_t fec_frames = 0;      // frames recovered from the next packet's in-band FEC
  std::uint64_t plc_frames = 0;      // frames concealed (packet missing, no FEC)
  std::uint64_t resyncs = 0;         // timestamp jumps over 1 s: the stream restarted
  int delay_ticks = 0;               // current playout delay (ticks after the draining tick)
  double jitter_ms = 0;              // RFC 3550 interarrival jitter
  double jitter_spread_ms = 0;       // 97th percentile of arrival delay over its minimum
  bool active = false;               // receiving or concealing, not idle
};

class VenuePlayout {
 public:
  // `venue` names the venue in log lines only. Fails on an invalid config or a decoder that
  // cannot be created.
  static Result<VenuePlayout> Create(std::uint32_t venue, const PlayoutConfig& config);

  // Takes a batch of packets (those arrived since the last tick; moved from), then keeps the
  // queue within max_queue_ticks. `now` is the tick about to be produced.
  void Receive(std::vector<PlayoutPacket>& packets, const TickTime& now);

  // Produces the frame for tick `now.tick`: decoded, recovered (FEC), concealed (PLC), or
  // silence when the venue is idle or still buffering. `may_skip`: dropping 20 ms here would go
  // unheard, so an oversized delay may be lowered now.
  void NextFrame(const TickTime& now, bool may_skip);

  // The last frame NextFrame produced (kFrameSamples).
  const std::vector<std::int16_t>& frame() const { return frame_; }
  bool playing() const { return state_ == State::kPlaying; }
  bool active() const { return state_ != State::kIdle; }
  PlayoutStats Stats() const;

 private:
  enum class State { kIdle, kBuffering, kPlaying };
  struct Queued {
    int samples;
    std::vector<std::uint8_t> payload;
  };
  static constexpr std::size_t kConcealedRanges = 8;

  VenuePlayout(std::uint32_t venue, const PlayoutConfig& config, OpusFrameDecoder decoder);

  void Enqueue(PlayoutPacket& p, double transit_ms, const TickTime& now);
  void Restart(PlayoutPacket& p, double transit_ms, const TickTime& now);
  int ChooseDelay(double arrival_ms, double transit_ms, const TickTime& now) const;
  bool TryStretch(std::int64_t u, double transit_ms);
  void BoundQueue();
  bool ShouldShrink(bool may_skip) const;
  bool Fill(std::size_t samples);
  void ResetWindow();
  void NoteConcealed(std::int64_t from, std::int64_t to);
  bool WasConcealed(std::int64_t u) const;

  std::uint32_t venue_;
  PlayoutConfig config_;
  OpusFrameDecoder decoder_;

  // Jitter queue on an unwrapped 48 kHz timeline (the RTP timestamp of the spurt's first packet
  // is 0). `next_ts_` is the timeline position of the next sample to play.
  State state_ = State::kIdle;
  std::uint64_t play_at_ = 0;
  std::uint32_t ref_rtp_ = 0;
  std::int64_t ref_unwrapped_ = 0;
  std::int64_t next_ts_ = 0;
  std::map<std::int64_t, Queued> queue_;
  std::vector<std::int16_t> fifo_;  // decoded, not yet played
  std::vector<std::int16_t> frame_ = std::vector<std::int16_t>(kFrameSamples, 0);
  std::vector<std::int16_t> scratch_;
  std::int64_t missing_samples_ = 0;

  // Adaptive playout delay. `delay_ticks_` is the spurt's current delay; the window collects,
  // since the spurt's start or the last change of delay, the minimum over packets of
  // (slack + transit), slack being how long before the drain of the tick that plays it the
  // packet arrived: minus the planned high transit, what the latest packet would have to spare.
  ArrivalEstimator arrivals_;
  int delay_ticks_ = 0;
  double window_min_ = std::numeric_limits<double>::infinity();
  int window_packets_ = 0;
  std::int64_t tail_from_ = -1;  // start of the concealment of a queue run dry (-1: none)
  std::array<std::pair<std::int64_t, std::int64_t>, kConcealedRanges> concealed_{};  // [from, to)
  std::size_t concealed_pos_ = 0;

  std::uint64_t malformed_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t stretches_ = 0;
  std::uint64_t shrinks_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t queue_overflow_ = 0;
  std::uint64_t resyncs_ = 0;
  std::uint64_t decoded_samples_ = 0;
  std::uint64_t fec_samples_ = 0;
  std::uint64_t plc_samples_ = 0;
};

}  // namespace plateau::mcu::audio
