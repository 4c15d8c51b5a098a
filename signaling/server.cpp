#include "plateau/signaling/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <set>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"

namespace plateau::signaling {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

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

metrics::Counter* RequestCounter(int status) {
  const std::string cls = std::to_string(status / 100) + "xx";
  return metrics::Registry::Global().GetCounter("plateau_http_requests_total",
                                                "HTTP requests answered, by status class",
                                                {{"class", cls}});
}

}  // namespace

class Session;

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(net::io_context& io, const Router& r, ServerLimits l)
      : io(io), router(r), limits(l), acceptor(net::make_strand(io)) {}

  net::io_context& io;
  const Router& router;
  ServerLimits limits;
  tcp::acceptor acceptor;
  std::mutex mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool stopped = false;

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  void Close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    parser_->body_limit(server_->limits.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(server_->limits.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
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
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return SendError(400, "bad_request", "malformed HTTP request: " + ec.message());
      }
      return DoClose();
    }
    const auto& req = parser_->get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const size_t q = r.target.find('?');
    r.path = PercentDecode(std::string_view(r.target).substr(0, q), false);
    if (q != std::string::npos) r.query = ParseQuery(std::string_view(r.target).substr(q + 1));
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    r.body = req.body();
    r.remote = remote_;
    keep_alive_ = req.keep_alive();
    HttpResponse resp;
    try {
      resp = server_->router.Dispatch(std::move(r));
    } catch (const std::exception& e) {
      log::Error("http.handler_exception", {{"path", std::string(req.target())}, {"what", e.what()}});
      resp = HttpResponse::Error(500, "internal", "internal error");
    }
    Send(std::move(resp), req.method() == http::verb::head);
  }

  void SendError(int status, const std::string& code, const std::string& message) {
    keep_alive_ = false;
    Send(HttpResponse::Error(status, code, message), false);
  }

  void Send(HttpResponse resp, bool head) {
    RequestCounter(resp.status)->Inc();
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
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->DoClose();
                        self->DoRead();
                      });
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> server_;
  std::string remote_;
  bool keep_alive_ = false;
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
    std::lock_guard lock(mu);
    if (stopped) return;
    // Forget sessions that are gone; refuse beyond the connection limit.
    for (auto it = sessions.begin(); it != sessions.end();)
      it = it->expired() ? sessions.erase(it) : std::next(it);
    if (sessions.size() >= limits.max_connections) {
      beast::error_code ignore;
      socket.close(ignore);
    } else {
      auto s = std::make_shared<Session>(std::move(socket), shared_from_this());
      sessions.insert(s);
      s->Start();
    }
  }
  DoAccept();
}

HttpServer::HttpServer(net::io_context& io, const Router& router, ServerLimits limits)
    : state_(std::make_shared<State>(io, router, limits)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Listen(const std::string& listen) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(listen, &host, &port))
    return Error{"bad_listen", "listen address \"" + listen + "\" is not HOST:PORT"};
  beast::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Error{"bad_listen", "listen host \"" + host + "\" is not an IP address"};
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
  std::vector<std::shared_ptr<Session>> open;
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

}  // namespace plateau::signaling
