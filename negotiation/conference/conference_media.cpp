#include "plateau/negotiation/conference/conference_media.hpp"

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"
#include "plateau/mcu/conference/cascade_leg.hpp"
#include "plateau/negotiation/sdp/sdes_sdp.hpp"

namespace plateau::negotiation::conference {

// The signaling seams this negotiator implements.
using signaling::MediaEvents;
using signaling::MediaNegotiator;
using signaling::MediaSeat;
using signaling::Meeting;
namespace protocol = signaling::protocol;

namespace {

namespace conf = plateau::mcu::conference;
namespace tr = plateau::mcu::transport;

void CountOffer(metrics::Registry& m, const std::string& kind, const std::string& result) {
  m.GetCounter("plateau_media_offers_total", "Media offers by kind (sdes, webrtc) and result",
               {{"kind", kind}, {"result", result}})
      ->Inc();
}

// Answers a venue's offer exactly once, whichever path (and thread) gets there first.
class OnceAnswer {
 public:
  OnceAnswer(MediaNegotiator::AnswerCallback done, metrics::Registry& metrics, std::string kind)
      : done_(std::move(done)), metrics_(metrics), kind_(std::move(kind)) {}
  void operator()(Result<std::string> answer) {
    if (called_.exchange(true)) return;
    CountOffer(metrics_, kind_, answer ? "answered" : answer.error().code);
    done_(std::move(answer));
  }
  bool called() const { return called_.load(); }

 private:
  MediaNegotiator::AnswerCallback done_;
  metrics::Registry& metrics_;
  std::string kind_;
  std::atomic<bool> called_{false};
};

uint64_t RandomSessionId() {
  // RFC 3264 5: a numeric id that fits 63 bits.
  return random::U64() >> 1;
}

// A meeting's engines work at its profile: the mix is composed at the profile's picture size (a
// meeting has one profile, so its one busy tier needs no scaling; a larger canvas would cost four
// times the composing for hd-2m) and its audio encoded at the profile's rate.
void ApplyProfile(const MediaProfile& profile, mcu::conference::ConferenceConfig& cc) {
  cc.video.canvas_width = profile.width;
  cc.video.canvas_height = profile.height;
  cc.audio.bitrate_bps = profile.audio_kbps * 1000;
}

Error MediaFailed(std::string message) {
  return Error{"media_failed", std::move(message)};
}

std::string Describe(const Error& e) {
  return e.message + " (" + e.code + ")";
}

// What the venue sends and receives, from its offer: a kind without a used m-line neither way;
// otherwise the line's direction, seen from the venue (sendonly: it sends, gets nothing back).
conf::VenueMedia MediaOf(const sdp::SdesDescription& offer) {
  auto sends = [](sdp::Direction d) {
    return d == sdp::Direction::kSendRecv || d == sdp::Direction::kSendOnly;
  };
  auto receives = [](sdp::Direction d) {
    return d == sdp::Direction::kSendRecv || d == sdp::Direction::kRecvOnly;
  };
  conf::VenueMedia m;
  const bool video = offer.video_payload_type.has_value();
  const bool audio = offer.audio_payload_type.has_value();
  m.sends_video = video && sends(offer.video_direction);
  m.receives_video = video && receives(offer.video_direction);
  m.sends_audio = audio && sends(offer.audio_direction);
  m.receives_audio = audio && receives(offer.audio_direction);
  return m;
}

std::string Describe(const sdp::SdesDescription& d) {
  std::string out;
  for (const auto& l : d.lines) {
    if (!out.empty()) out += ", ";
    out += l.media;
    if (l.use == sdp::LineUse::kRejected) {
      out += " rejected";
    } else {
      out += " " + std::string(sdp::ToString(l.use == sdp::LineUse::kVideo ? d.video_direction
                                                                           : d.audio_direction));
    }
  }
  return out;
}

}  // namespace

// One venue in the engine, as negotiated.
struct ConferenceMedia::Leg {
  uint64_t epoch = 0;
  bool held = false;
  uint64_t session_id = RandomSessionId();  // o= of our answers; the version counts them
  uint64_t session_version = 0;
  std::optional<tr::SrtpKey> venue_key;  // SDES: the key the venue sends with
  std::shared_ptr<WebRtcLeg> webrtc;     // WebRTC: the browser's leg
  std::optional<std::string> fingerprint;
  std::shared_ptr<std::atomic<bool>> webrtc_failed;
  std::string mcu;  // the plan's MCU whose engine holds the venue (the root's: empty)
};

// The sub-centre engines of a room, for the root's callbacks (its io thread): a cascade leg's tile
// and speaker are shown as the venue that leg carries (the sub-centre's own speaker).
struct ConferenceMedia::Nodes {
  Mutex mu;
  std::map<std::string, std::weak_ptr<conf::Conference>> by_mcu PLATEAU_GUARDED_BY(mu);

  // The venue a cascade leg shows now (its engine's one tile, layout "1"), or `venue` itself.
  std::string Resolve(const std::string& venue) PLATEAU_EXCLUDES(mu) {
    std::shared_ptr<conf::Conference> node;
    {
      MutexLock lock(mu);
      auto it = by_mcu.find(venue);
      if (it == by_mcu.end()) return venue;
      node = it->second.lock();
    }
    if (!node) return venue;
    const auto tiles = node->Placements();
    return tiles.empty() ? venue : Resolve(tiles.front().venue);
  }
};

// Reached through rooms_ under mu_, then used by the negotiator calls without it: only they add
// or remove rooms. (The analysis cannot check these fields: a Room cannot name its owner's mu_.)
struct ConferenceMedia::Room {
  Meeting meeting;
  // Created at the first offer. Written with mu_ held, by the negotiator calls only; they read it
  // without mu_, any other thread (Find) with it.
  std::shared_ptr<conf::Conference> conference;
  std::map<std::string, Leg> legs;  // negotiator calls only
  // The plan's other MCUs that host a seated venue, each joined to its parent by a cascade leg
  // (docs/cascade.md). Negotiator calls only; `nodes_view` mirrors them for the callbacks.
  std::map<std::string, std::shared_ptr<conf::Conference>> nodes;
  std::shared_ptr<Nodes> nodes_view = std::make_shared<Nodes>();
};

Result<std::unique_ptr<ConferenceMedia>> ConferenceMedia::Create(ConferenceMediaConfig config,
                                                                 metrics::Registry& metrics) {
  const auto address = tr::IpAddress::Parse(config.media_address);
  if (!address || !address->is_v4() || address->is_unspecified() || address->is_multicast()) {
    return Error{"bad_media_address",
                 "the media address must be the IPv4 address of one of this server's interfaces "
                 "(e.g. 127.0.0.1 or 10.63.0.5), not \"" +
                     config.media_address + "\""};
  }
  if (config.profiles.empty())
    return Error{"bad_profile", "no stream profile: the engine encodes only configured profiles"};
  const mcu::media::TierConfig shape = config.conference.video.tiers.empty()
                                           ? mcu::media::TierConfig{}
                                           : config.conference.video.tiers.front();
  std::vector<mcu::media::TierConfig> tiers;
  for (const MediaProfile& p : config.profiles) {
    auto bad = [&p](const std::string& what) {
      return Error{"bad_profile", "profile \"" + p.id + "\": " + what};
    };
    if (p.id.empty()) return Error{"bad_profile", "a stream profile has no id"};
    for (const auto& t : tiers)
      if (t.name == p.id) return bad("used twice");
    if (p.width < 64 || p.width > 1920 || p.height < 64 || p.height > 1080 || p.width % 2 != 0 ||
        p.height % 2 != 0)
      return bad("size " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                 " must be even, 64x64..1920x1080");
    if (p.video_kbps < 32 || p.video_kbps > 20000) return bad("video_kbps must be 32..20000");
    if (p.audio_kbps < 6 || p.audio_kbps > 510) return bad("audio_kbps must be 6..510 (Opus)");
    mcu::media::TierConfig t = shape;
    t.name = p.id;
    t.width = p.width;
    t.height = p.height;
    t.bitrate_kbps = p.video_kbps;
    t.ssrc = 0;
    tiers.push_back(std::move(t));
  }
  config.conference.video.tiers = std::move(tiers);
  return std::unique_ptr<ConferenceMedia>(new ConferenceMedia(std::move(config), metrics));
}

ConferenceMedia::ConferenceMedia(ConferenceMediaConfig config, metrics::Registry& metrics)
    : config_(std::move(config)), metrics_(metrics) {}

ConferenceMedia::~ConferenceMedia() {
  std::map<int64_t, std::unique_ptr<Room>> rooms;
  {
    MutexLock lock(mu_);
    rooms.swap(rooms_);
  }
  for (auto& [booking, room] : rooms) {
    CloseLegs(*room);
    room->conference.reset();
  }
}

void ConferenceMedia::SetWebRtcFactory(WebRtcFactory factory) {
  webrtc_ = std::move(factory);
}

void ConferenceMedia::Attach(MediaEvents* events) {
  events_.store(events);
}

const MediaProfile* ConferenceMedia::FindProfile(const std::string& id) const {
  for (const MediaProfile& p : config_.profiles)
    if (p.id == id) return &p;
  return nullptr;
}

void ConferenceMedia::ConferenceOpened(const Meeting& meeting) {
  MutexLock lock(mu_);
  auto& room = rooms_[meeting.booking];
  if (!room) room = std::make_unique<Room>();
  room->meeting = meeting;
}

void ConferenceMedia::CloseLegs(Room& room) {
  // WebRTC legs push into the conference through a raw pointer: they stop before it goes.
  for (auto& [venue, leg] : room.legs) {
    if (leg.webrtc) leg.webrtc->Close();
  }
  room.legs.clear();
}

void ConferenceMedia::ConferenceEnded(const Meeting& meeting) {
  std::unique_ptr<Room> room;
  {
    MutexLock lock(mu_);
    auto it = rooms_.find(meeting.booking);
    if (it == rooms_.end()) return;
    room = std::move(it->second);
    rooms_.erase(it);
  }
  const size_t venues = room->legs.size();
  CloseLegs(*room);
  room->nodes.clear();  // sub-centre engines first: their legs send to the root's
  if (room->conference) {
    room->conference.reset();  // stops its threads; every transport closes
    metrics_.GetGauge("plateau_media_conferences_running", "Engine conferences running")->Add(-1);
    log::Info(
        "media.conference_stopped",
        {{"conference", meeting.conference}, {"booking", meeting.booking}, {"venues", venues}});
  }
}

void ConferenceMedia::PublishLayout(int64_t booking, const std::string& layout,
                                    const std::vector<mcu::media::Placement>& placements,
                                    const MediaProfile& canvas, Nodes* nodes) {
  MediaEvents* events = events_.load();
  if (!events) return;
  const double w = canvas.width;  // the engine composes at the profile's size (ApplyProfile)
  const double h = canvas.height;
  std::vector<protocol::Tile> tiles;
  tiles.reserve(placements.size());
  for (const auto& p : placements) {
    if (tiles.size() >= protocol::kMaxTiles) break;
    tiles.push_back(protocol::Tile{nodes ? nodes->Resolve(p.venue) : p.venue, p.rect.x / w,
                                   p.rect.y / h, p.rect.width / w, p.rect.height / h});
  }
  events->PublishLayout(booking, layout, std::move(tiles));
}

Result<ConferenceMedia::Room*> ConferenceMedia::RunningRoom(const MediaSeat& seat) {
  Room* found = nullptr;
  {
    MutexLock lock(mu_);
    auto it = rooms_.find(seat.booking);
    if (it == rooms_.end()) {
      return MediaFailed("conference " + seat.conference + " is not open for media");
    }
    found = it->second.get();
    if (found->conference) return found;
  }
  // Built without mu_: starting the engine's pipelines takes long (seconds on a loaded machine) and
  // live control (Find, SetMuted) must not wait for it. The room cannot go meanwhile: only the
  // negotiator calls, which come one at a time, add or remove rooms.
  Room& room = *found;
  const MediaProfile* profile = FindProfile(room.meeting.profile);
  if (!profile) {
    return MediaFailed("conference " + seat.conference + " is booked at stream profile \"" +
                       room.meeting.profile + "\", which this server does not configure");
  }
  conf::ConferenceConfig cc = config_.conference;
  cc.id = room.meeting.conference;
  ApplyProfile(*profile, cc);
  cc.layout = room.meeting.layout.empty() ? "auto" : room.meeting.layout;
  const int64_t booking = seat.booking;
  conf::ConferenceCallbacks callbacks;
  callbacks.on_layout = [this, booking, canvas = *profile, nodes = room.nodes_view](
                            const std::string& layout,
                            const std::vector<mcu::media::Placement>& placements) {
    PublishLayout(booking, layout, placements, canvas, nodes.get());
  };
  callbacks.on_speaker = [this, booking,
                          nodes = room.nodes_view](const std::optional<std::string>& venue) {
    MediaEvents* events = events_.load();
    if (events && venue) events->PublishSpeaker(booking, nodes->Resolve(*venue));
  };
  auto created = conf::Conference::Create(std::move(cc), metrics_, std::move(callbacks));
  if (!created) {
    log::Error("media.conference_failed",
               {{"conference", seat.conference}, {"error", created.error().message}});
    return MediaFailed("the media engine could not start conference " + seat.conference + ": " +
                       Describe(created.error()));
  }
  {
    MutexLock lock(mu_);
    room.conference = std::shared_ptr<conf::Conference>(std::move(created.value()));
  }
  metrics_.GetGauge("plateau_media_conferences_running", "Engine conferences running")->Add(1);
  log::Info("media.conference_started",
            {{"conference", seat.conference}, {"booking", seat.booking}, {"layout", cc.layout}});
  return &room;
}

Result<std::shared_ptr<conf::Conference>> ConferenceMedia::EngineFor(Room& room,
                                                                     const std::string& mcu,
                                                                     int depth) {
  const signaling::MediaPlan& plan = room.meeting.plan;
  if (mcu.empty() || mcu == plan.root_mcu) return room.conference;
  if (auto it = room.nodes.find(mcu); it != room.nodes.end()) return it->second;
  auto parent_it = plan.parents.find(mcu);
  if (parent_it == plan.parents.end() || depth > 8) {
    return MediaFailed("the booking's plan hosts venues on " + mcu +
                       " but joins it to no parent MCU");
  }
  auto parent = EngineFor(room, parent_it->second, depth + 1);
  if (!parent) return parent.error();
  const MediaProfile* profile = FindProfile(room.meeting.profile);  // RunningRoom checked it
  auto name_of = [&plan](const std::string& id) {
    auto it = plan.names.find(id);
    return it != plan.names.end() ? it->second : id;
  };
  conf::ConferenceConfig cc = config_.conference;
  cc.id = room.meeting.conference + "@" + mcu;
  ApplyProfile(*profile, cc);
  cc.layout = "1";     // what goes up the leg: this sub-centre's speaker, full frame
  cc.video.slots = 1;  // one tile: one decode slot to build
  // The sub-centre's speaker shows in the root's leg tile: when it changes, the tiles and the
  // speaker the venues are told are published again.
  conf::ConferenceCallbacks callbacks;
  const int64_t booking = room.meeting.booking;
  std::weak_ptr<conf::Conference> root = room.conference;
  callbacks.on_layout = [this, booking, root, canvas = *profile, nodes = room.nodes_view](
                            const std::string&, const std::vector<mcu::media::Placement>&) {
    auto r = root.lock();
    if (!r) return;
    const auto stats = r->Stats();
    PublishLayout(booking, stats.layout, r->Placements(), canvas, nodes.get());
    MediaEvents* events = events_.load();
    if (events && stats.speaker) events->PublishSpeaker(booking, nodes->Resolve(*stats.speaker));
  };
  auto created = conf::Conference::Create(std::move(cc), metrics_, std::move(callbacks));
  if (!created) {
    return MediaFailed("the media engine could not start " + mcu + "'s part of conference " +
                       room.meeting.conference + ": " + Describe(created.error()));
  }
  std::shared_ptr<conf::Conference> node(std::move(created.value()));
  conf::CascadeLegSpec leg;
  leg.child = {mcu, name_of(mcu)};
  leg.parent = {parent_it->second, name_of(parent_it->second)};
  leg.tier = room.meeting.profile;
  leg.bind_address = config_.media_address;
  auto connected = conf::ConnectCascadeLeg(**parent, *node, leg);
  if (!connected) {
    return MediaFailed("the cascade leg " + mcu + " -> " + parent_it->second + " of conference " +
                       room.meeting.conference +
                       " could not start: " + Describe(connected.error()));
  }
  room.nodes[mcu] = node;
  {
    MutexLock lock(room.nodes_view->mu);
    room.nodes_view->by_mcu[mcu] = node;
  }
  log::Info("media.cascade_started", {{"conference", room.meeting.conference},
                                      {"mcu", mcu},
                                      {"parent", parent_it->second},
                                      {"link", connected->parent_local.ToString()}});
  return node;
}

void ConferenceMedia::Offer(const MediaSeat& seat, std::string sdp, AnswerCallback done) {
  if (sdp::IsDtlsOffer(sdp)) {
    OfferWebRtc(seat, std::move(sdp), done);
  } else {
    OfferSdes(seat, sdp, done);
  }
}

void ConferenceMedia::OfferSdes(const MediaSeat& seat, const std::string& sdp,
                                const AnswerCallback& done) {
  OnceAnswer answer(done, metrics_, "sdes");
  // Parse first: a bad offer never starts an engine conference.
  auto offer = sdp::ParseSdes(sdp);
  if (!offer) {
    answer(offer.error());
    return;
  }
  std::optional<tr::Endpoint> remote;
  if (offer->address != "0.0.0.0") {  // 0.0.0.0: learn the address from the first packet
    const auto address = tr::IpAddress::Parse(offer->address);
    if (!address || !address->is_v4()) {  // the offer's c=IN IP4
      answer(Error{"bad_sdp", "the connection address " + offer->address + " is not usable"});
      return;
    }
    remote = tr::Endpoint(*address, offer->port);
  }
  auto running = RunningRoom(seat);
  if (!running) {
    answer(running.error());
    return;
  }
  Room& room = **running;
  auto it = room.legs.find(seat.venue);
  Leg* existing = it != room.legs.end() ? &it->second : nullptr;
  if (existing && existing->venue_key && *existing->venue_key == offer->crypto.key) {
    answer(Error{"bad_sdp",
                 "the offer reuses the a=crypto key this seat already uses; a renegotiation or a "
                 "resumed seat must offer a new key"});
    return;
  }

  const tr::CryptoAttribute server_crypto =
      tr::MakeCryptoAttribute(offer->crypto.key.profile, offer->crypto.tag);
  conf::SdesEndpoint endpoint;
  endpoint.bind_address = config_.media_address;
  endpoint.bind_port = 0;
  endpoint.remote = remote;
  // The offer's address is the venue's claim: media goes there before the venue's first
  // authenticated packet only if it is where the venue signals from (an unknown peer: never).
  {
    const auto peer = tr::IpAddress::Parse(seat.peer_address);
    endpoint.claim_trusted_address = peer ? *peer : tr::IpAddress();  // unknown: 0.0.0.0
  }
  endpoint.send_key = server_crypto.key;
  endpoint.receive_key = offer->crypto.key;
  // A kind the venue did not offer (or that was rejected) is neither sent nor received: its
  // payload type is not used.
  endpoint.video_payload_type =
      offer->video_payload_type.value_or(config_.conference.video_payload_type);
  endpoint.audio_payload_type =
      offer->audio_payload_type.value_or(config_.conference.audio_payload_type);
  endpoint.media = MediaOf(*offer);
  const std::string tier = room.meeting.profile;  // the profile's tier (RunningRoom checked it)
  const std::string host = existing ? existing->mcu : room.meeting.plan.HostOf(seat.venue);
  auto engine = EngineFor(room, host);
  if (!engine) {
    answer(engine.error());
    return;
  }
  auto info = existing ? (*engine)->ReconnectVenue(seat.venue, endpoint)
                       : (*engine)->AddVenue(
                             conf::VenueSpec{seat.venue, seat.venue_name, tier, false}, endpoint);
  if (!info || !info->local) {
    const std::string why = info ? "the engine gave no local address" : Describe(info.error());
    log::Warn("media.sdes_failed",
              {{"conference", seat.conference}, {"venue", seat.venue}, {"error", why}});
    answer(MediaFailed("conference " + seat.conference + " could not take the media of " +
                       seat.venue + ": " + why));
    return;
  }
  Leg& leg = room.legs[seat.venue];
  leg.mcu = host;
  std::shared_ptr<WebRtcLeg> previous = std::move(leg.webrtc);
  leg.webrtc.reset();
  leg.fingerprint.reset();
  leg.webrtc_failed.reset();
  leg.epoch = seat.epoch;
  leg.held = false;
  leg.venue_key = offer->crypto.key;
  ++leg.session_version;
  if (previous) previous->Close();  // the venue moved from WebRTC to SDES

  // RFC 3264 6: the offer's m-lines in order, the unusable ones with port 0.
  sdp::SdesDescription a = sdp::AnswerTo(*offer);
  a.session_id = leg.session_id;
  a.session_version = leg.session_version;
  a.address = config_.media_address;
  a.port = info->local->port();
  a.crypto = server_crypto;
  for (const auto& l : offer->lines) {
    if (l.use != sdp::LineUse::kRejected) continue;
    log::Info("media.sdes_line_rejected", {{"conference", seat.conference},
                                           {"venue", seat.venue},
                                           {"media", l.media},
                                           {"mid", l.mid},
                                           {"reason", l.reason}});
  }
  log::Info("media.sdes_answered",
            {{"conference", seat.conference},
             {"venue", seat.venue},
             {"tier", info->tier},
             {"media", Describe(*offer)},
             {"reconnect", existing != nullptr},
             {"local", config_.media_address + ":" + std::to_string(a.port)},
             {"remote", remote ? offer->address + ":" + std::to_string(offer->port)
                               : std::string("latched")}});
  answer(sdp::FormatSdes(a));
}

void ConferenceMedia::OfferWebRtc(const MediaSeat& seat, std::string sdp,
                                  const AnswerCallback& done) {
  auto answer = std::make_shared<OnceAnswer>(done, metrics_, "webrtc");
  if (!webrtc_) {
    (*answer)(Error{"media_unavailable",
                    "WebRTC is not enabled on this server: browser (DTLS-SRTP) offers cannot be "
                    "answered; SDES offers (RTP/SAVP with a=crypto) can"});
    return;
  }
  if (sdp.size() > protocol::kMaxSdpBytes) {
    (*answer)(Error{"bad_sdp", "the offer is larger than " +
                                   std::to_string(protocol::kMaxSdpBytes) + " bytes"});
    return;
  }
  auto running = RunningRoom(seat);
  if (!running) {
    (*answer)(running.error());
    return;
  }
  Room& room = **running;
  const std::optional<std::string> fingerprint = sdp::DtlsFingerprint(sdp);
  auto it = room.legs.find(seat.venue);
  Leg* existing = it != room.legs.end() ? &it->second : nullptr;
  // An answer that reports an error marks the leg failed: the next offer starts a new one.
  auto forwarder = [answer](std::shared_ptr<std::atomic<bool>> failed) {
    return [answer, failed](Result<std::string> a) {
      if (!a) failed->store(true);
      (*answer)(std::move(a));
    };
  };

  // The same browser (same DTLS fingerprint, leg alive): an ICE restart on the same session.
  if (existing && existing->webrtc && existing->webrtc_failed && !existing->webrtc_failed->load() &&
      fingerprint && existing->fingerprint == fingerprint) {
    existing->epoch = seat.epoch;
    existing->held = false;
    log::Info("media.webrtc_renegotiate", {{"conference", seat.conference}, {"venue", seat.venue}});
    existing->webrtc->Renegotiate(std::move(sdp), forwarder(existing->webrtc_failed));
    return;
  }

  auto failed = std::make_shared<std::atomic<bool>>(false);
  WebRtcLegCallbacks callbacks;
  callbacks.on_candidate = [this, seat](std::optional<protocol::IceCandidate> candidate) {
    if (MediaEvents* events = events_.load()) events->SendCandidate(seat, std::move(candidate));
  };
  callbacks.on_failed = [failed, seat](const std::string& reason) {
    failed->store(true);
    log::Warn("media.webrtc_failed",
              {{"conference", seat.conference}, {"venue", seat.venue}, {"reason", reason}});
  };
  const std::string host = existing ? existing->mcu : room.meeting.plan.HostOf(seat.venue);
  auto engine = EngineFor(room, host);
  if (!engine) {
    (*answer)(engine.error());
    return;
  }
  auto created = webrtc_(engine->get(), metrics_, seat.venue, std::move(sdp), std::move(callbacks),
                         forwarder(failed));
  if (!created) {
    Error e = created.error();
    if (e.code != "bad_sdp" && e.code != "media_failed") {
      e = MediaFailed("the WebRTC session could not start: " + Describe(e));
    }
    (*answer)(std::move(e));
    return;
  }
  std::shared_ptr<WebRtcLeg> leg_ptr = std::move(created.value());
  const std::string tier = room.meeting.profile;  // the profile's tier (RunningRoom checked it)
  auto info = existing ? (*engine)->ReconnectVenue(seat.venue, leg_ptr)
                       : (*engine)->AddVenue(
                             conf::VenueSpec{seat.venue, seat.venue_name, tier, false}, leg_ptr);
  if (!info) {
    leg_ptr->Close();
    log::Warn("media.webrtc_add_failed", {{"conference", seat.conference},
                                          {"venue", seat.venue},
                                          {"error", Describe(info.error())},
                                          {"answered", answer->called()}});
    (*answer)(MediaFailed("conference " + seat.conference + " could not take the media of " +
                          seat.venue + ": " + Describe(info.error())));
    return;
  }
  Leg& leg = room.legs[seat.venue];
  leg.mcu = host;
  std::shared_ptr<WebRtcLeg> previous = std::move(leg.webrtc);
  leg.webrtc = leg_ptr;
  leg.fingerprint = fingerprint;
  leg.webrtc_failed = failed;
  leg.venue_key.reset();
  leg.epoch = seat.epoch;
  leg.held = false;
  if (previous) previous->Close();  // replaced by ReconnectVenue: the engine no longer uses it
  log::Info("media.webrtc_added", {{"conference", seat.conference},
                                   {"venue", seat.venue},
                                   {"tier", info->tier},
                                   {"reconnect", existing != nullptr}});
}

Status ConferenceMedia::Answer(const MediaSeat& seat, std::string) {
  return Error{"bad_sdp", "the server has sent no offer to " + seat.venue +
                              ": an answer is only expected after a server offer"};
}

Status ConferenceMedia::Candidate(const MediaSeat& seat,
                                  std::optional<protocol::IceCandidate> candidate) {
  Room* room = nullptr;
  {
    MutexLock lock(mu_);
    auto it = rooms_.find(seat.booking);
    if (it != rooms_.end()) room = it->second.get();
  }
  Leg* leg = nullptr;
  if (room) {
    auto it = room->legs.find(seat.venue);
    if (it != room->legs.end()) leg = &it->second;
  }
  if (!leg) {
    return Error{"bad_candidate", "no media session for this seat yet: send an offer first"};
  }
  if (leg->webrtc) return leg->webrtc->AddRemoteCandidate(candidate);
  if (!candidate) return Status::Ok();  // end of (no) candidates
  return Error{"bad_candidate",
               "this seat's media is SDES (RTP/SAVP with a=crypto): ICE candidates are not used"};
}

void ConferenceMedia::SeatHeld(const MediaSeat& seat) {
  MutexLock lock(mu_);
  auto it = rooms_.find(seat.booking);
  if (it == rooms_.end()) return;
  auto leg = it->second->legs.find(seat.venue);
  if (leg == it->second->legs.end()) return;
  // The venue keeps its tile and place; its carrier stays until the resumed offer replaces it.
  leg->second.held = true;
  log::Info("media.seat_held", {{"conference", seat.conference}, {"venue", seat.venue}});
}

void ConferenceMedia::SeatReleased(const MediaSeat& seat) {
  Room* room = nullptr;
  std::shared_ptr<conf::Conference> conference;
  {
    MutexLock lock(mu_);
    auto it = rooms_.find(seat.booking);
    if (it == rooms_.end()) return;
    room = it->second.get();
    conference = room->conference;
  }
  auto it = room->legs.find(seat.venue);
  if (it == room->legs.end()) return;
  if (it->second.epoch != seat.epoch) {
    log::Warn("media.stale_release", {{"conference", seat.conference},
                                      {"venue", seat.venue},
                                      {"epoch", seat.epoch},
                                      {"current", it->second.epoch}});
    return;
  }
  std::shared_ptr<WebRtcLeg> webrtc = std::move(it->second.webrtc);
  if (auto node = room->nodes.find(it->second.mcu); node != room->nodes.end())
    conference = node->second;  // a venue hosted by a sub-centre's engine
  room->legs.erase(it);
  if (conference) {
    if (Status st = conference->RemoveVenue(seat.venue); !st) {
      log::Warn("media.remove_failed", {{"conference", seat.conference},
                                        {"venue", seat.venue},
                                        {"error", Describe(st.error())}});
    }
  }
  if (webrtc) webrtc->Close();
  log::Info("media.seat_released", {{"conference", seat.conference}, {"venue", seat.venue}});
}

std::vector<ConferenceMedia::Running> ConferenceMedia::RunningMeetings(
    std::optional<int64_t> only) const {
  std::vector<Running> running;
  MutexLock lock(mu_);
  for (const auto& [booking, room] : rooms_) {
    if (!room->conference || (only && booking != *only)) continue;
    Running r{booking, room->meeting.plan, room->conference, {}};
    MutexLock nodes_lock(room->nodes_view->mu);
    for (const auto& [mcu, weak] : room->nodes_view->by_mcu)
      if (auto node = weak.lock()) r.nodes[mcu] = std::move(node);
    running.push_back(std::move(r));
  }
  return running;
}

std::vector<RosterEntry> ConferenceMedia::Roster(int64_t booking) const {
  std::vector<RosterEntry> out;
  for (const Running& r : RunningMeetings(booking)) {
    auto add = [&](const conf::ConferenceStats& stats, const std::string& mcu) {
      for (const auto& v : stats.venues) {
        if (v.uplink || r.plan.parents.count(v.id)) continue;  // a cascade leg, not a venue
        out.push_back(
            RosterEntry{v.id, v.name, mcu, v.speaking, v.muted, v.lost, v.fraction_lost, v.rtt_ms});
      }
    };
    add(r.root->Stats(), r.plan.root_mcu);
    for (const auto& [mcu, node] : r.nodes) add(node->Stats(), mcu);
  }
  return out;
}

std::vector<MediaFlow> ConferenceMedia::Flows() const {
  const std::vector<Running> running = RunningMeetings(std::nullopt);
  std::vector<MediaFlow> out;
  for (const Running& r : running) {
    auto add = [&](const conf::ConferenceStats& stats) {
      for (const auto& v : stats.venues) {
        if (v.uplink) continue;  // a leg is counted once, at its parent's end
        MediaFlow f;
        f.booking = r.booking;
        f.id = v.id;
        if (auto it = r.plan.paths.find(v.id); it != r.plan.paths.end()) f.links = it->second;
        f.bytes_up = v.bytes_in;
        f.bytes_down = v.bytes_out;
        out.push_back(std::move(f));
      }
    };
    add(r.root->Stats());
    for (const auto& [mcu, node] : r.nodes) add(node->Stats());
  }
  return out;
}

std::map<std::string, std::pair<int64_t, int64_t>> ConferenceMedia::Reserved() const {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  MutexLock lock(mu_);
  for (const auto& [booking, room] : rooms_) {
    if (!room->conference) continue;
    for (const auto& [link, kbps] : room->meeting.plan.reserved) {
      out[link].first += kbps.first;
      out[link].second += kbps.second;
    }
  }
  return out;
}

std::shared_ptr<mcu::conference::Conference> ConferenceMedia::Find(int64_t booking) const {
  MutexLock lock(mu_);
  auto it = rooms_.find(booking);
  return it == rooms_.end() ? nullptr : it->second->conference;
}

Status ConferenceMedia::SetMuted(int64_t booking, const std::string& venue, bool muted) {
  auto conference = Find(booking);
  if (!conference) {
    return Error{"not_running", "no media runs for booking " + std::to_string(booking)};
  }
  if (Status st = conference->SetMuted(venue, muted); !st) return st;
  if (MediaEvents* events = events_.load()) events->PublishMuted(booking, venue, muted);
  return Status::Ok();
}

}  // namespace plateau::negotiation::conference
