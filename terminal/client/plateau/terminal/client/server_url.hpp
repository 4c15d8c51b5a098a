// Where a terminal finds the signaling server: "ws://127.0.0.1:8080/ws", "wss://hub.example:443",
// "https://10.1.2.3:8443" (http/https are taken as ws/wss), IPv6 literals in brackets. A URL
// without a path gets "/ws"; without a port 80 (ws) or 443 (wss). Parsed from the command line, so
// it is an edge: every part is checked and a bad URL is an error naming the problem (fuzzed in
// fuzz/signaling, target terminal_args).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/common/result.hpp"

namespace plateau::terminal::client {

inline constexpr size_t kMaxServerUrlChars = 2048;

struct ServerUrl {
  bool tls = false;    // wss (TLS) or ws
  std::string host;    // name or IP literal, without brackets
  uint16_t port = 0;   // never 0 after parsing
  std::string target;  // path (and query), starts with '/'
  bool operator==(const ServerUrl&) const = default;
};

// Error code "bad_url"; the message says what is wrong ("unsupported scheme \"ftp\"", ...).
Result<ServerUrl> ParseServerUrl(std::string_view text);

// "wss://[::1]:8443/ws" (brackets for IPv6 literals).
std::string FormatServerUrl(const ServerUrl& url);

}  // namespace plateau::terminal::client
