#include "plateau/mcu/audio/tone.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace plateau::mcu::audio {
namespace {

constexpr double kFullScale = 32768.0;
constexpr double kFloorDbov = -127.0;

double PowerToDbov(double mean_square) {
  if (mean_square <= 0) return kFloorDbov;
  return std::max(kFloorDbov, 10.0 * std::log10(mean_square / (kFullScale * kFullScale)));
}

std::int16_t Saturate(double v) {
  return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

}  // namespace

double RmsDbov(std::span<const std::int16_t> pcm) {
  if (pcm.empty()) return kFloorDbov;
  double sum = 0;
  for (std::int16_t s : pcm) sum += static_cast<double>(s) * s;
  return PowerToDbov(sum / static_cast<double>(pcm.size()));
}

SineTone::SineTone(double frequency_hz, double level_dbov, int sample_rate)
    : frequency_(frequency_hz),
      amplitude_(std::min(32767.0, kFullScale * std::sqrt(2.0) * std::pow(10.0, level_dbov / 20))),
      step_(2 * std::numbers::pi * frequency_hz / sample_rate) {}

void SineTone::Fill(std::span<std::int16_t> out) {
  std::fill(out.begin(), out.end(), 0);
  Add(out);
}

void SineTone::Add(std::span<std::int16_t> out) {
  for (auto& s : out) {
    s = Saturate(s + amplitude_ * std::sin(phase_));
    phase_ += step_;
    if (phase_ > 2 * std::numbers::pi) phase_ -= 2 * std::numbers::pi;
  }
}

ToneDetector::ToneDetector(std::vector<double> frequencies_hz, int sample_rate)
    : frequencies_(std::move(frequencies_hz)), sample_rate_(sample_rate) {}

std::vector<ToneLevel> ToneDetector::Measure(std::span<const std::int16_t> pcm) const {
  std::vector<ToneLevel> out;
  out.reserve(frequencies_.size());
  for (double f : frequencies_) out.push_back({f, LevelDbov(pcm, f, sample_rate_)});
  return out;
}

// Goertzel on a Hann-windowed block. For a sine of amplitude A the windowed DFT magnitude at its
// frequency is A * N / 4 (the Hann window's mean is 1/2), so A = 4 |X| / N and RMS = A / sqrt(2).
double ToneDetector::LevelDbov(std::span<const std::int16_t> pcm, double frequency_hz,
                               int sample_rate) {
  const std::size_t n = pcm.size();
  if (n < 2 || sample_rate <= 0) return kFloorDbov;
  const double w = 2 * std::numbers::pi * frequency_hz / sample_rate;
  const double coeff = 2 * std::cos(w);
  const double win_step = 2 * std::numbers::pi / static_cast<double>(n - 1);
  double s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double hann = 0.5 - 0.5 * std::cos(win_step * static_cast<double>(i));
    const double s0 = pcm[i] * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = std::max(0.0, s1 * s1 + s2 * s2 - coeff * s1 * s2);
  const double amplitude = 4 * std::sqrt(power) / static_cast<double>(n);
  const double rms = amplitude / std::sqrt(2.0);
  return PowerToDbov(rms * rms);
}

}  // namespace plateau::mcu::audio
