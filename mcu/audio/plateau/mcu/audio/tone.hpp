// Test tones and their detection: a phase-continuous sine generator and a Goertzel tone detector.
// Used by the audio tests, `plateau bench audio`, the media tests and the reference terminal
// ("the spectrum of the audio"). Mono int16 PCM at any sample rate.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace plateau::mcu::audio {

// RMS level of a block in dBov (0 dBov = RMS of a full-scale square wave; a full-scale sine is
// about -3 dBov). Silence gives -127 (the RFC 6464 floor).
double RmsDbov(std::span<const std::int16_t> pcm);

// A sine of `frequency_hz` at an RMS level of `level_dbov` (so RmsDbov() of its output reads back
// `level_dbov`; at most -3 dBov, a full-scale sine). Phase continues across Fill()/Add() calls.
class SineTone {
 public:
  SineTone(double frequency_hz, double level_dbov, int sample_rate = 48000);
  void Fill(std::span<std::int16_t> out);  // overwrites `out`
  void Add(std::span<std::int16_t> out);   // adds (saturating) into `out`
  double frequency_hz() const { return frequency_; }

 private:
  double frequency_;
  double amplitude_;
  double phase_ = 0;
  double step_;
};

struct ToneLevel {
  double frequency_hz = 0;
  double level_dbov = -127;  // RMS level of that frequency component alone, dBov
};

// Goertzel detector for a fixed set of frequencies over blocks of PCM. Levels are per frequency,
// Hann-windowed so neighbouring tones (>= 100 Hz apart over >= 20 ms) do not leak into each other.
class ToneDetector {
 public:
  explicit ToneDetector(std::vector<double> frequencies_hz, int sample_rate = 48000);
  // Levels of each frequency over `pcm` (use >= 40 ms of audio for 100 Hz resolution).
  std::vector<ToneLevel> Measure(std::span<const std::int16_t> pcm) const;
  // Level of one frequency over `pcm`.
  static double LevelDbov(std::span<const std::int16_t> pcm, double frequency_hz,
                          int sample_rate = 48000);

 private:
  std::vector<double> frequencies_;
  int sample_rate_;
};

}  // namespace plateau::mcu::audio
