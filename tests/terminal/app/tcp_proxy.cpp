#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace plateau::testing {

struct TcpProxy::Pair {
  int a = -1;  // the client's side
  int b = -1;  // the server's side
  std::atomic<bool> cut{false};
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
  void Cut() {
    cut = true;
    shutdown(a, SHUT_RDWR);
    shutdown(b, SHUT_RDWR);
  }
};

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0)
    throw std::runtime_error("TcpProxy: cannot listen");
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  CutAll();
  for (auto& t : pumps_) t.join();
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(client);
      close(server);
      continue;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto pair = std::make_shared<Pair>();
    pair->a = client;
    pair->b = server;
    ++accepted_;
    std::lock_guard lock(mu_);
    pairs_.push_back(pair);
    pumps_.emplace_back([pair] { Pump(pair); });
  }
}

void TcpProxy::Pump(std::shared_ptr<Pair> pair) {
  char buf[16384];
  while (!pair->cut) {
    pollfd fds[2] = {{pair->a, POLLIN, 0}, {pair->b, POLLIN, 0}};
    if (poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = i == 0 ? pair->a : pair->b;
      const int to = i == 0 ? pair->b : pair->a;
      const ssize_t n = read(from, buf, sizeof buf);
      if (n <= 0) {
        pair->Cut();
        return;
      }
      for (ssize_t off = 0; off < n;) {
        const ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          pair->Cut();
          return;
        }
        off += w;
      }
    }
  }
}

int TcpProxy::CutAll() {
  std::lock_guard lock(mu_);
  int n = 0;
  for (auto& p : pairs_) {
    if (!p->cut) ++n;
    p->Cut();
  }
  pairs_.clear();
  return n;
}

}  // namespace plateau::testing
