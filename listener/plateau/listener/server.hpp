// The one listener: Boost.Beast HTTP/1.1 and WebSocket on a single port, plain (loopback only) or
// TLS (https and wss on the same port). One session object per connection, kept alive by its
// pending handlers, with a strand each; explicit limits on header and body size, idle time,
// WebSocket message size and outbound queue. An HTTP request with `Upgrade: websocket` on a path
// with a registered WebSocketEndpoint hands its stream to a WebSocket session.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/listener/http.hpp"
#include "plateau/listener/websocket.hpp"

namespace plateau::listener {

// Defaults are what `plateau serve` uses; its options override the connection and body budgets
// (docs/architecture.md, "The listener"). Refused connections are closed at once and counted in
// plateau_http_connections_refused_total{reason}.
struct ServerLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;  // the REST API's 1 MiB: larger is 400 body_too_large
  int idle_timeout_seconds = 30;
  size_t max_connections = 1024;  // open connections in total (HTTP, WebSocket, TLS handshakes)
  // Open connections from one remote IP address, so one client cannot take every slot.
  size_t max_connections_per_address = 32;
  // Request bodies being received or handled, summed over all connections (each counted at its
  // Content-Length, a chunked one at max_body_bytes, from its header on): beyond, 503 busy with
  // Retry-After before the body is read.
  size_t max_body_bytes_in_flight = 64 * 1024 * 1024;
  int tls_handshake_timeout_seconds = 10;
  // WebSocket
  size_t ws_max_message_bytes = 64 * 1024;       // larger: close 1009 with a reason
  size_t ws_max_queued_messages = 1024;          // outbound, per connection: beyond, the connection
  size_t ws_max_queued_bytes = 8 * 1024 * 1024;  // is cut (a client that does not read)
  int ws_handshake_timeout_seconds = 10;
  // Transport backstop (WebSocket ping frames); the endpoint's own heartbeat closes idle venues
  // much sooner.
  int ws_idle_timeout_seconds = 120;
};

class HttpServer {
 public:
  // `router` and `metrics` (where requests, refusals and transport closes are counted) must
  // outlive the server.
  HttpServer(boost::asio::io_context& io, const Router& router, metrics::Registry& metrics,
             ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serve TLS (https/wss) with these PEM files; call before Listen. Errors name the file.
  Status EnableTls(const std::string& cert_file, const std::string& key_file);
  bool tls() const;
  // WebSocket upgrades on `path` go to `endpoint` (call before Listen). Other paths refuse them.
  void SetWebSocketEndpoint(const std::string& path, std::shared_ptr<WebSocketEndpoint> endpoint);

  // Binds and starts accepting. `listen` is "host:port" (port 0 picks a free one). Without TLS
  // only a loopback host is accepted (error "plain_not_loopback"). With TLS, each connection is
  // sniffed: a TLS ClientHello gets https/wss, plain HTTP gets 400 https_required.
  Status Listen(const std::string& listen);
  // The bound port (after Listen).
  uint16_t port() const;
  // Stops accepting and closes every open connection; safe to call from any thread.
  void Stop();

  struct State;  // shared with the connection sessions; defined in server.cpp

 private:
  std::shared_ptr<State> state_;
};

// Calls `tick` every `interval` on the io_context until Stop() or destruction.
class PeriodicTimer {
 public:
  PeriodicTimer(boost::asio::io_context& io, std::chrono::milliseconds interval,
                std::function<void()> tick);
  ~PeriodicTimer();
  PeriodicTimer(const PeriodicTimer&) = delete;
  PeriodicTimer& operator=(const PeriodicTimer&) = delete;
  void Stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Splits "host:port" / "[v6]:port". False when malformed.
bool SplitHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace plateau::listener
