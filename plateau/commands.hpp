// Each subcommand lives in its own file and registers itself here; main.cpp only lists them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace plateau::cli {

struct Command {
  CLI::App* app;             // the parsed subcommand
  std::function<int()> run;  // returns the process exit status
};

using Commands = std::vector<Command>;

// The `bench` parent command, created on first use; `bench audio`, `bench mix`, ... hang off it.
inline CLI::App* BenchCommand(CLI::App& root) {
  for (CLI::App* sub : root.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; }))
    return sub;
  auto* bench =
      root.add_subcommand("bench", "Benchmarks (each prints figures against a same-run baseline)");
  bench->require_subcommand(1);
  return bench;
}

void RegisterTopology(CLI::App& root, Commands& out);
void RegisterServe(CLI::App& root, Commands& out);
void RegisterVenueToken(CLI::App& root, Commands& out);  // plateau venue-token
void RegisterTerminal(CLI::App& root, Commands& out);    // plateau terminal
// Built only with -Dbench=true (PLATEAU_WITH_BENCH):
void RegisterBenchAudio(CLI::App& root, Commands& out);  // plateau bench audio
void RegisterBenchMix(CLI::App& root, Commands& out);    // plateau bench mix
void RegisterBenchSoak(CLI::App& root, Commands& out);   // plateau bench soak
// Later issues add: RegisterTerminal, RegisterBench, RegisterVenueToken, RegisterMcu.

}  // namespace plateau::cli
