// plateau: one binary, subcommands. Wiring only: every behaviour lives in a library.
#include <iostream>

#include "commands.hpp"
#include "plateau/common/log.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Plateau: video-conferencing MCU and scheduling server for thin WAN links"};
  app.require_subcommand(1);
  app.set_version_flag("--version", PLATEAU_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();

  plateau::cli::Commands commands;
  plateau::cli::RegisterTopology(app, commands);
  plateau::cli::RegisterServe(app, commands);
  plateau::cli::RegisterVenueToken(app, commands);
  plateau::cli::RegisterTerminal(app, commands);
#ifdef PLATEAU_WITH_BENCH  // meson -Dbench=true (the default)
  plateau::cli::RegisterBenchAudio(app, commands);
  plateau::cli::RegisterBenchMix(app, commands);
  plateau::cli::RegisterBenchSoak(app, commands);
#endif

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
  for (auto& c : commands)
    if (c.app->parsed()) return c.run();
  return 2;
}
