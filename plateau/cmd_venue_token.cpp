// plateau venue-token VENUE --config FILE --data DIR: issues a venue's signaling token, prints it
// once on stdout and stores only its hash in DATA/plateau.db (a running server sees it at once;
// the previous token of the venue stops working).
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "load_config.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "serve.hpp"

namespace plateau::cli {
namespace {

struct VenueTokenOptions {
  std::string venue;
  std::string config;
  std::string data = "data";
};

int RunVenueToken(const VenueTokenOptions& options) {
  auto loaded = LoadCliConfig(options.config);
  if (!loaded) return 2;
  const scheduler::config::Config* config = &loaded->config;
  scheduler::Network* network = &loaded->network;
  const scheduler::Site* site = network->topology().FindSite(options.venue);
  if (!site || site->kind == scheduler::SiteKind::kHub) {
    std::cerr << "plateau: no venue \"" << options.venue << "\" in " << options.config << "\n";
    return 2;
  }
  if (auto st = PrepareDataDirectory(options.data); !st) {
    std::cerr << "plateau: " << options.data << ": " << st.error().message << "\n";
    return 1;
  }
  const std::string db_path = (std::filesystem::path(options.data) / "plateau.db").string();
  auto store = scheduler::store::SqliteBookingStore::Open(db_path);
  if (!store) {
    std::cerr << "plateau: " << store.error().message << "\n";
    return 1;
  }
  metrics::Registry unrendered;  // issuing a token counts nothing; the service needs a registry
  scheduler::app::BookingService service(
      *network, **store, SystemClock::Instance(), unrendered,
      scheduler::app::ServiceSettings{config->server.utc_offset_minutes, config->server.timezone});
  auto token = service.IssueVenueToken(options.venue);
  if (!token) {
    std::cerr << "plateau: " << token.error().message << "\n";
    return 1;
  }
  std::cout << *token << "\n";
  return 0;
}

}  // namespace

void RegisterVenueToken(CLI::App& root, Commands& out) {
  auto options = std::make_shared<VenueTokenOptions>();
  auto* cmd = root.add_subcommand(
      "venue-token", "Issue a venue's signaling token (printed once; replaces the previous one)");
  cmd->add_option("venue", options->venue, "Venue id, e.g. minhe")->required();
  cmd->add_option("--config", options->config, "Network config (TOML)")->required();
  cmd->add_option("--data", options->data, "Data directory (SQLite)")->capture_default_str();
  out.push_back({cmd, [options] { return RunVenueToken(*options); }});
}

}  // namespace plateau::cli
