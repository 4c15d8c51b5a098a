// `plateau bench mix`: the MCU engine (mcu::conference::Conference) mixing N venues over SRTP on
// loopback, against the stock way (every venue decoded, one encode per receiver) in the same run.
//
// Venues replay pre-encoded H.264 (1280x720 for venues on the 8 Mbit/s tier, 640x360 for the
// 2 Mbit/s tier) and Opus, generated in memory at the start; each venue is a terminal-side
// transport::VenueTransport with its own SRTP keys (SDES), sending to and receiving from the
// conference over 127.0.0.1. Measured:
//  - cpu_cores: the engine's CPU (process CPU minus the benchmark's own sender/receiver threads)
//    per second of wall time while the conference runs in real time;
//  - what the venues receive: video frames and audio packets per second (the slowest venue);
//  - latency the MCU adds (probe venues: a colour flip and a tone burst, timed from the packet
//    leaving the probe to the packet of the mixed output arriving at observer venues);
//  - the baseline (mix_baseline.hpp): CPU per second of media and the frame rate it reaches.
// See docs/bench.md for what each figure includes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cpu_meter.hpp"
#include "mix_baseline.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"

namespace plateau::bench {

struct MixBenchOptions {
  int venues = 65;
  int visible = 16;           // tiles of the layout: 1, 2, 4, 6, 8, 9 or 16
  double seconds = 10;        // the measured window (after the warm-up)
  double warmup_seconds = 2;  // after every venue receives media
  int probes = 20;            // latency probes (each: one colour flip and one tone burst)
  bool baseline = true;
  double baseline_seconds = 2;  // media seconds the baseline processes
  std::string baseline_decoder = "openh264dec";
  double clip_seconds = 4;  // length of each pre-encoded clip (looped)
  // A fixed audio playout delay (MixerConfig::jitter_delay_ticks, adaptive_delay off); unset =
  // the engine's default (adaptive).
  std::optional<int> audio_jitter_ticks;
  // The video mixer's per-slot jitter buffer (VideoMixerConfig::jitter_latency_ms); unset =
  // default.
  std::optional<int> video_jitter_ms;
  // The SDES suite every venue uses, both ways (AES_CM_128_HMAC_SHA1_80: the one every SDES
  // terminal has; AEAD_AES_128_GCM: what Plateau's own terminal offers first).
  mcu::transport::SrtpProfile srtp = mcu::transport::SrtpProfile::kAesCm128HmacSha1_80;
};

struct LatencyFigures {
  size_t samples = 0;
  size_t expected = 0;  // probes x observers
  double p50_ms = 0;
  double p95_ms = 0;
  double max_ms = 0;
  double first_ms = -1;  // the first probe (the audio probe venue was not yet a speaker)
};

struct TierFigures {
  std::string name;
  int width = 0;
  int height = 0;
  int bitrate_kbps = 0;
  size_t receivers = 0;
  double encoded_fps = 0;       // the tier encoder's frames per second in the window
  double received_fps_min = 0;  // the slowest receiving venue of this tier
};

struct MixBenchReport {
  MixBenchOptions options;
  double window_seconds = 0;
  // 1-minute load average of the machine before and after the window (others' work competes for
  // the same cores: real time and latency suffer from it, CPU figures much less).
  double load_before = 0;
  double load_after = 0;
  // The engine.
  double cpu_cores = 0;             // process minus the benchmark's venue threads
  double process_cpu_cores = 0;     // everything in the process
  double venue_side_cpu_cores = 0;  // the benchmark's senders and receivers
  double output_fps_min = 0;        // slowest venue: video frames received / window
  double output_fps_min_1s = 0;     // slowest venue in its worst whole second
  double audio_pps_min = 0;         // slowest venue: audio packets received / window
  bool realtime = false;  // output_fps_min >= 29, output_fps_min_1s >= 27, audio_pps_min >= 48
  size_t decoders = 0;
  size_t encoders = 0;  // video encoders (one per tier)
  size_t audio_encoders = 0;
  size_t inputs_720p = 0;
  size_t inputs_360p = 0;
  uint64_t dropped_packets = 0;  // input the engine never mixed (SRTP, malformed ...)
  std::vector<TierFigures> tiers;
  LatencyFigures audio_latency;
  LatencyFigures video_latency;
  std::vector<ThreadGroupCost> profile;  // the engine's threads by name, most expensive first
  // The stock way.
  std::optional<BaselineFigures> baseline;
  double ratio = 0;  // baseline cpu_cores / cpu_cores
};

// Errors: "bad_config", "gstreamer", "setup" (a venue could not join), "no_media" (venues
// received nothing within the warm-up deadline).
Result<MixBenchReport> RunMixBench(const MixBenchOptions& options);

// `plateau bench soak`: the same conference as `bench mix` (no baseline, no latency probes) held
// for a long time, with the process's resident memory sampled: a meeting of hours must not grow.
struct SoakOptions {
  int venues = 65;
  int visible = 16;
  double warmup_seconds = 120;  // after every venue receives media: rings and pools fill up
  double seconds = 3600;        // after the warm-up
  double sample_seconds = 60;   // one sample (RSS, heap, CPU, fps) per interval
  double max_growth_mb = 5;     // growth from the end of the warm-up to the end: pass below this
  double clip_seconds = 4;
  mcu::transport::SrtpProfile srtp = mcu::transport::SrtpProfile::kAesCm128HmacSha1_80;
};

struct SoakSample {
  double seconds = 0;         // since the end of the warm-up
  double rss_mb = 0;          // VmRSS of the process
  double heap_mb = 0;         // malloc'd and not freed (glibc mallinfo2, every arena)
  double cpu_cores = 0;       // the engine, over the interval (as in bench mix)
  double output_fps_min = 0;  // slowest venue over the interval
  bool realtime = false;      // as in bench mix, over the interval
};

struct SoakReport {
  SoakOptions options;
  double warmup_rss_mb = 0;  // at the end of the warm-up
  double warmup_heap_mb = 0;
  double end_rss_mb = 0;
  double end_heap_mb = 0;
  double growth_mb = 0;   // end_rss_mb - warmup_rss_mb
  bool passed = false;    // growth_mb < max_growth_mb
  bool realtime = false;  // every interval was
  std::vector<SoakSample> samples;
};

// Calls `on_sample` after the warm-up and after each interval (progress for a long run).
Result<SoakReport> RunMixSoak(const SoakOptions& options,
                              const std::function<void(const SoakSample&)>& on_sample = {});

// The process's resident set (VmRSS) and malloc'd bytes in use, in MB.
double ResidentMb();
double HeapInUseMb();

}  // namespace plateau::bench
