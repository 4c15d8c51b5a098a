// A real WebSocket client for the signaling tests (Boost.Beast, plain or TLS), driven from the
// test thread: messages arrive on a background io thread into a queue the test waits on with a
// deadline. Not a mock: it speaks RFC 6455 over a real socket to the real server.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace plateau::testing {

class WsClient {
 public:
  struct Options {
    bool tls = false;
    std::string ca_file;                    // TLS: trust exactly this certificate (PEM)
    std::string server_name = "localhost";  // TLS: SNI and the name verified in the certificate
    std::string path = "/ws";
    bool auto_pong = true;  // answer the server's JSON `ping` with `pong`
  };

  // Connects to 127.0.0.1:port and completes the WebSocket handshake; nullptr and `*error` on
  // failure.
  static std::unique_ptr<WsClient> Connect(int port, const Options& options, std::string* error);
  static std::unique_ptr<WsClient> Connect(int port, std::string* error = nullptr) {
    return Connect(port, Options{}, error);
  }
  ~WsClient();

  void Send(std::string text);
  void SendJson(const nlohmann::json& message) { Send(message.dump()); }

  // The next message (a text that is not JSON comes back as {"_raw": text}); nullopt on timeout or
  // when the connection is closed and nothing is left.
  std::optional<nlohmann::json> Next(std::chrono::milliseconds timeout);
  // The first message of this type, skipping (and keeping in skipped()) the others.
  std::optional<nlohmann::json> WaitFor(const std::string& type, std::chrono::milliseconds timeout);
  const std::vector<nlohmann::json>& skipped() const { return skipped_; }

  // Waits for the connection to close; then close_code()/close_reason() hold what the server said
  // (code 0 when the connection was cut without a close frame).
  bool WaitClosed(std::chrono::milliseconds timeout);
  bool closed() const;
  int close_code() const;
  std::string close_reason() const;

  // Cuts the TCP connection without a close handshake (a dropped link).
  void Cut();

  struct Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<nlohmann::json> skipped_;
};

// hello -> registered (or the error) in one call.
nlohmann::json Hello(WsClient& client, const std::string& venue, const std::string& token,
                     const std::string& resume = "");

}  // namespace plateau::testing
