#include "serve.hpp"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "load_config.hpp"
#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/listener/server.hpp"
#include "plateau/listener/static_files.hpp"
#include "plateau/listener/tls.hpp"
#include "plateau/negotiation/conference/conference_media.hpp"
#include "plateau/negotiation/conference/link_meter.hpp"
#include "plateau/negotiation/webrtc/webrtc_session.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/app/topology_json.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/rest/bookings_api.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "plateau/signaling/scheduler_binding.hpp"
#include "plateau/signaling/switchboard.hpp"

namespace plateau::cli {

Status PrepareDataDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(dir);
  if (!fs::exists(path, ec)) {
    if (path.has_parent_path() && !path.parent_path().empty())
      fs::create_directories(path.parent_path(), ec);
    if (ec) return Error{"data_dir", ec.message()};
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return Error{"data_dir", std::string("cannot create: ") + std::strerror(errno)};
  }
  const fs::perms p = fs::status(path, ec).permissions();
  if (ec) return Error{"data_dir", ec.message()};
  if ((p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) return Error{"data_dir", "cannot make it private (0700): " + ec.message()};
    log::Warn("serve.data_dir_tightened", {{"data", dir}, {"mode", "0700"}});
  }
  return Status::Ok();
}

int RunServe(const ServeOptions& options) {
  auto loaded = LoadCliConfig(options.config);
  if (!loaded) return 2;
  const scheduler::config::Config* config = &loaded->config;
  scheduler::Network* network = &loaded->network;
  // Meetings and token hashes: the data directory is the server's own (0700, the database 0600).
  if (auto st = PrepareDataDirectory(options.data); !st) {
    log::Error("serve.data_dir_failed", {{"data", options.data}, {"error", st.error().message}});
    return 1;
  }
  // Bookings, events and venue credentials: SQLite (WAL) in the data directory, migrated here.
  const std::string db_path = (std::filesystem::path(options.data) / "plateau.db").string();
  auto store = scheduler::store::SqliteBookingStore::Open(db_path);
  if (!store) {
    log::Error("serve.store_failed", {{"path", db_path}, {"error", store.error().message}});
    return 1;
  }
  // The server's one metrics registry, rendered at /metrics. Every component below counts in it
  // (and hands it on to what it creates); declared before them all, so it outlives them and the
  // handlers they leave on the io_context.
  metrics::Registry registry;
  scheduler::app::BookingService bookings(
      *network, **store, SystemClock::Instance(), registry,
      scheduler::app::ServiceSettings{config->server.utc_offset_minutes, config->server.timezone});
  const std::string listen = options.listen.empty() ? config->server.listen : options.listen;

  boost::asio::io_context io;
  listener::Router router;
  router.Add("GET", "/healthz", [](const listener::HttpRequest&) {
    return listener::HttpResponse::Json(200, {{"status", "ok"}, {"version", PLATEAU_VERSION}});
  });
  router.Add("GET", "/metrics", [&registry](const listener::HttpRequest&) {
    return listener::HttpResponse::Text(200, registry.RenderText(), "text/plain; version=0.0.4");
  });
  const scheduler::Topology& topo = network->topology();
  // Measured against booked, per link and direction (/metrics and GET /api/v1/links "now").
  std::vector<std::string> link_ids;
  for (const auto& l : topo.links()) link_ids.push_back(l.id);
  negotiation::conference::LinkMeter link_meter(registry, std::move(link_ids));
  scheduler::rest::RegisterBookingsApi(  // /api/v1: topology, bookings, links, ...
      router, bookings, [&link_meter] { return link_meter.Rates(); });

  // The console last: its catch-all route must not shadow the API.
  router.Add("GET", "/", [](const listener::HttpRequest&) {
    listener::HttpResponse r = listener::HttpResponse::Text(302, "", "text/plain");
    r.headers.emplace_back("Location", "/console/");
    return r;
  });
  listener::AddStaticFiles(router, "/console", options.web_root);
  // The browser terminal (venues join over WebRTC): web-console/terminal/ at /terminal.
  listener::AddStaticFiles(router, "/terminal", options.web_root + "/terminal");

  listener::ServerLimits limits;
  limits.max_connections = options.max_connections;
  limits.max_connections_per_address = options.max_connections_per_address;
  limits.max_body_bytes_in_flight = options.max_body_mib_in_flight * 1024 * 1024;
  listener::HttpServer server(io, router, registry, limits);

  // TLS: configured files or a self-signed certificate in the data dir; plain only on loopback.
  std::string listen_host;
  uint16_t listen_port = 0;
  if (listener::SplitHostPort(listen, &listen_host, &listen_port)) {
    auto tls = listener::ResolveTls(*listener::ParseTlsMode(options.tls), listen_host,
                                    config->server.tls_cert, config->server.tls_key, options.data);
    if (!tls) {
      std::cerr << "plateau: " << tls.error().message << "\n";
      return 2;
    }
    if (*tls) {
      if (auto st = server.EnableTls((*tls)->cert, (*tls)->key); !st) {
        std::cerr << "plateau: " << st.error().message << "\n";
        return 2;
      }
      auto fp = listener::CertificateFingerprint((*tls)->cert);
      log::Info("serve.tls", {{"cert", (*tls)->cert},
                              {"self_signed", (*tls)->self_signed},
                              {"sha256", fp ? *fp : ""}});
    }
  }

  // Signaling at /ws: venues authenticate with their tokens and join booked conferences; their
  // offers are negotiated into the MCU engine (SDES here; DTLS once a WebRTC factory is set).
  const Clock& signaling_clock = SystemClock::Instance();
  signaling::BookingVenueAuthenticator venue_auth(bookings);
  signaling::BookingConferenceDirectory conferences(bookings);
  negotiation::conference::ConferenceMediaConfig media_config;
  media_config.media_address = options.media_address;
  for (const auto& p : network->profiles())  // [[profile]]: the one source of every rate
    media_config.profiles.push_back({p.id, p.width, p.height, p.video_kbps, p.audio_kbps});
  auto conference_media = negotiation::conference::ConferenceMedia::Create(media_config, registry);
  if (!conference_media) {
    std::cerr << "plateau: " << conference_media.error().message << "\n";
    return 2;
  }
  negotiation::conference::ConferenceMedia& media = **conference_media;
  // Browsers (DTLS offers): one webrtcbin per venue, ICE candidates only on the media address.
  negotiation::webrtc::WebRtcConfig webrtc_config;
  webrtc_config.ice_addresses = {options.media_address};
  webrtc_config.conference_video_payload_type = media_config.conference.video_payload_type;
  webrtc_config.conference_audio_payload_type = media_config.conference.audio_payload_type;
  media.SetWebRtcFactory([webrtc_config](mcu::conference::Conference* conference,
                                         metrics::Registry& legs_metrics, std::string venue,
                                         std::string offer,
                                         negotiation::conference::WebRtcLegCallbacks cb,
                                         signaling::MediaNegotiator::AnswerCallback done) {
    return negotiation::conference::AdaptWebRtcSession(negotiation::webrtc::WebRtcSession::Create(
        webrtc_config, conference, legs_metrics, std::move(venue), std::move(offer),
        {std::move(cb.on_candidate), std::move(cb.on_failed)}, std::move(done)));
  });
  signaling::AdmittedVenues admitted;
  signaling::SwitchboardSettings switchboard_settings;
  switchboard_settings.hello_timeout_ms = int64_t{options.hello_timeout_seconds} * 1000;
  auto switchboard = std::make_shared<signaling::Switchboard>(
      switchboard_settings, signaling_clock, registry, venue_auth, conferences, media, admitted);
  switchboard->Start();
  server.SetWebSocketEndpoint("/ws", switchboard);
  listener::PeriodicTimer switchboard_ticker(io, std::chrono::milliseconds(500),
                                             [&switchboard] { switchboard->Tick(); });
  listener::PeriodicTimer link_sampler(io, std::chrono::seconds(1), [&link_meter, &media] {
    link_meter.Sample(media.Flows(), media.Reserved(), SystemClock::Instance().Monotonic());
  });

  if (auto st = server.Listen(listen); !st) {
    log::Error("serve.listen_failed", {{"listen", listen}, {"error", st.error().message}});
    return 1;
  }
  log::Info("serve.started", {{"version", PLATEAU_VERSION},
                              {"listen", listen},
                              {"port", server.port()},
                              {"tls", server.tls()},
                              {"threads", options.threads},
                              {"config", options.config},
                              {"data", options.data},
                              {"sites", topo.sites().size()}});

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int signo) {
    if (e) return;
    log::Info("serve.stopping", {{"signal", signo}});
    switchboard_ticker.Stop();
    link_sampler.Stop();
    server.Stop();
    io.stop();
  });

  std::vector<std::thread> workers;
  for (int i = 1; i < options.threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : workers) t.join();
  switchboard->Stop();  // its media executor, before the media engine goes
  log::Info("serve.stopped");
  return 0;
}

void RegisterServe(CLI::App& root, Commands& out) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = root.add_subcommand("serve", "Run the all-in-one server");
  cmd->add_option("--config", options->config, "Network config (TOML)")->required();
  cmd->add_option("--data", options->data, "Data directory (SQLite and keys)")
      ->capture_default_str();
  cmd->add_option("--listen", options->listen, "HOST:PORT (default from the config)");
  cmd->add_option("--tls", options->tls,
                  "auto: TLS unless the listen address is loopback; on: always (https/wss); off: "
                  "plain, loopback only")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd->add_option("--web-root", options->web_root, "Directory of the web console's files")
      ->capture_default_str();
  cmd->add_option("--media-address", options->media_address,
                  "IPv4 address of the interface venues' media (SDES RTP/SAVP) is bound to and "
                  "announced on")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads,
                  "io threads of the listener (HTTP, REST, /ws and the Switchboard's timers)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--max-connections", options->max_connections,
                  "open connections in total; beyond, new ones are closed at once")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--max-connections-per-address", options->max_connections_per_address,
                  "open connections from one remote IP address; beyond, new ones are closed at "
                  "once")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--max-body-mib-in-flight", options->max_body_mib_in_flight,
                  "MiB of request bodies being received at once, all connections; beyond, 503 "
                  "busy (Retry-After: 1)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--hello-timeout", options->hello_timeout_seconds,
                  "seconds a /ws connection may stay without a successful hello")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  out.push_back({cmd, [options] { return RunServe(*options); }});
}

}  // namespace plateau::cli
