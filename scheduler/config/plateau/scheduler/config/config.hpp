// Loading configs/*.toml into validated domain types. This is an edge: it reads a file, parses
// TOML and reports errors as "FILE:LINE: problem", so the domain never sees malformed input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/topology.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler::config {

struct ServerSettings {
  std::string listen = "127.0.0.1:8080";
  std::string timezone = "Asia/Shanghai";
  int utc_offset_minutes = 480;  // Asia/Shanghai has no DST
  std::string tls_cert;          // PEM paths; empty = self-signed into the data dir when needed
  std::string tls_key;
};

// A stream profile as configured (the scheduler turns it into its own Profile type).
struct ProfileSpec {
  std::string id;
  std::string name;
  int video_kbps = 0;
  int audio_kbps = 0;
  double overhead = 1.0;  // reservation factor over video + audio, >= 1: must cover the packets'
                          // headers (scheduler::Profile::media_kbps), or the config is refused
  int width = 0;          // the picture (output tier) its venues receive
  int height = 0;
  size_t line = 0;
};

struct Config {
  std::string source;  // file name as given
  ServerSettings server;
  scheduler::TopologySpec topology;
  std::vector<ProfileSpec> profiles;
  int default_usable_percent = 80;
};

// The error message names the file, the line where known, and the problem.
Result<Config> LoadFile(const std::string& path);
Result<Config> LoadString(std::string_view text, const std::string& source_name);

// Convenience: the validated Topology from a loaded Config (errors point at the config line).
Result<scheduler::Topology> BuildTopology(const Config& config);

// The scheduler's Network (validated topology plus profiles as scheduler::Profile).
Result<scheduler::Network> BuildNetwork(const Config& config);

}  // namespace plateau::scheduler::config
