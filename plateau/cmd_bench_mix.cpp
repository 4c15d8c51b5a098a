// `plateau bench mix`: the MCU engine mixing N venues over SRTP on loopback against the stock way
// (decode every venue, one compositor, one encode per receiver) in the same run. Wiring only: the
// measurement is plateau::bench::RunMixBench() (bench/mcu/mix_bench.hpp); see docs/bench.md.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mix_bench.hpp"

namespace plateau::cli {
namespace {

struct BenchMixOptions {
  bench::MixBenchOptions bench;
  bool json = false;
};

nlohmann::json LatencyJson(const bench::LatencyFigures& f) {
  return {{"p50", f.p50_ms},     {"p95", f.p95_ms},      {"max", f.max_ms},
          {"first", f.first_ms}, {"samples", f.samples}, {"expected", f.expected}};
}

nlohmann::json ReportJson(const bench::MixBenchReport& r) {
  nlohmann::json tiers = nlohmann::json::array();
  for (const auto& t : r.tiers)
    tiers.push_back({{"name", t.name},
                     {"width", t.width},
                     {"height", t.height},
                     {"bitrate_kbps", t.bitrate_kbps},
                     {"receivers", t.receivers},
                     {"encoded_fps", t.encoded_fps},
                     {"received_fps_min", t.received_fps_min}});
  nlohmann::json profile = nlohmann::json::array();
  for (const auto& p : r.profile)
    profile.push_back({{"threads", p.group}, {"count", p.threads}, {"cores", p.cores}});
  nlohmann::json j = {
      {"venues", r.options.venues},
      {"srtp", std::string(mcu::transport::ToString(r.options.srtp))},
      {"visible", r.options.visible},
      {"seconds", r.window_seconds},
      {"load_average", {r.load_before, r.load_after}},
      {"cpu_cores", r.cpu_cores},
      {"output_fps_min", r.output_fps_min},
      {"realtime", r.realtime},
      {"decoders", r.decoders},
      {"encoders", r.encoders},
      {"baseline_cpu_cores", r.baseline ? nlohmann::json(r.baseline->cpu_cores) : nullptr},
      {"latency_ms",
       {{"audio_p95", r.audio_latency.p95_ms},
        {"video_p95", r.video_latency.p95_ms},
        {"audio", LatencyJson(r.audio_latency)},
        {"video", LatencyJson(r.video_latency)}}},
      {"ratio", r.baseline ? nlohmann::json(r.ratio) : nullptr},
      {"process_cpu_cores", r.process_cpu_cores},
      {"venue_side_cpu_cores", r.venue_side_cpu_cores},
      {"output_fps_min_1s", r.output_fps_min_1s},
      {"audio_pps_min", r.audio_pps_min},
      {"audio_encoders", r.audio_encoders},
      {"inputs", {{"1280x720", r.inputs_720p}, {"640x360", r.inputs_360p}}},
      {"dropped_packets", r.dropped_packets},
      {"tiers", tiers},
      {"profile", profile},
  };
  if (r.baseline) {
    const auto& b = *r.baseline;
    j["baseline_output_fps"] = b.fps_reached;
    j["baseline_realtime"] = b.realtime;
    j["baseline"] = {{"cpu_cores", b.cpu_cores},
                     {"process_cores", b.process_cores},
                     {"fps_reached", b.fps_reached},
                     {"realtime", b.realtime},
                     {"media_seconds", b.media_seconds},
                     {"wall_seconds", b.wall_seconds},
                     {"cpu_seconds", b.cpu_seconds},
                     {"completed", b.completed},
                     {"video_decoders", b.video_decoders},
                     {"audio_decoders", b.audio_decoders},
                     {"video_encoders", b.video_encoders},
                     {"audio_encoders", b.audio_encoders},
                     {"decoder", r.options.baseline_decoder}};
  }
  return j;
}

int RunBenchMix(const BenchMixOptions& options) {
  auto report = bench::RunMixBench(options.bench);
  if (!report) {
    std::cerr << "plateau: bench mix: " << report.error().message << "\n";
    return report.error().code == "bad_config" ? 2 : 1;
  }
  const auto& r = *report;
  if (options.json) {
    std::cout << ReportJson(r).dump(2) << "\n";
    return 0;
  }
  std::cout << r.options.venues << " venues, " << r.options.visible << " visible, " << r.encoders
            << " tiers, " << r.window_seconds << " s measured\n"
            << "MCU: " << r.cpu_cores << " cores, output " << r.output_fps_min
            << " fps (slowest venue), realtime " << (r.realtime ? "yes" : "no") << ", "
            << r.decoders << " video decoders\n"
            << "added latency p95: audio " << r.audio_latency.p95_ms << " ms, video "
            << r.video_latency.p95_ms << " ms\n";
  if (r.baseline)
    std::cout << "baseline (decode all, encode per receiver): " << r.baseline->cpu_cores
              << " cores per second of media, " << r.baseline->fps_reached << " fps reached\n"
              << "baseline / MCU: " << r.ratio << "x\n";
  return 0;
}

}  // namespace

void RegisterBenchMix(CLI::App& root, Commands& out) {
  auto options = std::make_shared<BenchMixOptions>();
  auto* cmd = BenchCommand(root)->add_subcommand(
      "mix", "The MCU mixing N venues over SRTP against decode-all + encode-per-receiver");
  auto& b = options->bench;
  cmd->add_option("--venues", b.venues, "Venues in the conference (0-3 are latency probes)")
      ->check(CLI::Range(4, 128))
      ->capture_default_str();
  cmd->add_option("--visible", b.visible, "Tiles on screen: 1, 2, 4, 6, 8, 9 or 16")
      ->check(CLI::IsMember({1, 2, 4, 6, 8, 9, 16}))
      ->capture_default_str();
  cmd->add_option("--seconds", b.seconds, "Measured window (after the warm-up)")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--probes", b.probes, "Latency probes (colour flips and tone bursts)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--baseline-seconds", b.baseline_seconds,
                  "Seconds of media the baseline processes")
      ->check(CLI::Range(0.5, 600.0))
      ->capture_default_str();
  cmd->add_option("--baseline-decoder", b.baseline_decoder, "openh264dec or avdec_h264")
      ->check(CLI::IsMember({"openh264dec", "avdec_h264"}))
      ->capture_default_str();
  cmd->add_option("--audio-jitter-ticks", b.audio_jitter_ticks,
                  "A fixed audio playout delay in 20 ms ticks (default: the engine's adaptive one)")
      ->check(CLI::Range(0, 25));
  cmd->add_option("--video-jitter-ms", b.video_jitter_ms,
                  "The video mixer's jitter buffer per decode slot (default: the engine's)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--srtp", b.srtp, "The venues' SDES suite")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, mcu::transport::SrtpProfile>{
              {"AES_CM_128_HMAC_SHA1_80", mcu::transport::SrtpProfile::kAesCm128HmacSha1_80},
              {"AEAD_AES_128_GCM", mcu::transport::SrtpProfile::kAeadAes128Gcm}}))
      ->default_str("AES_CM_128_HMAC_SHA1_80");
  cmd->add_flag("!--no-baseline", b.baseline, "Skip the baseline");
  cmd->add_flag("--json", options->json, "Print JSON");
  out.push_back({cmd, [options] { return RunBenchMix(*options); }});
}

}  // namespace plateau::cli
