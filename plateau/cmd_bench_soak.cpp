// `plateau bench soak`: the `bench mix` conference held for a long time (an hour by default) with
// the process's resident memory sampled, so memory that grows with the length of a meeting shows
// up. Exit status 1 if the resident set grew by `--max-growth-mb` or more from the end of the
// warm-up to the end. Wiring only: the run is plateau::bench::RunMixSoak(); see docs/bench.md.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mix_bench.hpp"

namespace plateau::cli {
namespace {

struct BenchSoakOptions {
  bench::SoakOptions soak;
  double minutes = 60;
  bool json = false;
};

int RunBenchSoak(BenchSoakOptions options) {
  options.soak.seconds = options.minutes * 60;
  auto report = bench::RunMixSoak(options.soak, [](const bench::SoakSample& s) {
    // Progress on stderr: an hour is long to wait for one line.
    std::fprintf(stderr,
                 "soak: %7.0f s  rss %7.1f MB  heap %7.1f MB  cpu %.3f cores  fps_min %.2f%s\n",
                 s.seconds, s.rss_mb, s.heap_mb, s.cpu_cores, s.output_fps_min,
                 s.seconds == 0 ? "  (after warm-up)" : (s.realtime ? "" : "  NOT REAL TIME"));
  });
  if (!report) {
    std::cerr << "plateau: bench soak: " << report.error().message << "\n";
    return report.error().code == "bad_config" ? 2 : 1;
  }
  const auto& r = *report;
  if (options.json) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : r.samples)
      samples.push_back({{"seconds", s.seconds},
                         {"rss_mb", s.rss_mb},
                         {"heap_mb", s.heap_mb},
                         {"cpu_cores", s.cpu_cores},
                         {"output_fps_min", s.output_fps_min},
                         {"realtime", s.realtime}});
    nlohmann::json j = {{"venues", r.options.venues},
                        {"visible", r.options.visible},
                        {"warmup_seconds", r.options.warmup_seconds},
                        {"seconds", r.options.seconds},
                        {"warmup_rss_mb", r.warmup_rss_mb},
                        {"end_rss_mb", r.end_rss_mb},
                        {"growth_mb", r.growth_mb},
                        {"max_growth_mb", r.options.max_growth_mb},
                        {"warmup_heap_mb", r.warmup_heap_mb},
                        {"end_heap_mb", r.end_heap_mb},
                        {"passed", r.passed},
                        {"realtime", r.realtime},
                        {"samples", samples}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf(
        "%d venues, %d visible, %.0f s after a %.0f s warm-up\n"
        "resident memory after warm-up %.1f MB, at the end %.1f MB: growth %+.1f MB (limit %.1f "
        "MB): %s\n"
        "heap in use after warm-up %.1f MB, at the end %.1f MB; real time throughout: %s\n",
        r.options.venues, r.options.visible, r.options.seconds, r.options.warmup_seconds,
        r.warmup_rss_mb, r.end_rss_mb, r.growth_mb, r.options.max_growth_mb,
        r.passed ? "ok" : "GREW", r.warmup_heap_mb, r.end_heap_mb, r.realtime ? "yes" : "no");
  }
  return r.passed ? 0 : 1;
}

}  // namespace

void RegisterBenchSoak(CLI::App& root, Commands& out) {
  auto options = std::make_shared<BenchSoakOptions>();
  auto* cmd = BenchCommand(root)->add_subcommand(
      "soak", "The bench mix conference for an hour: resident memory must not grow");
  auto& s = options->soak;
  cmd->add_option("--venues", s.venues, "Venues in the conference")
      ->check(CLI::Range(4, 128))
      ->capture_default_str();
  cmd->add_option("--visible", s.visible, "Tiles on screen: 1, 2, 4, 6, 8, 9 or 16")
      ->check(CLI::IsMember({1, 2, 4, 6, 8, 9, 16}))
      ->capture_default_str();
  cmd->add_option("--minutes", options->minutes, "How long after the warm-up")
      ->check(CLI::Range(0.1, 7 * 24 * 60.0))
      ->capture_default_str();
  cmd->add_option("--warmup-seconds", s.warmup_seconds,
                  "Media time before the first sample (rings and pools fill up)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--sample-seconds", s.sample_seconds, "One progress sample per interval")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-growth-mb", s.max_growth_mb,
                  "Fail (exit 1) if the resident set grows by this much or more")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  cmd->add_option("--srtp", s.srtp, "The venues' SDES suite")
      ->transform(CLI::CheckedTransformer(std::map<std::string, mcu::transport::SrtpProfile>{
          {"AES_CM_128_HMAC_SHA1_80", mcu::transport::SrtpProfile::kAesCm128HmacSha1_80},
          {"AEAD_AES_128_GCM", mcu::transport::SrtpProfile::kAeadAes128Gcm}}))
      ->default_str("AES_CM_128_HMAC_SHA1_80");
  cmd->add_flag("--json", options->json, "Print JSON (progress stays on stderr)");
  out.push_back({cmd, [options] { return RunBenchSoak(*options); }});
}

}  // namespace plateau::cli
