#include "plateau/mcu/audio/mix_minus_mixer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "plateau/common/log.hpp"

namespace plateau::mcu::audio {
namespace {

constexpr double kFloorDbov = -127.0;
constexpr double kFullScalePower = 32768.0 * 32768.0;
// Level smoothing per 20 ms tick: a fast attack so a talker gets a free slot at once, a slower
// release (about 1 dB per tick) so the pauses between syllables do not drop a speaker's level.
constexpr double kAttack = 0.5;
constexpr double kRelease = 0.2;
// Frame levels entering the activity average are floored here, so a frame of digital silence
// counts as very quiet rather than dominating the average with -127.
constexpr double kActivityFloorDbov = -90.0;
constexpr std::size_t kInboxLimit = 64;               // > 1 s of 20 ms packets between two ticks
constexpr std::int64_t kResyncSamples = kSampleRate;  // a timestamp jump over 1 s restarts
constexpr int kConcealGranule = 120;                  // 2.5 ms: the finest Opus frame

// Adaptive playout delay (see ArrivalEstimator and MixMinusMixer::ChooseDelay).
constexpr double kTickMs = 20.0;
constexpr double kGuardMs = 2.0;           // planned slack of the latest expected packet
constexpr double kSafety = 1.15;           // the spread quantile is planned for with this factor
constexpr double kQuantile = 0.97;         // of the arrival-delay histogram
constexpr double kForget = 0.998;          // per packet: the histogram forgets over ~500 packets
constexpr int kSpreadBins = 256;           // 1 ms bins: 0..255 ms of delay over the minimum
constexpr double kMarginDecay = 0.995;     // per packet: a late packet's margin halves in ~140
constexpr double kMinLeakMs = 0.02;        // per packet: the minimum may rise 1 ms/s (clock skew)
constexpr double kReanchorMs = 1000.0;     // a deviation beyond this is a restart, not jitter
constexpr double kLateBumpMs = 5.0;        // planned beyond a packet that came too late
constexpr int kWarmupPackets = 25;         // fewer packets seen: plan at least one tick
constexpr int kShrinkWindow = 50;          // packets observed since the last change before a shrink
constexpr std::uint64_t kGridWindow = 50;  // ticks per bucket of the tick-grid minimum
constexpr std::size_t kConcealedRanges = 8;

double Ms(MixerClock::time_point t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

std::int16_t Saturate(std::int32_t v) {
  return static_cast<std::int16_t>(std::clamp<std::int32_t>(v, -32768, 32767));
}

std::string Name(VenueId v) {
  return std::to_string(v);
}

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
  // Returns the packet's transit. A deviation beyond `restart_ms` (or kReanchorMs) is taken for
  // a restarted sender or a timestamp that did not follow the sender's clock: the estimate
  // starts over from this packet (reanchored() says so) instead of planning for it.
  double Add(double arrival_ms, std::uint32_t rtp_timestamp, double restart_ms) {
    if (count_ == 0) {
      ref_rtp_ = rtp_timestamp;
      ref_ext_ = 0;
    }
    const std::int64_t ext = ref_ext_ + static_cast<std::int32_t>(rtp_timestamp - ref_rtp_);
    if (ext > ref_ext_) {
      ref_rtp_ = rtp_timestamp;
      ref_ext_ = ext;
    }
    const double transit = arrival_ms - static_cast<double>(ext) * 1000.0 / kSampleRate;
    ++count_;
    reanchored_ =
        count_ == 1 || std::abs(transit - lo_) > kReanchorMs || transit - lo_ > restart_ms;
    if (reanchored_) {
      lo_ = transit;
      last_transit_ = transit;
      bins_.fill(0);
      total_ = 0;
      weight_ = 1;
      spread_ = 0;
      return transit;
    }
    jitter_ += (std::abs(transit - last_transit_) - jitter_) / 16;
    last_transit_ = transit;
    lo_ = std::min(transit, lo_ + kMinLeakMs);
    const auto bin = static_cast<std::size_t>(std::min(transit - lo_, kSpreadBins - 1.0));
    bins_[bin] += weight_;
    total_ += weight_;
    weight_ /= kForget;  // instead of multiplying every bin by kForget
    if (weight_ > 1e9) {
      for (double& b : bins_) b /= weight_;
      total_ /= weight_;
      weight_ = 1;
    }
    if (count_ % 8 == 0) UpdateSpread();
    margin_ *= kMarginDecay;
    return transit;
  }

  // A packet with this transit came after its audio had been concealed.
  void Late(double transit, double cap_ms) {
    UpdateSpread();
    const double needed = transit - lo_ - kSafety * spread_ + kLateBumpMs;
    margin_ = std::min(cap_ms, std::max(margin_ + kLateBumpMs, needed));
  }

  // The latest transit to plan for.
  double high() const { return lo_ + kSafety * spread_ + margin_; }
  double jitter() const { return jitter_; }
  double spread() const { return spread_; }
  double margin() const { return margin_; }
  std::uint64_t count() const { return count_; }
  bool reanchored() const { return reanchored_; }

 private:
  void UpdateSpread() {
    double below = 0;
    for (std::size_t b = 0; b < bins_.size(); ++b) {
      below += bins_[b];
      if (below >= kQuantile * total_) {
        spread_ = static_cast<double>(b) + 0.5;
        return;
      }
    }
    spread_ = 0;
  }

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

}  // namespace

struct MixMinusMixer::Inbox {  // guarded by MixMinusMixer::inbox_mu_
  struct Packet {
    std::uint32_t timestamp;
    std::uint16_t seq;
    int samples;
    std::vector<std::uint8_t> payload;
    MixerClock::time_point arrival;
  };
  std::vector<Packet> packets;
  std::uint64_t accepted = 0;
  std::uint64_t bytes = 0;
  std::uint64_t malformed = 0;
  std::uint64_t overflow = 0;
};

struct MixMinusMixer::Venue {  // owner thread only
  enum class State { kIdle, kBuffering, kPlaying };
  struct Queued {
    int samples;
    std::vector<std::uint8_t> payload;
  };

  Venue(VenueId venue_id, OpusFrameDecoder dec, std::shared_ptr<Inbox> in)
      : id(venue_id), decoder(std::move(dec)), inbox(std::move(in)) {}

  VenueId id;
  OpusFrameDecoder decoder;
  std::shared_ptr<Inbox> inbox;
  std::vector<Inbox::Packet> pending;  // swapped out of the inbox each tick

  // Jitter queue on an unwrapped 48 kHz timeline (the RTP timestamp of the spurt's first packet
  // is 0). `next_ts` is the timeline position of the next sample to play.
  State state = State::kIdle;
  std::uint64_t play_at = 0;
  std::uint32_t ref_rtp = 0;
  std::int64_t ref_unwrapped = 0;
  std::int64_t next_ts = 0;
  std::map<std::int64_t, Queued> queue;
  std::vector<std::int16_t> fifo;  // decoded, not yet played
  std::vector<std::int16_t> frame = std::vector<std::int16_t>(kFrameSamples, 0);
  std::vector<std::int16_t> scratch;
  std::int64_t missing_samples = 0;

  // Adaptive playout delay. `delay_ticks` is the spurt's current delay; the window collects,
  // since the spurt's start or the last change of delay, the minimum over packets of
  // (slack + transit), slack being how long before the drain of the tick that plays it the
  // packet arrived: minus the planned high transit, what the latest packet would have to spare.
  ArrivalEstimator arrivals;
  int delay_ticks = 0;
  double window_min = std::numeric_limits<double>::infinity();
  int window_packets = 0;
  std::int64_t tail_from = -1;  // start of the concealment of a queue run dry (-1: none)
  std::array<std::pair<std::int64_t, std::int64_t>, kConcealedRanges> concealed{};  // [from, to)
  std::size_t concealed_pos = 0;
  void ResetWindow() {
    window_min = std::numeric_limits<double>::infinity();
    window_packets = 0;
  }
  void NoteConcealed(std::int64_t from, std::int64_t to) {
    auto& last = concealed[(concealed_pos + kConcealedRanges - 1) % kConcealedRanges];
    if (last.second == from && last.first < last.second) {
      last.second = to;
      return;
    }
    concealed[concealed_pos] = {from, to};
    concealed_pos = (concealed_pos + 1) % kConcealedRanges;
  }
  bool WasConcealed(std::int64_t u) const {
    return std::any_of(concealed.begin(), concealed.end(),
                       [u](const auto& r) { return r.first <= u && u < r.second; });
  }

  double power = 0;  // smoothed mean square, relative to full scale
  double level = kFloorDbov;
  // Activity: the mean of the last challenge_ticks frame levels in dB. Averaging in dB makes a
  // 40 ms cough count for little against a sustained talker; floor contests use it.
  std::vector<double> recent;  // ring of frame levels (dB)
  std::size_t recent_pos = 0;
  double recent_sum = 0;
  double activity() const { return recent_sum / static_cast<double>(recent.size()); }
  bool muted = false;
  int slot = -1;  // speaker slot, -1 when listening
  std::uint64_t speaker_since = 0;
  std::uint64_t last_voice = 0;

  std::uint64_t malformed = 0;
  std::uint64_t late = 0;
  std::uint64_t stretches = 0;
  std::uint64_t shrinks = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t queue_overflow = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t decoded_samples = 0;
  std::uint64_t fec_samples = 0;
  std::uint64_t plc_samples = 0;
};

struct MixMinusMixer::Stream {
  int index;
  OpusFrameEncoder encoder;
};

Status ValidateMixerConfig(const MixerConfig& c) {
  auto bad = [](const std::string& m) { return Status(Error{"bad_mixer_config", m}); };
  if (c.speakers < 1 || c.speakers > 16) return bad("speakers (K) must be 1..16");
  if (!(c.voice_threshold_dbov <= 0 && c.voice_threshold_dbov >= kFloorDbov))
    return bad("voice_threshold_dbov must be -127..0");
  if (!(c.hysteresis_db >= 0 && c.hysteresis_db <= 60)) return bad("hysteresis_db must be 0..60");
  if (c.challenge_ticks < 1 || c.challenge_ticks > 500)
    return bad("challenge_ticks must be 1..500");
  if (c.hold_ticks < 0 || c.hold_ticks > 30000) return bad("hold_ticks must be 0..30000");
  if (c.release_ticks < 1 || c.release_ticks > 30000) return bad("release_ticks must be 1..30000");
  if (c.jitter_delay_ticks < 0 || c.jitter_delay_ticks > 25)
    return bad("jitter_delay_ticks must be 0..25");
  if (c.min_delay_ticks < 0 || c.min_delay_ticks > 25) return bad("min_delay_ticks must be 0..25");
  if (c.max_delay_ticks < c.min_delay_ticks || c.max_delay_ticks > 25)
    return bad("max_delay_ticks must be min_delay_ticks..25");
  const int longest = std::max(c.jitter_delay_ticks, c.adaptive_delay ? c.max_delay_ticks : 0);
  if (c.max_queue_ticks < longest + 2 || c.max_queue_ticks > 50)
    return bad(
        "max_queue_ticks must be the longest delay (jitter_delay_ticks, or max_delay_ticks "
        "when adaptive) + 2 .. 50");
  if (c.idle_after_missing < 1 || c.idle_after_missing > 500)
    return bad("idle_after_missing must be 1..500");
  if (c.bitrate_bps < 6000 || c.bitrate_bps > 256000)
    return bad("bitrate_bps must be 6000..256000");
  if (c.complexity < 0 || c.complexity > 10) return bad("complexity must be 0..10");
  if (c.expected_loss_percent < 0 || c.expected_loss_percent > 100)
    return bad("expected_loss_percent must be 0..100");
  return Status::Ok();
}

Result<std::unique_ptr<MixMinusMixer>> MixMinusMixer::Create(const MixerConfig& config) {
  if (Status s = ValidateMixerConfig(config); !s) return s.error();
  return std::make_unique<MixMinusMixer>(config);
}

MixMinusMixer::MixMinusMixer(const MixerConfig& config) : config_(config) {
  if (Status s = ValidateMixerConfig(config); !s) throw std::invalid_argument(s.error().message);
  OpusEncoderOptions opts;
  opts.channels = 1;
  opts.bitrate_bps = config.bitrate_bps;
  opts.complexity = config.complexity;
  opts.inband_fec = config.inband_fec;
  opts.expected_loss_percent = config.expected_loss_percent;
  auto make = [&](int index) {
    auto enc = OpusFrameEncoder::Create(opts);
    if (!enc) throw std::runtime_error("audio mixer: " + enc.error().message);
    return std::make_unique<Stream>(Stream{index, std::move(enc).value()});
  };
  listener_ = make(0);
  for (int i = 0; i < config.speakers; ++i) slots_.push_back(make(i + 1));
  slot_venue_.assign(slots_.size(), nullptr);
  mix_.assign(kFrameSamples, 0);
  pcm_.assign(kFrameSamples, 0);
}

MixMinusMixer::~MixMinusMixer() = default;

std::size_t MixMinusMixer::encoder_count() const {
  return slots_.size() + (listener_ ? 1 : 0);
}

Status MixMinusMixer::AddVenue(VenueId venue) {
  if (venues_.contains(venue))
    return Error{"duplicate_venue", "venue " + Name(venue) + " is already in the audio mix"};
  auto dec = OpusFrameDecoder::Create(1);
  if (!dec) return dec.error();
  auto inbox = std::make_shared<Inbox>();
  auto v = std::make_unique<Venue>(venue, std::move(dec).value(), inbox);
  v->recent.assign(static_cast<std::size_t>(config_.challenge_ticks), kActivityFloorDbov);
  v->recent_sum = kActivityFloorDbov * config_.challenge_ticks;
  venues_.emplace(venue, std::move(v));
  std::lock_guard lock(inbox_mu_);
  inboxes_[venue] = std::move(inbox);
  return Status::Ok();
}

Status MixMinusMixer::RemoveVenue(VenueId venue) {
  auto it = venues_.find(venue);
  if (it == venues_.end())
    return Error{"unknown_venue", "venue " + Name(venue) + " is not in the audio mix"};
  if (it->second->slot >= 0) Release(*it->second);
  if (dominant_ == venue) dominant_.reset();
  {
    std::lock_guard lock(inbox_mu_);
    inboxes_.erase(venue);
  }
  venues_.erase(it);
  return Status::Ok();
}

Status MixMinusMixer::SetMuted(VenueId venue, bool muted) {
  auto it = venues_.find(venue);
  if (it == venues_.end())
    return Error{"unknown_venue", "venue " + Name(venue) + " is not in the audio mix"};
  it->second->muted = muted;
  if (muted && it->second->slot >= 0) Release(*it->second);
  return Status::Ok();
}

PushResult MixMinusMixer::PushOpus(VenueId venue, std::uint32_t rtp_timestamp, std::uint16_t seq,
                                   std::span<const std::uint8_t> payload,
                                   MixerClock::time_point arrival) {
  auto samples = OpusPacketSamples(payload);
  std::vector<std::uint8_t> copy;
  if (samples) copy.assign(payload.begin(), payload.end());  // outside the lock
  std::lock_guard lock(inbox_mu_);
  auto it = inboxes_.find(venue);
  if (it == inboxes_.end()) return PushResult::kUnknownVenue;
  Inbox& in = *it->second;
  if (!samples) {
    ++in.malformed;
    return PushResult::kMalformed;
  }
  if (in.packets.size() >= kInboxLimit) {
    ++in.overflow;
    return PushResult::kInboxFull;
  }
  ++in.accepted;
  in.bytes += payload.size();
  in.packets.push_back({rtp_timestamp, seq, *samples, std::move(copy), arrival});
  return PushResult::kQueued;
}

// The conservative drain time of the current tick: the tick grid's earliest (ms).
double MixMinusMixer::TickRefMs() const {
  return std::min(grid_cur_, grid_prev_) + static_cast<double>(tick_) * kTickMs;
}

void MixMinusMixer::UpdateTickClock(MixerClock::time_point now) {
  const double offset = Ms(now) - static_cast<double>(tick_) * kTickMs;
  // Ticks run later than the grid by more than two ticks: the caller stalled or skipped ticks.
  if (offset > std::min(grid_cur_, grid_prev_) + 2 * kTickMs) grid_cur_ = grid_prev_ = offset;
  grid_cur_ = std::min(grid_cur_, offset);
  if (tick_ % kGridWindow == kGridWindow - 1) {
    grid_prev_ = grid_cur_;
    grid_cur_ = std::numeric_limits<double>::infinity();
  }
}

// The delay for a talk spurt whose first packet arrived at `arrival_ms` with `transit_ms`. Played
// D ticks after this tick, that packet has slack = D x 20 + (tick's drain time - arrival). A later
// packet of the spurt with transit t arrives (t - transit_ms) later relative to its own tick, so
// the smallest D with slack - (high transit - transit_ms) >= guard keeps every packet up to the
// planned high transit in time.
int MixMinusMixer::ChooseDelay(const Venue& v, double arrival_ms, double transit_ms) const {
  if (!config_.adaptive_delay) return config_.jitter_delay_ticks;
  const double phase = TickRefMs() - arrival_ms;
  const double need = kGuardMs + v.arrivals.high() - transit_ms - phase;
  int d = need <= 0 ? 0 : static_cast<int>(std::ceil(need / kTickMs));
  if (v.arrivals.count() < static_cast<std::uint64_t>(kWarmupPackets)) d = std::max(d, 1);
  d = std::clamp(d, config_.min_delay_ticks, config_.max_delay_ticks);
  log::Debug("audio.spurt", {{"venue", v.id},
                             {"delay_ticks", d},
                             {"phase_ms", phase},
                             {"plan_ms", v.arrivals.high() - transit_ms},
                             {"spread_ms", v.arrivals.spread()},
                             {"margin_ms", v.arrivals.margin()},
                             {"jitter_ms", v.arrivals.jitter()}});
  return d;
}

// A packet for audio already concealed because the queue had run dry: it is late, and so are
// probably the packets behind it. Rather than dropping it, play it next: the concealment already
// played becomes added delay (at most up to max_delay_ticks).
bool MixMinusMixer::TryStretch(Venue& v, std::int64_t u, double transit_ms) {
  if (!config_.adaptive_delay || v.state != Venue::State::kPlaying || v.tail_from < 0 ||
      u < v.tail_from || u >= v.next_ts)
    return false;
  const auto added = static_cast<int>((v.next_ts - u + kFrameSamples - 1) / kFrameSamples);
  if (v.delay_ticks + added > config_.max_delay_ticks) return false;
  v.next_ts = u;
  v.tail_from = -1;
  v.missing_samples = 0;
  v.delay_ticks += added;
  ++v.stretches;
  log::Debug("audio.stretch", {{"venue", v.id}, {"delay_ticks", v.delay_ticks}});
  v.arrivals.Late(transit_ms, config_.max_delay_ticks * kTickMs);
  v.ResetWindow();
  return true;
}

void MixMinusMixer::Enqueue(Venue& v, std::uint32_t rtp_timestamp,
                            std::vector<std::uint8_t> payload, int samples, double arrival_ms,
                            double transit_ms) {
  auto restart = [&] {
    v.queue.clear();
    v.fifo.clear();
    v.ref_rtp = rtp_timestamp;
    v.ref_unwrapped = 0;
    v.next_ts = 0;
    v.missing_samples = 0;
    v.state = Venue::State::kBuffering;
    v.delay_ticks = ChooseDelay(v, arrival_ms, transit_ms);
    v.play_at = tick_ + static_cast<std::uint64_t>(v.delay_ticks);
    v.tail_from = -1;
    v.concealed.fill({0, 0});
    v.ResetWindow();
    v.queue.emplace(0, Venue::Queued{samples, std::move(payload)});
  };
  if (v.state == Venue::State::kIdle) return restart();

  const std::int64_t u =
      v.ref_unwrapped + static_cast<std::int32_t>(rtp_timestamp - v.ref_rtp);  // wrap-aware
  const std::int64_t ahead = u - v.next_ts;
  if (ahead > kResyncSamples || ahead < -kResyncSamples) {
    ++v.resyncs;
    return restart();
  }
  if (u > v.ref_unwrapped) {
    v.ref_rtp = rtp_timestamp;
    v.ref_unwrapped = u;
  }
  if (ahead < 0) {
    // Still buffering and nothing played yet: an earlier packet of the spurt arrived reordered.
    if (v.state == Venue::State::kBuffering && v.fifo.empty()) {
      v.next_ts = u;
    } else if (!TryStretch(v, u, transit_ms)) {
      ++v.late;
      // Its audio was concealed: the delay was too short. Plan more for the next spurt.
      if (config_.adaptive_delay && v.WasConcealed(u))
        v.arrivals.Late(transit_ms, config_.max_delay_ticks * kTickMs);
      return;
    }
  }
  if (!v.queue.emplace(u, Venue::Queued{samples, std::move(payload)}).second) {
    ++v.duplicates;
    return;
  }
  // Slack: from arrival to the drain of the tick that plays the packet's first sample.
  const std::int64_t offset = v.state == Venue::State::kBuffering
                                  ? u - v.next_ts
                                  : u - v.next_ts + static_cast<std::int64_t>(v.fifo.size());
  const std::uint64_t base = v.state == Venue::State::kBuffering ? v.play_at : tick_;
  const double ticks_ahead = static_cast<double>(base) - static_cast<double>(tick_) +
                             std::floor(static_cast<double>(offset) / kFrameSamples);
  const double slack = ticks_ahead * kTickMs + (TickRefMs() - arrival_ms);
  v.window_min = std::min(v.window_min, slack + transit_ms);
  ++v.window_packets;
}

void MixMinusMixer::DrainInbox(Venue& v) {
  for (auto& p : v.pending) {
    const double arrival = Ms(p.arrival);
    // The first packet of a spurt far behind the plan: more likely a sender whose timestamps
    // stood still during its silence than a network that got slower by over max_delay_ticks.
    const double restart_ms =
        v.state == Venue::State::kIdle ? (config_.max_delay_ticks + 1) * kTickMs : kReanchorMs;
    const double transit = v.arrivals.Add(arrival, p.timestamp, restart_ms);
    if (v.arrivals.reanchored()) v.ResetWindow();
    Enqueue(v, p.timestamp, std::move(p.payload), p.samples, arrival, transit);
  }
  v.pending.clear();
  // Keep the queue within max_queue_ticks of audio ahead of playout (a sender whose clock runs
  // fast, or a burst after a stall): skip gaps first, then drop the oldest packets.
  const std::int64_t limit = static_cast<std::int64_t>(config_.max_queue_ticks) * kFrameSamples;
  while (!v.queue.empty()) {
    const auto& last = *v.queue.rbegin();
    const std::int64_t depth =
        last.first + last.second.samples - v.next_ts + static_cast<std::int64_t>(v.fifo.size());
    if (depth <= limit) break;
    auto first = v.queue.begin();
    if (v.next_ts < first->first) {
      v.next_ts = first->first;
      continue;
    }
    v.next_ts = first->first + first->second.samples;
    v.queue.erase(first);
    ++v.queue_overflow;
  }
}

// Decodes, recovers or conceals until the fifo holds `samples`. False if the venue went idle
// instead (it stopped sending): the frame is silence then.
bool MixMinusMixer::Fill(Venue& v, std::size_t samples) {
  const auto append = [&v](int n) {
    v.fifo.insert(v.fifo.end(), v.scratch.begin(),
                  v.scratch.begin() + std::min<std::size_t>(n, v.scratch.size()));
  };
  while (v.fifo.size() < samples) {
    auto it = v.queue.begin();
    if (it != v.queue.end() && it->first < v.next_ts) {  // overlaps what was already played
      ++v.late;
      v.queue.erase(it);
      continue;
    }
    if (it != v.queue.end() && it->first == v.next_ts) {
      const int samples_in = it->second.samples;
      auto n = v.decoder.Decode(it->second.payload, &v.scratch);
      v.queue.erase(it);
      v.tail_from = -1;
      if (n) {
        v.next_ts += samples_in;
        append(*n);
        v.decoded_samples += static_cast<std::uint64_t>(*n);
        v.missing_samples = 0;
        continue;
      }
      ++v.malformed;  // parsed but would not decode: conceal its duration instead
      const int conceal = std::max(kConcealGranule, samples_in / kConcealGranule * kConcealGranule);
      if (v.decoder.Conceal(&v.scratch, conceal)) append(conceal);
      v.NoteConcealed(v.next_ts, v.next_ts + samples_in);
      v.next_ts += samples_in;
      v.plc_samples += static_cast<std::uint64_t>(conceal);
      v.missing_samples += conceal;
      continue;
    }
    // Missing audio at next_ts.
    if (it == v.queue.end() &&
        v.missing_samples >=
            static_cast<std::int64_t>(config_.idle_after_missing) * kFrameSamples) {
      v.state = Venue::State::kIdle;  // the venue stopped sending: stop concealing
      v.fifo.clear();
      std::fill(v.frame.begin(), v.frame.end(), 0);
      return false;
    }
    const std::int64_t gap = it == v.queue.end() ? kFrameSamples : it->first - v.next_ts;
    if (gap < kConcealGranule) {  // a sub-2.5 ms timestamp irregularity: just skip it
      v.next_ts = it->first;
      continue;
    }
    const int n = static_cast<int>(std::min<std::int64_t>(kFrameSamples, gap) / kConcealGranule *
                                   kConcealGranule);
    bool recovered = false;
    if (it != v.queue.end() && gap == n) {
      // The missing piece ends where the next packet starts: its in-band FEC may carry it.
      if (v.decoder.DecodeFec(it->second.payload, &v.scratch, n)) {
        append(n);
        v.fec_samples += static_cast<std::uint64_t>(n);
        recovered = true;
      }
    }
    if (!recovered) {
      if (v.decoder.Conceal(&v.scratch, n))
        append(n);
      else
        v.fifo.insert(v.fifo.end(), static_cast<std::size_t>(n), 0);
      v.plc_samples += static_cast<std::uint64_t>(n);
    }
    // The queue ran dry here: if this audio arrives after all, TryStretch plays it.
    if (it == v.queue.end()) {
      if (v.tail_from < 0) v.tail_from = v.next_ts;
    } else {
      v.tail_from = -1;
    }
    v.NoteConcealed(v.next_ts, v.next_ts + n);
    v.next_ts += n;
    v.missing_samples += n;
  }
  return true;
}

// Lower the delay by one frame? Only when the packets since the last change all had more than a
// tick plus the guard to spare against the planned high transit, the next two frames are queued
// (nothing is concealed for it), and the skipped 20 ms is not heard: the venue is not a speaker,
// or its last frame was below the voice threshold (a pause between words).
bool MixMinusMixer::ShouldShrink(const Venue& v) const {
  if (!config_.adaptive_delay || v.delay_ticks <= config_.min_delay_ticks ||
      v.window_packets < kShrinkWindow)
    return false;
  if (v.window_min - v.arrivals.high() < kTickMs + kGuardMs) return false;
  if (v.slot >= 0) {
    const double last = v.recent[(v.recent_pos + v.recent.size() - 1) % v.recent.size()];
    if (last >= config_.voice_threshold_dbov) return false;
  }
  std::size_t available = v.fifo.size();
  std::int64_t pos = v.next_ts;
  for (auto it = v.queue.begin();
       it != v.queue.end() && it->first == pos && available < 2u * kFrameSamples; ++it) {
    pos += it->second.samples;
    available += static_cast<std::size_t>(it->second.samples);
  }
  return available >= 2u * kFrameSamples;
}

void MixMinusMixer::NextFrame(Venue& v) {
  if (v.state == Venue::State::kBuffering && tick_ >= v.play_at) v.state = Venue::State::kPlaying;
  if (v.state != Venue::State::kPlaying) {
    std::fill(v.frame.begin(), v.frame.end(), 0);
    return;
  }
  if (ShouldShrink(v) && Fill(v, 2 * kFrameSamples)) {
    v.fifo.erase(v.fifo.begin(), v.fifo.begin() + kFrameSamples);  // skip 20 ms
    --v.delay_ticks;
    ++v.shrinks;
    log::Debug("audio.shrink", {{"venue", v.id}, {"delay_ticks", v.delay_ticks}});
    v.ResetWindow();
  }
  if (!Fill(v, kFrameSamples)) return;
  std::copy_n(v.fifo.begin(), kFrameSamples, v.frame.begin());
  v.fifo.erase(v.fifo.begin(), v.fifo.begin() + kFrameSamples);
}

void MixMinusMixer::UpdateLevel(Venue& v) {
  double p = 0;
  if (v.state == Venue::State::kPlaying) {
    double sum = 0;
    for (std::int16_t s : v.frame) sum += static_cast<double>(s) * s;
    p = sum / (kFrameSamples * kFullScalePower);
  }
  v.power += (p > v.power ? kAttack : kRelease) * (p - v.power);
  v.level = v.power > 0 ? std::max(kFloorDbov, 10 * std::log10(v.power)) : kFloorDbov;
  const double frame_db =
      p > 0 ? std::max(kActivityFloorDbov, 10 * std::log10(p)) : kActivityFloorDbov;
  v.recent_sum += frame_db - v.recent[v.recent_pos];
  v.recent[v.recent_pos] = frame_db;
  v.recent_pos = (v.recent_pos + 1) % v.recent.size();
  if (v.recent_pos == 0)  // re-add now and then so rounding never accumulates
    v.recent_sum = std::accumulate(v.recent.begin(), v.recent.end(), 0.0);
}

void MixMinusMixer::Release(Venue& v) {
  if (v.slot >= 0) slot_venue_[static_cast<std::size_t>(v.slot)] = nullptr;
  v.slot = -1;
}

void MixMinusMixer::Promote(Venue& v, std::size_t slot) {
  slot_venue_[slot] = &v;
  v.slot = static_cast<int>(slot);
  v.speaker_since = tick_;
  v.last_voice = tick_;
  ++speaker_changes_;
}

void MixMinusMixer::SelectSpeakers() {
  const double threshold = config_.voice_threshold_dbov;
  const auto held = [this](const Venue* v) {
    return tick_ - v->speaker_since >= static_cast<std::uint64_t>(config_.hold_ticks);
  };
  // 1. Speakers that were muted or stayed below the threshold for release_ticks free their slot.
  for (Venue* v : slot_venue_) {
    if (v == nullptr) continue;
    if (v->level >= threshold) v->last_voice = tick_;
    if (v->muted || tick_ - v->last_voice >= static_cast<std::uint64_t>(config_.release_ticks))
      Release(*v);
  }
  // 2. Candidates: unmuted listeners above the voice threshold, loudest first.
  std::vector<Venue*> candidates;
  for (auto& [id, v] : venues_)
    if (v->slot < 0 && !v->muted && v->level >= threshold) candidates.push_back(v.get());
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Venue* a, const Venue* b) { return a->level > b->level; });
  // 3. Free slots are taken at once by the loudest candidates.
  std::size_t next = 0;
  for (std::size_t s = 0; s < slot_venue_.size() && next < candidates.size(); ++s)
    if (slot_venue_[s] == nullptr) Promote(*candidates[next++], s);
  // 4. A candidate whose activity (mean frame level over the last challenge_ticks) exceeds the
  //    least active speaker's by hysteresis_db replaces it, once that speaker has held its slot for
  //    hold_ticks. The most active candidates contest first.
  std::stable_sort(candidates.begin() + static_cast<std::ptrdiff_t>(next), candidates.end(),
                   [](const Venue* a, const Venue* b) { return a->activity() > b->activity(); });
  for (; next < candidates.size(); ++next) {
    Venue& c = *candidates[next];
    Venue* weakest = nullptr;
    for (Venue* s : slot_venue_)
      if (s != nullptr && held(s) && (weakest == nullptr || s->activity() < weakest->activity()))
        weakest = s;
    if (weakest == nullptr) break;  // every speaker is still within its hold time
    if (c.activity() < weakest->activity() + config_.hysteresis_db) break;  // nor will the rest
    const auto slot = static_cast<std::size_t>(weakest->slot);
    Release(*weakest);
    Promote(c, slot);
  }
}

void MixMinusMixer::SelectDominant() {
  // The same contest among the speakers for the large video pane: the most active speaker takes
  // it from the current one only by hysteresis_db and after the current one held it hold_ticks.
  Venue* most = nullptr;
  for (Venue* s : slot_venue_)
    if (s != nullptr && (most == nullptr || s->activity() > most->activity())) most = s;
  Venue* current = nullptr;
  if (dominant_) {
    auto it = venues_.find(*dominant_);
    if (it != venues_.end() && it->second->slot >= 0) current = it->second.get();
  }
  if (current == nullptr) {
    // The dominant speaker left the speakers: the loudest speaker takes the large pane at once.
    // With no speakers at all the last dominant keeps it (the layout does not go empty).
    Venue* loudest = nullptr;
    for (Venue* s : slot_venue_)
      if (s != nullptr && (loudest == nullptr || s->level > loudest->level)) loudest = s;
    if (loudest != nullptr) {
      dominant_ = loudest->id;
      dominant_since_ = tick_;
    }
    return;
  }
  if (most != current && most->activity() >= current->activity() + config_.hysteresis_db &&
      tick_ - dominant_since_ >= static_cast<std::uint64_t>(config_.hold_ticks)) {
    dominant_ = most->id;
    dominant_since_ = tick_;
  }
}

void MixMinusMixer::MixAndEncode() {
  std::fill(mix_.begin(), mix_.end(), 0);
  std::size_t speakers = 0;
  for (Venue* s : slot_venue_) {
    if (s == nullptr) continue;
    ++speakers;
    for (int i = 0; i < kFrameSamples; ++i) mix_[i] += s->frame[i];
  }
  const std::uint32_t ts = static_cast<std::uint32_t>(tick_ * kFrameSamples);
  auto encode = [&](Stream& stream, const Venue* minus) {
    auto frame = std::make_shared<EncodedFrame>();
    frame->timestamp = ts;
    frame->stream = stream.index;
    for (int i = 0; i < kFrameSamples; ++i)
      pcm_[i] = Saturate(minus != nullptr ? mix_[i] - minus->frame[i] : mix_[i]);
    if (Status st = stream.encoder.Encode(pcm_, &frame->opus); !st)
      log::Error("audio.encode_failed", {{"stream", stream.index}, {"error", st.error().message}});
    ++encodes_;
    return std::shared_ptr<const EncodedFrame>(std::move(frame));
  };
  // One encode of the mix shared by every listener (skipped when everyone is a speaker) ...
  std::shared_ptr<const EncodedFrame> listener_frame;
  if (venues_.size() > speakers) listener_frame = encode(*listener_, nullptr);
  // ... and one mix-minus per speaker slot, on the slot's own encoder.
  std::vector<std::shared_ptr<const EncodedFrame>> slot_frames(slots_.size());
  for (std::size_t s = 0; s < slots_.size(); ++s)
    if (slot_venue_[s] != nullptr) slot_frames[s] = encode(*slots_[s], slot_venue_[s]);

  out_.outputs.clear();
  out_.levels.clear();
  for (auto& [id, v] : venues_) {
    const bool speaker = v->slot >= 0;
    out_.outputs.push_back(
        {id, speaker ? slot_frames[static_cast<std::size_t>(v->slot)] : listener_frame, speaker});
    out_.levels.push_back({id, v->level, speaker, v->muted});
  }
}

const MixTick& MixMinusMixer::Tick(MixerClock::time_point now) {
  UpdateTickClock(now);
  {
    std::lock_guard lock(inbox_mu_);
    for (auto& [id, v] : venues_) std::swap(v->pending, v->inbox->packets);
  }
  for (auto& [id, v] : venues_) {
    DrainInbox(*v);
    NextFrame(*v);
    UpdateLevel(*v);
  }
  SelectSpeakers();
  SelectDominant();
  MixAndEncode();

  out_.tick = tick_;
  out_.timestamp = static_cast<std::uint32_t>(tick_ * kFrameSamples);
  out_.speakers.clear();
  for (Venue* s : slot_venue_)
    if (s != nullptr) out_.speakers.push_back(s->id);
  std::stable_sort(out_.speakers.begin(), out_.speakers.end(), [this](VenueId a, VenueId b) {
    return venues_.at(a)->level > venues_.at(b)->level;
  });
  out_.dominant = dominant_;
  ++tick_;
  return out_;
}

MixerStats MixMinusMixer::Stats() const {
  MixerStats st;
  st.venues = venues_.size();
  st.encoders = encoder_count();
  st.ticks = tick_;
  st.encodes = encodes_;
  st.speaker_changes = speaker_changes_;
  std::lock_guard lock(inbox_mu_);
  for (const auto& [id, v] : venues_) {
    VenueAudioStats s;
    s.venue = id;
    s.packets = v->inbox->accepted;
    s.bytes = v->inbox->bytes;
    s.malformed = v->inbox->malformed + v->malformed;
    s.inbox_overflow = v->inbox->overflow;
    s.late = v->late;
    s.stretches = v->stretches;
    s.shrinks = v->shrinks;
    s.delay_ticks = v->delay_ticks;
    s.jitter_ms = v->arrivals.jitter();
    s.jitter_spread_ms = v->arrivals.spread();
    s.duplicates = v->duplicates;
    s.queue_overflow = v->queue_overflow;
    s.resyncs = v->resyncs;
    s.frames_decoded = v->decoded_samples / kFrameSamples;
    s.fec_frames = v->fec_samples / kFrameSamples;
    s.plc_frames = v->plc_samples / kFrameSamples;
    s.level_dbov = v->level;
    s.speaker = v->slot >= 0;
    s.muted = v->muted;
    s.active = v->state != Venue::State::kIdle;
    if (s.active) ++st.decoders;
    st.per_venue.push_back(s);
  }
  return st;
}

}  // namespace plateau::mcu::audio
