#include "plateau/terminal/client/terminal_session.hpp"

#include <sodium.h>

#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <mutex>

#include "plateau/common/log.hpp"
#include "plateau/common/random.hpp"
#include "plateau/mcu/transport/crypto_attribute.hpp"

namespace plateau::terminal::client {

namespace net = boost::asio;
namespace tr = mcu::transport;
using udp = net::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// "address:port" for the statistics (IPv6 without brackets, as these fields always were).
std::string HostPort(const std::optional<tr::Endpoint>& e) {
  if (!e) return "";
  return e->address().ToString() + ":" + std::to_string(e->port());
}

uint64_t RandomSessionId() {
  return (random::U64() >> 2) + 1;  // positive, fits the SDP o= field comfortably
}

}  // namespace

struct TerminalSession::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::io_context& io_context, metrics::Registry& registry, TerminalSessionConfig c,
       TerminalSessionCallbacks cb)
      : io(io_context),
        metrics(registry),
        config(std::move(c)),
        callbacks(std::move(cb)),
        call(config.call) {}

  net::io_context& io;
  metrics::Registry& metrics;  // the caller's; where the media transport counts
  TerminalSessionConfig config;
  TerminalSessionCallbacks callbacks;
  TerminalCall call;  // io thread
  std::shared_ptr<SignalingClient> client;

  // io thread.
  std::optional<udp::socket> reserved;  // holds our media port until the first transport binds
  std::string media_address;
  uint16_t media_port = 0;
  uint64_t session_id = RandomSessionId();
  uint64_t session_version = 0;
  Clock::time_point started;
  std::optional<Clock::time_point> resume_at;
  bool started_once = false;

  // Any thread (under mu).
  mutable std::mutex mu;
  std::shared_ptr<tr::VenueTransport> transport;
  int transport_generation = 0;
  CallSnapshot snapshot;
  JoinTimings timings;
  double last_resume_to_media_ms = -1;
  bool finished = false;
  std::optional<Error> failure;
  std::string end_reason;
  std::atomic<uint64_t> rtp_in_current{0};
  std::atomic<uint64_t> rtp_in_total{0};
  std::atomic<uint64_t> rtp_out_total{0};
  std::atomic<uint64_t> keyframe_requests{0};

  // ---- signaling events (io thread) ----

  void OnMessage(const signaling::protocol::ServerMessage& message) {
    if (std::holds_alternative<signaling::protocol::Registered>(message.body) &&
        timings.registered_ms < 0) {
      std::lock_guard lock(mu);
      timings.registered_ms = MsSince(started);
    }
    if (const auto* j = std::get_if<signaling::protocol::Joined>(&message.body)) {
      std::lock_guard lock(mu);
      if (timings.joined_ms < 0) timings.joined_ms = MsSince(started);
      if (j->resumed) resume_at = Clock::now();
    }
    Apply(call.OnServerMessage(message));
  }

  void Apply(std::vector<CallAction> actions) {
    for (auto& action : actions) {
      std::visit(
          [&](auto& a) {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, SendMessage>) {
              if (client) client->Send(std::move(a.message.body), std::move(a.message.id));
            } else if constexpr (std::is_same_v<T, PrepareLocal>) {
              PrepareLocalDescription();
            } else if constexpr (std::is_same_v<T, StartMedia>) {
              StartTransport(a);
            } else if constexpr (std::is_same_v<T, CallEnded>) {
              Finish(std::nullopt, a.reason);
            } else if constexpr (std::is_same_v<T, CallFailed>) {
              Finish(a.error, "failed");
            }
          },
          action);
    }
    std::lock_guard lock(mu);
    snapshot = call.snapshot();
  }

  // ---- media ----

  Result<std::string> LocalAddress() {
    if (!config.media_address.empty()) return config.media_address;
    auto local = client ? client->local_address() : std::nullopt;
    if (!local) return std::string("127.0.0.1");
    if (local->is_v4()) return local->to_string();
    if (local->is_loopback()) return std::string("127.0.0.1");
    if (local->to_v6().is_v4_mapped()) return local->to_v6().to_v4().to_string();
    return Error{"media_address", "the signaling connection is IPv6 (" + local->to_string() +
                                      ") but SDES SDP carries IPv4: pass --media-address"};
  }

  void PrepareLocalDescription() {
    if (media_port == 0) {
      auto address = LocalAddress();
      if (!address) return Apply(call.OnLocalFailed(address.error()));
      boost::system::error_code ec;
      auto ip = net::ip::make_address(*address, ec);
      if (ec || !ip.is_v4())
        return Apply(call.OnLocalFailed(
            Error{"media_address", "\"" + *address + "\" is not an IPv4 address"}));
      reserved.emplace(io);
      reserved->open(udp::v4(), ec);
      if (!ec) reserved->bind(udp::endpoint(ip, 0), ec);
      if (ec) {
        reserved.reset();
        return Apply(call.OnLocalFailed(
            Error{"media_bind", "cannot bind a UDP port on " + *address + ": " + ec.message()}));
      }
      media_address = *address;
      media_port = reserved->local_endpoint().port();
    }
    negotiation::sdp::SdesDescription local;
    local.session_id = session_id;
    local.session_version = ++session_version;
    local.address = media_address;
    local.port = media_port;
    local.video_payload_type = config.video_payload_type;
    local.audio_payload_type = config.audio_payload_type;
    local.SetDirection(negotiation::sdp::Direction::kSendRecv);
    // NEW keys for every offer. AEAD_AES_128_GCM first: with Debian's libsrtp2 (NSS) it costs a
    // fraction of AES_CM + HMAC per packet on both ends (docs/media-transport.md); AES_CM second
    // for an MCU without GCM. The answer's tag says which one the server took.
    local.crypto = tr::MakeCryptoAttribute(tr::SrtpProfile::kAeadAes128Gcm, 1);
    local.crypto_alternatives = {tr::MakeCryptoAttribute(tr::SrtpProfile::kAesCm128HmacSha1_80, 2)};
    Apply(call.OnLocalPrepared(std::move(local)));
  }

  void StartTransport(const StartMedia& media) {
    std::shared_ptr<tr::VenueTransport> old;
    {
      std::lock_guard lock(mu);
      old = std::move(transport);
    }
    if (old) old->Close();  // on the io thread: the socket is closed now, so the port is free
    if (reserved) {
      boost::system::error_code ec;
      reserved->close(ec);
      reserved.reset();
    }
    auto remote_ip = tr::IpAddress::Parse(media.remote.address);
    if (!remote_ip || remote_ip->is_unspecified()) {
      // No usable address in the answer: the media go where the signaling goes.
      auto server = client ? client->remote_address() : std::nullopt;
      if (server) remote_ip = tr::IpAddress::Parse(server->to_string());
      if (!server || !remote_ip)
        return Apply(
            call.OnLocalFailed(Error{"media_address", "the answer has no usable address"}));
    }
    tr::VenueTransportConfig tc;
    tc.name = config.signaling.venue;
    tc.bind_address = media_address;
    tc.bind_port = media_port;
    tc.remote = tr::Endpoint(*remote_ip, media.remote.port);
    tc.latch = true;
    tc.send_key = media.local.crypto.key;
    tc.receive_key = media.remote.crypto.key;
    tc.cname = "plateau-terminal-" + config.signaling.venue;
    tc.payload_types.clear();
    auto add = [&](std::optional<uint8_t> pt, tr::MediaKind kind, uint32_t rate) {
      if (!pt) return;
      for (const auto& existing : tc.payload_types)
        if (existing.payload_type == *pt) return;
      tc.payload_types.push_back(tr::PayloadTypeInfo{*pt, kind, rate});
    };
    add(media.local.video_payload_type, tr::MediaKind::kVideo, 90000);
    add(media.remote.video_payload_type, tr::MediaKind::kVideo, 90000);
    add(media.local.audio_payload_type, tr::MediaKind::kAudio, 48000);
    add(media.remote.audio_payload_type, tr::MediaKind::kAudio, 48000);

    const int generation = media.generation;
    std::weak_ptr<Impl> weak = weak_from_this();
    tr::VenueTransportCallbacks cb;
    cb.on_rtp = [weak, generation](const mcu::rtp::RtpPacket& packet,
                                   const tr::RtpArrival& arrival) {
      if (auto self = weak.lock()) self->OnRtp(generation, packet, arrival);
    };
    cb.on_keyframe_request = [weak](uint32_t) {
      auto self = weak.lock();
      if (!self) return;
      ++self->keyframe_requests;
      if (self->callbacks.on_keyframe_request) self->callbacks.on_keyframe_request();
    };
    auto created = tr::VenueTransport::Create(io, std::move(tc), std::move(cb), metrics);
    if (!created) {
      return Apply(call.OnLocalFailed(Error{"media_bind", "cannot start media on " + media_address +
                                                              ":" + std::to_string(media_port) +
                                                              ": " + created.error().message}));
    }
    {
      std::lock_guard lock(mu);
      transport = *created;
      transport_generation = generation;
      rtp_in_current = 0;
      if (timings.answer_ms < 0) timings.answer_ms = MsSince(started);
    }
    log::Info("terminal.media",
              {{"venue", config.signaling.venue},
               {"generation", generation},
               {"local", media_address + ":" + std::to_string(media_port)},
               {"remote", remote_ip->ToString() + ":" + std::to_string(media.remote.port)}});
    if (callbacks.on_media) callbacks.on_media(generation);
  }

  void OnRtp(int generation, const mcu::rtp::RtpPacket& packet, const tr::RtpArrival& arrival) {
    ++rtp_in_total;
    if (rtp_in_current++ == 0) {
      std::lock_guard lock(mu);
      if (generation == transport_generation) {
        if (timings.first_media_ms < 0) timings.first_media_ms = MsSince(started);
        if (resume_at) {
          last_resume_to_media_ms =
              std::chrono::duration<double, std::milli>(Clock::now() - *resume_at).count();
          resume_at.reset();
        }
      }
    }
    if (callbacks.on_rtp) callbacks.on_rtp(packet, arrival);
  }

  // ---- the end ----

  void Finish(std::optional<Error> why, const std::string& reason) {
    std::shared_ptr<tr::VenueTransport> t;
    {
      std::lock_guard lock(mu);
      if (finished) return;
      finished = true;
      failure = why;
      end_reason = reason;
      t = std::move(transport);
    }
    if (t) t->Close();
    if (reserved) {
      boost::system::error_code ec;
      reserved->close(ec);
      reserved.reset();
    }
    if (client) client->Close();
    if (why)
      log::Warn("terminal.failed",
                {{"venue", config.signaling.venue}, {"code", why->code}, {"why", why->message}});
    else
      log::Info("terminal.finished", {{"venue", config.signaling.venue}, {"reason", reason}});
    auto cb = std::move(callbacks.on_finished);
    callbacks.on_rtp = nullptr;
    callbacks.on_keyframe_request = nullptr;
    callbacks.on_media = nullptr;
    if (cb) cb(why);
  }
};

Result<std::shared_ptr<TerminalSession>> TerminalSession::Create(
    net::io_context& io, metrics::Registry& metrics, TerminalSessionConfig config,
    TerminalSessionCallbacks callbacks) {
  if (sodium_init() < 0) return Error{"crypto", "libsodium cannot be initialised"};
  if (config.video_payload_type == config.audio_payload_type || config.video_payload_type > 127 ||
      config.audio_payload_type > 127)
    return Error{"bad_config", "video and audio need distinct payload types 0..127"};
  auto impl = std::make_shared<Impl>(io, metrics, std::move(config), std::move(callbacks));
  std::weak_ptr<Impl> weak = impl;
  SignalingClientCallbacks cb;
  cb.on_message = [weak](const signaling::protocol::ServerMessage& message) {
    if (auto self = weak.lock()) self->OnMessage(message);
  };
  cb.on_disconnected = [weak](const Error& why) {
    auto self = weak.lock();
    if (!self) return;
    log::Info("terminal.resuming", {{"venue", self->config.signaling.venue}, {"why", why.message}});
    self->Apply(self->call.OnDisconnected());
  };
  cb.on_closed = [weak](const Error& why) {
    auto self = weak.lock();
    if (!self) return;
    if (why.code == "closed") return;  // we closed it (Finish)
    self->Finish(why, "failed");
  };
  auto client = SignalingClient::Create(io, impl->config.signaling, std::move(cb));
  if (!client) return client.error();
  impl->client = *client;
  return std::shared_ptr<TerminalSession>(new TerminalSession(std::move(impl)));
}

TerminalSession::TerminalSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

TerminalSession::~TerminalSession() {
  auto close = [impl = impl_] {
    impl->callbacks = {};
    impl->Finish(std::nullopt, "closed");
  };
  if (impl_->io.get_executor().running_in_this_thread() || impl_->io.stopped())
    close();
  else
    net::post(impl_->io, close);
}

void TerminalSession::Start() {
  net::post(impl_->io, [impl = impl_] {
    if (impl->started_once) return;
    impl->started_once = true;
    impl->started = Clock::now();
    impl->client->Start();
  });
}

void TerminalSession::SendRtp(std::span<const uint8_t> rtp) {
  std::shared_ptr<tr::VenueTransport> t;
  {
    std::lock_guard lock(impl_->mu);
    t = impl_->transport;
  }
  if (!t) return;
  ++impl_->rtp_out_total;
  t->SendRtp(rtp);
}

void TerminalSession::Leave() {
  net::post(impl_->io, [impl = impl_] { impl->Apply(impl->call.Leave()); });
}

void TerminalSession::Close() {
  net::post(impl_->io, [impl = impl_] { impl->Finish(std::nullopt, "closed"); });
}

TerminalSessionStatus TerminalSession::Status() const {
  TerminalSessionStatus s;
  std::shared_ptr<tr::VenueTransport> t;
  {
    std::lock_guard lock(impl_->mu);
    s.call = impl_->snapshot;
    s.timings = impl_->timings;
    s.last_resume_to_media_ms = impl_->last_resume_to_media_ms;
    s.finished = impl_->finished;
    s.failure = impl_->failure;
    s.end_reason = impl_->end_reason;
    t = impl_->transport;
  }
  if (s.failure && s.call.state != CallState::kEnded) {
    s.call.state = CallState::kFailed;
    s.call.failure = s.failure;
  }
  s.signaling = impl_->client->Stats();
  if (t) {
    s.transport = t->GetStats();
    s.media_local = HostPort(t->local_endpoint());
    s.media_remote = HostPort(t->remote_endpoint());
  }
  s.rtp_in_current = impl_->rtp_in_current;
  s.rtp_in_total = impl_->rtp_in_total;
  s.rtp_out_total = impl_->rtp_out_total;
  s.keyframe_requests = impl_->keyframe_requests;
  return s;
}

}  // namespace plateau::terminal::client
