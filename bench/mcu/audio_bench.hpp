// The audio benchmark behind `plateau bench audio`: N venues replay pre-encoded, speech-like Opus
// (generated here: syllable-shaped voiced bursts for a few loud talkers, room noise for the rest)
// through the MixMinusMixer (K speakers, K + 1 encoders) and, in the same run and on the same
// packets, through the baseline: decode every venue, mix everyone, and give every venue its own
// mix-minus encode (N encoders, what one encoder per receiver costs). Runs as fast as it can on the
// calling thread and reports CPU seconds per second of audio (cores) for both.
#pragma once

#include <cstdint>

#include "plateau/common/result.hpp"

namespace plateau::mcu::audio {

struct AudioBenchOptions {
  int venues = 65;
  int speakers = 3;     // K
  int loud_venues = 5;  // venues that talk; the rest send room noise below the voice threshold
  double seconds = 10;  // seconds of audio pushed through each pipeline
  int bitrate_bps = 32000;
  int complexity = 5;
};

struct AudioPipelineFigures {
  double cpu_seconds = 0;
  double wall_seconds = 0;
  double cpu_cores = 0;  // cpu_seconds / seconds of audio
  std::size_t encoders = 0;
  std::size_t decoders = 0;
  std::uint64_t encodes = 0;
  std::uint64_t decoded_frames = 0;
};

struct AudioBenchReport {
  AudioBenchOptions options;
  double audio_seconds = 0;
  std::uint64_t ticks = 0;
  AudioPipelineFigures mix_minus;
  AudioPipelineFigures baseline;
  std::uint64_t speaker_changes = 0;  // in the mix-minus run
  double cpu_ratio = 0;               // baseline cpu / mix-minus cpu
};

Result<AudioBenchReport> RunAudioBench(const AudioBenchOptions& options);

}  // namespace plateau::mcu::audio
