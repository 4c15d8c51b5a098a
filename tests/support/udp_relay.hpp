// Test support: a lossy UDP relay on loopback (netem is not available on the test machines).
//
//   client  <-->  relay.port()  [relay]  relay's upstream socket  <-->  127.0.0.1:server_port
//
// The client sends to port(); the relay forwards each datagram to the server from its own
// upstream socket, and forwards the server's replies back to the last client address it heard
// from. Each direction independently drops packets at random (loss_percent), delays them
// (delay + uniform jitter) and reorders some (reorder_percent: held back an extra reorder_delay so
// later packets overtake them). All randomness comes from `seed`, so a run is repeatable up to
// the timing of the packets themselves. Runs on its own thread; stops in the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

namespace plateau::testing {

struct UdpRelayConfig {
  double loss_percent = 0;              // 0..100, per direction
  std::chrono::milliseconds delay{0};   // added to every forwarded datagram
  std::chrono::milliseconds jitter{0};  // plus uniform 0..jitter
  double reorder_percent = 0;           // 0..100: held back an extra reorder_delay
  std::chrono::milliseconds reorder_delay{5};
  uint64_t seed = 1;
  // Drop instead of forwarding in this direction (one-way loss tests): loss applies only where
  // enabled.
  bool lossy_to_server = true;
  bool lossy_to_client = true;
};

struct UdpRelayDirectionCounters {
  uint64_t received = 0;
  uint64_t forwarded = 0;
  uint64_t dropped = 0;    // by the loss model
  uint64_t reordered = 0;  // held back for reordering
};

struct UdpRelayCounters {
  UdpRelayDirectionCounters to_server;
  UdpRelayDirectionCounters to_client;
};

class UdpRelay {
 public:
  // Binds two sockets on 127.0.0.1 (ephemeral ports) and starts forwarding to server_port.
  // Throws std::runtime_error if the sockets cannot be created (test set-up failure).
  UdpRelay(uint16_t server_port, UdpRelayConfig config);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  uint16_t port() const;           // where the client sends
  uint16_t upstream_port() const;  // the source port the server sees
  UdpRelayCounters counters() const;

  // Changes the loss rate of both directions while running (e.g. 0 to let a stream finish).
  void SetLossPercent(double loss_percent);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace plateau::testing
