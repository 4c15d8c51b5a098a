#pragma once
#include <string>

namespace plateau::cli {

struct ServeOptions {
  std::string config;
  std::string data = "data";
  std::string listen;  // empty: [server].listen from the config
  std::string tls = "auto";  // auto | on | off (see signaling/tls.hpp)
  std::string web_root = PLATEAU_DEFAULT_WEB_ROOT;  // the console's static files
  std::string media_address = "127.0.0.1";  // where venues' SDES media is bound and announced
};

// Runs until SIGINT/SIGTERM. Exit status: 0 clean stop, 2 bad configuration, 1 start-up failure.
int RunServe(const ServeOptions& options);

}  // namespace plateau::cli
