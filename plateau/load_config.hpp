// The configuration as every subcommand that reads one needs it: the file loaded and checked, and
// the network (topology + profiles) built from it. Problems are printed as "plateau: ..." once,
// here, so each subcommand only has to exit with status 2.
#pragma once

#include <optional>
#include <string>

#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/network.hpp"

namespace plateau::cli {

struct CliConfig {
  scheduler::config::Config config;
  scheduler::Network network;  // network.topology() is the checked tree
};

std::optional<CliConfig> LoadCliConfig(const std::string& path);

}  // namespace plateau::cli
