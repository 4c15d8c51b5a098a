// Signaling protocol v1: the JSON messages venues and the server exchange over /ws (see
// docs/signaling.md and docs/signaling/schemas/*.json, one JSON Schema per message type).
//
// This is an edge: bytes from the network become typed, validated messages or a ParseFailure that
// names the offending field. Code behind it never sees malformed input. The parsers never throw
// and never read past the limits below; they are fuzzed (fuzz/signaling).
//
// Both directions are here so that the server, the reference terminal and the tests share one
// definition: Parse*Message reads, Serialize writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace plateau::signaling::protocol {

inline constexpr int kVersion = 1;

// Limits (also in the schemas).
inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // one WebSocket message
inline constexpr size_t kMaxDepth = 8;                 // JSON nesting
inline constexpr size_t kMaxIdChars = 64;              // "id" / "ref" strings
inline constexpr size_t kMaxVenueChars = 64;
inline constexpr size_t kMaxTokenChars = 256;
inline constexpr size_t kMaxResumeTokenChars = 128;
inline constexpr size_t kMaxClientChars = 128;
inline constexpr size_t kMaxConferenceChars = 32;  // digits
inline constexpr size_t kMaxSdpBytes = 48 * 1024;
inline constexpr size_t kMaxCandidateChars = 1024;
inline constexpr size_t kMaxMidChars = 64;
inline constexpr size_t kMaxUfragChars = 256;
inline constexpr size_t kMaxTextChars = 1024;  // names, titles, messages, reasons
inline constexpr size_t kMaxParticipants = 512;
inline constexpr size_t kMaxTiles = 64;

// ---- values shared by both directions ----

// A trickled ICE candidate as browsers produce it (RTCIceCandidate.toJSON()).
struct IceCandidate {
  std::string candidate;  // "candidate:..." (may be empty: some browsers' end-of-generation)
  std::optional<std::string> sdp_mid;
  std::optional<int> sdp_mline_index;
  std::optional<std::string> username_fragment;
  bool operator==(const IceCandidate&) const = default;
};

struct Offer {
  std::string sdp;
  nlohmann::json ref;  // optional: id of the message this answers (null if absent)
};
struct Answer {
  std::string sdp;
  nlohmann::json ref;
};
// nullopt = end of candidates.
struct Candidate {
  std::optional<IceCandidate> candidate;
};
struct Ping {
  std::optional<int64_t> ts;
};
struct Pong {
  std::optional<int64_t> ts;
};

// ---- client -> server ----

struct Hello {
  std::string venue;
  std::string token;
  std::optional<std::string> resume;  // resume token from an earlier `registered`
  std::optional<std::string> client;  // free-form client name/version, for logs
};
// Exactly one of conference (dialable number) or booking (id).
struct Join {
  // The dialable number; the client may send it as a JSON string of digits or a JSON number.
  std::optional<std::string> conference;
  std::optional<int64_t> booking;
};
struct Leave {};
// Request to speak: raise (true) or lower (false) the venue's hand in its conference.
struct Hand {
  bool raised = true;
};

using ClientBody = std::variant<Hello, Join, Offer, Answer, Candidate, Leave, Hand, Ping, Pong>;

struct ClientMessage {
  nlohmann::json id;  // string or integer, null when absent; echoed as `ref` in errors
  ClientBody body;
};

// ---- server -> client ----

struct Registered {
  std::string venue;
  std::string name;
  std::string session;
  std::string resume_token;
  int64_t heartbeat_ms = 0;
  bool resumed = false;
};
struct Participant {
  std::string venue;
  std::string name;
  int seat = 0;
  bool connected = true;  // false while the seat is held for a dropped connection
  bool hand = false;      // the venue asks to speak (raised hand)
  bool operator==(const Participant&) const = default;
};
struct Tile {
  std::string venue;
  double x = 0, y = 0, w = 0, h = 0;  // fractions of the picture, 0..1
  bool operator==(const Tile&) const = default;
};
struct Joined {
  std::string conference;
  int64_t booking = 0;
  std::string title;
  std::vector<Participant> participants;  // everyone seated, including the receiver
  std::string layout;
  int seat = 0;
  std::string start;  // RFC 3339 UTC
  std::string end;
  bool resumed = false;
  std::vector<Tile> tiles;  // the current picture (empty until the engine publishes a layout)
  std::optional<std::string> speaker;  // the current speaker, when there is one
};
struct Invite {
  std::string conference;
  int64_t booking = 0;
  std::string title;
  std::string start;
  std::string end;
  int attempt = 1;
};
struct ParticipantEvent {
  std::string conference;
  std::string event;  // "joined" | "left" | "away" (seat held) | "back" (resumed)
  Participant participant;
};
struct Layout {
  std::string conference;
  std::string layout;  // "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4", "auto"
  std::vector<Tile> tiles;
};
struct Speaker {
  std::string conference;
  std::string venue;
};
struct Muted {
  std::string conference;
  std::string venue;
  bool muted = true;
};
// A venue raised or lowered its hand (or an operator lowered it); sent to every connected venue
// of the conference, the venue itself included.
struct HandEvent {
  std::string conference;
  std::string venue;
  bool raised = false;
};
struct Ended {
  std::string conference;
  int64_t booking = 0;
  std::string reason;  // "time" | "cancelled" | "operator" | "removed_from_booking"
};
struct Left {
  std::string conference;
};
struct ErrorMessage {
  std::string code;
  std::string message;
  nlohmann::json ref;  // the client's message id, null if none
  std::string field;   // for bad_message: the offending field ("" if none)
};

using ServerBody =
    std::variant<Registered, Joined, Invite, ParticipantEvent, Layout, Speaker, Muted, HandEvent,
                 Ended, Left, Offer, Answer, Candidate, ErrorMessage, Ping, Pong>;

struct ServerMessage {
  nlohmann::json id;  // usually null: the server does not number its messages
  ServerBody body;
};

// ---- parsing ----

// Why a message was refused. `code` is one of: bad_json, too_big, too_deep, bad_message,
// unknown_type. `field` names the offending member ("type", "venue", "candidate.sdpMLineIndex",
// "participants[2].seat") when there is one. `ref` is the message's id when it could be read.
struct ParseFailure {
  std::string code;
  std::string field;
  std::string message;
  nlohmann::json ref;
};

template <typename T>
class Parsed {
 public:
  Parsed(T value) : v_(std::in_place_index<0>, std::move(value)) {}                 // NOLINT
  Parsed(ParseFailure failure) : v_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  const ParseFailure& failure() const { return std::get<1>(v_); }

 private:
  std::variant<T, ParseFailure> v_;
};

// Strict: the bytes must be one JSON object of at most kMaxMessageBytes and kMaxDepth, with a known
// `type`, every required member of the right JSON type and within its limits, and no unknown
// members.
Parsed<ClientMessage> ParseClientMessage(std::string_view bytes);
Parsed<ServerMessage> ParseServerMessage(std::string_view bytes);

// The `type` string of a body ("hello", "joined", ...).
std::string_view TypeName(const ClientBody& body);
std::string_view TypeName(const ServerBody& body);

// ---- writing ----

nlohmann::json ToJson(const ClientMessage& message);
nlohmann::json ToJson(const ServerMessage& message);
std::string Serialize(const ClientMessage& message);
std::string Serialize(const ServerMessage& message);

// Convenience for the common server case (no id).
inline std::string Serialize(ServerBody body) {
  return Serialize(ServerMessage{nullptr, std::move(body)});
}
inline std::string Serialize(ClientBody body) {
  return Serialize(ClientMessage{nullptr, std::move(body)});
}

// An error message answering a failed parse (code, field and ref carried over).
ErrorMessage ToErrorMessage(const ParseFailure& failure);

// Unix seconds -> "2026-11-25T14:00:00Z".
std::string FormatUtc(int64_t unix_seconds);

}  // namespace plateau::signaling::protocol
