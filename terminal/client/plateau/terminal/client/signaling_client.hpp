// The venue side of signaling protocol v1 (docs/signaling.md): a WebSocket client over Boost.Beast,
// plain (ws) or TLS (wss), that registers a venue with its token, keeps the connection alive with
// heartbeats, and, when the TCP connection drops, reconnects and resumes the venue's session with
// the single-use resume token from the last `registered`.
//
// What it handles itself: the handshake, `hello` (and its refusal), `ping`/`pong` (both ways, with
// a watchdog: nothing heard for 3 heartbeats = the connection is dead), reconnection with backoff
// within the resume window, and the server's garbage (a message that does not parse is counted,
// logged and skipped; before `registered` it means "this is not a Plateau server" and is fatal).
// Everything else the server says is handed to on_message, already parsed and validated.
//
// Threading: the client lives on the io_context given to Create(), which must be run by ONE thread
// (many clients may share it: the load test runs 65 on one thread). Callbacks run on that thread.
// Start(), Send(), Close() and Stats() are safe from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "plateau/common/result.hpp"
#include "plateau/signaling/protocol.hpp"
#include "plateau/terminal/client/server_url.hpp"

namespace plateau::terminal::client {

struct TlsOptions {
  // Accept any certificate (a lab server with a self-signed certificate you have not copied).
  bool insecure = false;
  // Trust exactly the certificates in this PEM file (e.g. the server's DATA/tls/cert.pem); empty =
  // the system's trust store. The host name is verified against the certificate either way.
  std::string ca_file;
};

struct SignalingClientConfig {
  ServerUrl url;
  std::string venue;
  std::string token;
  std::string client_name = "plateau-terminal/" PLATEAU_VERSION;
  TlsOptions tls;
  // One attempt (resolve + TCP + TLS + WebSocket handshake) may take this long.
  std::chrono::milliseconds connect_timeout{10000};
  // After a drop: reconnect and resume. Attempts back off from min_backoff to max_backoff and stop
  // when the drop is older than resume_window (the server holds a seat for 30 s).
  bool reconnect = true;
  std::chrono::milliseconds resume_window{30000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{1000};
  // Before the server announces its own (`registered.heartbeat_ms`).
  std::chrono::milliseconds default_heartbeat{10000};
};

struct SignalingClientStats {
  uint64_t connects = 0;       // WebSocket handshakes completed
  uint64_t registrations = 0;  // `registered` received
  uint64_t resumes = 0;        // ... of which resumed the session
  uint64_t drops = 0;          // connections lost (cut, reset, idle, server close)
  uint64_t messages_in = 0;    // valid server messages
  uint64_t messages_out = 0;
  uint64_t bad_messages = 0;     // server messages that did not parse (skipped)
  uint64_t send_dropped = 0;     // Send() while not connected, or the queue full
  double rtt_ms = -1;            // last ping -> pong round trip
  bool connected = false;        // registered on a live connection now
  std::string last_bad_message;  // why the last bad message was refused
};

struct SignalingClientCallbacks {
  // Every valid server message except ping/pong, in order (including `registered`).
  std::function<void(const signaling::protocol::ServerMessage& message)> on_message;
  // The connection dropped; the client reconnects and resumes (a new `registered` follows).
  std::function<void(const Error& why)> on_disconnected;
  // The client stopped for good: cannot connect, TLS refused, hello refused (the server's code:
  // "unauthorized", ...), the server closed with a policy reason, the resume window passed, or
  // Close(). Called exactly once.
  std::function<void(const Error& why)> on_closed;
};

class SignalingClient {
 public:
  // Errors: "bad_config" (no venue or token), "tls_ca" (the CA file cannot be loaded).
  static Result<std::shared_ptr<SignalingClient>> Create(boost::asio::io_context& io,
                                                         SignalingClientConfig config,
                                                         SignalingClientCallbacks callbacks);
  ~SignalingClient();
  SignalingClient(const SignalingClient&) = delete;
  SignalingClient& operator=(const SignalingClient&) = delete;

  // Connects and says hello. Any thread, once.
  void Start();
  // Sends a message on the current connection (dropped and counted when not registered). `id` is
  // echoed by the server as `ref`. Any thread.
  void Send(signaling::protocol::ClientBody body, nlohmann::json id = nullptr);
  // Closes the connection (WebSocket close 1000) and stops; on_closed("closed") follows unless the
  // client had already stopped. Any thread. The destructor does it too; destroy the client on the
  // io thread or after the io_context stopped, so that no callback runs after the destructor.
  void Close();

  SignalingClientStats Stats() const;
  // Local address of the current (or last) TCP connection: where the server can reach us.
  std::optional<boost::asio::ip::address> local_address() const;
  // The server's address as connected (the resolved host).
  std::optional<boost::asio::ip::address> remote_address() const;
  const SignalingClientConfig& config() const;

  struct Impl;

 private:
  explicit SignalingClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace plateau::terminal::client
