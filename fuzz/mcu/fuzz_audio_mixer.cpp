// Fuzzes MixMinusMixer with arbitrary Opus payloads, RTP timestamps and sequence numbers, mixed
// with venue add/remove/mute and ticks. Input: a sequence of records
//   op (1 byte) | venue (1 byte) | timestamp (4, big-endian) | seq (2) | length (1) | payload
// op % 8: 0..3 push, 4 tick, 5 add, 6 remove, 7 mute. Times run on a simulated clock that a tick
// advances by 20 ms: op / 8 (0..31) makes a push arrive 20 ms before the clock + 2 ms x op / 8
// (so up to 42 ms after it: late, early, reordered, jittered), and a tick run op / 8 ms late
// (31: a 500 ms stall). An input whose size is 3 mod 4 runs with a fixed delay instead of the
// adaptive one. Nothing may crash, leak or read out of bounds; a tick never has more than K
// speakers or a null frame; there are always K + 1 encoders; delays stay within their bounds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "plateau/mcu/audio/mix_minus_mixer.hpp"

using plateau::mcu::audio::MixerClock;
using plateau::mcu::audio::MixerConfig;
using plateau::mcu::audio::MixMinusMixer;
using plateau::mcu::audio::PushResult;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  MixerConfig config;
  config.speakers = 2;
  config.hold_ticks = 3;
  config.challenge_ticks = 2;
  config.release_ticks = 4;
  config.idle_after_missing = 3;
  config.complexity = 0;  // the encoder is not under test; keep executions fast
  config.adaptive_delay = size % 4 != 3;
  config.max_delay_ticks = 4;
  MixMinusMixer mixer(config);
  for (std::uint32_t v = 0; v < 4; ++v) (void)mixer.AddVenue(v);

  std::span<const std::uint8_t> in(data, size);
  int ticks = 0;
  std::uint64_t malformed = 0;
  bool removed = false;
  auto now = MixerClock::time_point{} + std::chrono::hours(1);
  while (in.size() >= 9 && ticks < 64) {
    const std::uint8_t op = in[0] % 8;
    const int arg = in[0] / 8;
    const std::uint32_t venue = in[1] % 6;
    const std::uint32_t ts = (std::uint32_t{in[2]} << 24) | (std::uint32_t{in[3]} << 16) |
                             (std::uint32_t{in[4]} << 8) | in[5];
    const auto seq = static_cast<std::uint16_t>((in[6] << 8) | in[7]);
    const std::size_t len = std::min<std::size_t>(in[8], in.size() - 9);
    const auto payload = in.subspan(9, len);
    in = in.subspan(9 + len);
    switch (op) {
      case 0:
      case 1:
      case 2:
      case 3:
        if (mixer.PushOpus(venue, ts, seq, payload,
                           now - std::chrono::milliseconds(20) +
                               std::chrono::milliseconds(2 * arg)) == PushResult::kMalformed)
          ++malformed;
        break;
      case 4: {
        const auto& t = mixer.Tick(now + std::chrono::milliseconds(arg == 31 ? 500 : arg));
        now += std::chrono::milliseconds(arg == 31 ? 520 : 20);
        ++ticks;
        if (t.speakers.size() > 2) std::abort();
        for (const auto& o : t.outputs)
          if (o.frame == nullptr) std::abort();
        break;
      }
      case 5:
        (void)mixer.AddVenue(venue);
        break;
      case 6:
        removed |= mixer.RemoveVenue(venue).ok();
        break;
      case 7:
        (void)mixer.SetMuted(venue, (seq & 1) != 0);
        break;
    }
  }
  const auto stats = mixer.Stats();
  if (stats.encoders != 3) std::abort();
  std::uint64_t counted = 0;
  for (const auto& v : stats.per_venue) {
    counted += v.malformed;
    if (v.delay_ticks < 0 || v.delay_ticks > (config.adaptive_delay ? config.max_delay_ticks
                                                                    : config.jitter_delay_ticks))
      std::abort();
  }
  // Every malformed push was counted on its venue (unless a removal took counts with it).
  if (!removed && counted < malformed) std::abort();
  return 0;
}
