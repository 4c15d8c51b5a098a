#include "topology_cmd.hpp"

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "load_config.hpp"
#include "plateau/scheduler/app/topology_json.hpp"
#include "plateau/scheduler/config/config.hpp"

namespace plateau::cli {

int RunTopology(const TopologyOptions& options) {
  auto loaded = LoadCliConfig(options.config);
  if (!loaded) return 2;
  const scheduler::Topology* topology = &loaded->network.topology();
  if (options.json)
    std::cout << scheduler::app::TopologyToJson(*topology).dump(2) << "\n";
  else
    std::cout << scheduler::app::TopologyToText(*topology);
  return 0;
}

void RegisterTopology(CLI::App& root, Commands& out) {
  auto options = std::make_shared<TopologyOptions>();
  auto* cmd = root.add_subcommand("topology", "Print the network tree from a config file");
  cmd->add_option("--config", options->config, "Network config (TOML)")->required();
  cmd->add_flag("--json", options->json, "Print JSON instead of a tree");
  out.push_back({cmd, [options] { return RunTopology(*options); }});
}

}  // namespace plateau::cli
