// The WebSocket side of the one listener, as the application sees it: a connection is a
// WebSocketPeer (send text, close with a reason), and an endpoint receives its events. Beast stays
// in server.cpp; the Switchboard implements WebSocketEndpoint for /ws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace plateau::listener {

// WebSocket close codes used by Plateau (RFC 6455 section 7.4.1).
enum class CloseCode : uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,    // idle timeout, server stopping
  kUnsupported = 1003,  // binary message on a text protocol
  kPolicy = 1008,       // unauthorized, rate limit, replaced by a newer connection
  kTooBig = 1009,       // message over the size limit
  kTryAgain = 1013,     // outbound queue overflow (the client does not read)
};

// One live connection. Both calls are non-blocking and thread-safe: they post onto the
// connection's strand.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  // Queues one text message (dropped once the connection is closing).
  virtual void Send(std::string text) = 0;
  // Sends what is queued, then closes with this code and reason (cut to 123 bytes).
  virtual void Close(CloseCode code, std::string reason) = 0;
  // "ip:port" of the client.
  virtual std::string remote() const = 0;
};

// Events of the connections on one path. Calls for one connection come from its strand, in order:
// OnOpen, OnText*, OnClose (exactly once, also when the server closed it).
class WebSocketEndpoint {
 public:
  virtual ~WebSocketEndpoint() = default;
  virtual void OnOpen(const std::shared_ptr<WebSocketPeer>& peer) = 0;
  virtual void OnText(const std::shared_ptr<WebSocketPeer>& peer, std::string_view text) = 0;
  virtual void OnClose(const std::shared_ptr<WebSocketPeer>& peer) = 0;
};

}  // namespace plateau::listener
