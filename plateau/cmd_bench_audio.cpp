// `plateau bench audio`: the mix-minus mixer (K + 1 encoders) against one encode per venue, on the
// same pre-encoded packets in the same run. Wiring only: the measurement is RunAudioBench().
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "audio_bench.hpp"
#include "commands.hpp"

namespace plateau::cli {
namespace {

struct BenchAudioOptions {
  mcu::audio::AudioBenchOptions bench;
  bool json = false;
};

nlohmann::json FiguresJson(const mcu::audio::AudioPipelineFigures& f) {
  return {{"cpu_cores", f.cpu_cores},
          {"cpu_seconds", f.cpu_seconds},
          {"wall_seconds", f.wall_seconds},
          {"encoders", f.encoders},
          {"decoders", f.decoders},
          {"encodes", f.encodes},
          {"decoded_frames", f.decoded_frames}};
}

int RunBenchAudio(const BenchAudioOptions& options) {
  auto report = mcu::audio::RunAudioBench(options.bench);
  if (!report) {
    std::cerr << "plateau: bench audio: " << report.error().message << "\n";
    return 2;
  }
  const auto& r = *report;
  const double encoder_ratio = r.mix_minus.encoders > 0
                                   ? static_cast<double>(r.baseline.encoders) / r.mix_minus.encoders
                                   : 0;
  if (options.json) {
    nlohmann::json j = {
        {"venues", r.options.venues},
        {"speakers", r.options.speakers},
        {"loud_venues", r.options.loud_venues},
        {"audio_seconds", r.audio_seconds},
        {"bitrate_bps", r.options.bitrate_bps},
        {"complexity", r.options.complexity},
        {"mix_minus", FiguresJson(r.mix_minus)},
        {"baseline", FiguresJson(r.baseline)},
        {"cpu_cores", r.mix_minus.cpu_cores},
        {"baseline_cpu_cores", r.baseline.cpu_cores},
        {"encoders", r.mix_minus.encoders},
        {"baseline_encoders", r.baseline.encoders},
        {"cpu_ratio", r.cpu_ratio},
        {"encoder_ratio", encoder_ratio},
        {"speaker_changes", r.speaker_changes},
    };
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "venues " << r.options.venues << ", K " << r.options.speakers << ", "
              << r.audio_seconds << " s of audio\n"
              << "mix-minus: " << r.mix_minus.cpu_cores << " cores, " << r.mix_minus.encoders
              << " encoders\n"
              << "baseline (one encode per venue): " << r.baseline.cpu_cores << " cores, "
              << r.baseline.encoders << " encoders\n"
              << "baseline / mix-minus CPU: " << r.cpu_ratio << "x\n";
  }
  return 0;
}

}  // namespace

void RegisterBenchAudio(CLI::App& root, Commands& out) {
  auto options = std::make_shared<BenchAudioOptions>();
  auto* cmd = BenchCommand(root)->add_subcommand(
      "audio", "Mix-minus audio (K speakers, K+1 encoders) against one encode per venue");
  cmd->add_option("--venues", options->bench.venues, "Venues in the conference")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--speakers", options->bench.speakers, "K: speakers mixed")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--loud", options->bench.loud_venues,
                  "Venues that talk (the rest send room noise)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--seconds", options->bench.seconds, "Seconds of audio through each pipeline")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--bitrate", options->bench.bitrate_bps, "Opus bit/s per encoded stream")
      ->check(CLI::Range(6000, 256000))
      ->capture_default_str();
  cmd->add_option("--complexity", options->bench.complexity, "Opus encoder complexity")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "Print JSON");
  out.push_back({cmd, [options] { return RunBenchAudio(*options); }});
}

}  // namespace plateau::cli
