// The reference terminal's call logic as a pure state machine: server messages (already parsed)
// in, actions out. No sockets, clocks or threads, so every rule is unit-tested and fuzzed with
// arbitrary message sequences (fuzz/signaling, target terminal_call).
//
//   registered -> join {conference}          (the configured conference, or the first invite's)
//   joined     -> PrepareLocal              (the shell makes fresh SDES keys and a local port)
//   OnLocalPrepared(local) -> offer {sdp}   (id "offer-N")
//   answer {ref: "offer-N"} -> StartMedia    (the SDP is parsed and checked here)
//   drop -> (the client resumes) registered {resumed} + joined {resumed} -> a NEW offer with NEW
//   keys registered {resumed: false} while seated -> the seat is gone: join again server offer ->
//   PrepareLocal(remote) -> answer {sdp} + StartMedia ended -> CallEnded;  an error answering our
//   join or offer -> CallFailed (the server's code)
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/negotiation/sdp/sdes_sdp.hpp"
#include "plateau/signaling/protocol.hpp"

namespace plateau::terminal::client {

struct CallConfig {
  std::optional<std::string> conference;  // join this number; nullopt = answer the first invite
};

enum class CallState {
  kConnecting,   // not registered yet
  kWaiting,      // registered, waiting for an invite (no conference given)
  kJoining,      // join sent
  kNegotiating,  // seated; offer being prepared or sent
  kInCall,       // an answer set up media
  kEnded,        // the conference ended or we left
  kFailed,       // the server refused us (join/offer error) or sent an unusable answer
};
std::string_view ToString(CallState state);

// ---- actions for the shell, in order ----
struct SendMessage {
  signaling::protocol::ClientMessage message;
};
// Make a fresh SDES key and a local media address/port, then call OnLocalPrepared. `remote_offer`
// is set when answering a server offer.
struct PrepareLocal {
  std::optional<negotiation::sdp::SdesDescription> remote_offer;
};
// (Re)start media: protect with local.crypto, verify with remote.crypto, send to
// remote.address:remote.port from local.port. `generation` counts media set-ups (1 = first).
struct StartMedia {
  negotiation::sdp::SdesDescription local;
  negotiation::sdp::SdesDescription remote;
  int generation = 0;
};
struct CallEnded {
  std::string reason;  // "time", "cancelled", "operator", "left"
};
struct CallFailed {
  Error error;  // the server's code ("not_invited", "not_started", "media_unavailable", ...)
};
using CallAction = std::variant<SendMessage, PrepareLocal, StartMedia, CallEnded, CallFailed>;

struct TileInfo {
  std::string venue;
  double x = 0, y = 0, w = 0, h = 0;  // fractions of the picture
};

// What the terminal knows about its call (for reports).
struct CallSnapshot {
  CallState state = CallState::kConnecting;
  bool connected = false;  // registered on a live connection
  std::string venue;
  std::string venue_name;
  std::string session;
  std::string conference;
  int64_t booking = 0;
  std::string title;
  int seat = 0;
  std::map<std::string, signaling::protocol::Participant> participants;  // by venue
  std::string layout;
  std::vector<TileInfo> tiles;
  std::optional<std::string> speaker;
  std::set<std::string> muted;
  int generation = 0;  // media set-ups
  uint64_t invites = 0;
  uint64_t offers = 0;
  uint64_t answers = 0;
  uint64_t resumes = 0;  // joined {resumed: true}
  uint64_t rejoins = 0;  // seat lost on a drop, joined again
  uint64_t server_errors = 0;
  std::string last_error;  // "code: message" of the last server error
  std::string end_reason;
  std::optional<Error> failure;
};

class TerminalCall {
 public:
  explicit TerminalCall(CallConfig config);

  std::vector<CallAction> OnServerMessage(const signaling::protocol::ServerMessage& message);
  // The signaling connection dropped; media keeps flowing on the old keys until the resume.
  std::vector<CallAction> OnDisconnected();
  // The shell prepared the local description asked for by the last PrepareLocal (stale ones, after
  // a newer PrepareLocal, are ignored).
  std::vector<CallAction> OnLocalPrepared(negotiation::sdp::SdesDescription local);
  // The shell could not prepare media (no port, no key): the call fails.
  std::vector<CallAction> OnLocalFailed(Error error);
  // Leave the conference (or stop waiting).
  std::vector<CallAction> Leave();

  const CallSnapshot& snapshot() const { return snap_; }
  CallState state() const { return snap_.state; }

 private:
  bool Done() const {
    return snap_.state == CallState::kEnded || snap_.state == CallState::kFailed;
  }
  void Join(const std::string& conference, std::vector<CallAction>* out);
  void Fail(Error error, std::vector<CallAction>* out);

  CallConfig config_;
  CallSnapshot snap_;
  std::optional<std::string> target_;  // the conference we join
  bool seated_ = false;
  bool join_pending_ = false;
  uint64_t joins_ = 0;
  std::string join_id_;
  // The description we are preparing/offered, and what it answers.
  uint64_t prepare_count_ = 0;
  bool preparing_ = false;
  std::optional<negotiation::sdp::SdesDescription> pending_remote_offer_;
  std::string offer_id_;
  std::optional<negotiation::sdp::SdesDescription> offered_;
};

}  // namespace plateau::terminal::client
