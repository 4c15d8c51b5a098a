#include "load_config.hpp"

#include <iostream>

namespace plateau::cli {

std::optional<CliConfig> LoadCliConfig(const std::string& path) {
  auto config = scheduler::config::LoadFile(path);
  if (!config) {
    std::cerr << "plateau: " << config.error().message << "\n";
    return std::nullopt;
  }
  auto network = scheduler::config::BuildNetwork(*config);
  if (!network) {
    std::cerr << "plateau: " << path << ": " << network.error().message << "\n";
    return std::nullopt;
  }
  return CliConfig{std::move(config).value(), std::move(network).value()};
}

}  // namespace plateau::cli
