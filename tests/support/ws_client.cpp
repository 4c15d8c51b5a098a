#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace plateau::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using nlohmann::json;

struct WsClient::Impl {
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  std::optional<ssl::context> ctx;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool is_closed = false;
  int code = 0;
  std::string reason;
  bool auto_pong = true;

  virtual ~Impl() = default;
  virtual void Post(std::string text) = 0;
  virtual void CutNow() = 0;

  void Deliver(std::string text) {
    std::lock_guard lock(mu);
    inbox.push_back(std::move(text));
    cv.notify_all();
  }
  void MarkClosed(int c, std::string r) {
    std::lock_guard lock(mu);
    if (is_closed) return;
    is_closed = true;
    code = c;
    reason = std::move(r);
    cv.notify_all();
  }
  void Run() {
    thread = std::thread([this] { io.run(); });
  }
  void Shutdown() {
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

namespace {

template <class Stream>
struct ImplT final : WsClient::Impl {
  std::optional<websocket::stream<Stream>> ws;
  beast::flat_buffer buf;
  std::deque<std::string> outq;
  bool writing = false;

  ~ImplT() override { Shutdown(); }

  void StartRead() {
    ws->async_read(buf, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        if (ec == websocket::error::closed)
          MarkClosed(ws->reason().code, std::string(ws->reason().reason.c_str()));
        else
          MarkClosed(0, ec.message());
        return;
      }
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (auto_pong) {
        json j = json::parse(text, nullptr, false);
        if (j.is_object() && j.value("type", "") == "ping") {
          json pong = {{"type", "pong"}};
          if (j.contains("ts")) pong["ts"] = j["ts"];
          Write(pong.dump());
        }
      }
      Deliver(std::move(text));
      StartRead();
    });
  }

  void Write(std::string text) {
    outq.push_back(std::move(text));
    if (!writing) DoWrite();
  }

  void DoWrite() {
    writing = true;
    ws->text(true);
    ws->async_write(net::buffer(outq.front()), [this](beast::error_code ec, std::size_t) {
      writing = false;
      outq.pop_front();
      if (ec) {
        outq.clear();
        return;
      }
      if (!outq.empty()) DoWrite();
    });
  }

  void Post(std::string text) override {
    net::post(io, [this, text = std::move(text)]() mutable { Write(std::move(text)); });
  }

  void CutNow() override {
    std::promise<void> done;
    net::post(io, [this, &done] {
      beast::error_code ec;
      auto& sock = beast::get_lowest_layer(*ws).socket();
      sock.set_option(net::socket_base::linger(true, 0), ec);  // RST, like a dropped link
      sock.close(ec);
      done.set_value();
    });
    done.get_future().wait();
  }
};

}  // namespace

std::unique_ptr<WsClient> WsClient::Connect(int port, const Options& options, std::string* error) {
  std::string ignore;
  if (!error) error = &ignore;
  try {
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port));
    const std::string host = options.server_name + ":" + std::to_string(port);
    std::unique_ptr<Impl> impl;
    if (options.tls) {
      auto t = std::make_unique<ImplT<beast::ssl_stream<beast::tcp_stream>>>();
      t->ctx.emplace(ssl::context::tls_client);
      t->ctx->load_verify_file(options.ca_file);
      t->ctx->set_verify_mode(ssl::verify_peer);
      t->ws.emplace(t->io, *t->ctx);
      auto& tls = t->ws->next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), options.server_name.c_str()))
        throw std::runtime_error("cannot set SNI");
      tls.set_verify_callback(ssl::host_name_verification(options.server_name));
      beast::get_lowest_layer(*t->ws).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*t->ws).connect(ep);
      tls.handshake(ssl::stream_base::client);
      beast::get_lowest_layer(*t->ws).expires_never();
      t->ws->handshake(host, options.path);
      t->auto_pong = options.auto_pong;
      t->StartRead();
      impl = std::move(t);
    } else {
      auto t = std::make_unique<ImplT<beast::tcp_stream>>();
      t->ws.emplace(t->io);
      beast::get_lowest_layer(*t->ws).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*t->ws).connect(ep);
      beast::get_lowest_layer(*t->ws).expires_never();
      t->ws->handshake(host, options.path);
      t->auto_pong = options.auto_pong;
      t->StartRead();
      impl = std::move(t);
    }
    impl->Run();
    return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

void WsClient::Send(std::string text) {
  impl_->Post(std::move(text));
}

std::optional<json> WsClient::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->inbox.empty() || impl_->is_closed; });
  if (impl_->inbox.empty()) return std::nullopt;
  std::string text = std::move(impl_->inbox.front());
  impl_->inbox.pop_front();
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return json{{"_raw", text}};
  return j;
}

std::optional<json> WsClient::WaitFor(const std::string& type, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = Next(left);
    if (!m) return std::nullopt;
    if (m->is_object() && m->value("type", "") == type) return m;
    skipped_.push_back(std::move(*m));
  }
}

bool WsClient::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->is_closed; });
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->is_closed;
}

int WsClient::close_code() const {
  std::lock_guard lock(impl_->mu);
  return impl_->code;
}

std::string WsClient::close_reason() const {
  std::lock_guard lock(impl_->mu);
  return impl_->reason;
}

void WsClient::Cut() {
  impl_->CutNow();
}

json Hello(WsClient& client, const std::string& venue, const std::string& token,
           const std::string& resume) {
  json hello = {{"type", "hello"}, {"id", "hello-1"}, {"venue", venue}, {"token", token}};
  if (!resume.empty()) hello["resume"] = resume;
  client.SendJson(hello);
  for (int i = 0; i < 20; ++i) {
    auto m = client.Next(std::chrono::seconds(5));
    if (!m) return json{{"type", "timeout"}};
    const std::string type = m->value("type", "");
    if (type == "registered" || type == "error") return *m;
  }
  return json{{"type", "timeout"}};
}

}  // namespace plateau::testing
