// plateau: one binary, subcommands. Wiring only: every behaviour lives in a library.
#include <CLI/CLI.hpp>
#include <iostream>

#include "plateau/common/log.hpp"
#include "serve.hpp"
#include "topology_cmd.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Plateau: video-conferencing MCU and scheduling server for thin WAN links"};
  app.require_subcommand(1);
  app.set_version_flag("--version", PLATEAU_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();

  plateau::cli::TopologyOptions topo;
  auto* topology = app.add_subcommand("topology", "Print the network tree from a config file");
  topology->add_option("--config", topo.config, "Network config (TOML)")->required();
  topology->add_flag("--json", topo.json, "Print JSON instead of a tree");

  plateau::cli::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the all-in-one server");
  serve_cmd->add_option("--config", serve.config, "Network config (TOML)")->required();
  serve_cmd->add_option("--data", serve.data, "Data directory (SQLite and keys)")
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (default from the config)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  plateau::log::Level level;
  if (!plateau::log::ParseLevel(log_level, &level)) {
    std::cerr << "plateau: --log-level must be debug, info, warn or error\n";
    return 2;
  }
  plateau::log::SetLevel(level);

  if (*topology) return plateau::cli::RunTopology(topo);
  if (*serve_cmd) return plateau::cli::RunServe(serve);
  return 2;
}
