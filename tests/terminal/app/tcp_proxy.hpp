// A loopback TCP proxy for tests: forwards every connection to 127.0.0.1:target and can cut them
// all at once (both sides shut down, no WebSocket close): a dropped link as the terminal sees it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace plateau::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Cuts every open connection; later connections are forwarded again. Returns how many were cut.
  int CutAll();
  int accepted() const { return accepted_.load(); }

 private:
  struct Pair;
  void AcceptLoop();
  static void Pump(std::shared_ptr<Pair> pair);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Pair>> pairs_;
  std::vector<std::thread> pumps_;
};

}  // namespace plateau::testing
