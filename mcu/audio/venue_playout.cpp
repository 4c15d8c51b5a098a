#include "plateau/mcu/audio/venue_playout.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "plateau/common/log.hpp"

namespace plateau::mcu::audio {
namespace {

constexpr std::int64_t kResyncSamples = kSampleRate;  // a timestamp jump over 1 s restarts
constexpr int kConcealGranule = 120;                  // 2.5 ms: the finest Opus frame

// Adaptive playout delay (see ArrivalEstimator and VenuePlayout::ChooseDelay).
constexpr double kTickMs = 20.0;
constexpr double kGuardMs = 2.0;           // planned slack of the latest expected packet
constexpr double kSafety = 1.15;           // the spread quantile is planned for with this factor
constexpr double kQuantile = 0.97;         // of the arrival-delay histogram
constexpr double kForget = 0.998;          // per packet: the histogram forgets over ~500 packets
constexpr double kMarginDecay = 0.995;     // per packet: a late packet's margin halves in ~140
constexpr double kMinLeakMs = 0.02;        // per packet: the minimum may rise 1 ms/s (clock skew)
constexpr double kReanchorMs = 1000.0;     // a deviation beyond this is a restart, not jitter
constexpr double kLateBumpMs = 5.0;        // planned beyond a packet that came too late
constexpr int kWarmupPackets = 25;         // fewer packets seen: plan at least one tick
constexpr int kShrinkWindow = 50;          // packets observed since the last change before a shrink
constexpr std::uint64_t kGridWindow = 50;  // ticks per bucket of the tick-grid minimum

}  // namespace

Status ValidatePlayoutConfig(const PlayoutConfig& c) {
  auto bad = [](const std::string& m) { return Status(Error{"bad_mixer_config", m}); };
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
  return Status::Ok();
}

// ---- TickGrid

void TickGrid::Update(std::uint64_t tick, double now_ms) {
  const double offset = now_ms - static_cast<double>(tick) * kTickMs;
  // Ticks run later than the grid by more than two ticks: the caller stalled or skipped ticks.
  if (offset > std::min(cur_, prev_) + 2 * kTickMs) cur_ = prev_ = offset;
  cur_ = std::min(cur_, offset);
  if (tick % kGridWindow == kGridWindow - 1) {
    prev_ = cur_;
    cur_ = std::numeric_limits<double>::infinity();
  }
}

double TickGrid::DrainMs(std::uint64_t tick) const {
  return std::min(cur_, prev_) + static_cast<double>(tick) * kTickMs;
}

// ---- ArrivalEstimator

double ArrivalEstimator::Add(double arrival_ms, std::uint32_t rtp_timestamp, double restart_ms) {
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
  reanchored_ = count_ == 1 || std::abs(transit - lo_) > kReanchorMs || transit - lo_ > restart_ms;
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

void ArrivalEstimator::Late(double transit, double cap_ms) {
  UpdateSpread();
  const double needed = transit - lo_ - kSafety * spread_ + kLateBumpMs;
  margin_ = std::min(cap_ms, std::max(margin_ + kLateBumpMs, needed));
}

double ArrivalEstimator::high() const {
  return lo_ + kSafety * spread_ + margin_;
}

void ArrivalEstimator::UpdateSpread() {
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

// ---- VenuePlayout

Result<VenuePlayout> VenuePlayout::Create(std::uint32_t venue, const PlayoutConfig& config) {
  if (Status s = ValidatePlayoutConfig(config); !s) return s.error();
  auto dec = OpusFrameDecoder::Create(1);
  if (!dec) return dec.error();
  return VenuePlayout(venue, config, std::move(dec).value());
}

VenuePlayout::VenuePlayout(std::uint32_t venue, const PlayoutConfig& config,
                           OpusFrameDecoder decoder)
    : venue_(venue), config_(config), decoder_(std::move(decoder)) {}

void VenuePlayout::ResetWindow() {
  window_min_ = std::numeric_limits<double>::infinity();
  window_packets_ = 0;
}

void VenuePlayout::NoteConcealed(std::int64_t from, std::int64_t to) {
  auto& last = concealed_[(concealed_pos_ + kConcealedRanges - 1) % kConcealedRanges];
  if (last.second == from && last.first < last.second) {
    last.second = to;
    return;
  }
  concealed_[concealed_pos_] = {from, to};
  concealed_pos_ = (concealed_pos_ + 1) % kConcealedRanges;
}

bool VenuePlayout::WasConcealed(std::int64_t u) const {
  return std::any_of(concealed_.begin(), concealed_.end(),
                     [u](const auto& r) { return r.first <= u && u < r.second; });
}

// The delay for a talk spurt whose first packet arrived at `arrival_ms` with `transit_ms`. Played
// D ticks after this tick, that packet has slack = D x 20 + (tick's drain time - arrival). A later
// packet of the spurt with transit t arrives (t - transit_ms) later relative to its own tick, so
// the smallest D with slack - (high transit - transit_ms) >= guard keeps every packet up to the
// planned high transit in time.
int VenuePlayout::ChooseDelay(double arrival_ms, double transit_ms, const TickTime& now) const {
  if (!config_.adaptive_delay) return config_.jitter_delay_ticks;
  const double phase = now.drain_ms - arrival_ms;
  const double need = kGuardMs + arrivals_.high() - transit_ms - phase;
  int d = need <= 0 ? 0 : static_cast<int>(std::ceil(need / kTickMs));
  if (arrivals_.count() < static_cast<std::uint64_t>(kWarmupPackets)) d = std::max(d, 1);
  d = std::clamp(d, config_.min_delay_ticks, config_.max_delay_ticks);
  log::Debug("audio.spurt", {{"venue", venue_},
                             {"delay_ticks", d},
                             {"phase_ms", phase},
                             {"plan_ms", arrivals_.high() - transit_ms},
                             {"spread_ms", arrivals_.spread()},
                             {"margin_ms", arrivals_.margin()},
                             {"jitter_ms", arrivals_.jitter()}});
  return d;
}

// A packet for audio already concealed because the queue had run dry: it is late, and so are
// probably the packets behind it. Rather than dropping it, play it next: the concealment already
// played becomes added delay (at most up to max_delay_ticks).
bool VenuePlayout::TryStretch(std::int64_t u, double transit_ms) {
  if (!config_.adaptive_delay || state_ != State::kPlaying || tail_from_ < 0 || u < tail_from_ ||
      u >= next_ts_)
    return false;
  const auto added = static_cast<int>((next_ts_ - u + kFrameSamples - 1) / kFrameSamples);
  if (delay_ticks_ + added > config_.max_delay_ticks) return false;
  next_ts_ = u;
  tail_from_ = -1;
  missing_samples_ = 0;
  delay_ticks_ += added;
  ++stretches_;
  log::Debug("audio.stretch", {{"venue", venue_}, {"delay_ticks", delay_ticks_}});
  arrivals_.Late(transit_ms, config_.max_delay_ticks * kTickMs);
  ResetWindow();
  return true;
}

// A new talk spurt (or a stream that jumped): the queue starts over from this packet.
void VenuePlayout::Restart(PlayoutPacket& p, double transit_ms, const TickTime& now) {
  queue_.clear();
  fifo_.clear();
  ref_rtp_ = p.timestamp;
  ref_unwrapped_ = 0;
  next_ts_ = 0;
  missing_samples_ = 0;
  state_ = State::kBuffering;
  delay_ticks_ = ChooseDelay(p.arrival_ms, transit_ms, now);
  play_at_ = now.tick + static_cast<std::uint64_t>(delay_ticks_);
  tail_from_ = -1;
  concealed_.fill({0, 0});
  ResetWindow();
  queue_.emplace(0, Queued{p.samples, std::move(p.payload)});
}

void VenuePlayout::Enqueue(PlayoutPacket& p, double transit_ms, const TickTime& now) {
  if (state_ == State::kIdle) return Restart(p, transit_ms, now);

  const std::int64_t u =
      ref_unwrapped_ + static_cast<std::int32_t>(p.timestamp - ref_rtp_);  // wrap-aware
  const std::int64_t ahead = u - next_ts_;
  if (ahead > kResyncSamples || ahead < -kResyncSamples) {
    ++resyncs_;
    return Restart(p, transit_ms, now);
  }
  if (u > ref_unwrapped_) {
    ref_rtp_ = p.timestamp;
    ref_unwrapped_ = u;
  }
  if (ahead < 0) {
    // Still buffering and nothing played yet: an earlier packet of the spurt arrived reordered.
    if (state_ == State::kBuffering && fifo_.empty()) {
      next_ts_ = u;
    } else if (!TryStretch(u, transit_ms)) {
      ++late_;
      // Its audio was concealed: the delay was too short. Plan more for the next spurt.
      if (config_.adaptive_delay && WasConcealed(u))
        arrivals_.Late(transit_ms, config_.max_delay_ticks * kTickMs);
      return;
    }
  }
  if (!queue_.emplace(u, Queued{p.samples, std::move(p.payload)}).second) {
    ++duplicates_;
    return;
  }
  // Slack: from arrival to the drain of the tick that plays the packet's first sample.
  const std::int64_t offset = state_ == State::kBuffering
                                  ? u - next_ts_
                                  : u - next_ts_ + static_cast<std::int64_t>(fifo_.size());
  const std::uint64_t base = state_ == State::kBuffering ? play_at_ : now.tick;
  const double ticks_ahead = static_cast<double>(base) - static_cast<double>(now.tick) +
                             std::floor(static_cast<double>(offset) / kFrameSamples);
  const double slack = ticks_ahead * kTickMs + (now.drain_ms - p.arrival_ms);
  window_min_ = std::min(window_min_, slack + transit_ms);
  ++window_packets_;
}

void VenuePlayout::Receive(std::vector<PlayoutPacket>& packets, const TickTime& now) {
  for (auto& p : packets) {
    // The first packet of a spurt far behind the plan: more likely a sender whose timestamps
    // stood still during its silence than a network that got slower by over max_delay_ticks.
    const double restart_ms =
        state_ == State::kIdle ? (config_.max_delay_ticks + 1) * kTickMs : kReanchorMs;
    const double transit = arrivals_.Add(p.arrival_ms, p.timestamp, restart_ms);
    if (arrivals_.reanchored()) ResetWindow();
    Enqueue(p, transit, now);
  }
  packets.clear();
  BoundQueue();
}

// Keep the queue within max_queue_ticks of audio ahead of playout (a sender whose clock runs
// fast, or a burst after a stall): skip gaps first, then drop the oldest packets.
void VenuePlayout::BoundQueue() {
  const std::int64_t limit = static_cast<std::int64_t>(config_.max_queue_ticks) * kFrameSamples;
  while (!queue_.empty()) {
    const auto& last = *queue_.rbegin();
    const std::int64_t depth =
        last.first + last.second.samples - next_ts_ + static_cast<std::int64_t>(fifo_.size());
    if (depth <= limit) break;
    auto first = queue_.begin();
    if (next_ts_ < first->first) {
      next_ts_ = first->first;
      continue;
    }
    next_ts_ = first->first + first->second.samples;
    queue_.erase(first);
    ++queue_overflow_;
  }
}

// Decodes, recovers or conceals until the fifo holds `samples`. False if the venue went idle
// instead (it stopped sending): the frame is silence then.
bool VenuePlayout::Fill(std::size_t samples) {
  const auto append = [this](int n) {
    fifo_.insert(fifo_.end(), scratch_.begin(),
                 scratch_.begin() + std::min<std::size_t>(n, scratch_.size()));
  };
  while (fifo_.size() < samples) {
    auto it = queue_.begin();
    if (it != queue_.end() && it->first < next_ts_) {  // overlaps what was already played
      ++late_;
      queue_.erase(it);
      continue;
    }
    if (it != queue_.end() && it->first == next_ts_) {
      const int samples_in = it->second.samples;
      auto n = decoder_.Decode(it->second.payload, &scratch_);
      queue_.erase(it);
      tail_from_ = -1;
      if (n) {
        next_ts_ += samples_in;
        append(*n);
        decoded_samples_ += static_cast<std::uint64_t>(*n);
        missing_samples_ = 0;
        continue;
      }
      ++malformed_;  // parsed but would not decode: conceal its duration instead
      const int conceal = std::max(kConcealGranule, samples_in / kConcealGranule * kConcealGranule);
      if (decoder_.Conceal(&scratch_, conceal)) append(conceal);
      NoteConcealed(next_ts_, next_ts_ + samples_in);
      next_ts_ += samples_in;
      plc_samples_ += static_cast<std::uint64_t>(conceal);
      missing_samples_ += conceal;
      continue;
    }
    // Missing audio at next_ts_.
    if (it == queue_.end() &&
        missing_samples_ >= static_cast<std::int64_t>(config_.idle_after_missing) * kFrameSamples) {
      state_ = State::kIdle;  // the venue stopped sending: stop concealing
      fifo_.clear();
      std::fill(frame_.begin(), frame_.end(), 0);
      return false;
    }
    const std::int64_t gap = it == queue_.end() ? kFrameSamples : it->first - next_ts_;
    if (gap < kConcealGranule) {  // a sub-2.5 ms timestamp irregularity: just skip it
      next_ts_ = it->first;
      continue;
    }
    const int n = static_cast<int>(std::min<std::int64_t>(kFrameSamples, gap) / kConcealGranule *
                                   kConcealGranule);
    bool recovered = false;
    if (it != queue_.end() && gap == n) {
      // The missing piece ends where the next packet starts: its in-band FEC may carry it.
      if (decoder_.DecodeFec(it->second.payload, &scratch_, n)) {
        append(n);
        fec_samples_ += static_cast<std::uint64_t>(n);
        recovered = true;
      }
    }
    if (!recovered) {
      if (decoder_.Conceal(&scratch_, n))
        append(n);
      else
        fifo_.insert(fifo_.end(), static_cast<std::size_t>(n), 0);
      plc_samples_ += static_cast<std::uint64_t>(n);
    }
    // The queue ran dry here: if this audio arrives after all, TryStretch plays it.
    if (it == queue_.end()) {
      if (tail_from_ < 0) tail_from_ = next_ts_;
    } else {
      tail_from_ = -1;
    }
    NoteConcealed(next_ts_, next_ts_ + n);
    next_ts_ += n;
    missing_samples_ += n;
  }
  return true;
}

// Lower the delay by one frame? Only when the packets since the last change all had more than a
// tick plus the guard to spare against the planned high transit, the next two frames are queued
// (nothing is concealed for it), and the skipped 20 ms is not heard (`may_skip`: the mixer says
// the venue is not a speaker, or its last frame was below the voice threshold).
bool VenuePlayout::ShouldShrink(bool may_skip) const {
  if (!config_.adaptive_delay || delay_ticks_ <= config_.min_delay_ticks ||
      window_packets_ < kShrinkWindow)
    return false;
  if (window_min_ - arrivals_.high() < kTickMs + kGuardMs) return false;
  if (!may_skip) return false;
  std::size_t available = fifo_.size();
  std::int64_t pos = next_ts_;
  for (auto it = queue_.begin();
       it != queue_.end() && it->first == pos && available < 2u * kFrameSamples; ++it) {
    pos += it->second.samples;
    available += static_cast<std::size_t>(it->second.samples);
  }
  return available >= 2u * kFrameSamples;
}

void VenuePlayout::NextFrame(const TickTime& now, bool may_skip) {
  if (state_ == State::kBuffering && now.tick >= play_at_) state_ = State::kPlaying;
  if (state_ != State::kPlaying) {
    std::fill(frame_.begin(), frame_.end(), 0);
    return;
  }
  if (ShouldShrink(may_skip) && Fill(2 * kFrameSamples)) {
    fifo_.erase(fifo_.begin(), fifo_.begin() + kFrameSamples);  // skip 20 ms
    --delay_ticks_;
    ++shrinks_;
    log::Debug("audio.shrink", {{"venue", venue_}, {"delay_ticks", delay_ticks_}});
    ResetWindow();
  }
  if (!Fill(kFrameSamples)) return;
  std::copy_n(fifo_.begin(), kFrameSamples, frame_.begin());
  fifo_.erase(fifo_.begin(), fifo_.begin() + kFrameSamples);
}

PlayoutStats VenuePlayout::Stats() const {
  PlayoutStats s;
  s.malformed = malformed_;
  s.late = late_;
  s.stretches = stretches_;
  s.shrinks = shrinks_;
  s.duplicates = duplicates_;
  s.queue_overflow = queue_overflow_;
  s.resyncs = resyncs_;
  s.frames_decoded = decoded_samples_ / kFrameSamples;
  s.fec_frames = fec_samples_ / kFrameSamples;
  s.plc_frames = plc_samples_ / kFrameSamples;
  s.delay_ticks = delay_ticks_;
  s.jitter_ms = arrivals_.jitter();
  s.jitter_spread_ms = arrivals_.spread();
  s.active = active();
  return s;
}

}  // namespace plateau::mcu::audio
