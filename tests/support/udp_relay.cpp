#include "support/udp_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <vector>

namespace plateau::testing {
namespace {

using Clock = std::chrono::steady_clock;

int BindLoopback() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("udp_relay: socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    throw std::runtime_error("udp_relay: bind() failed");
  }
  const int size = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

struct Pending {
  Clock::time_point due;
  uint64_t order;  // FIFO among equal due times
  bool to_server;
  std::vector<uint8_t> bytes;
  bool operator>(const Pending& o) const { return due != o.due ? due > o.due : order > o.order; }
};

}  // namespace

struct UdpRelay::State {
  UdpRelayConfig config;
  int client_fd = -1;    // the client talks to this one
  int upstream_fd = -1;  // we talk to the server from this one
  int wake[2] = {-1, -1};
  sockaddr_in server{};
  sockaddr_in client{};
  bool have_client = false;
  std::atomic<bool> stop{false};
  std::atomic<double> loss_percent{0};
  mutable std::mutex mu;
  UdpRelayCounters counters;
  std::mt19937_64 rng_to_server;
  std::mt19937_64 rng_to_client;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue;
  uint64_t order = 0;

  void Receive(int fd, bool to_server) {
    std::vector<uint8_t> buf(65536);
    for (int i = 0; i < 256; ++i) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) return;
      if (to_server) {
        client = from;
        have_client = true;
      }
      auto& rng = to_server ? rng_to_server : rng_to_client;
      std::uniform_real_distribution<double> pct(0.0, 100.0);
      const double loss_draw = pct(rng);
      const double reorder_draw = pct(rng);
      const int64_t jitter_ms = config.jitter.count() > 0 ? std::uniform_int_distribution<int64_t>(
                                                                0, config.jitter.count())(rng)
                                                          : 0;
      const bool lossy = to_server ? config.lossy_to_server : config.lossy_to_client;
      std::lock_guard lock(mu);
      auto& c = to_server ? counters.to_server : counters.to_client;
      ++c.received;
      if (lossy && loss_draw < loss_percent.load()) {
        ++c.dropped;
        continue;
      }
      auto delay = config.delay + std::chrono::milliseconds(jitter_ms);
      if (reorder_draw < config.reorder_percent) {
        delay += config.reorder_delay;
        ++c.reordered;
      }
      queue.push(Pending{Clock::now() + delay, order++, to_server,
                         std::vector<uint8_t>(buf.begin(), buf.begin() + n)});
    }
  }

  void Flush() {
    const auto now = Clock::now();
    while (!queue.empty() && queue.top().due <= now) {
      const Pending& p = queue.top();
      bool sent = false;
      if (p.to_server) {
        sent = ::sendto(upstream_fd, p.bytes.data(), p.bytes.size(), 0,
                        reinterpret_cast<const sockaddr*>(&server), sizeof(server)) >= 0;
      } else if (have_client) {
        sent = ::sendto(client_fd, p.bytes.data(), p.bytes.size(), 0,
                        reinterpret_cast<const sockaddr*>(&client), sizeof(client)) >= 0;
      }
      if (sent) {
        std::lock_guard lock(mu);
        ++(p.to_server ? counters.to_server : counters.to_client).forwarded;
      }
      queue.pop();
    }
  }

  void Run() {
    while (!stop.load()) {
      int timeout_ms = 100;
      if (!queue.empty()) {
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(queue.top().due - Clock::now());
        timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 100));
      }
      pollfd fds[3] = {{client_fd, POLLIN, 0}, {upstream_fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      ::poll(fds, 3, timeout_ms);
      if (fds[0].revents & POLLIN) Receive(client_fd, true);
      if (fds[1].revents & POLLIN) Receive(upstream_fd, false);
      Flush();
    }
  }
};

UdpRelay::UdpRelay(uint16_t server_port, UdpRelayConfig config)
    : state_(std::make_unique<State>()) {
  state_->config = config;
  state_->loss_percent = config.loss_percent;
  state_->rng_to_server.seed(config.seed);
  state_->rng_to_client.seed(config.seed ^ 0x9E3779B97F4A7C15ULL);
  state_->client_fd = BindLoopback();
  state_->upstream_fd = BindLoopback();
  if (::pipe2(state_->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("udp_relay: pipe2() failed");
  }
  state_->server.sin_family = AF_INET;
  state_->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  state_->server.sin_port = htons(server_port);
  thread_ = std::thread([s = state_.get()] { s->Run(); });
}

UdpRelay::~UdpRelay() {
  state_->stop = true;
  const char b = 1;
  [[maybe_unused]] ssize_t r = ::write(state_->wake[1], &b, 1);
  thread_.join();
  ::close(state_->client_fd);
  ::close(state_->upstream_fd);
  ::close(state_->wake[0]);
  ::close(state_->wake[1]);
}

uint16_t UdpRelay::port() const {
  return PortOf(state_->client_fd);
}
uint16_t UdpRelay::upstream_port() const {
  return PortOf(state_->upstream_fd);
}

UdpRelayCounters UdpRelay::counters() const {
  std::lock_guard lock(state_->mu);
  return state_->counters;
}

void UdpRelay::SetLossPercent(double loss_percent) {
  state_->loss_percent = loss_percent;
}

}  // namespace plateau::testing
