// The one listener: Boost.Beast HTTP/1.1 on a single port (WebSocket upgrades join it with the
// signaling issue). One Session object per connection, kept alive by its pending handlers, with a
// strand each; explicit limits on header and body size, idle time and pipelining.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "plateau/common/result.hpp"
#include "plateau/signaling/http.hpp"

namespace plateau::signaling {

struct ServerLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;  // the REST API's 1 MiB
  int idle_timeout_seconds = 30;
  size_t max_connections = 1024;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const Router& router, ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. `listen` is "host:port" (port 0 picks a free one).
  Status Listen(const std::string& listen);
  // The bound port (after Listen).
  uint16_t port() const;
  // Stops accepting and closes every open connection; safe to call from any thread.
  void Stop();

  struct State;  // shared with the connection sessions; defined in server.cpp

 private:
  std::shared_ptr<State> state_;
};

// Splits "host:port" / "[v6]:port". False when malformed.
bool SplitHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace plateau::signaling
