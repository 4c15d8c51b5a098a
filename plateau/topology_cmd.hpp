#pragma once
#include <string>

namespace plateau::cli {

struct TopologyOptions {
  std::string config;
  bool json = false;
};

// Exit status: 0 ok, 2 bad configuration (message on stderr names file, line and problem).
int RunTopology(const TopologyOptions& options);

}  // namespace plateau::cli
