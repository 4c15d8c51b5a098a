#include "plateau/terminal/client/signaling_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <fstream>
#include <mutex>
#include <variant>

#include "plateau/common/log.hpp"

namespace plateau::terminal::client {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace p = signaling::protocol;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// One TCP (+TLS) + WebSocket connection. Shared with its pending handlers so that it outlives
// them after the client has moved on to a new connection.
struct Link {
  std::variant<std::monostate, PlainWs, TlsWs> ws;
  beast::flat_buffer buffer;
  uint64_t generation = 0;

  template <typename F>
  auto Visit(F&& f) {
    return std::visit(
        [&](auto& s) {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
            return;
          } else {
            return f(s);
          }
        },
        ws);
  }
  tcp::socket& Socket() {
    if (auto* s = std::get_if<PlainWs>(&ws)) return beast::get_lowest_layer(*s).socket();
    return beast::get_lowest_layer(std::get<TlsWs>(ws)).socket();
  }
  beast::tcp_stream& Lowest() {
    if (auto* s = std::get_if<PlainWs>(&ws)) return beast::get_lowest_layer(*s);
    return beast::get_lowest_layer(std::get<TlsWs>(ws));
  }
  void Cut() {
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
  }
};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct SignalingClient::Impl : std::enable_shared_from_this<Impl> {
  enum class Phase { kIdle, kConnecting, kHello, kRegistered, kWaitingRetry, kClosed };

  Impl(net::io_context& io_context, SignalingClientConfig c, SignalingClientCallbacks cb)
      : io(io_context),
        config(std::move(c)),
        callbacks(std::move(cb)),
        resolver(io_context),
        retry_timer(io_context),
        heartbeat_timer(io_context),
        heartbeat(config.default_heartbeat),
        backoff(config.min_backoff) {}

  net::io_context& io;
  SignalingClientConfig config;
  SignalingClientCallbacks callbacks;
  std::unique_ptr<ssl::context> tls;
  tcp::resolver resolver;
  net::steady_timer retry_timer;
  net::steady_timer heartbeat_timer;

  // io thread only.
  Phase phase = Phase::kIdle;
  std::shared_ptr<Link> link;
  uint64_t generation = 0;
  bool ever_registered = false;
  std::optional<std::string> resume_token;
  std::optional<Clock::time_point> dropped_at;
  Clock::time_point last_rx;
  std::chrono::milliseconds heartbeat;
  std::chrono::milliseconds backoff;
  uint64_t hello_count = 0;
  json hello_id;
  std::deque<std::string> outq;
  bool writing = false;
  bool close_after_flush = false;

  // Any thread (under mu).
  mutable std::mutex mu;
  SignalingClientStats stats;
  std::optional<net::ip::address> local;
  std::optional<net::ip::address> remote;

  static constexpr size_t kMaxQueued = 256;

  std::string Url() const { return FormatServerUrl(config.url); }

  // ---- connecting ----

  void Connect() {
    phase = Phase::kConnecting;
    auto l = std::make_shared<Link>();
    l->generation = ++generation;
    if (config.url.tls)
      l->ws.emplace<TlsWs>(io.get_executor(), *tls);
    else
      l->ws.emplace<PlainWs>(io.get_executor());
    link = l;
    resolver.async_resolve(
        config.url.host, std::to_string(config.url.port),
        [self = shared_from_this(), l](beast::error_code ec, tcp::resolver::results_type results) {
          self->OnResolved(l, ec, results);
        });
  }

  bool Current(const std::shared_ptr<Link>& l) const {
    return phase != Phase::kClosed && link == l;
  }

  void OnResolved(std::shared_ptr<Link> l, beast::error_code ec,
                  tcp::resolver::results_type results) {
    if (!Current(l)) return;
    if (ec) return ConnectFailed("cannot resolve " + config.url.host + ": " + ec.message());
    l->Lowest().expires_after(config.connect_timeout);
    l->Lowest().async_connect(
        results, [self = shared_from_this(), l](beast::error_code ec, const tcp::endpoint&) {
          self->OnConnected(l, ec);
        });
  }

  void OnConnected(std::shared_ptr<Link> l, beast::error_code ec) {
    if (!Current(l)) return;
    if (ec) return ConnectFailed("cannot connect to " + Url() + ": " + ec.message());
    {
      std::lock_guard lock(mu);
      beast::error_code e2;
      auto le = l->Socket().local_endpoint(e2);
      if (!e2) local = le.address();
      auto re = l->Socket().remote_endpoint(e2);
      if (!e2) remote = re.address();
    }
    beast::error_code e3;
    l->Socket().set_option(tcp::no_delay(true), e3);
    if (auto* s = std::get_if<TlsWs>(&l->ws)) {
      auto& stream = s->next_layer();
      if (!SSL_set_tlsext_host_name(stream.native_handle(), config.url.host.c_str()))
        return ConnectFailed("cannot set the TLS server name");
      if (!config.tls.insecure) {
        stream.set_verify_mode(ssl::verify_peer);
        stream.set_verify_callback(ssl::host_name_verification(config.url.host));
      } else {
        stream.set_verify_mode(ssl::verify_none);
      }
      stream.async_handshake(
          ssl::stream_base::client,
          [self = shared_from_this(), l](beast::error_code ec) { self->OnTlsHandshake(l, ec); });
      return;
    }
    WebSocketHandshake(l);
  }

  void OnTlsHandshake(std::shared_ptr<Link> l, beast::error_code ec) {
    if (!Current(l)) return;
    if (ec) {
      std::string why = ec.message();
      if (ec.category() == net::error::get_ssl_category() &&
          ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED)
        why =
            "the server's certificate is not trusted (pass --ca FILE with the server's "
            "certificate, or --insecure to accept any)";
      return Fatal(Error{"tls", "TLS handshake with " + Url() + " failed: " + why});
    }
    WebSocketHandshake(l);
  }

  void WebSocketHandshake(std::shared_ptr<Link> l) {
    l->Visit([&](auto& ws) {
      beast::get_lowest_layer(ws).expires_never();
      websocket::stream_base::timeout t{};
      t.handshake_timeout = config.connect_timeout;
      t.idle_timeout = websocket::stream_base::none();  // our own heartbeat watchdog
      t.keep_alive_pings = false;
      ws.set_option(t);
      ws.set_option(websocket::stream_base::decorator(
          [name = config.client_name](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, name);
          }));
      ws.read_message_max(p::kMaxMessageBytes);
      ws.auto_fragment(false);
      const bool default_port = config.url.port == (config.url.tls ? 443 : 80);
      std::string host = config.url.host.find(':') != std::string::npos
                             ? "[" + config.url.host + "]"
                             : config.url.host;
      if (!default_port) host += ":" + std::to_string(config.url.port);
      ws.async_handshake(
          host, config.url.target,
          [self = shared_from_this(), l](beast::error_code ec) { self->OnWsHandshake(l, ec); });
    });
  }

  void OnWsHandshake(std::shared_ptr<Link> l, beast::error_code ec) {
    if (!Current(l)) return;
    if (ec) {
      std::string why = ec.message();
      if (ec == websocket::error::upgrade_declined)
        why = "the server declined the WebSocket upgrade at " + config.url.target +
              " (is this a Plateau server?)";
      return ConnectFailed("WebSocket handshake with " + Url() + " failed: " + why);
    }
    {
      std::lock_guard lock(mu);
      ++stats.connects;
    }
    phase = Phase::kHello;
    last_rx = Clock::now();
    outq.clear();
    writing = false;
    hello_id = "hello-" + std::to_string(++hello_count);
    p::Hello hello{config.venue, config.token, resume_token, config.client_name};
    Write(p::Serialize(p::ClientMessage{hello_id, std::move(hello)}));
    Read(l);
    ArmHeartbeat();
  }

  // A connection attempt failed: fatal before the first registration, else retried.
  void ConnectFailed(const std::string& why) {
    if (link) link->Cut();
    link.reset();
    if (!ever_registered) return Fatal(Error{"connect", why});
    log::Warn("terminal.reconnect_failed", {{"venue", config.venue}, {"why", why}});
    ScheduleRetry();
  }

  // ---- reading ----

  void Read(std::shared_ptr<Link> l) {
    l->Visit([&](auto& ws) {
      ws.async_read(l->buffer, [self = shared_from_this(), l](beast::error_code ec, size_t) {
        self->OnRead(l, ec);
      });
    });
  }

  void OnRead(std::shared_ptr<Link> l, beast::error_code ec) {
    if (!Current(l)) return;
    if (ec) {
      if (ec == websocket::error::closed) {
        websocket::close_reason reason;
        l->Visit([&](auto& ws) { reason = ws.reason(); });
        const std::string text = std::string(reason.reason.c_str());
        const std::string what = "the server closed the connection (" +
                                 std::to_string(reason.code) + (text.empty() ? "" : ": " + text) +
                                 ")";
        // Policy closes (replaced, too many failed hellos, rate limited, no hello in time) are
        // decisions: reconnecting would only repeat them.
        if (reason.code == websocket::close_code::policy_error ||
            reason.code == websocket::close_code::protocol_error ||
            reason.code == websocket::close_code::bad_payload ||
            reason.code == websocket::close_code::too_big)
          return Fatal(Error{"closed_by_server", what});
        return Drop(what);
      }
      if (ec == websocket::error::message_too_big)
        return Drop("the server sent a message over " + std::to_string(p::kMaxMessageBytes) +
                    " bytes");
      return Drop("connection lost: " + ec.message());
    }
    last_rx = Clock::now();
    bool text_frame = true;
    l->Visit([&](auto& ws) { text_frame = ws.got_text(); });
    std::string text = beast::buffers_to_string(l->buffer.data());
    l->buffer.consume(l->buffer.size());
    if (!text_frame) {
      BadMessage("a binary frame (protocol v1 is JSON text)");
    } else {
      auto parsed = p::ParseServerMessage(text);
      if (!parsed) {
        const auto& f = parsed.failure();
        BadMessage(f.code + (f.field.empty() ? "" : " (" + f.field + ")") + ": " + f.message);
      } else {
        Handle(parsed.value());
      }
    }
    if (Current(l)) Read(l);
  }

  void BadMessage(const std::string& why) {
    {
      std::lock_guard lock(mu);
      ++stats.bad_messages;
      stats.last_bad_message = why;
    }
    log::Warn("terminal.bad_server_message", {{"venue", config.venue}, {"why", why}});
    if (phase == Phase::kHello)
      Fatal(Error{"bad_server", "the server at " + Url() +
                                    " does not speak Plateau signaling v1: its answer to hello "
                                    "was " +
                                    why});
  }

  void Handle(const p::ServerMessage& message) {
    {
      std::lock_guard lock(mu);
      ++stats.messages_in;
    }
    if (const auto* ping = std::get_if<p::Ping>(&message.body)) {
      Write(p::Serialize(p::ClientBody{p::Pong{ping->ts}}));
      return;
    }
    if (const auto* pong = std::get_if<p::Pong>(&message.body)) {
      if (pong->ts) {
        std::lock_guard lock(mu);
        stats.rtt_ms = static_cast<double>(SteadyMs() - *pong->ts);
      }
      return;
    }
    if (const auto* r = std::get_if<p::Registered>(&message.body)) {
      phase = Phase::kRegistered;
      resume_token = r->resume_token;
      ever_registered = true;
      dropped_at.reset();
      backoff = config.min_backoff;
      heartbeat = std::chrono::milliseconds(std::clamp<int64_t>(r->heartbeat_ms, 500, 60000));
      {
        std::lock_guard lock(mu);
        ++stats.registrations;
        if (r->resumed) ++stats.resumes;
        stats.connected = true;
      }
      ArmHeartbeat();
    } else if (const auto* e = std::get_if<p::ErrorMessage>(&message.body)) {
      if (phase == Phase::kHello && e->ref == hello_id) {
        return Fatal(Error{e->code, "the server refused hello for venue \"" + config.venue +
                                        "\": " + e->code + ": " + e->message});
      }
    } else if (phase == Phase::kHello) {
      BadMessage("\"" + std::string(p::TypeName(message.body)) + "\" before registered");
      return;
    }
    if (callbacks.on_message) callbacks.on_message(message);
  }

  // ---- writing ----

  void Write(std::string text) {
    if (!link || (phase != Phase::kHello && phase != Phase::kRegistered)) {
      std::lock_guard lock(mu);
      ++stats.send_dropped;
      return;
    }
    if (outq.size() >= kMaxQueued) {
      std::lock_guard lock(mu);
      ++stats.send_dropped;
      return;
    }
    outq.push_back(std::move(text));
    {
      std::lock_guard lock(mu);
      ++stats.messages_out;
    }
    if (!writing) WriteNext(link);
  }

  void WriteNext(std::shared_ptr<Link> l) {
    if (outq.empty()) {
      writing = false;
      if (close_after_flush) SendCloseAndStop();
      return;
    }
    writing = true;
    l->Visit([&](auto& ws) {
      ws.text(true);
      ws.async_write(net::buffer(outq.front()),
                     [self = shared_from_this(), l](beast::error_code ec, size_t) {
                       if (!self->Current(l)) return;
                       if (ec) return self->Drop("write failed: " + ec.message());
                       self->outq.pop_front();
                       self->WriteNext(l);
                     });
    });
  }

  // ---- heartbeat ----

  void ArmHeartbeat() {
    heartbeat_timer.expires_after(heartbeat);
    heartbeat_timer.async_wait([self = shared_from_this(), l = link](beast::error_code ec) {
      if (ec || !self->Current(l)) return;
      self->OnHeartbeat();
    });
  }

  void OnHeartbeat() {
    const auto silent = Clock::now() - last_rx;
    if (silent > 3 * heartbeat) {
      return Drop("nothing heard from the server for " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                  " s");
    }
    if (phase == Phase::kRegistered) Write(p::Serialize(p::ClientBody{p::Ping{SteadyMs()}}));
    ArmHeartbeat();
  }

  // ---- losing and closing ----

  void Drop(const std::string& why) {
    if (phase == Phase::kClosed) return;
    if (link) link->Cut();
    link.reset();
    outq.clear();
    writing = false;
    heartbeat_timer.cancel();
    {
      std::lock_guard lock(mu);
      ++stats.drops;
      stats.connected = false;
    }
    log::Warn("terminal.connection_lost", {{"venue", config.venue}, {"why", why}});
    if (close_after_flush) return Fatal(Error{"closed", "closed"});
    if (!ever_registered) return Fatal(Error{"connection_lost", why});
    if (!config.reconnect) return Fatal(Error{"connection_lost", why});
    if (!dropped_at) dropped_at = Clock::now();
    if (callbacks.on_disconnected) callbacks.on_disconnected(Error{"connection_lost", why});
    if (phase == Phase::kClosed) return;  // the callback closed us
    backoff = config.min_backoff;
    ScheduleRetry();
  }

  void ScheduleRetry() {
    if (!dropped_at) dropped_at = Clock::now();
    if (Clock::now() - *dropped_at > config.resume_window) {
      return Fatal(Error{"connection_lost",
                         "the connection to " + Url() + " was lost and not restored within " +
                             std::to_string(config.resume_window.count() / 1000) + " s"});
    }
    phase = Phase::kWaitingRetry;
    retry_timer.expires_after(backoff);
    backoff = std::min(backoff * 2, config.max_backoff);
    retry_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->phase != Phase::kWaitingRetry) return;
      self->Connect();
    });
  }

  void Fatal(const Error& error) {
    if (phase == Phase::kClosed) return;
    phase = Phase::kClosed;
    retry_timer.cancel();
    heartbeat_timer.cancel();
    resolver.cancel();
    if (link) link->Cut();
    link.reset();
    outq.clear();
    {
      std::lock_guard lock(mu);
      stats.connected = false;
    }
    if (error.code != "closed")
      log::Warn("terminal.signaling_stopped",
                {{"venue", config.venue}, {"code", error.code}, {"why", error.message}});
    auto cb = std::move(callbacks.on_closed);
    callbacks = {};
    if (cb) cb(error);
  }

  // Closes after the queued messages (a `leave`) are written, within 2 s.
  void CloseGracefully() {
    if (phase == Phase::kClosed || close_after_flush) return;
    if (link && (phase == Phase::kHello || phase == Phase::kRegistered) &&
        (writing || !outq.empty())) {
      close_after_flush = true;
      heartbeat_timer.cancel();
      retry_timer.expires_after(std::chrono::seconds(2));
      retry_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->SendCloseAndStop();
      });
      return;
    }
    SendCloseAndStop();
  }

  void SendCloseAndStop() {
    if (phase == Phase::kClosed) return;
    std::shared_ptr<Link> l = link;
    if (l && (phase == Phase::kHello || phase == Phase::kRegistered)) {
      // Say goodbye without waiting for it: the link outlives this client until the close
      // handshake completes or its 2 s timeout cuts it.
      link.reset();
      l->Lowest().expires_after(std::chrono::seconds(2));
      l->Visit([&](auto& ws) {
        ws.async_close(websocket::close_code::normal, [l](beast::error_code) {});
      });
    }
    Fatal(Error{"closed", "closed"});
  }
};

Result<std::shared_ptr<SignalingClient>> SignalingClient::Create(
    net::io_context& io, SignalingClientConfig config, SignalingClientCallbacks callbacks) {
  if (config.venue.empty() || config.venue.size() > p::kMaxVenueChars)
    return Error{"bad_config",
                 "a venue id of 1.." + std::to_string(p::kMaxVenueChars) + " characters is needed"};
  if (config.token.empty() || config.token.size() > p::kMaxTokenChars)
    return Error{"bad_config", "a venue token of 1.." + std::to_string(p::kMaxTokenChars) +
                                   " characters is needed (from `plateau venue-token`)"};
  if (config.url.host.empty() || config.url.port == 0) return Error{"bad_config", "no server URL"};
  if (config.min_backoff.count() <= 0 || config.max_backoff < config.min_backoff)
    return Error{"bad_config", "backoff must be positive and min <= max"};
  auto impl = std::make_shared<Impl>(io, std::move(config), std::move(callbacks));
  if (impl->config.url.tls) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (!impl->config.tls.ca_file.empty()) {
      std::ifstream probe(impl->config.tls.ca_file);
      if (!probe) return Error{"tls_ca", "cannot read " + impl->config.tls.ca_file};
      ctx->load_verify_file(impl->config.tls.ca_file, ec);
      if (ec)
        return Error{"tls_ca",
                     impl->config.tls.ca_file + " is not a PEM certificate file: " + ec.message()};
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec)
        return Error{"tls_ca", "cannot load the system's trusted certificates: " + ec.message()};
    }
    impl->tls = std::move(ctx);
  }
  return std::shared_ptr<SignalingClient>(new SignalingClient(std::move(impl)));
}

SignalingClient::SignalingClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

SignalingClient::~SignalingClient() {
  if (impl_->io.get_executor().running_in_this_thread() || impl_->io.stopped()) {
    impl_->callbacks = {};
    impl_->CloseGracefully();
  } else {
    net::post(impl_->io, [impl = impl_] {
      impl->callbacks = {};
      impl->CloseGracefully();
    });
  }
}

void SignalingClient::Start() {
  net::post(impl_->io, [impl = impl_] {
    if (impl->phase == Impl::Phase::kIdle) impl->Connect();
  });
}

void SignalingClient::Send(p::ClientBody body, json id) {
  auto text = p::Serialize(p::ClientMessage{std::move(id), std::move(body)});
  net::post(impl_->io, [impl = impl_, text = std::move(text)]() mutable {
    if (impl->phase != Impl::Phase::kRegistered) {
      std::lock_guard lock(impl->mu);
      ++impl->stats.send_dropped;
      return;
    }
    impl->Write(std::move(text));
  });
}

void SignalingClient::Close() {
  net::post(impl_->io, [impl = impl_] { impl->CloseGracefully(); });
}

SignalingClientStats SignalingClient::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::optional<net::ip::address> SignalingClient::local_address() const {
  std::lock_guard lock(impl_->mu);
  return impl_->local;
}

std::optional<net::ip::address> SignalingClient::remote_address() const {
  std::lock_guard lock(impl_->mu);
  return impl_->remote;
}

const SignalingClientConfig& SignalingClient::config() const {
  return impl_->config;
}

}  // namespace plateau::terminal::client
