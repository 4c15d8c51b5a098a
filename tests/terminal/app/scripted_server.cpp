#include "scripted_server.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace plateau::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ScriptedWsServer::Impl {
  Script script;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::vector<std::pair<int, std::string>> received;
  tcp::socket* current = nullptr;  // under mu

  void Run() {
    int connection = 0;
    while (!stopping) {
      tcp::socket socket(io);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (ec || stopping) return;
      ++connection;
      websocket::stream<tcp::socket> ws(std::move(socket));
      {
        std::lock_guard lock(mu);
        current = &ws.next_layer();
      }
      ws.read_message_max(1 << 20);
      ws.accept(ec);
      while (!ec && !stopping) {
        beast::flat_buffer buffer;
        ws.read(buffer, ec);
        if (ec) break;
        const std::string text = beast::buffers_to_string(buffer.data());
        {
          std::lock_guard lock(mu);
          received.emplace_back(connection, text);
        }
        for (const auto& reply : script(connection, text)) {
          if (reply.cut) {
            beast::error_code ignored;
            ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
            ws.next_layer().close(ignored);
            ec = net::error::connection_reset;
            break;
          }
          ws.binary(reply.binary);
          ws.write(net::buffer(reply.text), ec);
          if (ec) break;
        }
      }
      std::lock_guard lock(mu);
      current = nullptr;
    }
  }
};

ScriptedWsServer::ScriptedWsServer(Script script) : impl_(std::make_unique<Impl>()) {
  impl_->script = std::move(script);
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
}

ScriptedWsServer::~ScriptedWsServer() {
  impl_->stopping = true;
  beast::error_code ec;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->current) {
      impl_->current->shutdown(tcp::socket::shutdown_both, ec);
    }
  }
  // Wake a blocking accept() with a connection of our own.
  {
    net::io_context io;
    tcp::socket poke(io);
    poke.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)), ec);
  }
  impl_->thread.join();
}

std::vector<std::pair<int, std::string>> ScriptedWsServer::received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

}  // namespace plateau::testing
