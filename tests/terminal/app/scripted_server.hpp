// A WebSocket server that plays a script instead of Plateau's protocol: for the terminal's handling
// of a server that sends garbage, oversized frames or unexpected messages. Real sockets and a real
// RFC 6455 implementation (Beast), one connection at a time on 127.0.0.1.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plateau::testing {

struct ScriptedReply {
  std::string text;
  bool binary = false;  // send as a binary frame
  bool cut = false;     // cut the TCP connection (no close frame) instead of sending
};

class ScriptedWsServer {
 public:
  // `script(connection, message)` returns what to send after receiving `message` (the text of
  // each client frame); connection counts from 1.
  using Script = std::function<std::vector<ScriptedReply>(int connection, const std::string&)>;
  explicit ScriptedWsServer(Script script);
  ~ScriptedWsServer();
  ScriptedWsServer(const ScriptedWsServer&) = delete;
  ScriptedWsServer& operator=(const ScriptedWsServer&) = delete;

  int port() const { return port_; }
  // Every client message so far, as {connection, text}.
  std::vector<std::pair<int, std::string>> received() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace plateau::testing
