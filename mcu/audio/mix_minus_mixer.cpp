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
constexpr std::size_t kInboxLimit = 64;  // > 1 s of 20 ms packets between two ticks

double Ms(MixerClock::time_point t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

std::int16_t Saturate(std::int32_t v) {
  return static_cast<std::int16_t>(std::clamp<std::int32_t>(v, -32768, 32767));
}

std::string Name(VenueId v) {
  return std::to_string(v);
}

}  // namespace

struct MixMinusMixer::Inbox {  // guarded by MixMinusMixer::inbox_mu_
  std::vector<PlayoutPacket> packets;
  std::uint64_t accepted = 0;
  std::uint64_t bytes = 0;
  std::uint64_t malformed = 0;
  std::uint64_t overflow = 0;
};

struct MixMinusMixer::Venue {  // owner thread only
  Venue(VenueId venue_id, VenuePlayout p, std::shared_ptr<Inbox> in)
      : id(venue_id), playout(std::move(p)), inbox(std::move(in)) {}

  VenueId id;
  VenuePlayout playout;  // jitter queue, decode, FEC/PLC, adaptive delay
  std::shared_ptr<Inbox> inbox;
  std::vector<PlayoutPacket> pending;  // swapped out of the inbox each tick

  double power = 0;  // smoothed mean square, relative to full scale
  double level = kFloorDbov;
  // Activity: the mean of the last challenge_ticks frame levels in dB. Averaging in dB makes a
  // 40 ms cough count for little against a sustained talker; floor contests use it.
  std::vector<double> recent;  // ring of frame levels (dB)
  std::size_t recent_pos = 0;
  double recent_sum = 0;
  double activity() const { return recent_sum / static_cast<double>(recent.size()); }
  double last_frame_db() const { return recent[(recent_pos + recent.size() - 1) % recent.size()]; }
  bool muted = false;
  int slot = -1;  // speaker slot, -1 when listening
  std::uint64_t speaker_since = 0;
  std::uint64_t last_voice = 0;
};

struct MixMinusMixer::Stream {
  int index;
  OpusFrameEncoder encoder;
};

PlayoutConfig PlayoutConfigOf(const MixerConfig& c) {
  return {.adaptive_delay = c.adaptive_delay,
          .jitter_delay_ticks = c.jitter_delay_ticks,
          .min_delay_ticks = c.min_delay_ticks,
          .max_delay_ticks = c.max_delay_ticks,
          .max_queue_ticks = c.max_queue_ticks,
          .idle_after_missing = c.idle_after_missing};
}

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
  if (Status s = ValidatePlayoutConfig(PlayoutConfigOf(c)); !s) return s;
  if (c.bitrate_bps < 6000 || c.bitrate_bps > 256000)
    return bad("bitrate_bps must be 6000..256000");
  if (c.complexity < 0 || c.complexity > 10) return bad("complexity must be 0..10");
  if (c.expected_loss_percent < 0 || c.expected_loss_percent > 100)
    return bad("expected_loss_percent must be 0..100");
  return Status::Ok();
}

Result<std::unique_ptr<MixMinusMixer>> MixMinusMixer::Create(const MixerConfig& config,
                                                             const plateau::Clock& clock) {
  if (Status s = ValidateMixerConfig(config); !s) return s.error();
  return std::make_unique<MixMinusMixer>(config, clock);
}

MixMinusMixer::MixMinusMixer(const MixerConfig& config, const plateau::Clock& clock)
    : config_(config), clock_(clock) {
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
  auto playout = VenuePlayout::Create(venue, PlayoutConfigOf(config_));
  if (!playout) return playout.error();
  auto inbox = std::make_shared<Inbox>();
  auto v = std::make_unique<Venue>(venue, std::move(playout).value(), inbox);
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

PushResult MixMinusMixer::PushOpus(VenueId venue, std::uint32_t rtp_timestamp,
                                   std::uint16_t /*seq*/, std::span<const std::uint8_t> payload,
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
  in.packets.push_back({rtp_timestamp, *samples, std::move(copy), Ms(arrival)});
  return PushResult::kQueued;
}

void MixMinusMixer::UpdateLevel(Venue& v) {
  double p = 0;
  if (v.playout.playing()) {
    double sum = 0;
    for (std::int16_t s : v.playout.frame()) sum += static_cast<double>(s) * s;
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
    const auto& frame = s->playout.frame();
    for (int i = 0; i < kFrameSamples; ++i) mix_[i] += frame[i];
  }
  const std::uint32_t ts = static_cast<std::uint32_t>(tick_ * kFrameSamples);
  auto encode = [&](Stream& stream, const Venue* minus) {
    auto frame = std::make_shared<EncodedFrame>();
    frame->timestamp = ts;
    frame->stream = stream.index;
    for (int i = 0; i < kFrameSamples; ++i)
      pcm_[i] = Saturate(minus != nullptr ? mix_[i] - minus->playout.frame()[i] : mix_[i]);
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

PushResult MixMinusMixer::PushOpus(VenueId venue, std::uint32_t rtp_timestamp, std::uint16_t seq,
                                   std::span<const std::uint8_t> payload) {
  return PushOpus(venue, rtp_timestamp, seq, payload, clock_.Monotonic());
}

const MixTick& MixMinusMixer::Tick() {
  return Tick(clock_.Monotonic());
}

const MixTick& MixMinusMixer::Tick(MixerClock::time_point now) {
  grid_.Update(tick_, Ms(now));
  const TickTime time{tick_, grid_.DrainMs(tick_)};
  {
    std::lock_guard lock(inbox_mu_);
    for (auto& [id, v] : venues_) std::swap(v->pending, v->inbox->packets);
  }
  const double threshold = config_.voice_threshold_dbov;
  for (auto& [id, v] : venues_) {
    v->playout.Receive(v->pending, time);
    // Skipping 20 ms to lower the delay must not be heard: not while a speaker's voice is on.
    const bool may_skip = v->slot < 0 || v->last_frame_db() < threshold;
    v->playout.NextFrame(time, may_skip);
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
    const PlayoutStats p = v->playout.Stats();
    s.malformed = v->inbox->malformed + p.malformed;
    s.inbox_overflow = v->inbox->overflow;
    s.late = p.late;
    s.stretches = p.stretches;
    s.shrinks = p.shrinks;
    s.delay_ticks = p.delay_ticks;
    s.jitter_ms = p.jitter_ms;
    s.jitter_spread_ms = p.jitter_spread_ms;
    s.duplicates = p.duplicates;
    s.queue_overflow = p.queue_overflow;
    s.resyncs = p.resyncs;
    s.frames_decoded = p.frames_decoded;
    s.fec_frames = p.fec_frames;
    s.plc_frames = p.plc_frames;
    s.level_dbov = v->level;
    s.speaker = v->slot >= 0;
    s.muted = v->muted;
    s.active = p.active;
    if (s.active) ++st.decoders;
    st.per_venue.push_back(s);
  }
  return st;
}

}  // namespace plateau::mcu::audio
