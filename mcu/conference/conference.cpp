// Conference: venues' transports + VideoMixer + MixMinusMixer, glued on one io thread.
//
// Locks (never both held in the other order):
//   mu_         control state: venues, both mixers' control methods, the audio tick.
//   routes_mu_  guards the pointer to the immutable routing snapshot the media threads read
//               (tier streaming threads, PushRtp callers). Taken inside mu_ only to publish.
#include "plateau/mcu/conference/conference.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/mcu/conference/venue_streams.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/venue_transport.hpp"

namespace plateau::mcu::conference {
namespace {

namespace asio = boost::asio;
using MonoTime = plateau::Clock::MonoTime;
constexpr auto kTick = std::chrono::milliseconds(20);
// After a stall longer than this the audio clock jumps ahead instead of bursting stale audio.
constexpr int kMaxCatchUpTicks = 10;
constexpr int kMetricsEveryTicks = 50;  // one second

Error Err(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

// Whether the transport sends to the endpoint's remote before the venue's first packet (a claimed
// remote on another address than the venue's signaling peer waits for the latch).
bool RemoteUsable(const SdesEndpoint& endpoint) {
  return endpoint.remote && (!endpoint.claim_trusted_address ||
                             endpoint.remote->address() == *endpoint.claim_trusted_address);
}

// Per-venue counters touched by the media threads (lock-free).
struct Counters {
  std::atomic<uint64_t> packets_in{0};  // external carriers: accepted RTP
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> packets_out{0};  // handed to the carrier (video + audio)
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> dropped{0};  // input that never reached a mixer (conference level)
  std::atomic<bool> seen_input{false};
  std::atomic<bool> keyframe_on_input{false};  // ask the venue for a keyframe on first input
  std::atomic<bool> tier_keyframe{false};      // this receiver needs a keyframe of its tier
};

struct Carrier {
  std::shared_ptr<transport::VenueTransport> transport;  // SDES
  std::shared_ptr<ExternalEndpoint> external;            // or external
  uint8_t video_pt = 96;
  uint8_t audio_pt = 111;
  VenueMedia media;  // what the venue sends and receives over this carrier
};

// One venue as the media threads see it. Immutable; replaced on change.
struct Route {
  std::string id;
  audio::VenueId audio_id = 0;
  size_t tier = 0;
  bool uplink = false;  // the cascade leg to the parent MCU
  uint32_t video_ssrc = 0;
  Carrier carrier;
  std::shared_ptr<Counters> counters;
};

struct Routes {
  // Receivers of each tier. With a cascade uplink, only the uplink receives a tier: every other
  // venue is in `forwarded` and receives the uplink's video (the parent's picture) as it comes.
  std::vector<std::vector<std::shared_ptr<const Route>>> by_tier;
  std::shared_ptr<const Route> uplink;
  std::vector<std::shared_ptr<const Route>> forwarded;
  std::map<std::string, std::shared_ptr<const Route>, std::less<>> by_id;
};

// Totals of carriers that were replaced (reconnect), so a venue's figures stay cumulative.
struct Retired {
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  uint64_t dropped = 0;
};

uint64_t TransportDrops(const transport::VenueTransportStats& s) {
  return s.dropped_malformed + s.dropped_auth + s.dropped_replay + s.dropped_unknown +
         s.dropped_foreign_source + s.dropped_unknown_pt + s.dropped_stream_limit;
}

struct VenueState {
  VenueSpec spec;
  size_t tier = 0;
  audio::VenueId audio_id = 0;
  uint32_t video_ssrc = 0;
  uint32_t audio_ssrc = 0;
  Carrier carrier;
  std::shared_ptr<Counters> counters;
  bool muted = false;
  std::optional<AudioPacketizer> audio_out;  // the venue's audio stream
  Retired retired;
  // Metrics (label: venue id; bounded by the topology's sites).
  metrics::Counter* m_packets_in = nullptr;
  metrics::Gauge* m_lost = nullptr;
  metrics::Gauge* m_fraction_lost = nullptr;
  uint64_t reported_packets_in = 0;
};

class ConferenceImpl final : public Conference {
 public:
  ConferenceImpl(ConferenceConfig config, metrics::Registry& metrics, ConferenceCallbacks callbacks,
                 media::LayoutKind layout, const plateau::Clock& clock)
      : work_(asio::make_work_guard(io_)),
        tick_timer_(io_),
        config_(std::move(config)),
        clock_(clock),
        metrics_(metrics),
        callbacks_(std::move(callbacks)),
        requested_layout_(layout),
        routes_(std::make_shared<Routes>()) {
    auto& m = metrics_;
    const metrics::Labels labels{{"conference", config_.id}};
    m_venues_ = m.GetGauge("plateau_conference_venues", "Venues in the conference", labels);
    m_decoders_ = m.GetGauge("plateau_conference_active_decoders",
                             "Video decoders running (visible venues)", labels);
    m_video_encoders_ =
        m.GetGauge("plateau_conference_video_encoders", "Video encoders (one per tier)", labels);
    m_audio_encoders_ =
        m.GetGauge("plateau_conference_audio_encoders", "Audio encoders (K + 1)", labels);
    m_dropped_ = m.GetCounter("plateau_conference_dropped_packets_total",
                              "Input packets that never reached a mixer", labels);
  }

  ~ConferenceImpl() override {
    // 1. Stop the tick and close every transport on the io thread, then stop the thread.
    if (thread_.joinable()) {
      std::promise<void> closed;
      asio::post(io_, [this, &closed] {
        stopping_ = true;
        tick_timer_.cancel();
        MutexLock lock(mu_);
        for (auto& [id, v] : venues_) {
          if (v->carrier.transport) v->carrier.transport->Close();
        }
        closed.set_value();
      });
      closed.get_future().wait();
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // 2. The mixer's streaming threads end here; after this no callback runs.
    video_.reset();
    {
      MutexLock lock(routes_mu_);
      routes_ = std::make_shared<Routes>();
    }
    // The conference's series end with it: labelled by conference, they would otherwise grow with
    // every booking. The pointers stay valid; nothing updates them after this.
    auto& m = metrics_;
    const metrics::Labels labels{{"conference", config_.id}};
    for (const char* name :
         {"plateau_conference_venues", "plateau_conference_active_decoders",
          "plateau_conference_video_encoders", "plateau_conference_audio_encoders",
          "plateau_conference_dropped_packets_total"})
      m.Remove(name, labels);
    log::Info("conference.stopped", {{"conference", config_.id}});
  }

  Status Start() {
    auto audio = audio::MixMinusMixer::Create(config_.audio, clock_);
    if (!audio) return audio.error();
    audio_ = std::move(audio.value());

    media::VideoMixerCallbacks cb;
    cb.on_packet = [this](const media::TierPacket& p) { OnTierPacket(p); };
    cb.on_keyframe_request = [this](const std::string& venue) {
      asio::post(io_, [this, venue] { AskVenueForKeyframe(venue); });
    };
    // A tier encodes only while some venue receives it (PublishRoutesLocked starts and stops it).
    media::VideoMixerConfig video_config = config_.video;
    for (auto& t : video_config.tiers) t.active = false;
    auto video = media::VideoMixer::Create(video_config, std::move(cb), clock_);
    if (!video) return video.error();
    video_ = std::move(video.value());
    std::string_view layout;
    {
      // No other thread runs yet; the lock is for the analysis (and costs nothing).
      MutexLock lock(mu_);
      video_->SetLayout(requested_layout_);
      tier_last_forced_.assign(config_.video.tiers.size(), MonoTime{});
      layout = media::LayoutName(requested_layout_);
    }
    {
      MutexLock lock(routes_mu_);
      auto r = std::make_shared<Routes>();
      r->by_tier.resize(config_.video.tiers.size());
      routes_ = std::move(r);
    }
    m_video_encoders_->Set(0);
    m_audio_encoders_->Set(static_cast<double>(audio_->encoder_count()));

    thread_ = std::thread([this] { io_.run(); });
    asio::post(io_, [this] {
      ticks_.emplace(clock_.Monotonic(), kTick, kMaxCatchUpTicks);
      ScheduleTick();
    });
    log::Info("conference.started", {{"conference", config_.id},
                                     {"layout", std::string(layout)},
                                     {"tiers", config_.video.tiers.size()},
                                     {"speakers", config_.audio.speakers}});
    return Status::Ok();
  }

  // ---- Venues ----

  Result<VenueMediaInfo> AddVenue(const VenueSpec& venue, const SdesEndpoint& endpoint) override {
    MutexLock lock(mu_);
    auto tier = CheckNewVenue(venue);
    if (!tier) return tier.error();
    auto v = NewVenueState(venue, *tier);
    auto carrier = MakeSdesCarrier(*v, endpoint);
    if (!carrier) return carrier.error();
    v->carrier = std::move(carrier.value());
    v->audio_out->Restart(v->carrier.audio_pt);
    if (RemoteUsable(endpoint)) v->counters->tier_keyframe = true;
    return InsertVenue(std::move(v));
  }

  Result<VenueMediaInfo> AddVenue(const VenueSpec& venue,
                                  std::shared_ptr<ExternalEndpoint> endpoint) override {
    if (!endpoint) return Err("bad_endpoint", "the external endpoint is null");
    MutexLock lock(mu_);
    auto tier = CheckNewVenue(venue);
    if (!tier) return tier.error();
    auto v = NewVenueState(venue, *tier);
    v->carrier = ExternalCarrier(std::move(endpoint));
    v->audio_out->Restart(v->carrier.audio_pt);
    v->counters->tier_keyframe = true;
    return InsertVenue(std::move(v));
  }

  Result<VenueMediaInfo> ReconnectVenue(const std::string& venue,
                                        const SdesEndpoint& endpoint) override {
    MutexLock lock(mu_);
    auto it = venues_.find(venue);
    if (it == venues_.end()) return UnknownVenue(venue);
    auto carrier = MakeSdesCarrier(*it->second, endpoint);
    if (!carrier) return carrier.error();
    return SwapCarrier(*it->second, std::move(carrier.value()), RemoteUsable(endpoint));
  }

  Result<VenueMediaInfo> ReconnectVenue(const std::string& venue,
                                        std::shared_ptr<ExternalEndpoint> endpoint) override {
    if (!endpoint) return Err("bad_endpoint", "the external endpoint is null");
    MutexLock lock(mu_);
    auto it = venues_.find(venue);
    if (it == venues_.end()) return UnknownVenue(venue);
    return SwapCarrier(*it->second, ExternalCarrier(std::move(endpoint)), true);
  }

  Status RemoveVenue(const std::string& venue) override {
    MutexLock lock(mu_);
    auto it = venues_.find(venue);
    if (it == venues_.end()) return UnknownVenue(venue).error();
    VenueState& v = *it->second;
    (void)video_->RemoveVenue(venue);
    (void)audio_->RemoveVenue(v.audio_id);
    Retire(v);
    retired_dropped_ += v.retired.dropped + v.counters->dropped.load();
    if (v.carrier.transport) v.carrier.transport->Close();
    v.m_lost->Set(0);
    v.m_fraction_lost->Set(0);
    by_audio_.erase(v.audio_id);
    used_ssrcs_.erase(v.video_ssrc);
    used_ssrcs_.erase(v.audio_ssrc);
    venues_.erase(it);
    if (pinned_ == venue) pinned_.reset();
    if (dominant_ == venue) {
      dominant_.reset();
      NotifySpeakerLocked();
    }
    PublishRoutesLocked();
    NotifyLayoutLocked();
    m_venues_->Set(static_cast<double>(venues_.size()));
    log::Info("conference.venue_removed", {{"conference", config_.id}, {"venue", venue}});
    return Status::Ok();
  }

  // ---- External carriers ----

  void PushRtp(const std::string& venue, std::span<const uint8_t> bytes) override {
    auto route = FindRoute(venue);
    if (!route) {
      dropped_unknown_venue_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Counters& c = *route->counters;
    if (!route->carrier.external) {  // SDES venues take media only through SRTP
      c.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto packet = rtp::RtpPacket::Parse(bytes);
    if (!packet) {
      c.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    transport::MediaKind kind;
    if (packet->payload_type() == config_.video_payload_type) {
      kind = transport::MediaKind::kVideo;
    } else if (packet->payload_type() == config_.audio_payload_type) {
      kind = transport::MediaKind::kAudio;
    } else {
      c.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    c.packets_in.fetch_add(1, std::memory_order_relaxed);
    c.bytes_in.fetch_add(bytes.size(), std::memory_order_relaxed);
    OnMedia(*route, *packet, kind, clock_.Monotonic());
  }

  void OnKeyframeRequest(const std::string& venue) override {
    if (auto route = FindRoute(venue)) route->counters->tier_keyframe = true;
  }

  // ---- Live control ----

  Status SetLayout(const std::string& layout) override {
    auto kind = media::ParseLayout(layout);
    if (!kind) return kind.error();
    MutexLock lock(mu_);
    requested_layout_ = *kind;
    video_->SetLayout(*kind);
    NotifyLayoutLocked();
    return Status::Ok();
  }

  Status SetMuted(const std::string& venue, bool muted) override {
    MutexLock lock(mu_);
    auto it = venues_.find(venue);
    if (it == venues_.end()) return UnknownVenue(venue).error();
    // A venue that sends no audio stays muted in the mixer whatever the operator says.
    if (Status s =
            audio_->SetMuted(it->second->audio_id, muted || !it->second->carrier.media.sends_audio);
        !s)
      return s;
    it->second->muted = muted;
    return Status::Ok();
  }

  Status SetVenueOrder(const std::vector<std::string>& venues) override {
    MutexLock lock(mu_);
    // Every venue of the conference once; the video layout orders those with a tile.
    std::vector<std::string> sorted = venues;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> all;
    for (const auto& [id, v] : venues_) all.push_back(id);  // map order: sorted
    if (sorted != all)
      return Error{"bad_order", "the order must list every venue of the conference exactly once"};
    std::vector<std::string> tiled;
    for (const auto& id : venues) {
      if (venues_.at(id)->carrier.media.sends_video) tiled.push_back(id);
    }
    if (Status s = video_->SetVenueOrder(tiled); !s) return s;
    NotifyLayoutLocked();
    return Status::Ok();
  }

  Status PinSpeaker(const std::optional<std::string>& venue) override {
    MutexLock lock(mu_);
    if (venue && !venues_.count(*venue)) return UnknownVenue(*venue).error();
    if (venue && !HasTileLocked(*venue))
      return Err("no_video", "venue " + *venue + " sends no video: it has no tile to pin");
    pinned_ = venue;
    if (Status s = video_->SetSpeaker(pinned_ ? pinned_ : dominant_); !s) return s;
    NotifyLayoutLocked();
    return Status::Ok();
  }

  std::vector<media::Placement> Placements() const override {
    MutexLock lock(mu_);
    return video_->Placements();
  }

  ConferenceStats Stats() const override {
    MutexLock lock(mu_);
    return StatsLocked();
  }

  const std::string& id() const override { return config_.id; }

 private:
  // ---- Venue bookkeeping (mu_ held) ----

  Result<size_t> CheckNewVenue(const VenueSpec& venue) const PLATEAU_REQUIRES(mu_) {
    if (venue.id.empty()) return Err("bad_venue", "a venue needs a non-empty id");
    if (venue.uplink) {
      for (const auto& [id, v] : venues_)
        if (v->spec.uplink)
          return Err(
              "duplicate_uplink",
              "conference " + config_.id + " already has a cascade leg to its parent (" + id + ")");
    }
    if (venues_.count(venue.id))
      return Err("duplicate_venue",
                 "venue " + venue.id + " is already in conference " + config_.id);
    if (venues_.size() >= config_.max_venues)
      return Err("too_many_venues", "conference " + config_.id + " already has " +
                                        std::to_string(venues_.size()) + " venues (the bound)");
    if (venue.tier.empty()) return size_t{0};
    for (size_t i = 0; i < config_.video.tiers.size(); ++i) {
      if (config_.video.tiers[i].name == venue.tier) return i;
    }
    std::string names;
    for (const auto& t : config_.video.tiers) names += (names.empty() ? "" : ", ") + t.name;
    return Err("unknown_tier", "tier '" + venue.tier + "' is not one of: " + names);
  }

  static Result<VenueMediaInfo> UnknownVenue(const std::string& venue) {
    return Err("unknown_venue", "no venue " + venue + " in this conference");
  }

  // A venue that sends video has a tile in the video layout; others are not in it.
  // The uplink's video is forwarded, never mixed: it has no tile.
  Status AddTileLocked(const VenueSpec& spec, const VenueMedia& media) PLATEAU_REQUIRES(mu_) {
    if (!media.sends_video || spec.uplink) return Status::Ok();
    return video_->AddVenue(spec.id, spec.name.empty() ? spec.id : spec.name);
  }

  bool HasTileLocked(const std::string& venue) const PLATEAU_REQUIRES(mu_) {
    auto it = venues_.find(venue);
    return it != venues_.end() && it->second->carrier.media.sends_video && !it->second->spec.uplink;
  }

  // Muted in the audio mixer: by the operator, or because it sends no audio (never a speaker).
  static bool MixerMuted(const VenueState& v) { return v.muted || !v.carrier.media.sends_audio; }

  static std::string MediaName(const VenueMedia& m) {
    auto dir = [](bool send, bool receive) {
      return send ? (receive ? "sendrecv" : "sendonly") : (receive ? "recvonly" : "none");
    };
    return std::string("video ") + dir(m.sends_video, m.receives_video) + ", audio " +
           dir(m.sends_audio, m.receives_audio);
  }

  uint32_t NewSsrc() PLATEAU_REQUIRES(mu_) {
    std::uniform_int_distribution<uint32_t> dist(1, 0xFFFFFFFFu);
    for (;;) {
      const uint32_t s = dist(rng_);
      if (used_ssrcs_.insert(s).second) return s;
    }
  }

  std::unique_ptr<VenueState> NewVenueState(const VenueSpec& spec, size_t tier)
      PLATEAU_REQUIRES(mu_) {
    auto v = std::make_unique<VenueState>();
    v->spec = spec;
    v->tier = tier;
    v->audio_id = next_audio_id_++;
    v->video_ssrc = NewSsrc();
    v->audio_ssrc = NewSsrc();
    v->counters = std::make_shared<Counters>();
    v->muted = spec.muted;
    v->audio_out.emplace(v->audio_ssrc, 0, static_cast<uint16_t>(rng_()),
                         static_cast<uint32_t>(rng_()));
    auto& m = metrics_;
    const metrics::Labels labels{{"venue", spec.id}};
    v->m_packets_in = m.GetCounter("plateau_conference_venue_packets_in_total",
                                   "RTP packets received from the venue", labels);
    v->m_lost = m.GetGauge("plateau_conference_venue_lost_packets",
                           "Packets from the venue lost (RFC 3550 cumulative)", labels);
    v->m_fraction_lost = m.GetGauge("plateau_conference_venue_fraction_lost",
                                    "Fraction of the venue's packets lost (last report)", labels);
    return v;
  }

  Carrier ExternalCarrier(std::shared_ptr<ExternalEndpoint> endpoint) const {
    Carrier c;
    c.external = std::move(endpoint);
    c.video_pt = config_.video_payload_type;
    c.audio_pt = config_.audio_payload_type;
    return c;
  }

  Result<Carrier> MakeSdesCarrier(const VenueState& v, const SdesEndpoint& endpoint) {
    const VenueMedia& media = endpoint.media;
    const bool video = media.sends_video || media.receives_video;
    // A venue with no media at all (every line inactive) keeps a transport for its RTCP.
    const bool audio = media.sends_audio || media.receives_audio || !video;
    if ((video && endpoint.video_payload_type > 127) ||
        (audio && endpoint.audio_payload_type > 127) ||
        (video && audio && endpoint.video_payload_type == endpoint.audio_payload_type))
      return Err("bad_payload_type",
                 "video and audio payload types must differ and be 0..127 (got " +
                     std::to_string(endpoint.video_payload_type) + " and " +
                     std::to_string(endpoint.audio_payload_type) + ")");
    transport::VenueTransportConfig tc;
    tc.name = v.spec.id;
    tc.bind_address = endpoint.bind_address;
    tc.bind_port = endpoint.bind_port;
    tc.remote = endpoint.remote;
    tc.claim_trusted_address = endpoint.claim_trusted_address;
    tc.send_key = endpoint.send_key;
    tc.receive_key = endpoint.receive_key;
    tc.payload_types.clear();
    if (video)
      tc.payload_types.push_back(
          {endpoint.video_payload_type, transport::MediaKind::kVideo, 90000});
    if (audio)
      tc.payload_types.push_back(
          {endpoint.audio_payload_type, transport::MediaKind::kAudio, 48000});
    tc.cname = "plateau-" + config_.id;
    transport::VenueTransportCallbacks cb;
    auto route = std::make_shared<Route>();
    route->id = v.spec.id;
    route->audio_id = v.audio_id;
    route->tier = v.tier;
    route->uplink = v.spec.uplink;
    route->video_ssrc = v.video_ssrc;
    route->counters = v.counters;
    cb.on_rtp = [this, route](const rtp::RtpPacket& p, const transport::RtpArrival& a) {
      OnMedia(*route, p, a.kind, MonoTime(std::chrono::microseconds(a.arrival_us)));
    };
    cb.on_keyframe_request = [counters = v.counters](uint32_t) { counters->tier_keyframe = true; };
    auto t = transport::VenueTransport::Create(io_, std::move(tc), std::move(cb), metrics_, clock_);
    if (!t) {
      const auto& e = t.error();
      if (e.code == "bind") return Err("bind_failed", e.message);
      return e;
    }
    Carrier c;
    c.transport = std::move(t.value());
    c.video_pt = endpoint.video_payload_type;
    c.audio_pt = endpoint.audio_payload_type;
    c.media = media;
    return c;
  }

  VenueMediaInfo InfoOf(const VenueState& v) const {
    VenueMediaInfo info;
    if (v.carrier.transport) info.local = v.carrier.transport->local_endpoint();
    info.video_ssrc = v.video_ssrc;
    info.audio_ssrc = v.audio_ssrc;
    info.tier = config_.video.tiers[v.tier].name;
    return info;
  }

  Result<VenueMediaInfo> InsertVenue(std::unique_ptr<VenueState> v) PLATEAU_REQUIRES(mu_) {
    auto undo = [&]() PLATEAU_REQUIRES(mu_) {
      if (v->carrier.transport) v->carrier.transport->Close();
      used_ssrcs_.erase(v->video_ssrc);
      used_ssrcs_.erase(v->audio_ssrc);
    };
    if (Status s = AddTileLocked(v->spec, v->carrier.media); !s) {
      undo();
      return s.error();
    }
    if (Status s = audio_->AddVenue(v->audio_id); !s) {
      if (v->carrier.media.sends_video) (void)video_->RemoveVenue(v->spec.id);
      undo();
      return s.error();
    }
    if (MixerMuted(*v)) (void)audio_->SetMuted(v->audio_id, true);
    VenueMediaInfo info = InfoOf(*v);
    log::Info("conference.venue_added", {{"conference", config_.id},
                                         {"venue", v->spec.id},
                                         {"tier", info.tier},
                                         {"carrier", v->carrier.transport ? "sdes" : "external"},
                                         {"media", MediaName(v->carrier.media)},
                                         {"port", info.local ? info.local->port() : 0}});
    by_audio_[v->audio_id] = v.get();
    venues_[v->spec.id] = std::move(v);
    PublishRoutesLocked();
    NotifyLayoutLocked();
    m_venues_->Set(static_cast<double>(venues_.size()));
    return info;
  }

  // Folds the current carrier's totals into the venue's retired totals.
  void Retire(VenueState& v) {
    if (v.carrier.transport) {
      const auto s = v.carrier.transport->GetStats();
      v.retired.packets_in += s.packets_in;
      v.retired.bytes_in += s.bytes_in;
      v.retired.packets_out += s.packets_out;
      v.retired.bytes_out += s.bytes_out;
      v.retired.dropped += TransportDrops(s);
    }
  }

  Result<VenueMediaInfo> SwapCarrier(VenueState& v, Carrier carrier, bool remote_known)
      PLATEAU_REQUIRES(mu_) {
    // The tile follows what the venue sends now (a venue whose camera came back gets one).
    const bool had_video = v.carrier.media.sends_video;
    bool unpinned = false;
    if (carrier.media.sends_video && !had_video) {
      if (Status s = AddTileLocked(v.spec, carrier.media); !s) {
        if (carrier.transport) carrier.transport->Close();
        return s.error();
      }
    } else if (!carrier.media.sends_video && had_video) {
      (void)video_->RemoveVenue(v.spec.id);  // also leaves the large pane if it was there
      if (pinned_ == v.spec.id) {
        pinned_.reset();
        unpinned = true;
      }
    }
    Retire(v);
    Carrier old = std::move(v.carrier);
    v.carrier = std::move(carrier);
    (void)audio_->SetMuted(v.audio_id, MixerMuted(v));
    if (unpinned && dominant_ && HasTileLocked(*dominant_)) (void)video_->SetSpeaker(dominant_);
    v.counters->seen_input = false;
    v.counters->keyframe_on_input = true;
    v.counters->tier_keyframe = remote_known;
    v.audio_out->Restart(v.carrier.audio_pt);
    PublishRoutesLocked();
    if (had_video != v.carrier.media.sends_video) NotifyLayoutLocked();
    if (old.transport) old.transport->Close();
    log::Info("conference.venue_reconnected",
              {{"conference", config_.id},
               {"venue", v.spec.id},
               {"carrier", v.carrier.transport ? "sdes" : "external"},
               {"media", MediaName(v.carrier.media)}});
    return InfoOf(v);
  }

  void PublishRoutesLocked() PLATEAU_REQUIRES(mu_) {
    auto r = std::make_shared<Routes>();
    r->by_tier.resize(config_.video.tiers.size());
    for (const auto& [id, v] : venues_) {
      auto route = std::make_shared<Route>();
      route->id = id;
      route->audio_id = v->audio_id;
      route->tier = v->tier;
      route->uplink = v->spec.uplink;
      route->video_ssrc = v->video_ssrc;
      route->carrier = v->carrier;
      route->counters = v->counters;
      if (route->uplink) r->uplink = route;
      r->by_id[id] = std::move(route);
    }
    for (const auto& [id, route] : r->by_id) {
      if (r->uplink && !route->uplink)
        r->forwarded.push_back(route);
      else
        r->by_tier[route->tier].push_back(route);
    }
    SyncTierActivityLocked(*r);
    MutexLock lock(routes_mu_);
    routes_ = std::move(r);
  }

  // Encode only tiers that have receivers: a tier starts (with a keyframe) with its first venue
  // that receives video and stops with its last.
  void SyncTierActivityLocked(const Routes& r) PLATEAU_REQUIRES(mu_) {
    size_t active = 0;
    for (size_t tier = 0; tier < r.by_tier.size(); ++tier) {
      const bool wanted =
          std::any_of(r.by_tier[tier].begin(), r.by_tier[tier].end(),
                      [](const auto& route) { return route->carrier.media.receives_video; });
      if (auto st = video_->SetTierActive(config_.video.tiers[tier].name, wanted); !st)
        log::Error("conference.tier_active_failed",
                   {{"conference", config_.id}, {"message", st.error().message}});
      active += wanted ? 1 : 0;
    }
    m_video_encoders_->Set(static_cast<double>(active));
  }

  std::shared_ptr<const Routes> LoadRoutes() const PLATEAU_EXCLUDES(routes_mu_) {
    MutexLock lock(routes_mu_);
    return routes_;
  }

  std::shared_ptr<const Route> FindRoute(std::string_view venue) const {
    auto routes = LoadRoutes();
    auto it = routes->by_id.find(venue);
    return it == routes->by_id.end() ? nullptr : it->second;
  }

  // ---- Media paths ----

  // Inbound plain RTP of a venue (io thread for SDES, the carrier's thread for external).
  // `arrival`: when the datagram was read (the audio mixer plans its playout delay from it).
  void OnMedia(const Route& route, const rtp::RtpPacket& p, transport::MediaKind kind,
               MonoTime arrival) {
    Counters& c = *route.counters;
    const VenueMedia& media = route.carrier.media;
    if (!(kind == transport::MediaKind::kVideo ? media.sends_video : media.sends_audio)) {
      c.dropped.fetch_add(1, std::memory_order_relaxed);  // not negotiated (or recvonly)
      return;
    }
    if (!c.seen_input.exchange(true)) {
      c.tier_keyframe = true;  // its address is known now: start it with a keyframe
      if (c.keyframe_on_input.exchange(false))
        asio::post(io_, [this, id = route.id] { AskVenueForKeyframe(id); });
    }
    if (kind == transport::MediaKind::kVideo) {
      if (route.uplink) {
        ForwardUplinkVideo(p);
      } else {
        video_->PushVideoRtp(route.id, p.data());
      }
      return;
    }
    const auto r =
        audio_->PushOpus(route.audio_id, p.timestamp(), p.sequence_number(), p.payload(), arrival);
    if (r != audio::PushResult::kQueued) c.dropped.fetch_add(1, std::memory_order_relaxed);
  }

  // A tier's encoded packet (the tier's streaming thread): one copy per receiving venue.
  void OnTierPacket(const media::TierPacket& p) {
    auto routes = LoadRoutes();
    if (p.tier >= routes->by_tier.size()) return;
    SendVideoCopies(p.rtp, routes->by_tier[p.tier]);
  }

  // The parent's picture, from the cascade uplink: one copy per other venue that receives video,
  // restamped like a tier packet.
  void ForwardUplinkVideo(const rtp::RtpPacket& p) {
    auto routes = LoadRoutes();
    SendVideoCopies(p.data(), routes->forwarded);
  }

  // One copy of a video packet per receiving route, restamped (own SSRC and PT; the source's
  // sequence numbers and timestamps, so each venue transport's NACK history answers for what it
  // sent) and handed to the venue's carrier.
  void SendVideoCopies(std::span<const uint8_t> rtp,
                       const std::vector<std::shared_ptr<const Route>>& receivers) {
    for (const auto& route : receivers) {
      if (!route->carrier.media.receives_video) continue;
      std::vector<uint8_t> out(rtp.begin(), rtp.end());
      if (!RestampForVenue(out, route->video_ssrc, route->carrier.video_pt)) return;
      route->counters->packets_out.fetch_add(1, std::memory_order_relaxed);
      route->counters->bytes_out.fetch_add(out.size(), std::memory_order_relaxed);
      if (route->carrier.transport) {
        route->carrier.transport->SendRtp(std::move(out));
      } else if (route->carrier.external) {
        route->carrier.external->SendRtp(transport::MediaKind::kVideo, out);
      }
    }
  }

  // io thread: the mixer wants a keyframe from this venue (it became visible, or loss).
  void AskVenueForKeyframe(const std::string& venue) {
    auto route = FindRoute(venue);
    if (!route) return;
    if (route->carrier.transport) {
      route->carrier.transport->RequestKeyframe();
    } else if (route->carrier.external) {
      route->carrier.external->RequestKeyframe();
    }
  }

  // ---- The 20 ms tick (io thread) ----

  void ScheduleTick() {
    tick_timer_.expires_after(ticks_->next_deadline() - clock_.Monotonic());
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      OnTick();
      ScheduleTick();
    });
  }

  void OnTick() {
    MutexLock lock(mu_);
    const auto due = ticks_->Advance(clock_.Monotonic());
    if (due.skipped > 0)
      log::Warn("conference.audio_stall",
                {{"conference", config_.id}, {"skipped_ticks", due.skipped}});
    for (uint64_t i = 0; i < due.run; ++i) {
      const audio::MixTick& t = audio_->Tick();
      SendAudioLocked(t);
      UpdateDominantLocked(t.dominant);
      if (t.tick % kMetricsEveryTicks == 0) UpdateMetricsLocked();
    }
    ServiceTierKeyframesLocked();
  }

  void SendAudioLocked(const audio::MixTick& t) PLATEAU_REQUIRES(mu_) {
    for (const auto& out : t.outputs) {
      auto it = by_audio_.find(out.venue);
      if (it == by_audio_.end() || !out.frame || out.frame->opus.empty()) continue;
      VenueState& v = *it->second;
      if (!v.carrier.media.receives_audio) continue;
      auto packet = v.audio_out->Packetize(out.frame->opus, out.frame->timestamp);
      v.counters->packets_out.fetch_add(1, std::memory_order_relaxed);
      v.counters->bytes_out.fetch_add(packet.size(), std::memory_order_relaxed);
      if (v.carrier.transport) {
        v.carrier.transport->SendRtp(std::move(packet));
      } else if (v.carrier.external) {
        v.carrier.external->SendRtp(transport::MediaKind::kAudio, packet);
      }
    }
  }

  void UpdateDominantLocked(const std::optional<audio::VenueId>& dominant) PLATEAU_REQUIRES(mu_) {
    std::optional<std::string> now;
    if (dominant) {
      auto it = by_audio_.find(*dominant);
      if (it != by_audio_.end()) now = it->second->spec.id;
    }
    if (now == dominant_) return;
    dominant_ = now;
    NotifySpeakerLocked();
    // Voice activation moves the large pane; nobody speaking (or a speaker without video) leaves
    // the last speaker there.
    if (!pinned_ && dominant_ && HasTileLocked(*dominant_)) {
      if (video_->SetSpeaker(dominant_)) NotifyLayoutLocked();
    }
  }

  // Receivers that asked for a keyframe (PLI/FIR, joined, reconnected) get one per tier,
  // coalesced to the tier's rate limit: a limited request stays pending instead of being lost.
  void ServiceTierKeyframesLocked() PLATEAU_REQUIRES(mu_) {
    const auto now = clock_.Monotonic();
    const auto min_interval =
        std::chrono::milliseconds(std::max(0, config_.video.tier_keyframe_min_interval_ms));
    // With a cascade uplink every other venue receives the parent's forwarded picture: its
    // requests go to the parent, through the uplink, at the same rate limit.
    const auto up = std::find_if(venues_.begin(), venues_.end(),
                                 [](const auto& entry) { return entry.second->spec.uplink; });
    const VenueState* uplink = up != venues_.end() ? up->second.get() : nullptr;
    std::vector<bool> wanted(config_.video.tiers.size(), false);
    bool forwarded_wanted = false;
    for (const auto& [id, v] : venues_) {
      if (!v->carrier.media.receives_video ||
          !v->counters->tier_keyframe.load(std::memory_order_relaxed))
        continue;
      if (uplink && !v->spec.uplink) {
        forwarded_wanted = true;
      } else {
        wanted[v->tier] = true;
      }
    }
    if (forwarded_wanted && now - uplink_last_asked_ >= min_interval) {
      uplink_last_asked_ = now;
      asio::post(io_, [this, id = uplink->spec.id] { AskVenueForKeyframe(id); });
      for (const auto& [id, v] : venues_)
        if (!v->spec.uplink) v->counters->tier_keyframe = false;
    }
    for (size_t tier = 0; tier < wanted.size(); ++tier) {
      if (!wanted[tier] || now - tier_last_forced_[tier] < min_interval) continue;
      auto forced = video_->RequestKeyframe(config_.video.tiers[tier].name);
      if (!forced || !*forced) continue;
      tier_last_forced_[tier] = now;
      for (const auto& [id, v] : venues_) {
        if (v->tier == tier && (!uplink || v->spec.uplink)) v->counters->tier_keyframe = false;
      }
    }
  }

  // ---- Notifications (posted: callbacks never run with a lock held) ----

  void NotifyLayoutLocked() PLATEAU_REQUIRES(mu_) {
    auto placements = video_->Placements();
    const std::string name(media::LayoutName(EffectiveLayoutLocked()));
    if (placements == last_placements_ && name == last_layout_) return;
    last_placements_ = placements;
    last_layout_ = name;
    if (callbacks_.on_layout) {
      asio::post(io_, [this, name, placements = std::move(placements)] {
        callbacks_.on_layout(name, placements);
      });
    }
  }

  void NotifySpeakerLocked() PLATEAU_REQUIRES(mu_) {
    if (callbacks_.on_speaker) {
      asio::post(io_, [this, s = dominant_] { callbacks_.on_speaker(s); });
    }
  }

  media::LayoutKind EffectiveLayoutLocked() const PLATEAU_REQUIRES(mu_) {
    size_t tiled = 0;
    for (const auto& [id, v] : venues_) tiled += v->carrier.media.sends_video ? 1 : 0;
    return requested_layout_ == media::LayoutKind::kAuto ? media::AutoLayoutFor(tiled)
                                                         : requested_layout_;
  }

  // ---- Statistics ----

  ConferenceStats StatsLocked() const PLATEAU_REQUIRES(mu_) {
    ConferenceStats out;
    out.id = config_.id;
    out.video = video_->Stats();
    const auto audio = audio_->Stats();
    out.layout = std::string(media::LayoutName(out.video.layout));
    out.speaker = out.video.speaker;
    out.active_decoders = static_cast<int>(out.video.active_decoders);
    out.video_encoders = 0;
    for (const auto& t : out.video.tiers) out.video_encoders += t.active ? 1 : 0;
    out.audio_encoders = audio.encoders;
    out.dropped_packets =
        retired_dropped_ + dropped_unknown_venue_.load() + out.video.unknown_venue_packets;

    std::map<audio::VenueId, const audio::VenueAudioStats*> audio_by_id;
    for (const auto& a : audio.per_venue) audio_by_id[a.venue] = &a;
    // Venue order (the video layout's), then the venues without a tile by id.
    std::vector<media::VenueVideoStats> order = out.video.venues;
    for (const auto& [id, v] : venues_) {
      if (v->carrier.media.sends_video && !v->spec.uplink) continue;  // in the mixer's list
      media::VenueVideoStats none;
      none.venue = id;
      order.push_back(std::move(none));
    }
    for (const auto& vv : order) {
      auto it = venues_.find(vv.venue);
      if (it == venues_.end()) continue;
      const VenueState& v = *it->second;
      const Counters& c = *v.counters;
      VenueStats s;
      s.id = v.spec.id;
      s.name = v.spec.name;
      s.tier = config_.video.tiers[v.tier].name;
      s.external = v.carrier.external != nullptr;
      s.uplink = v.spec.uplink;
      s.muted = v.muted;
      s.media = v.carrier.media;
      uint64_t dropped = v.retired.dropped + c.dropped.load() + vv.malformed;
      s.packets_in = v.retired.packets_in;
      s.bytes_in = v.retired.bytes_in;
      s.packets_out = v.retired.packets_out;
      s.bytes_out = v.retired.bytes_out;
      if (v.carrier.transport) {
        auto t = v.carrier.transport->GetStats();
        s.packets_in += t.packets_in;
        s.bytes_in += t.bytes_in;
        s.packets_out += t.packets_out;
        s.bytes_out += t.bytes_out;
        s.lost = t.lost;
        s.fraction_lost = t.fraction_lost;
        s.jitter_ms = t.jitter_ms;
        s.rtt_ms = t.rtt_ms;
        dropped += TransportDrops(t);
        s.transport = std::move(t);
      } else if (v.carrier.external) {
        s.packets_in += c.packets_in.load();
        s.bytes_in += c.bytes_in.load();
        s.packets_out += c.packets_out.load();
        s.bytes_out += c.bytes_out.load();
        const auto leg = v.carrier.external->LegStats();
        s.lost = leg.lost;
        s.jitter_ms = leg.jitter_ms;
        s.rtt_ms = leg.rtt_ms;
      }
      s.visible = vv.visible;
      s.decoding = vv.decoding;
      s.tile = vv.tile ? static_cast<int>(*vv.tile) : -1;
      s.frames_decoded = vv.frames_decoded;
      if (auto a = audio_by_id.find(v.audio_id); a != audio_by_id.end()) {
        s.level_dbov = a->second->level_dbov;
        s.speaking = a->second->speaker;
        s.audio_delay_ticks = a->second->delay_ticks;
        s.audio_jitter_ms = a->second->jitter_ms;
        dropped += a->second->malformed + a->second->inbox_overflow;
      }
      s.dropped_packets = dropped;
      out.dropped_packets += dropped;
      out.venues.push_back(std::move(s));
    }
    return out;
  }

  void UpdateMetricsLocked() PLATEAU_REQUIRES(mu_) {
    const auto s = StatsLocked();
    m_decoders_->Set(s.active_decoders);
    if (s.dropped_packets > reported_dropped_) {
      m_dropped_->Inc(static_cast<double>(s.dropped_packets - reported_dropped_));
      reported_dropped_ = s.dropped_packets;
    }
    for (const auto& vs : s.venues) {
      auto it = venues_.find(vs.id);
      if (it == venues_.end()) continue;
      VenueState& v = *it->second;
      if (vs.packets_in > v.reported_packets_in) {
        v.m_packets_in->Inc(static_cast<double>(vs.packets_in - v.reported_packets_in));
        v.reported_packets_in = vs.packets_in;
      }
      v.m_lost->Set(static_cast<double>(vs.lost));
      v.m_fraction_lost->Set(vs.fraction_lost);
    }
  }

  // Declared first: destroyed last (transports' pending handlers live in it).
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer tick_timer_;  // io thread only
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  const ConferenceConfig config_;
  // Every time the conference and its mixers and transports read; the tick timer waits on Asio's
  // steady clock for the distance this clock gives.
  const plateau::Clock& clock_;
  metrics::Registry& metrics_;  // the creator's; handed on to the transports
  const ConferenceCallbacks callbacks_;

  mutable Mutex mu_;
  // Set in Start, reset in the destructor after the io thread stopped: the pointers never change
  // while threads run. Their control methods are called with mu_ held; PushVideoRtp/PushOpus and
  // the tier callbacks are the mixers' own thread-safe entry points.
  std::unique_ptr<media::VideoMixer> video_;
  std::unique_ptr<audio::MixMinusMixer> audio_;
  std::map<std::string, std::unique_ptr<VenueState>> venues_ PLATEAU_GUARDED_BY(mu_);
  std::map<audio::VenueId, VenueState*> by_audio_ PLATEAU_GUARDED_BY(mu_);
  audio::VenueId next_audio_id_ PLATEAU_GUARDED_BY(mu_) = 1;
  media::LayoutKind requested_layout_ PLATEAU_GUARDED_BY(mu_);
  std::optional<std::string> pinned_ PLATEAU_GUARDED_BY(mu_);
  std::optional<std::string> dominant_ PLATEAU_GUARDED_BY(mu_);
  std::vector<media::Placement> last_placements_ PLATEAU_GUARDED_BY(mu_);
  std::string last_layout_ PLATEAU_GUARDED_BY(mu_);
  std::vector<MonoTime> tier_last_forced_ PLATEAU_GUARDED_BY(mu_);
  MonoTime uplink_last_asked_ PLATEAU_GUARDED_BY(mu_);
  std::optional<TickSchedule> ticks_;  // the 20 ms audio clock (io thread only)
  random::Generator rng_;
  std::set<uint32_t> used_ssrcs_ PLATEAU_GUARDED_BY(mu_);
  uint64_t retired_dropped_ PLATEAU_GUARDED_BY(mu_) = 0;
  uint64_t reported_dropped_ PLATEAU_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> dropped_unknown_venue_{0};

  mutable Mutex routes_mu_ PLATEAU_ACQUIRED_AFTER(mu_);
  std::shared_ptr<const Routes> routes_ PLATEAU_GUARDED_BY(routes_mu_);

  metrics::Gauge* m_venues_;
  metrics::Gauge* m_decoders_;
  metrics::Gauge* m_video_encoders_;
  metrics::Gauge* m_audio_encoders_;
  metrics::Counter* m_dropped_;
};

}  // namespace

Result<std::unique_ptr<Conference>> Conference::Create(ConferenceConfig config,
                                                       metrics::Registry& metrics,
                                                       ConferenceCallbacks callbacks,
                                                       const plateau::Clock& clock) {
  if (config.id.empty()) return Err("bad_config", "a conference needs a non-empty id");
  if (config.video_payload_type > 127 || config.audio_payload_type > 127 ||
      config.video_payload_type == config.audio_payload_type)
    return Err("bad_config", "video and audio payload types must differ and be 0..127");
  if (config.max_venues == 0) return Err("bad_config", "max_venues must be at least 1");
  if (Status s = audio::ValidateMixerConfig(config.audio); !s) return s.error();
  auto layout = media::ParseLayout(config.layout);
  if (!layout) return layout.error();
  auto c = std::make_unique<ConferenceImpl>(std::move(config), metrics, std::move(callbacks),
                                            *layout, clock);
  if (Status s = c->Start(); !s) return s.error();
  return std::unique_ptr<Conference>(std::move(c));
}

}  // namespace plateau::mcu::conference
