#pragma once
#include <string>

#include "plateau/common/result.hpp"

namespace plateau::cli {

struct ServeOptions {
  std::string config;
  std::string data = "data";
  std::string listen;                               // empty: [server].listen from the config
  std::string tls = "auto";                         // auto | on | off (see listener/tls.hpp)
  std::string web_root = PLATEAU_DEFAULT_WEB_ROOT;  // the console's static files
  std::string media_address = "127.0.0.1";  // where venues' SDES media is bound and announced
  // The listener (docs/architecture.md, "The listener").
  int threads = 2;                          // io threads of the listener (and the Switchboard)
  size_t max_connections = 1024;            // open connections in total
  size_t max_connections_per_address = 32;  // open connections from one remote IP address
  size_t max_body_mib_in_flight = 64;       // request bodies being received, all connections
  int hello_timeout_seconds = 10;           // a /ws connection without a successful hello: closed
};

// Creates the data directory 0700 (parents as the umask says), or tightens an existing one that
// group or others can read: it holds the meetings, the venue token hashes and the TLS key.
Status PrepareDataDirectory(const std::string& dir);

// Runs until SIGINT/SIGTERM. Exit status: 0 clean stop, 2 bad configuration, 1 start-up failure.
int RunServe(const ServeOptions& options);

}  // namespace plateau::cli
