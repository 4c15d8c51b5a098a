// The Switchboard: venue sessions and conference rooms behind the /ws endpoint. It registers
// venues (hello -> registered), seats them in conferences under the join rules, holds a dropped
// venue's seat for a grace period so it can resume, dials out (invite) when a conference opens and
// redials venues that dropped, relays media negotiation to the MediaNegotiator and pushes presence.
//
// It knows no sockets: a connection is a WebSocketPeer (the WebSocket session implements it), and
// every time-dependent rule reads the injected Clock, advanced by Tick(). Thread-safe: one mutex
// guards all state; outgoing messages are handed to WebSocketPeer::Send (non-blocking) under it, so
// each venue sees messages in the order they were decided.
//
// Threads: the transport events and Tick() come from the listener's threads and must return
// quickly whatever the listener's thread count. So nothing slow runs there under the mutex:
//   - MediaNegotiator calls (the first offer of a meeting builds GStreamer pipelines: seconds) are
//     queued under the mutex in the order decided and run on the Switchboard's own media executor
//     (one thread, one call at a time, never under the mutex);
//   - ConferenceDirectory and VenueAuthenticator look-ups (SQLite) are made before the mutex is
//     taken, and their results applied under it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "plateau/common/metrics.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/listener/websocket.hpp"
#include "plateau/signaling/protocol.hpp"
#include "plateau/signaling/seams.hpp"
#include "plateau/signaling/serial_executor.hpp"

namespace plateau::signaling {

struct SwitchboardSettings {
  int64_t heartbeat_ms = 10'000;        // server `ping` interval, announced in `registered`
  int64_t idle_timeout_ms = 30'000;     // nothing received for this long: close
  int64_t hello_timeout_ms = 10'000;    // no successful hello by then: close
  int64_t resume_grace_ms = 30'000;     // a dropped venue's seat is held this long
  int max_failed_hellos = 3;            // then close
  double message_rate = 20;             // sustained messages per second per connection
  double message_burst = 60;            // bucket size
  int max_invites = 3;                  // invites per absence (first dial + redials)
  int64_t invite_interval_ms = 10'000;  // between redials
  // How often registered venues' credentials are re-read: a re-issued token ends the sessions
  // that registered with the old one (error `token_revoked`).
  int64_t credential_check_ms = 5'000;
};

class Switchboard final : public listener::WebSocketEndpoint,
                          public MediaEvents,
                          public std::enable_shared_from_this<Switchboard> {
 public:
  // The dependencies must outlive the Switchboard (`metrics`: where messages, errors,
  // connections, venues, seats and open conferences are counted). Create with std::make_shared
  // (media callbacks hold weak references).
  Switchboard(SwitchboardSettings settings, const Clock& clock, metrics::Registry& metrics,
              VenueAuthenticator& authenticator, ConferenceDirectory& directory,
              MediaNegotiator& media, const AdmittedVenues& admitted);
  ~Switchboard() override;
  Switchboard(const Switchboard&) = delete;
  Switchboard& operator=(const Switchboard&) = delete;

  // Attaches itself to the MediaNegotiator (call once after make_shared).
  void Start();
  // Stops the media executor: media calls not yet run are dropped, the running one is waited for.
  // Call before the MediaNegotiator goes away (the destructor does it too).
  void Stop();
  // Blocks until every media call queued so far has run (tests; from a media call: returns).
  void WaitForMedia();
  // The media executor's thread: every MediaNegotiator call runs there.
  std::thread::id media_thread() const { return media_executor_.thread_id(); }

  // WebSocketEndpoint: transport events, from the connection's strand.
  void OnOpen(const std::shared_ptr<listener::WebSocketPeer>& peer) override;
  void OnText(const std::shared_ptr<listener::WebSocketPeer>& peer, std::string_view text) override;
  void OnClose(const std::shared_ptr<listener::WebSocketPeer>& peer) override;

  // Heartbeats, idle and hello timeouts, grace expiry, conference open/end, dial-out and redial,
  // rights (a venue taken off its booking, a re-issued token). Call about once a second.
  void Tick();

  // Live control: ends a conference now (pushes `ended` with the reason).
  void EndConference(int64_t booking, const std::string& reason);

  // Live control: lowers a venue's raised hand (the floor was granted, or the operator dismissed
  // the request) and pushes `hand {raised: false}` to the conference. Lowering a hand that is not
  // raised changes nothing and sends nothing. Errors: `unknown_conference` (the booking is not
  // open), `not_joined` (the venue holds no seat in it).
  Status LowerHand(int64_t booking, const std::string& venue);

  // MediaEvents.
  void SendOffer(const MediaSeat& seat, std::string sdp) override;
  void SendCandidate(const MediaSeat& seat,
                     std::optional<protocol::IceCandidate> candidate) override;
  void PublishLayout(int64_t booking, const std::string& layout,
                     std::vector<protocol::Tile> tiles) override;
  void PublishSpeaker(int64_t booking, const std::string& venue) override;
  void PublishMuted(int64_t booking, const std::string& venue, bool muted) override;

  // Introspection (tests, metrics).
  size_t connections() const;
  size_t registered_venues() const;  // with a live connection
  size_t held_seats() const;
  size_t open_conferences() const;
  const SwitchboardSettings& settings() const { return settings_; }

 private:
  struct Connection;
  struct VenueState;
  struct Room;
  struct InviteState;

  // A hello or a join needs a look-up outside mu_ (the token check, the directory): its handler
  // returns what to look up and OnText finishes it (VerifyHello, ResolveJoin).
  struct PendingHello {
    protocol::Hello hello;
    nlohmann::json id;
  };
  struct PendingJoin {
    protocol::Join join;
    std::string venue;  // the registered venue that asked
    nlohmann::json id;
  };
  using Deferred = std::variant<std::monostate, PendingHello, PendingJoin>;

  // OnText's steps, one handler per message kind.
  bool Admit(Connection& c, const protocol::Parsed<protocol::ClientMessage>& parsed)
      PLATEAU_REQUIRES(mu_);  // receive time, counters, rate limit, parse errors
  Deferred Dispatch(Connection& c, protocol::ClientMessage& msg) PLATEAU_REQUIRES(mu_);
  Deferred OnHello(Connection& c, protocol::Hello hello, const nlohmann::json& id)
      PLATEAU_REQUIRES(mu_);
  void VerifyHello(const std::shared_ptr<listener::WebSocketPeer>& peer,
                   const PendingHello& pending) PLATEAU_EXCLUDES(mu_);
  void ResolveJoin(const std::shared_ptr<listener::WebSocketPeer>& peer, const PendingJoin& pending)
      PLATEAU_EXCLUDES(mu_);

  // Everything below runs with mu_ held.
  Connection* FindConnection(listener::WebSocketPeer* peer) PLATEAU_REQUIRES(mu_);
  void Send(Connection& c, protocol::ServerBody body, const nlohmann::json& id = nullptr)
      PLATEAU_REQUIRES(mu_);
  void SendError(Connection& c, const std::string& code, const std::string& message,
                 const nlohmann::json& ref, const std::string& field = "") PLATEAU_REQUIRES(mu_);
  void CloseConnection(Connection& c, listener::CloseCode code, const std::string& reason)
      PLATEAU_REQUIRES(mu_);
  bool TakeToken(Connection& c, int64_t now) PLATEAU_REQUIRES(mu_);
  void OnHelloVerified(Connection& c, const protocol::Hello& hello, const nlohmann::json& id,
                       const Result<VenueIdentity>& identity) PLATEAU_REQUIRES(mu_);
  void OnJoin(Connection& c, VenueState& v, const protocol::Join& join, const nlohmann::json& id,
              const Result<std::optional<Meeting>>& found) PLATEAU_REQUIRES(mu_);
  void EnforceRights(Room& room) PLATEAU_REQUIRES(mu_);
  void RevokeVenue(VenueState& v) PLATEAU_REQUIRES(mu_);
  void OnLeave(Connection& c, VenueState& v, const nlohmann::json& id) PLATEAU_REQUIRES(mu_);
  void OnHand(Connection& c, VenueState& v, const protocol::Hand& hand, const nlohmann::json& id)
      PLATEAU_REQUIRES(mu_);
  bool SetHand(Room& room, const std::string& venue, bool raised) PLATEAU_REQUIRES(mu_);
  protocol::Participant ParticipantOf(const Room& room, const VenueState& v, bool connected) const
      PLATEAU_REQUIRES(mu_);
  void OnOffer(Connection& c, VenueState& v, protocol::Offer offer, const nlohmann::json& id)
      PLATEAU_REQUIRES(mu_);
  void OnAnswer(Connection& c, VenueState& v, protocol::Answer answer, const nlohmann::json& id)
      PLATEAU_REQUIRES(mu_);
  void OnCandidate(Connection& c, VenueState& v, protocol::Candidate candidate,
                   const nlohmann::json& id) PLATEAU_REQUIRES(mu_);
  Room& OpenRoom(const Meeting& meeting) PLATEAU_REQUIRES(mu_);
  void EndRoom(int64_t booking, const std::string& reason) PLATEAU_REQUIRES(mu_);
  void ReleaseSeat(VenueState& v, bool voluntary) PLATEAU_REQUIRES(mu_);
  void SendJoined(VenueState& v, Room& room, bool resumed) PLATEAU_REQUIRES(mu_);
  void Broadcast(Room& room, const protocol::ServerBody& body, const std::string& except = "")
      PLATEAU_REQUIRES(mu_);
  void DialOut(Room& room, int64_t now) PLATEAU_REQUIRES(mu_);
  std::vector<std::string> Invitees(const Room& room) const PLATEAU_REQUIRES(mu_);
  std::optional<MediaSeat> SeatOf(const VenueState& v) const PLATEAU_REQUIRES(mu_);
  VenueState* VenueForSeat(const MediaSeat& seat) PLATEAU_REQUIRES(mu_);
  void UpdateGauges() PLATEAU_REQUIRES(mu_);

  // Media calls: queued under mu_ (so in the order decided), run on media_executor_.
  void QueueMedia(std::function<void(MediaNegotiator&)> call) PLATEAU_REQUIRES(mu_);

  const SwitchboardSettings settings_;
  const Clock& clock_;
  metrics::Registry& metrics_;
  VenueAuthenticator& authenticator_;
  ConferenceDirectory& directory_;
  MediaNegotiator& media_;
  const AdmittedVenues& admitted_;

  // One Tick at a time (held across its look-ups, never with mu_ waited on).
  Mutex tick_mu_ PLATEAU_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  std::map<listener::WebSocketPeer*, std::unique_ptr<Connection>> connections_
      PLATEAU_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<VenueState>> venues_ PLATEAU_GUARDED_BY(mu_);  // by id
  std::map<int64_t, std::unique_ptr<Room>> rooms_ PLATEAU_GUARDED_BY(mu_);  // by booking id
  uint64_t next_epoch_ PLATEAU_GUARDED_BY(mu_) = 1;
  // Rooms are numbered as opened (Tick's look-up is not under mu_).
  uint64_t next_room_seq_ PLATEAU_GUARDED_BY(mu_) = 1;
  int64_t last_credential_check_ms_ PLATEAU_GUARDED_BY(mu_) = 0;
  SerialExecutor media_executor_{"plateau-media"};
};

// Random lowercase hex from the system CSPRNG (OpenSSL), `bytes` bytes of entropy.
std::string RandomHex(size_t bytes);

}  // namespace plateau::signaling
