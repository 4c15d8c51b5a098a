#include "plateau/signaling/switchboard.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"

namespace plateau::signaling {

namespace p = protocol;
using nlohmann::json;

std::string RandomHex(size_t bytes) {
  return random::Hex(bytes);
}

// ---- metrics ----

namespace {

metrics::Counter* MessageCounter(metrics::Registry& m, const char* direction,
                                 std::string_view type) {
  return m.GetCounter("plateau_signaling_messages_total",
                      "Signaling messages received (in) and sent (out), by type",
                      {{"direction", direction}, {"type", std::string(type)}});
}

metrics::Counter* ErrorCounter(metrics::Registry& m, const std::string& code) {
  return m.GetCounter("plateau_signaling_errors_total", "Signaling error messages sent, by code",
                      {{"code", code}});
}

std::string Seconds(int64_t ms) {
  return std::to_string(ms / 1000) + " s";
}

}  // namespace

// ---- state ----

struct Switchboard::Connection {
  // Weak: the transport session owns the Switchboard (its endpoint), not the other way round, so a
  // connection that never reports its close (io stopped at shutdown) cannot form a cycle.
  std::weak_ptr<listener::WebSocketPeer> peer;
  std::string remote;
  int64_t connected_ms = 0;
  int64_t last_rx_ms = 0;
  int64_t last_ping_ms = 0;
  double tokens = 0;
  int64_t last_refill_ms = 0;
  int failed_hellos = 0;
  bool hello_pending = false;
  bool closing = false;
  std::string venue;  // set once registered
};

struct Switchboard::VenueState {
  VenueIdentity identity;
  std::string session;
  std::string resume_token;
  Connection* conn = nullptr;  // nullptr while dropped (within the grace period)
  int64_t dropped_ms = 0;
  struct SeatRef {
    int64_t booking = 0;
    int seat = 0;
    uint64_t epoch = 0;
  };
  std::optional<SeatRef> seat;
};

struct Switchboard::InviteState {
  int attempts = 0;
  int64_t last_ms = 0;
  bool declined = false;  // left on its own: not redialled
};

struct Switchboard::Room {
  Meeting meeting;
  uint64_t seq = 0;  // opening order (next_room_seq_)
  std::string layout;
  std::vector<p::Tile> tiles;          // as last published by the media engine
  std::optional<std::string> speaker;  // likewise
  struct Seat {
    int seat = 0;
    uint64_t epoch = 0;
    bool hand = false;  // raised; kept across a resume, gone with the seat
  };
  std::map<std::string, Seat> seats;  // by venue
  std::map<std::string, InviteState> invites;
};

// ---- construction ----

Switchboard::Switchboard(SwitchboardSettings settings, const Clock& clock,
                         metrics::Registry& metrics, VenueAuthenticator& authenticator,
                         ConferenceDirectory& directory, MediaNegotiator& media,
                         const AdmittedVenues& admitted)
    : settings_(settings),
      clock_(clock),
      metrics_(metrics),
      authenticator_(authenticator),
      directory_(directory),
      media_(media),
      admitted_(admitted) {}

// The dependencies may already be gone when the last connection lets go of the Switchboard during
// shutdown: touch none of them here.
Switchboard::~Switchboard() {
  media_executor_.Stop();  // drops what has not run; the negotiator may be gone already
}

void Switchboard::Start() {
  media_.Attach(this);
}

void Switchboard::Stop() {
  media_executor_.Stop();
}

void Switchboard::WaitForMedia() {
  media_executor_.Drain();
}

// ---- helpers (mu_ held) ----

Switchboard::Connection* Switchboard::FindConnection(listener::WebSocketPeer* peer) {
  auto it = connections_.find(peer);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Switchboard::Send(Connection& c, p::ServerBody body, const json& id) {
  if (c.closing) return;
  MessageCounter(metrics_, "out", p::TypeName(body))->Inc();
  if (const auto* e = std::get_if<p::ErrorMessage>(&body)) ErrorCounter(metrics_, e->code)->Inc();
  if (auto peer = c.peer.lock()) peer->Send(p::Serialize(p::ServerMessage{id, std::move(body)}));
}

void Switchboard::SendError(Connection& c, const std::string& code, const std::string& message,
                            const json& ref, const std::string& field) {
  Send(c, p::ErrorMessage{code, message, ref, field});
}

void Switchboard::CloseConnection(Connection& c, listener::CloseCode code,
                                  const std::string& reason) {
  if (c.closing) return;
  c.closing = true;
  log::Info("signaling.closing", {{"remote", c.remote},
                                  {"venue", c.venue},
                                  {"code", static_cast<int>(code)},
                                  {"reason", reason}});
  if (auto peer = c.peer.lock()) peer->Close(code, reason);
}

bool Switchboard::TakeToken(Connection& c, int64_t now) {
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now - c.last_refill_ms));
  c.tokens =
      std::min(settings_.message_burst, c.tokens + elapsed * settings_.message_rate / 1000.0);
  c.last_refill_ms = now;
  if (c.tokens < 1.0) return false;
  c.tokens -= 1.0;
  return true;
}

std::optional<MediaSeat> Switchboard::SeatOf(const VenueState& v) const {
  if (!v.seat) return std::nullopt;
  auto it = rooms_.find(v.seat->booking);
  if (it == rooms_.end()) return std::nullopt;
  const Meeting& m = it->second->meeting;
  std::string peer;
  if (v.conn) {  // "ip:port" (IPv6 without brackets): the address is what precedes the last ':'
    const std::string& remote = v.conn->remote;
    const size_t colon = remote.rfind(':');
    peer = colon == std::string::npos ? remote : remote.substr(0, colon);
  }
  return MediaSeat{m.booking, m.conference, v.identity.venue, v.identity.name,
                   m.profile, v.seat->seat, v.seat->epoch,    std::move(peer)};
}

Switchboard::VenueState* Switchboard::VenueForSeat(const MediaSeat& seat) {
  auto it = venues_.find(seat.venue);
  if (it == venues_.end()) return nullptr;
  VenueState& v = *it->second;
  if (!v.seat || v.seat->booking != seat.booking || v.seat->epoch != seat.epoch) return nullptr;
  return &v;
}

void Switchboard::UpdateGauges() {
  size_t live = 0, held = 0;
  for (const auto& [id, v] : venues_) {
    if (v->conn) ++live;
    if (!v->conn && v->seat) ++held;
  }
  metrics_.GetGauge("plateau_signaling_connections", "Open signaling WebSocket connections")
      ->Set(static_cast<double>(connections_.size()));
  metrics_.GetGauge("plateau_signaling_venues_connected", "Venues registered on a live connection")
      ->Set(static_cast<double>(live));
  metrics_
      .GetGauge("plateau_signaling_seats_held", "Seats held for a dropped venue (resume grace)")
      ->Set(static_cast<double>(held));
  metrics_.GetGauge("plateau_signaling_conferences_open", "Conferences open for joining")
      ->Set(static_cast<double>(rooms_.size()));
}

void Switchboard::QueueMedia(std::function<void(MediaNegotiator&)> call) {
  // Posted under mu_, so the executor runs the calls in the order they were decided.
  media_executor_.Post([media = &media_, call = std::move(call)] { call(*media); });
}

// ---- transport events ----

void Switchboard::OnOpen(const std::shared_ptr<listener::WebSocketPeer>& peer) {
  {
    MutexLock lock(mu_);
    auto c = std::make_unique<Connection>();
    const int64_t now = clock_.UnixMs();
    c->peer = peer;
    c->remote = peer->remote();
    c->connected_ms = c->last_rx_ms = c->last_ping_ms = c->last_refill_ms = now;
    c->tokens = settings_.message_burst;
    connections_[peer.get()] = std::move(c);
    UpdateGauges();
  }
}

void Switchboard::OnClose(const std::shared_ptr<listener::WebSocketPeer>& peer) {
  {
    MutexLock lock(mu_);
    Connection* c = FindConnection(peer.get());
    if (!c) return;
    if (!c->venue.empty()) {
      auto it = venues_.find(c->venue);
      if (it != venues_.end() && it->second->conn == c) {
        VenueState& v = *it->second;
        v.conn = nullptr;
        v.dropped_ms = clock_.UnixMs();
        log::Info("signaling.venue_dropped",
                  {{"venue", v.identity.venue}, {"held", v.seat.has_value()}});
        if (auto seat = SeatOf(v)) {
          Room& room = *rooms_.at(seat->booking);
          Broadcast(room,
                    p::ParticipantEvent{room.meeting.conference, "away",
                                        ParticipantOf(room, v, /*connected=*/false)},
                    v.identity.venue);
          QueueMedia([s = *seat](MediaNegotiator& m) { m.SeatHeld(s); });
        }
      }
    }
    connections_.erase(peer.get());
    UpdateGauges();
  }
}

void Switchboard::OnText(const std::shared_ptr<listener::WebSocketPeer>& peer,
                         std::string_view text) {
  auto parsed = p::ParseClientMessage(text);
  Deferred deferred;
  {
    MutexLock lock(mu_);
    Connection* c = FindConnection(peer.get());
    if (!c || c->closing) return;
    if (!Admit(*c, parsed)) return;
    deferred = Dispatch(*c, parsed.value());
  }
  if (auto* hello = std::get_if<PendingHello>(&deferred)) VerifyHello(peer, *hello);
  if (auto* join = std::get_if<PendingJoin>(&deferred)) ResolveJoin(peer, *join);
}

bool Switchboard::Admit(Connection& c, const p::Parsed<p::ClientMessage>& parsed) {
  const int64_t now = clock_.UnixMs();
  c.last_rx_ms = now;
  MessageCounter(metrics_, "in", parsed ? p::TypeName(parsed.value().body) : "invalid")->Inc();
  if (!TakeToken(c, now)) {
    SendError(c, "rate_limited",
              "more than " + std::to_string(static_cast<int>(settings_.message_rate)) +
                  " messages per second; closing",
              parsed ? parsed.value().id : json(nullptr));
    CloseConnection(c, listener::CloseCode::kPolicy, "message rate limit exceeded");
    return false;
  }
  if (!parsed) {
    const p::ErrorMessage e = p::ToErrorMessage(parsed.failure());
    SendError(c, e.code, e.message, e.ref, e.field);
    return false;
  }
  return true;
}

Switchboard::Deferred Switchboard::Dispatch(Connection& c, p::ClientMessage& msg) {
  return std::visit(
      [&](auto& body) PLATEAU_REQUIRES(mu_) -> Deferred {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, p::Hello>) {
          return OnHello(c, std::move(body), msg.id);
        } else if constexpr (std::is_same_v<T, p::Ping>) {
          Send(c, p::Pong{body.ts});
          return {};
        } else if constexpr (std::is_same_v<T, p::Pong>) {
          return {};
        } else {
          // Everything else is a registered venue's.
          if (c.venue.empty()) {
            SendError(c, "not_registered", "send hello with the venue and its token first", msg.id);
            return {};
          }
          if constexpr (std::is_same_v<T, p::Join>) {
            return PendingJoin{std::move(body), c.venue, msg.id};
          } else {
            VenueState& v = *venues_.at(c.venue);
            if constexpr (std::is_same_v<T, p::Leave>) OnLeave(c, v, msg.id);
            if constexpr (std::is_same_v<T, p::Hand>) OnHand(c, v, body, msg.id);
            if constexpr (std::is_same_v<T, p::Offer>) OnOffer(c, v, std::move(body), msg.id);
            if constexpr (std::is_same_v<T, p::Answer>) OnAnswer(c, v, std::move(body), msg.id);
            if constexpr (std::is_same_v<T, p::Candidate>)
              OnCandidate(c, v, std::move(body), msg.id);
            UpdateGauges();
            return {};
          }
        }
      },
      msg.body);
}

Switchboard::Deferred Switchboard::OnHello(Connection& c, p::Hello hello, const json& id) {
  if (!c.venue.empty()) {
    SendError(c, "already_registered",
              "this connection is already registered as \"" + c.venue + "\"", id);
    return {};
  }
  if (c.hello_pending) {
    SendError(c, "busy", "a hello on this connection is still being checked", id);
    return {};
  }
  c.hello_pending = true;
  return PendingHello{std::move(hello), id};
}

void Switchboard::VerifyHello(const std::shared_ptr<listener::WebSocketPeer>& peer,
                              const PendingHello& pending) {
  // Outside the lock: verifying a token may hash or touch the store.
  const p::Hello& hello = pending.hello;
  Result<VenueIdentity> identity = Error{"unavailable", "venue tokens cannot be checked"};
  try {
    identity = authenticator_.Verify(hello.venue, hello.token);
    if (identity && identity->venue != hello.venue)
      identity = Error{"unauthorized", "unknown venue or wrong token"};
  } catch (const std::exception& e) {
    log::Error("signaling.authenticator_failed", {{"what", e.what()}});
  }
  MutexLock lock(mu_);
  Connection* c = FindConnection(peer.get());
  if (c && !c->closing) {
    c->hello_pending = false;
    OnHelloVerified(*c, hello, pending.id, identity);
    UpdateGauges();
  }
}

void Switchboard::ResolveJoin(const std::shared_ptr<listener::WebSocketPeer>& peer,
                              const PendingJoin& pending) {
  // The look-up (SQLite) runs before the lock is taken. Calls for one connection come one at a
  // time from its strand, so its messages are still handled in order.
  const p::Join& join = pending.join;
  const int64_t now_s = clock_.UnixSeconds();
  Result<std::optional<Meeting>> found = Error{"unavailable", "no answer"};
  try {
    found = join.conference ? directory_.FindByNumber(*join.conference, now_s)
                            : directory_.FindByBooking(*join.booking, now_s);
  } catch (const std::exception& e) {
    log::Error("signaling.directory_failed", {{"what", e.what()}});
    found = Error{"unavailable", e.what()};
  }
  MutexLock lock(mu_);
  Connection* c = FindConnection(peer.get());
  // Still the same registered venue (not closed, not replaced meanwhile)?
  if (c && !c->closing && c->venue == pending.venue) {
    OnJoin(*c, *venues_.at(c->venue), join, pending.id, found);
    UpdateGauges();
  }
}

// ---- messages (mu_ held) ----

void Switchboard::OnHelloVerified(Connection& c, const p::Hello& hello, const json& id,
                                  const Result<VenueIdentity>& identity) {
  if (!identity) {
    if (identity.error().code != "unauthorized") {
      SendError(c, identity.error().code, identity.error().message, id);
      return;
    }
    ++c.failed_hellos;
    log::Warn("signaling.unauthorized",
              {{"venue", hello.venue}, {"remote", c.remote}, {"failures", c.failed_hellos}});
    SendError(c, "unauthorized", "unknown venue or wrong token", id);
    if (c.failed_hellos >= settings_.max_failed_hellos)
      CloseConnection(c, listener::CloseCode::kPolicy, "too many failed hellos");
    return;
  }
  const int64_t now = clock_.UnixMs();
  auto it = venues_.find(hello.venue);
  VenueState* existing = it == venues_.end() ? nullptr : it->second.get();
  const bool resumed = existing && hello.resume && *hello.resume == existing->resume_token &&
                       (existing->conn || now < existing->dropped_ms + settings_.resume_grace_ms);
  if (existing && existing->conn && existing->conn != &c) {
    Connection& old = *existing->conn;
    SendError(old, "replaced", "another connection registered as this venue", nullptr);
    old.venue.clear();
    CloseConnection(old, listener::CloseCode::kPolicy, "replaced by a new connection");
    existing->conn = nullptr;
    existing->dropped_ms = now;
  }
  if (existing && !resumed) {
    if (existing->seat) ReleaseSeat(*existing, /*voluntary=*/false);
    venues_.erase(hello.venue);
    existing = nullptr;
  }
  VenueState* v = existing;
  if (!v) {
    auto fresh = std::make_unique<VenueState>();
    fresh->identity = *identity;
    fresh->session = RandomHex(16);
    v = fresh.get();
    venues_[hello.venue] = std::move(fresh);
  }
  v->identity = *identity;
  v->conn = &c;
  v->dropped_ms = 0;
  v->resume_token = RandomHex(16);  // rotated on every registration
  c.venue = hello.venue;
  log::Info("signaling.registered", {{"venue", hello.venue},
                                     {"remote", c.remote},
                                     {"resumed", resumed},
                                     {"client", hello.client.value_or("")}});
  Send(c, p::Registered{v->identity.venue, v->identity.name, v->session, v->resume_token,
                        settings_.heartbeat_ms, resumed});
  if (resumed && v->seat) {
    Room& room = *rooms_.at(v->seat->booking);
    Broadcast(room,
              p::ParticipantEvent{room.meeting.conference, "back",
                                  ParticipantOf(room, *v, /*connected=*/true)},
              v->identity.venue);
    SendJoined(*v, room, /*resumed=*/true);
  }
  if (!resumed) {
    // A fresh registration gets a fresh round of invites for every open conference it is in.
    for (auto& [booking, room] : rooms_) {
      auto inv = room->invites.find(hello.venue);
      if (inv != room->invites.end() && !inv->second.declined) inv->second = InviteState{};
    }
  }
  for (auto& [booking, room] : rooms_) DialOut(*room, now);
}

void Switchboard::OnJoin(Connection& c, VenueState& v, const p::Join& join, const json& id,
                         const Result<std::optional<Meeting>>& found) {
  const int64_t now_s = clock_.UnixSeconds();
  if (!found) {
    log::Error("signaling.directory_failed", {{"error", found.error().message}});
    SendError(c, "unavailable", "the conference directory cannot answer now; try again", id);
    return;
  }
  const std::optional<Meeting>& m = *found;
  const std::string what = join.conference ? "conference " + *join.conference
                                           : "booking " + std::to_string(*join.booking);
  if (!m) {
    SendError(c, "unknown_conference", "no " + what, id,
              join.conference ? "conference" : "booking");
    return;
  }
  const std::string& venue = v.identity.venue;
  if (!m->HasVenue(venue) && !admitted_.IsAdmitted(m->booking, venue)) {
    SendError(
        c, "not_invited",
        "venue \"" + venue + "\" is not on the booking of " + what + " and no operator admitted it",
        id);
    return;
  }
  if (m->cancelled) {
    SendError(c, "ended", what + " was cancelled", id);
    return;
  }
  if (now_s < m->opens) {
    SendError(c, "not_started",
              what + " opens at " + p::FormatUtc(m->opens) + " (start " + p::FormatUtc(m->start) +
                  " minus the set-up buffer)",
              id);
    return;
  }
  if (now_s >= m->end) {
    SendError(c, "ended", what + " ended at " + p::FormatUtc(m->end), id);
    return;
  }
  if (v.seat) {
    if (v.seat->booking == m->booking) {
      SendJoined(v, *rooms_.at(m->booking), false);  // idempotent
      return;
    }
    const std::string other = rooms_.at(v.seat->booking)->meeting.conference;
    SendError(c, "already_joined", "leave conference " + other + " first", id);
    return;
  }
  auto rit = rooms_.find(m->booking);
  Room& room = rit != rooms_.end() ? *rit->second : OpenRoom(*m);
  std::set<int> taken;
  for (const auto& [name, s] : room.seats) taken.insert(s.seat);
  int seat = 1;
  while (taken.count(seat)) ++seat;
  const uint64_t epoch = next_epoch_++;
  room.seats[venue] = Room::Seat{seat, epoch};
  room.invites[venue] = InviteState{};
  v.seat = VenueState::SeatRef{m->booking, seat, epoch};
  log::Info("signaling.joined",
            {{"venue", venue}, {"conference", room.meeting.conference}, {"seat", seat}});
  SendJoined(v, room, false);
  Broadcast(room,
            p::ParticipantEvent{room.meeting.conference, "joined",
                                p::Participant{venue, v.identity.name, seat, true}},
            venue);
}

void Switchboard::OnLeave(Connection& c, VenueState& v, const json& id) {
  if (!v.seat) {
    SendError(c, "not_joined", "this venue is not in a conference", id);
    return;
  }
  const std::string conference = rooms_.at(v.seat->booking)->meeting.conference;
  ReleaseSeat(v, /*voluntary=*/true);
  Send(c, p::Left{conference});
}

void Switchboard::OnHand(Connection& c, VenueState& v, const p::Hand& hand, const json& id) {
  if (!v.seat) {
    SendError(c, "not_joined", "join a conference before raising or lowering a hand", id);
    return;
  }
  Room& room = *rooms_.at(v.seat->booking);
  // An unchanged state is confirmed to the sender only: the others already know it.
  if (!SetHand(room, v.identity.venue, hand.raised))
    Send(c, p::HandEvent{room.meeting.conference, v.identity.venue, hand.raised});
}

// Records the hand and pushes `hand` to every connected venue of the room when it changed.
bool Switchboard::SetHand(Room& room, const std::string& venue, bool raised) {
  auto it = room.seats.find(venue);
  if (it == room.seats.end() || it->second.hand == raised) return false;
  it->second.hand = raised;
  log::Info("signaling.hand",
            {{"venue", venue}, {"conference", room.meeting.conference}, {"raised", raised}});
  Broadcast(room, p::HandEvent{room.meeting.conference, venue, raised});
  return true;
}

p::Participant Switchboard::ParticipantOf(const Room& room, const VenueState& v,
                                          bool connected) const {
  p::Participant out{v.identity.venue, v.identity.name, 0, connected};
  if (auto it = room.seats.find(v.identity.venue); it != room.seats.end()) {
    out.seat = it->second.seat;
    out.hand = it->second.hand;
  }
  return out;
}

void Switchboard::OnOffer(Connection& c, VenueState& v, p::Offer offer, const json& id) {
  auto seat = SeatOf(v);
  if (!seat) {
    SendError(c, "not_joined", "join a conference before sending an offer", id);
    return;
  }
  std::weak_ptr<Switchboard> weak = weak_from_this();
  QueueMedia([weak, s = *seat, sdp = std::move(offer.sdp), id](MediaNegotiator& m) mutable {
    m.Offer(s, std::move(sdp), [weak, s, id](Result<std::string> answer) {
      auto self = weak.lock();
      if (!self) return;
      MutexLock lock(self->mu_);
      VenueState* v = self->VenueForSeat(s);
      if (!v || !v->conn) return;
      if (answer)
        self->Send(*v->conn, p::Answer{std::move(answer.value()), id});
      else
        self->SendError(*v->conn, answer.error().code, answer.error().message, id, "sdp");
    });
  });
}

void Switchboard::OnAnswer(Connection& c, VenueState& v, p::Answer answer, const json& id) {
  auto seat = SeatOf(v);
  if (!seat) {
    SendError(c, "not_joined", "join a conference before sending an answer", id);
    return;
  }
  std::weak_ptr<Switchboard> weak = weak_from_this();
  QueueMedia([weak, s = *seat, sdp = std::move(answer.sdp), id](MediaNegotiator& m) mutable {
    Status st = m.Answer(s, std::move(sdp));
    if (st) return;
    auto self = weak.lock();
    if (!self) return;
    MutexLock lock(self->mu_);
    if (VenueState* v = self->VenueForSeat(s); v && v->conn)
      self->SendError(*v->conn, st.error().code, st.error().message, id, "sdp");
  });
}

void Switchboard::OnCandidate(Connection& c, VenueState& v, p::Candidate candidate,
                              const json& id) {
  auto seat = SeatOf(v);
  if (!seat) {
    SendError(c, "not_joined", "join a conference before sending candidates", id);
    return;
  }
  std::weak_ptr<Switchboard> weak = weak_from_this();
  QueueMedia([weak, s = *seat, cand = std::move(candidate.candidate), id](MediaNegotiator& m) {
    Status st = m.Candidate(s, cand);
    if (st) return;
    auto self = weak.lock();
    if (!self) return;
    MutexLock lock(self->mu_);
    if (VenueState* v = self->VenueForSeat(s); v && v->conn)
      self->SendError(*v->conn, st.error().code, st.error().message, id, "candidate");
  });
}

// ---- rooms (mu_ held) ----

Switchboard::Room& Switchboard::OpenRoom(const Meeting& meeting) {
  auto room = std::make_unique<Room>();
  room->meeting = meeting;
  room->layout = meeting.layout.empty() ? "auto" : meeting.layout;
  room->seq = next_room_seq_++;
  Room& r = *room;
  rooms_[meeting.booking] = std::move(room);
  log::Info("signaling.conference_opened",
            {{"conference", meeting.conference}, {"booking", meeting.booking}});
  QueueMedia([meeting](MediaNegotiator& m) { m.ConferenceOpened(meeting); });
  DialOut(r, clock_.UnixMs());
  return r;
}

void Switchboard::EndRoom(int64_t booking, const std::string& reason) {
  auto it = rooms_.find(booking);
  if (it == rooms_.end()) return;
  Room& room = *it->second;
  for (const auto& [venue, seat] : room.seats) {
    auto vit = venues_.find(venue);
    if (vit == venues_.end()) continue;
    VenueState& v = *vit->second;
    v.seat.reset();
    if (v.conn) Send(*v.conn, p::Ended{room.meeting.conference, booking, reason});
  }
  log::Info("signaling.conference_ended",
            {{"conference", room.meeting.conference}, {"booking", booking}, {"reason", reason}});
  QueueMedia([meeting = room.meeting](MediaNegotiator& m) { m.ConferenceEnded(meeting); });
  rooms_.erase(it);
}

void Switchboard::ReleaseSeat(VenueState& v, bool voluntary) {
  auto seat = SeatOf(v);
  v.seat.reset();
  if (!seat) return;
  Room& room = *rooms_.at(seat->booking);
  room.seats.erase(v.identity.venue);
  InviteState& inv = room.invites[v.identity.venue];
  inv = InviteState{};
  inv.declined = voluntary;
  Broadcast(room, p::ParticipantEvent{
                      room.meeting.conference, "left",
                      p::Participant{v.identity.venue, v.identity.name, seat->seat, false}});
  log::Info("signaling.seat_released", {{"venue", v.identity.venue},
                                        {"conference", room.meeting.conference},
                                        {"voluntary", voluntary}});
  QueueMedia([s = *seat](MediaNegotiator& m) { m.SeatReleased(s); });
}

void Switchboard::SendJoined(VenueState& v, Room& room, bool resumed) {
  if (!v.conn || !v.seat) return;
  p::Joined j;
  j.conference = room.meeting.conference;
  j.booking = room.meeting.booking;
  j.title = room.meeting.title;
  for (const auto& [venue, seat] : room.seats) {
    auto it = venues_.find(venue);
    const bool connected = it != venues_.end() && it->second->conn != nullptr;
    const std::string name = it != venues_.end() ? it->second->identity.name : venue;
    j.participants.push_back(p::Participant{venue, name, seat.seat, connected, seat.hand});
  }
  std::sort(j.participants.begin(), j.participants.end(),
            [](const p::Participant& a, const p::Participant& b) { return a.seat < b.seat; });
  j.layout = room.layout;
  j.tiles = room.tiles;
  j.speaker = room.speaker;
  j.seat = v.seat->seat;
  j.start = p::FormatUtc(room.meeting.start);
  j.end = p::FormatUtc(room.meeting.end);
  j.resumed = resumed;
  Send(*v.conn, std::move(j));
}

void Switchboard::Broadcast(Room& room, const p::ServerBody& body, const std::string& except) {
  for (const auto& [venue, seat] : room.seats) {
    if (venue == except) continue;
    auto it = venues_.find(venue);
    if (it != venues_.end() && it->second->conn) Send(*it->second->conn, body);
  }
}

std::vector<std::string> Switchboard::Invitees(const Room& room) const {
  std::vector<std::string> out = room.meeting.venues;
  for (auto& v : admitted_.Venues(room.meeting.booking))
    if (!room.meeting.HasVenue(v)) out.push_back(v);
  return out;
}

// Invites every registered venue of the room that is not seated anywhere, at most max_invites
// times per absence, invite_interval_ms apart.
void Switchboard::DialOut(Room& room, int64_t now) {
  for (const std::string& venue : Invitees(room)) {
    auto it = venues_.find(venue);
    if (it == venues_.end() || !it->second->conn || it->second->seat) continue;
    InviteState& inv = room.invites[venue];
    if (inv.declined || inv.attempts >= settings_.max_invites) continue;
    if (inv.attempts > 0 && now - inv.last_ms < settings_.invite_interval_ms) continue;
    ++inv.attempts;
    inv.last_ms = now;
    const Meeting& m = room.meeting;
    log::Info("signaling.invite",
              {{"venue", venue}, {"conference", m.conference}, {"attempt", inv.attempts}});
    Send(*it->second->conn, p::Invite{m.conference, m.booking, m.title, p::FormatUtc(m.start),
                                      p::FormatUtc(m.end), inv.attempts});
  }
}

// ---- timers ----

void Switchboard::Tick() {
  MutexLock tick_lock(tick_mu_);
  const int64_t now = clock_.UnixMs();
  const int64_t now_s = clock_.UnixSeconds();
  // Snapshot what the look-ups need, then make them without mu_ (SQLite must not stall signaling).
  uint64_t rooms_before = 0;
  std::vector<std::pair<std::string, std::string>> credentials;  // venue, credential it proved
  {
    MutexLock lock(mu_);
    rooms_before = next_room_seq_;
    if (now - last_credential_check_ms_ >= settings_.credential_check_ms) {
      last_credential_check_ms_ = now;
      for (const auto& [id, v] : venues_)
        if (!v->identity.credential.empty()) credentials.emplace_back(id, v->identity.credential);
    }
  }
  Result<std::vector<Meeting>> open = Error{"unavailable", "no answer"};
  try {
    open = directory_.OpenAt(now_s);
  } catch (const std::exception& e) {
    open = Error{"unavailable", e.what()};
  }
  std::set<std::string> revoked;
  for (const auto& [venue, credential] : credentials) {
    Result<std::optional<std::string>> current = Error{"unavailable", "no answer"};
    try {
      current = authenticator_.CurrentCredential(venue);
    } catch (const std::exception& e) {
      current = Error{"unavailable", e.what()};
    }
    // A store that cannot answer revokes nothing.
    if (current && (!*current || **current != credential)) revoked.insert(venue);
  }

  MutexLock lock(mu_);
  for (auto& [key, c] : connections_) {
    if (c->closing) continue;
    if (c->venue.empty() && !c->hello_pending &&
        now - c->connected_ms >= settings_.hello_timeout_ms) {
      SendError(*c, "hello_timeout",
                "no successful hello within " + Seconds(settings_.hello_timeout_ms), nullptr);
      CloseConnection(*c, listener::CloseCode::kPolicy, "no hello in time");
    } else if (now - c->last_rx_ms >= settings_.idle_timeout_ms) {
      CloseConnection(*c, listener::CloseCode::kGoingAway, "idle timeout");
    } else if (!c->venue.empty() && now - c->last_ping_ms >= settings_.heartbeat_ms) {
      c->last_ping_ms = now;
      Send(*c, p::Ping{now});
    }
  }
  for (const auto& [venue, credential] : credentials) {
    if (!revoked.count(venue)) continue;
    auto it = venues_.find(venue);
    // Only the session that proved the replaced credential: a newer hello carries the new one.
    if (it != venues_.end() && it->second->identity.credential == credential)
      RevokeVenue(*it->second);
  }
  for (auto it = venues_.begin(); it != venues_.end();) {
    VenueState& v = *it->second;
    if (!v.conn && now >= v.dropped_ms + settings_.resume_grace_ms) {
      log::Info("signaling.grace_expired", {{"venue", v.identity.venue}});
      if (v.seat) ReleaseSeat(v, /*voluntary=*/false);
      it = venues_.erase(it);
    } else {
      ++it;
    }
  }
  if (!open) log::Error("signaling.directory_failed", {{"error", open.error().message}});
  if (open) {
    std::set<int64_t> open_ids;
    for (const Meeting& m : *open) {
      open_ids.insert(m.booking);
      auto it = rooms_.find(m.booking);
      if (it == rooms_.end()) {
        OpenRoom(m);
      } else {
        it->second->meeting = m;  // edits (title, end, venues) take effect
        EnforceRights(*it->second);
      }
    }
    // A room opened after the look-up (a join resolved it meanwhile) may be missing from `open`:
    // only rooms older than the look-up are judged by it.
    std::vector<std::pair<int64_t, std::string>> to_end;
    for (const auto& [booking, room] : rooms_)
      if (!open_ids.count(booking) && room->seq < rooms_before)
        to_end.emplace_back(booking, now_s >= room->meeting.end ? "time" : "cancelled");
    for (const auto& [booking, reason] : to_end) EndRoom(booking, reason);
  }
  for (auto& [booking, room] : rooms_) DialOut(*room, now);
  UpdateGauges();
}

// A seated venue that is no longer on the booking (edited by PATCH) and not admitted by an
// operator loses its seat: `ended {reason: removed_from_booking}`. Its connection stays: it may be
// on other bookings.
void Switchboard::EnforceRights(Room& room) {
  std::vector<std::string> removed;
  for (const auto& [venue, seat] : room.seats)
    if (!room.meeting.HasVenue(venue) && !admitted_.IsAdmitted(room.meeting.booking, venue))
      removed.push_back(venue);
  for (const std::string& venue : removed) {
    auto it = venues_.find(venue);
    if (it == venues_.end()) {
      room.seats.erase(venue);
      continue;
    }
    VenueState& v = *it->second;
    log::Warn("signaling.removed_from_booking",
              {{"venue", venue}, {"conference", room.meeting.conference}});
    if (v.conn)
      Send(*v.conn,
           p::Ended{room.meeting.conference, room.meeting.booking, "removed_from_booking"});
    ReleaseSeat(v, /*voluntary=*/true);  // and not redialled
  }
}

// The venue's token was re-issued: the session registered with the old one ends. Its seat is
// released (not held: the old token cannot resume it) and the connection closed with the reason.
void Switchboard::RevokeVenue(VenueState& v) {
  log::Warn("signaling.token_revoked", {{"venue", v.identity.venue}});
  if (v.seat) ReleaseSeat(v, /*voluntary=*/false);
  if (v.conn) {
    Connection& c = *v.conn;
    SendError(c, "token_revoked",
              "the venue's token was re-issued, which ended this session; connect again with the "
              "new token",
              nullptr);
    c.venue.clear();
    CloseConnection(c, listener::CloseCode::kPolicy, "venue token revoked");
  }
  const std::string venue = v.identity.venue;
  venues_.erase(venue);  // last: v is gone after this
}

void Switchboard::EndConference(int64_t booking, const std::string& reason) {
  {
    MutexLock lock(mu_);
    EndRoom(booking, reason);
    UpdateGauges();
  }
}

Status Switchboard::LowerHand(int64_t booking, const std::string& venue) {
  MutexLock lock(mu_);
  auto it = rooms_.find(booking);
  if (it == rooms_.end())
    return Error{"unknown_conference", "booking " + std::to_string(booking) + " is not open"};
  Room& room = *it->second;
  if (!room.seats.count(venue))
    return Error{"not_joined",
                 "venue \"" + venue + "\" is not in conference " + room.meeting.conference};
  SetHand(room, venue, false);
  return Status::Ok();
}

// ---- MediaEvents ----

void Switchboard::SendOffer(const MediaSeat& seat, std::string sdp) {
  MutexLock lock(mu_);
  if (VenueState* v = VenueForSeat(seat); v && v->conn)
    Send(*v->conn, p::Offer{std::move(sdp), nullptr});
}

void Switchboard::SendCandidate(const MediaSeat& seat, std::optional<p::IceCandidate> candidate) {
  MutexLock lock(mu_);
  if (VenueState* v = VenueForSeat(seat); v && v->conn)
    Send(*v->conn, p::Candidate{std::move(candidate)});
}

void Switchboard::PublishLayout(int64_t booking, const std::string& layout,
                                std::vector<p::Tile> tiles) {
  MutexLock lock(mu_);
  auto it = rooms_.find(booking);
  if (it == rooms_.end()) return;
  it->second->layout = layout;
  it->second->tiles = tiles;  // a later `joined` carries the picture as it is
  Broadcast(*it->second, p::Layout{it->second->meeting.conference, layout, std::move(tiles)});
}

void Switchboard::PublishSpeaker(int64_t booking, const std::string& venue) {
  MutexLock lock(mu_);
  auto it = rooms_.find(booking);
  if (it == rooms_.end()) return;
  if (venue.empty())
    it->second->speaker.reset();
  else
    it->second->speaker = venue;
  Broadcast(*it->second, p::Speaker{it->second->meeting.conference, venue});
}

void Switchboard::PublishMuted(int64_t booking, const std::string& venue, bool muted) {
  MutexLock lock(mu_);
  auto it = rooms_.find(booking);
  if (it == rooms_.end()) return;
  Broadcast(*it->second, p::Muted{it->second->meeting.conference, venue, muted});
}

// ---- introspection ----

size_t Switchboard::connections() const {
  MutexLock lock(mu_);
  return connections_.size();
}

size_t Switchboard::registered_venues() const {
  MutexLock lock(mu_);
  size_t n = 0;
  for (const auto& [id, v] : venues_) n += v->conn ? 1 : 0;
  return n;
}

size_t Switchboard::held_seats() const {
  MutexLock lock(mu_);
  size_t n = 0;
  for (const auto& [id, v] : venues_) n += (!v->conn && v->seat) ? 1 : 0;
  return n;
}

size_t Switchboard::open_conferences() const {
  MutexLock lock(mu_);
  return rooms_.size();
}

}  // namespace plateau::signaling
