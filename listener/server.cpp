#include "plateau/listener/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/listener/tls.hpp"

namespace plateau::listener {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

bool SplitHostPort(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return false;
  const std::string p = text.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long v = std::stoul(p);
  if (v > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

namespace {

metrics::Counter* RequestCounter(metrics::Registry& m, int status) {
  const std::string cls = std::to_string(status / 100) + "xx";
  return m.GetCounter("plateau_http_requests_total", "HTTP requests answered, by status class",
                      {{"class", cls}});
}

metrics::Counter* RefusedCounter(metrics::Registry& m, const std::string& reason) {
  return m.GetCounter(
      "plateau_http_connections_refused_total",
      "Connections closed at accept or refused before their body was read, by reason",
      {{"reason", reason}});
}

metrics::Counter* WsClosedCounter(metrics::Registry& m, const std::string& reason) {
  return m.GetCounter("plateau_ws_transport_closes_total",
                      "WebSocket connections the transport closed itself, by reason",
                      {{"reason", reason}});
}

constexpr bool kIsTls(const TlsStream*) {
  return true;
}
constexpr bool kIsTls(const PlainStream*) {
  return false;
}

}  // namespace

// Anything the server must be able to close on Stop().
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void Close() = 0;
};

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(net::io_context& io, const Router& r, metrics::Registry& m, ServerLimits l)
      : io(io), router(r), metrics(m), limits(l), acceptor(net::make_strand(io)) {}

  net::io_context& io;
  const Router& router;
  metrics::Registry& metrics;
  ServerLimits limits;
  tcp::acceptor acceptor;
  std::unique_ptr<ssl::context> tls;  // set: every connection must speak TLS
  std::map<std::string, std::shared_ptr<WebSocketEndpoint>> endpoints;  // by path
  std::mutex mu;
  std::set<std::weak_ptr<Closable>, std::owner_less<std::weak_ptr<Closable>>> sessions;
  bool stopped = false;
  // The limits' accounting (guarded by mu): open connections in total and by remote address, and
  // the bytes of request bodies being received or handled.
  size_t open_connections = 0;
  std::map<net::ip::address, size_t> open_by_address;
  size_t body_bytes_in_flight = 0;

  bool ReserveBody(size_t bytes) {
    std::lock_guard lock(mu);
    if (body_bytes_in_flight + bytes > limits.max_body_bytes_in_flight) return false;
    body_bytes_in_flight += bytes;
    return true;
  }
  void ReleaseBody(size_t bytes) {
    std::lock_guard lock(mu);
    body_bytes_in_flight -= std::min(bytes, body_bytes_in_flight);
  }

  // Registers a connection object so Stop() can close it; false when stopping.
  bool Track(const std::shared_ptr<Closable>& s) {
    std::lock_guard lock(mu);
    if (stopped) return false;
    sessions.insert(s);
    return true;
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

// One accepted connection's place in the connection limits. Shared by the session objects that
// carry the connection in turn (detect -> HTTP -> WebSocket); the place is given back when the last
// of them is gone, that is when the socket is closed.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<HttpServer::State> server, net::ip::address address)
      : server_(std::move(server)), address_(address) {}
  ~ConnectionSlot() {
    std::lock_guard lock(server_->mu);
    --server_->open_connections;
    auto it = server_->open_by_address.find(address_);
    if (it != server_->open_by_address.end() && --it->second == 0)
      server_->open_by_address.erase(it);
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<HttpServer::State> server_;
  net::ip::address address_;
};
using SlotPtr = std::shared_ptr<ConnectionSlot>;

// A request body's share of the in-flight budget, held from its header until it is handled.
class BodyReservation {
 public:
  BodyReservation() = default;
  BodyReservation(std::shared_ptr<HttpServer::State> server, size_t bytes)
      : server_(std::move(server)), bytes_(bytes) {}
  ~BodyReservation() { Release(); }
  BodyReservation(BodyReservation&& o) noexcept
      : server_(std::move(o.server_)), bytes_(std::exchange(o.bytes_, 0)) {}
  BodyReservation& operator=(BodyReservation&& o) noexcept {
    if (this != &o) {
      Release();
      server_ = std::move(o.server_);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  void Release() {
    if (server_ && bytes_ > 0) server_->ReleaseBody(bytes_);
    bytes_ = 0;
  }

 private:
  std::shared_ptr<HttpServer::State> server_;
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// WebSocket session: one per upgraded connection. Reads whole messages with its own size
// accounting (so an oversized one is refused with a close reason, not just a code), writes from a
// bounded queue, and closes after the queue drains.

template <class Stream>
class WsSession final : public WebSocketPeer,
                        public Closable,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, std::shared_ptr<WebSocketEndpoint> endpoint,
            std::shared_ptr<HttpServer::State> server, std::string remote, SlotPtr slot)
      : ws_(std::move(stream)),
        endpoint_(std::move(endpoint)),
        server_(std::move(server)),
        remote_(std::move(remote)),
        slot_(std::move(slot)) {}

  void Run(http::request<http::string_body> req) {
    const auto& l = server_->limits;
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(l.ws_handshake_timeout_seconds);
    t.idle_timeout = std::chrono::seconds(l.ws_idle_timeout_seconds);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "plateau/" PLATEAU_VERSION);
    }));
    ws_.read_message_max(0);  // our own accounting in OnRead
    ws_.auto_fragment(false);
    ws_.async_accept(req,
                     beast::bind_front_handler(&WsSession::OnAccept, this->shared_from_this()));
  }

  // WebSocketPeer
  void Send(std::string text) override {
    net::post(ws_.get_executor(),
              [self = this->shared_from_this(), text = std::move(text)]() mutable {
                self->OnSend(std::move(text));
              });
  }
  void Close(CloseCode code, std::string reason) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), code,
                                   reason = std::move(reason)] { self->StartClose(code, reason); });
  }
  std::string remote() const override { return remote_; }

  // Closable (server stop): cut the connection.
  void Close() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(self->ws_).close();
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) {
      log::Debug("ws.accept_failed", {{"remote", remote_}, {"error", ec.message()}});
      return;
    }
    opened_ = true;
    endpoint_->OnOpen(this->shared_from_this());
    DoRead();
  }

  void DoRead() {
    const size_t max = server_->limits.ws_max_message_bytes;
    ws_.async_read_some(buffer_, max + 1 - std::min(buffer_.size(), max),
                        beast::bind_front_handler(&WsSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return NotifyClosed();
    const size_t max = server_->limits.ws_max_message_bytes;
    if (buffer_.size() > max) {
      buffer_.consume(buffer_.size());
      WsClosedCounter(server_->metrics, "too_big")->Inc();
      // No further reads: the close handshake drains the rest of the frame.
      return StartClose(CloseCode::kTooBig,
                        "message larger than " + std::to_string(max) + " bytes");
    }
    if (!ws_.is_message_done()) return DoRead();
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      WsClosedCounter(server_->metrics, "binary")->Inc();
      return StartClose(CloseCode::kUnsupported, "only text messages (JSON) are accepted");
    }
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    endpoint_->OnText(this->shared_from_this(), text);
    DoRead();
  }

  void OnSend(std::string text) {
    if (closing_ || close_pending_) return;
    const auto& l = server_->limits;
    if (queue_.size() >= l.ws_max_queued_messages ||
        queued_bytes_ + text.size() > l.ws_max_queued_bytes) {
      // The client does not read: a close frame could not get through either.
      log::Warn("ws.queue_overflow", {{"remote", remote_}, {"queued", queue_.size()}});
      WsClosedCounter(server_->metrics, "queue_overflow")->Inc();
      closing_ = true;
      beast::error_code ignore;
      beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignore);
      beast::get_lowest_layer(ws_).close();
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (!writing_) DoWrite();
  }

  void DoWrite() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    beast::bind_front_handler(&WsSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    writing_ = false;
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    if (ec) {
      queue_.clear();
      queued_bytes_ = 0;
      return;  // the read side sees the failure and reports the close
    }
    if (!queue_.empty()) return DoWrite();
    if (close_pending_) DoClose();
  }

  void StartClose(CloseCode code, std::string reason) {
    if (closing_ || close_pending_) return;
    if (reason.size() > 123) reason.resize(123);
    close_pending_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) DoClose();
  }

  void DoClose() {
    closing_ = true;
    ws_.async_close(*close_pending_,
                    [self = this->shared_from_this()](beast::error_code) { self->NotifyClosed(); });
  }

  void NotifyClosed() {
    if (!opened_ || notified_) return;
    notified_ = true;
    endpoint_->OnClose(this->shared_from_this());
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<WebSocketEndpoint> endpoint_;
  std::shared_ptr<HttpServer::State> server_;
  std::string remote_;
  SlotPtr slot_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool opened_ = false;
  bool notified_ = false;
  bool closing_ = false;
  std::optional<websocket::close_reason> close_pending_;
};

// ---------------------------------------------------------------------------------------------
// HTTP session over a plain or TLS stream. `https_required`: a plain connection to a TLS server,
// answered with 400 and closed.

template <class Stream>
class HttpSession final : public Closable,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, beast::flat_buffer buffer, std::shared_ptr<HttpServer::State> server,
              std::string remote, SlotPtr slot, bool https_required)
      : stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        server_(std::move(server)),
        remote_(std::move(remote)),
        slot_(std::move(slot)),
        https_required_(https_required) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kIsTls(static_cast<Stream*>(nullptr))) {
        beast::get_lowest_layer(self->stream_)
            .expires_after(
                std::chrono::seconds(self->server_->limits.tls_handshake_timeout_seconds));
        self->stream_.async_handshake(ssl::stream_base::server, self->buffer_.data(),
                                      beast::bind_front_handler(&HttpSession::OnHandshake, self));
      } else {
        self->DoRead();
      }
    });
  }

  void Close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  void OnHandshake(beast::error_code ec, std::size_t used) {
    if (ec) {
      log::Debug("tls.handshake_failed", {{"remote", remote_}, {"error", ec.message()}});
      return;
    }
    buffer_.consume(used);
    DoRead();
  }

  // The header first: a body is read only once its size fits the in-flight budget.
  void DoRead() {
    body_.Release();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    parser_->body_limit(server_->limits.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(server_->limits.idle_timeout_seconds));
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return OnRead({}, 0);  // no body (GET, WebSocket upgrade)
    {
      const auto length = parser_->content_length();
      const size_t bytes = parser_->chunked() ? server_->limits.max_body_bytes
                                              : static_cast<size_t>(length.value_or(0));
      if (bytes > 0) {
        if (!server_->ReserveBody(bytes)) {
          RefusedCounter(server_->metrics, "body_budget")->Inc();
          log::Debug("http.body_budget_exceeded", {{"remote", remote_}, {"bytes", bytes}});
          HttpResponse busy = HttpResponse::Error(
              503, "busy", "the server is receiving too many request bodies; try again shortly");
          busy.headers.emplace_back("Retry-After", "1");
          keep_alive_ = false;
          return Send(std::move(busy), false);
        }
        body_ = BodyReservation(server_, bytes);
      }
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof) {
      return DoClose();
    }
    if (ec == http::error::body_limit) {
      // 400 (not 413) because the REST API documents every refused input as 400 with a code.
      return SendError(400, "body_too_large",
                       "request body is larger than " +
                           std::to_string(server_->limits.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return SendError(431, "header_too_large", "request header is too large");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return SendError(400, "bad_request", "malformed HTTP request: " + ec.message());
    }
    return DoClose();
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    if (https_required_) {
      const std::string host(req[http::field::host]);
      return SendError(400, "https_required",
                       "this server speaks only https and wss: use https://" +
                           (host.empty() ? std::string("HOST") : host) + std::string(req.target()));
    }
    const std::string target(req.target());
    const std::string path =
        PercentDecode(std::string_view(target).substr(0, target.find('?')), false);
    if (websocket::is_upgrade(req)) {
      auto it = server_->endpoints.find(path);
      if (it == server_->endpoints.end())
        return SendError(404, "not_found", "no WebSocket endpoint at " + path);
      auto ws = std::make_shared<WsSession<Stream>>(std::move(stream_), it->second, server_,
                                                    remote_, slot_);
      if (!server_->Track(ws)) return;
      ws->Run(parser_->release());
      return;
    }
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = target;
    r.path = path;
    const size_t q = r.target.find('?');
    if (q != std::string::npos) r.query = ParseQuery(std::string_view(r.target).substr(q + 1));
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    r.body = std::move(req.body());
    r.remote = remote_;
    keep_alive_ = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    HttpResponse resp;
    try {
      resp = server_->router.Dispatch(std::move(r));
    } catch (const std::exception& e) {
      log::Error("http.handler_exception", {{"path", target}, {"what", e.what()}});
      resp = HttpResponse::Error(500, "internal", "internal error");
    }
    body_.Release();  // the body is gone with the request
    Send(std::move(resp), head);
  }

  void SendError(int status, const std::string& code, const std::string& message) {
    keep_alive_ = false;
    Send(HttpResponse::Error(status, code, message), false);
  }

  void Send(HttpResponse resp, bool head) {
    RequestCounter(server_->metrics, resp.status)->Inc();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<http::status>(resp.status));
    res->set(http::field::server, "plateau/" PLATEAU_VERSION);
    res->set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    if (!head) res->body() = std::move(resp.body);
    res->prepare_payload();
    if (head) res->body().clear();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->DoClose();
                        self->DoRead();
                      });
  }

  void DoClose() {
    if constexpr (kIsTls(static_cast<Stream*>(nullptr))) {
      beast::get_lowest_layer(stream_).expires_after(
          std::chrono::seconds(server_->limits.tls_handshake_timeout_seconds));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::get_lowest_layer(self->stream_).close();
      });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> server_;
  std::string remote_;
  SlotPtr slot_;
  BodyReservation body_;
  bool https_required_ = false;
  bool keep_alive_ = false;
};

// ---------------------------------------------------------------------------------------------
// TLS servers sniff the first bytes of each connection: a ClientHello goes to TLS, anything else
// is plain HTTP answered with 400 https_required.

class DetectSession final : public Closable, public std::enable_shared_from_this<DetectSession> {
 public:
  DetectSession(tcp::socket&& socket, std::shared_ptr<HttpServer::State> server, std::string remote,
                SlotPtr slot)
      : stream_(std::move(socket)),
        server_(std::move(server)),
        remote_(std::move(remote)),
        slot_(std::move(slot)) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(
          std::chrono::seconds(self->server_->limits.tls_handshake_timeout_seconds));
      beast::async_detect_ssl(self->stream_, self->buffer_,
                              beast::bind_front_handler(&DetectSession::OnDetect, self));
    });
  }

  void Close() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void OnDetect(beast::error_code ec, bool is_tls) {
    if (ec) return;
    if (is_tls) {
      auto s = std::make_shared<HttpSession<TlsStream>>(
          TlsStream(std::move(stream_), *server_->tls), std::move(buffer_), server_, remote_, slot_,
          false);
      if (server_->Track(s)) s->Start();
    } else {
      auto s = std::make_shared<HttpSession<PlainStream>>(std::move(stream_), std::move(buffer_),
                                                          server_, remote_, slot_, true);
      if (server_->Track(s)) s->Start();
    }
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<HttpServer::State> server_;
  std::string remote_;
  SlotPtr slot_;
};

void HttpServer::State::DoAccept() {
  acceptor.async_accept(net::make_strand(io),
                        beast::bind_front_handler(&State::OnAccept, shared_from_this()));
}

void HttpServer::State::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    log::Warn("http.accept_failed", {{"error", ec.message()}});
  } else {
    std::string remote;
    net::ip::address address;
    {
      beast::error_code e;
      auto ep = socket.remote_endpoint(e);
      if (!e) {
        address = ep.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped())
          address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
        remote = address.to_string() + ":" + std::to_string(ep.port());
      }
    }
    // Declared before the lock: if the connection is served and closed by another listener
    // thread before this handler returns, this is the last reference, and the session (with its
    // ConnectionSlot, which takes mu) must then be destroyed after the lock is released.
    std::shared_ptr<Closable> session;
    std::unique_lock lock(mu);
    if (stopped) return;
    // Forget sessions that are gone; refuse beyond the connection limits, the per-address one
    // first so that one client flooding never fills the total.
    for (auto it = sessions.begin(); it != sessions.end();)
      it = it->expired() ? sessions.erase(it) : std::next(it);
    const char* refused = nullptr;
    size_t& from_address = open_by_address[address];
    if (from_address >= limits.max_connections_per_address)
      refused = "per_address";
    else if (open_connections >= limits.max_connections)
      refused = "total";
    if (refused) {
      if (from_address == 0) open_by_address.erase(address);
      lock.unlock();
      RefusedCounter(metrics, refused)->Inc();
      log::Debug("http.connection_refused", {{"remote", remote}, {"reason", refused}});
      beast::error_code ignore;
      socket.close(ignore);
    } else {
      ++from_address;
      ++open_connections;
      auto slot = std::make_shared<ConnectionSlot>(shared_from_this(), address);
      std::function<void()> start;
      if (tls) {
        auto s = std::make_shared<DetectSession>(std::move(socket), shared_from_this(), remote,
                                                 std::move(slot));
        sessions.insert(s);
        start = [s] { s->Start(); };
        session = std::move(s);
      } else {
        auto s = std::make_shared<HttpSession<PlainStream>>(
            PlainStream(std::move(socket)), beast::flat_buffer{}, shared_from_this(), remote,
            std::move(slot), false);
        sessions.insert(s);
        start = [s] { s->Start(); };
        session = std::move(s);
      }
      lock.unlock();
      start();
      start = nullptr;
    }
  }
  DoAccept();
}

HttpServer::HttpServer(net::io_context& io, const Router& router, metrics::Registry& metrics,
                       ServerLimits limits)
    : state_(std::make_shared<State>(io, router, metrics, limits)) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::EnableTls(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  beast::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return Error{"tls_files", "cannot use certificate " + cert_file + ": " + ec.message()};
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return Error{"tls_files", "cannot use private key " + key_file + ": " + ec.message()};
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return Error{"tls_files", "private key " + key_file + " does not match " + cert_file};
  state_->tls = std::move(ctx);
  return Status::Ok();
}

bool HttpServer::tls() const {
  return state_->tls != nullptr;
}

void HttpServer::SetWebSocketEndpoint(const std::string& path,
                                      std::shared_ptr<WebSocketEndpoint> endpoint) {
  state_->endpoints[path] = std::move(endpoint);
}

Status HttpServer::Listen(const std::string& listen) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(listen, &host, &port))
    return Error{"bad_listen", "listen address \"" + listen + "\" is not HOST:PORT"};
  beast::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Error{"bad_listen", "listen host \"" + host + "\" is not an IP address"};
  if (!state_->tls && !IsLoopbackHost(host))
    return Error{"plain_not_loopback",
                 "refusing to serve plain http/ws on " + listen +
                     ": plain is only allowed on loopback; serve TLS (--tls on, or [server] "
                     "tls_cert/tls_key) or listen on 127.0.0.1"};
  tcp::endpoint ep(addr, port);
  auto& a = state_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{"listen_failed", "cannot listen on " + listen + ": " + ec.message()};
  state_->DoAccept();
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Stop() {
  std::vector<std::shared_ptr<Closable>> open;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    for (auto& w : state_->sessions)
      if (auto s = w.lock()) open.push_back(std::move(s));
    state_->sessions.clear();
  }
  net::post(state_->acceptor.get_executor(), [st = state_] {
    beast::error_code ec;
    st->acceptor.close(ec);
  });
  for (auto& s : open) s->Close();
}

// ---------------------------------------------------------------------------------------------

struct PeriodicTimer::State : std::enable_shared_from_this<PeriodicTimer::State> {
  State(net::io_context& io, std::chrono::milliseconds i, std::function<void()> t)
      : timer(net::make_strand(io)), interval(i), tick(std::move(t)) {}
  net::steady_timer timer;
  std::chrono::milliseconds interval;
  std::function<void()> tick;
  std::atomic<bool> stopped{false};

  void Arm() {
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped) return;
      try {
        self->tick();
      } catch (const std::exception& e) {
        log::Error("timer.tick_failed", {{"what", e.what()}});
      }
      self->Arm();
    });
  }
};

PeriodicTimer::PeriodicTimer(net::io_context& io, std::chrono::milliseconds interval,
                             std::function<void()> tick)
    : state_(std::make_shared<State>(io, interval, std::move(tick))) {
  net::post(state_->timer.get_executor(), [st = state_] { st->Arm(); });
}

PeriodicTimer::~PeriodicTimer() {
  Stop();
}

void PeriodicTimer::Stop() {
  if (state_->stopped.exchange(true)) return;
  net::post(state_->timer.get_executor(), [st = state_] { st->timer.cancel(); });
}

}  // namespace plateau::listener
