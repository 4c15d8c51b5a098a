#include "audio_bench.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "plateau/mcu/audio/mix_minus_mixer.hpp"
#include "plateau/mcu/audio/opus_codec.hpp"

namespace plateau::mcu::audio {
namespace {

constexpr int kLoopFrames = 150;  // 3 s of pre-encoded audio per venue, replayed in a loop

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::int16_t Saturate(double v) {
  return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

// One venue's 3 s loop. Talkers: a voiced sound (fundamental 110..250 Hz with decaying harmonics)
// in syllables of 120..300 ms separated by 40..200 ms pauses, over room noise. Listeners: room
// noise only, at about -65 dBov.
Result<std::vector<std::vector<std::uint8_t>>> EncodeVenueLoop(int index, bool talker,
                                                               const AudioBenchOptions& o) {
  OpusEncoderOptions eo;
  eo.bitrate_bps = o.bitrate_bps;
  eo.complexity = o.complexity;
  auto enc = OpusFrameEncoder::Create(eo);
  if (!enc) return enc.error();
  std::mt19937 rng(static_cast<std::uint32_t>(1000 + index));
  std::normal_distribution<double> noise(0, 32768 * std::pow(10, -65.0 / 20));
  std::uniform_int_distribution<int> syllable(6 * 48 * 20, 15 * 48 * 20);  // in samples
  std::uniform_int_distribution<int> pause(2 * 48 * 20, 10 * 48 * 20);
  const double f0 = 110 + 140.0 * ((index * 37) % 100) / 100.0;
  const double peak = 32768 * std::pow(10, (-16.0 - 2.0 * (index % 5)) / 20);
  double phase = 0;
  int left = syllable(rng), length = left;
  bool voiced = true;
  std::vector<std::int16_t> pcm(kFrameSamples);
  std::vector<std::vector<std::uint8_t>> packets(kLoopFrames);
  for (auto& packet : packets) {
    for (auto& s : pcm) {
      double v = noise(rng);
      if (talker) {
        if (left-- <= 0) {
          voiced = !voiced;
          left = length = voiced ? syllable(rng) : pause(rng);
        }
        if (voiced) {
          const double env = std::sin(std::numbers::pi * (length - left) / length);
          double h = 0;
          for (int k = 1; k <= 6; ++k) h += std::sin(k * phase) / k;
          v += peak * env * h / 2.45;
        }
        phase += 2 * std::numbers::pi * f0 / kSampleRate;
        if (phase > 2 * std::numbers::pi) phase -= 2 * std::numbers::pi;
      }
      s = Saturate(v);
    }
    if (Status st = enc->Encode(pcm, &packet); !st) return st.error();
  }
  return packets;
}

}  // namespace

Result<AudioBenchReport> RunAudioBench(const AudioBenchOptions& o) {
  if (o.venues < 1 || o.venues > 1000) return Error{"bad_option", "--venues must be 1..1000"};
  if (o.seconds <= 0 || o.seconds > 3600) return Error{"bad_option", "--seconds must be 0..3600"};
  if (o.loud_venues < 0 || o.loud_venues > o.venues)
    return Error{"bad_option", "--loud must be 0..venues"};
  MixerConfig mc;
  mc.speakers = o.speakers;
  mc.bitrate_bps = o.bitrate_bps;
  mc.complexity = o.complexity;
  auto mixer = MixMinusMixer::Create(mc);
  if (!mixer) return mixer.error();

  // Talkers are spread over the venue list rather than being the first ones.
  std::vector<std::vector<std::vector<std::uint8_t>>> loops;
  for (int v = 0; v < o.venues; ++v) {
    const bool talker = o.loud_venues > 0 && v % std::max(1, o.venues / o.loud_venues) == 0 &&
                        v / std::max(1, o.venues / o.loud_venues) < o.loud_venues;
    auto loop = EncodeVenueLoop(v, talker, o);
    if (!loop) return loop.error();
    loops.push_back(std::move(loop).value());
  }

  AudioBenchReport r;
  r.options = o;
  r.ticks = static_cast<std::uint64_t>(std::llround(o.seconds * 1000 / kFrameMs));
  r.audio_seconds = static_cast<double>(r.ticks) * kFrameMs / 1000;

  // 1. The mix-minus mixer: K + 1 encoders.
  for (int v = 0; v < o.venues; ++v)
    if (Status s = (*mixer)->AddVenue(static_cast<VenueId>(v)); !s) return s.error();
  double cpu0 = ThreadCpuSeconds(), wall0 = WallSeconds();
  // Simulated times (the run is faster than real time): tick t at t x 20 ms, every packet
  // arriving 10 ms before the tick that drains it, as on a quiet network.
  const auto t0 = MixerClock::now();
  const auto at = [t0](std::uint64_t t) { return t0 + std::chrono::milliseconds(20 * t); };
  for (std::uint64_t t = 0; t < r.ticks; ++t) {
    for (int v = 0; v < o.venues; ++v) {
      const auto& p = loops[static_cast<std::size_t>(v)][t % kLoopFrames];
      (*mixer)->PushOpus(static_cast<VenueId>(v), static_cast<std::uint32_t>(t * kFrameSamples),
                         static_cast<std::uint16_t>(t), p, at(t) - std::chrono::milliseconds(10));
    }
    (*mixer)->Tick(at(t));
  }
  r.mix_minus.cpu_seconds = ThreadCpuSeconds() - cpu0;
  r.mix_minus.wall_seconds = WallSeconds() - wall0;
  const MixerStats ms = (*mixer)->Stats();
  r.mix_minus.encoders = ms.encoders;
  r.mix_minus.decoders = ms.decoders;
  r.mix_minus.encodes = ms.encodes;
  for (const auto& v : ms.per_venue) r.mix_minus.decoded_frames += v.frames_decoded;
  r.speaker_changes = ms.speaker_changes;

  // 2. The baseline on the same packets: decode everyone, mix everyone, one encode per venue.
  std::vector<OpusFrameDecoder> decoders;
  std::vector<OpusFrameEncoder> encoders;
  OpusEncoderOptions eo;
  eo.bitrate_bps = o.bitrate_bps;
  eo.complexity = o.complexity;
  eo.inband_fec = mc.inband_fec;
  eo.expected_loss_percent = mc.expected_loss_percent;
  for (int v = 0; v < o.venues; ++v) {
    auto d = OpusFrameDecoder::Create(1);
    auto e = OpusFrameEncoder::Create(eo);
    if (!d) return d.error();
    if (!e) return e.error();
    decoders.push_back(std::move(d).value());
    encoders.push_back(std::move(e).value());
  }
  std::vector<std::vector<std::int16_t>> frames(static_cast<std::size_t>(o.venues));
  std::vector<std::int32_t> mix(kFrameSamples);
  std::vector<std::int16_t> pcm(kFrameSamples);
  std::vector<std::uint8_t> out;
  cpu0 = ThreadCpuSeconds();
  wall0 = WallSeconds();
  for (std::uint64_t t = 0; t < r.ticks; ++t) {
    std::fill(mix.begin(), mix.end(), 0);
    for (std::size_t v = 0; v < frames.size(); ++v) {
      if (decoders[v].Decode(loops[v][t % kLoopFrames], &frames[v])) ++r.baseline.decoded_frames;
      frames[v].resize(kFrameSamples);
      for (int i = 0; i < kFrameSamples; ++i) mix[i] += frames[v][i];
    }
    for (std::size_t v = 0; v < frames.size(); ++v) {
      for (int i = 0; i < kFrameSamples; ++i) pcm[i] = Saturate(mix[i] - frames[v][i]);
      if (encoders[v].Encode(pcm, &out)) ++r.baseline.encodes;
    }
  }
  r.baseline.cpu_seconds = ThreadCpuSeconds() - cpu0;
  r.baseline.wall_seconds = WallSeconds() - wall0;
  r.baseline.encoders = encoders.size();
  r.baseline.decoders = decoders.size();

  r.mix_minus.cpu_cores = r.mix_minus.cpu_seconds / r.audio_seconds;
  r.baseline.cpu_cores = r.baseline.cpu_seconds / r.audio_seconds;
  r.cpu_ratio = r.mix_minus.cpu_seconds > 0 ? r.baseline.cpu_seconds / r.mix_minus.cpu_seconds : 0;
  return r;
}

}  // namespace plateau::mcu::audio
