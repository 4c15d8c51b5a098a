// Each subcommand lives in its own file and registers itself here; main.cpp only lists them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace plateau::cli {

struct Command {
  CLI::App* app;            // the parsed subcommand
  std::function<int()> run; // returns the process exit status
};

using Commands = std::vector<Command>;

void RegisterTopology(CLI::App& root, Commands& out);
void RegisterServe(CLI::App& root, Commands& out);
// Later issues add: RegisterTerminal, RegisterBench, RegisterVenueToken, RegisterMcu.

}  // namespace plateau::cli
