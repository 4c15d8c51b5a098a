#include "plateau/signaling/protocol.hpp"

#include <set>

#include "plateau/common/civil_time.hpp"
#include "plateau/common/json_input.hpp"

namespace plateau::signaling::protocol {

using nlohmann::json;

namespace {

bool AllOf(std::string_view s, bool (*pred)(unsigned char)) {
  for (char c : s)
    if (!pred(static_cast<unsigned char>(c))) return false;
  return true;
}
bool IsIdChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}
bool IsDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool IsVisibleAscii(unsigned char c) {
  return c >= 0x21 && c <= 0x7e;
}
bool IsPrintableAscii(unsigned char c) {
  return c >= 0x20 && c <= 0x7e;
}
bool IsNotNul(unsigned char c) {
  return c != 0;
}

// Reads the members of one JSON object, recording the first problem. Getters return defaults after
// a failure, so a parse function reads straight through and checks failed() once.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string prefix, ParseFailure* failure)
      : object_(object), prefix_(std::move(prefix)), failure_(failure) {}

  bool failed() const { return !failure_->code.empty(); }

  void Fail(const std::string& key, const std::string& what) {
    if (failed()) return;
    failure_->code = "bad_message";
    failure_->field = Path(key);
    failure_->message = "\"" + failure_->field + "\" " + what;
  }

  std::string Path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

  // nullptr when absent; marks the member as read.
  const json* Member(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  std::string String(const std::string& key, size_t min_chars, size_t max_chars,
                     bool (*pred)(unsigned char), const char* charset) {
    const json* v = Member(key);
    if (!v) {
      Fail(key, "is required");
      return {};
    }
    return CheckString(key, *v, min_chars, max_chars, pred, charset).value_or("");
  }

  // Absent (or null when `nullable`) -> nullopt.
  std::optional<std::string> OptString(const std::string& key, size_t min_chars, size_t max_chars,
                                       bool (*pred)(unsigned char), const char* charset,
                                       bool nullable = false) {
    const json* v = Member(key);
    if (!v || (nullable && v->is_null())) return std::nullopt;
    return CheckString(key, *v, min_chars, max_chars, pred, charset);
  }

  int64_t Int(const std::string& key, int64_t min, int64_t max) {
    const json* v = Member(key);
    if (!v) {
      Fail(key, "is required");
      return 0;
    }
    return CheckInt(key, *v, min, max).value_or(0);
  }

  std::optional<int64_t> OptInt(const std::string& key, int64_t min, int64_t max,
                                bool nullable = false) {
    const json* v = Member(key);
    if (!v || (nullable && v->is_null())) return std::nullopt;
    return CheckInt(key, *v, min, max);
  }

  double Number(const std::string& key, double min, double max) {
    const json* v = Member(key);
    if (!v) {
      Fail(key, "is required");
      return 0;
    }
    if (!v->is_number()) {
      Fail(key, "must be a number");
      return 0;
    }
    const double d = v->get<double>();
    if (!(d >= min && d <= max)) {
      Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return 0;
    }
    return d;
  }

  bool Bool(const std::string& key) {
    const json* v = Member(key);
    if (!v) {
      Fail(key, "is required");
      return false;
    }
    return CheckBool(key, *v);
  }

  bool OptBool(const std::string& key, bool fallback) {
    const json* v = Member(key);
    if (!v || v->is_null()) return fallback;
    return CheckBool(key, *v);
  }

  const json* Array(const std::string& key, size_t max_items) {
    const json* v = Member(key);
    if (!v) {
      Fail(key, "is required");
      return nullptr;
    }
    if (!v->is_array()) {
      Fail(key, "must be an array");
      return nullptr;
    }
    if (v->size() > max_items) {
      Fail(key, "has more than " + std::to_string(max_items) + " items");
      return nullptr;
    }
    return v;
  }

  // Optional string-or-integer id ("id", "ref"); null when absent.
  json OptId(const std::string& key) {
    const json* v = Member(key);
    if (!v || v->is_null()) return nullptr;
    if (v->is_number_integer()) {
      if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        Fail(key, "is out of range");
        return nullptr;
      }
      return *v;
    }
    if (v->is_string()) {
      auto s = CheckString(key, *v, 1, kMaxIdChars, IsPrintableAscii, "printable ASCII");
      return s ? json(*s) : json(nullptr);
    }
    Fail(key, "must be a string or an integer");
    return nullptr;
  }

  // Unknown members are errors: a typo must not be silently ignored.
  void Finish() {
    if (failed()) return;
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!seen_.count(it.key())) {
        Fail(it.key(), "is not a member of this message");
        return;
      }
    }
  }

 private:
  std::optional<std::string> CheckString(const std::string& key, const json& v, size_t min_chars,
                                         size_t max_chars, bool (*pred)(unsigned char),
                                         const char* charset) {
    if (!v.is_string()) {
      Fail(key, "must be a string");
      return std::nullopt;
    }
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() < min_chars) {
      Fail(key, min_chars == 1 ? "must not be empty"
                               : "must have at least " + std::to_string(min_chars) + " characters");
      return std::nullopt;
    }
    if (s.size() > max_chars) {
      Fail(key, "is longer than " + std::to_string(max_chars) + " bytes");
      return std::nullopt;
    }
    if (!AllOf(s, pred)) {
      Fail(key, std::string("must contain only ") + charset);
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> CheckInt(const std::string& key, const json& v, int64_t min, int64_t max) {
    if (!v.is_number_integer()) {
      Fail(key, "must be an integer");
      return std::nullopt;
    }
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Fail(key, "is out of range");
      return std::nullopt;
    }
    const int64_t i = v.get<int64_t>();
    if (i < min || i > max) {
      Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return i;
  }

  bool CheckBool(const std::string& key, const json& v) {
    if (!v.is_boolean()) {
      Fail(key, "must be true or false");
      return false;
    }
    return v.get<bool>();
  }

  const json& object_;
  std::string prefix_;
  ParseFailure* failure_;
  std::set<std::string> seen_;
};

constexpr int64_t kMaxInt = INT64_MAX;

std::string Venue(ObjectReader& r, const std::string& key = "venue") {
  return r.String(key, 1, kMaxVenueChars, IsIdChar, "letters, digits, '-', '_' and '.'");
}
std::string Conference(ObjectReader& r) {
  return r.String("conference", 1, kMaxConferenceChars, IsDigit, "digits");
}
std::string Text(ObjectReader& r, const std::string& key, size_t min_chars = 0) {
  return r.String(key, min_chars, kMaxTextChars, IsNotNul, "characters other than NUL");
}
std::string Sdp(ObjectReader& r) {
  return r.String("sdp", 1, kMaxSdpBytes, IsNotNul, "text");
}
int64_t BookingId(ObjectReader& r) {
  return r.Int("booking", 1, kMaxInt);
}
int Seat(ObjectReader& r) {
  return static_cast<int>(r.Int("seat", 0, 65535));
}

// An object member read with its own reader; nullptr (and a failure) if it is not an object.
const json* ObjectAt(ObjectReader& parent, const json& v, const std::string& path) {
  if (!v.is_object()) {
    parent.Fail(path, "must be an object");
    return nullptr;
  }
  return &v;
}

std::optional<IceCandidate> ReadCandidate(ObjectReader& r, ParseFailure* failure) {
  const json* v = r.Member("candidate");
  if (!v) {
    r.Fail("candidate", "is required (null marks the end of candidates)");
    return std::nullopt;
  }
  if (v->is_null()) return std::nullopt;
  if (!ObjectAt(r, *v, "candidate")) return std::nullopt;
  ObjectReader c(*v, r.Path("candidate"), failure);
  IceCandidate out;
  out.candidate = c.String("candidate", 0, kMaxCandidateChars, IsPrintableAscii, "printable ASCII");
  out.sdp_mid = c.OptString("sdpMid", 0, kMaxMidChars, IsPrintableAscii, "printable ASCII", true);
  if (auto i = c.OptInt("sdpMLineIndex", 0, 255, true)) out.sdp_mline_index = static_cast<int>(*i);
  out.username_fragment =
      c.OptString("usernameFragment", 0, kMaxUfragChars, IsPrintableAscii, "printable ASCII", true);
  c.Finish();
  if (!out.sdp_mid && !out.sdp_mline_index && !c.failed())
    c.Fail("sdpMid", "or sdpMLineIndex is required");
  return out;
}

Participant ReadParticipant(const json& v, const std::string& path, ObjectReader& parent,
                            ParseFailure* failure) {
  Participant p;
  if (!ObjectAt(parent, v, path)) return p;
  ObjectReader r(v, parent.Path(path), failure);
  p.venue = Venue(r);
  p.name = Text(r, "name");
  p.seat = Seat(r);
  p.connected = r.Bool("connected");
  p.hand = r.Bool("hand");
  r.Finish();
  return p;
}

std::vector<Tile> ReadTiles(ObjectReader& r, ParseFailure* failure) {
  std::vector<Tile> tiles;
  if (const json* a = r.Array("tiles", kMaxTiles)) {
    for (size_t i = 0; i < a->size() && !r.failed(); ++i) {
      const std::string path = "tiles[" + std::to_string(i) + "]";
      if (!ObjectAt(r, (*a)[i], path)) break;
      ObjectReader t((*a)[i], r.Path(path), failure);
      Tile tile;
      tile.venue = Venue(t);
      tile.x = t.Number("x", 0, 1);
      tile.y = t.Number("y", 0, 1);
      tile.w = t.Number("w", 0, 1);
      tile.h = t.Number("h", 0, 1);
      t.Finish();
      tiles.push_back(std::move(tile));
    }
  }
  return tiles;
}

const std::set<std::string>& Layouts() {
  static const std::set<std::string> k = {"auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"};
  return k;
}

std::string ReadEnum(ObjectReader& r, const std::string& key,
                     const std::set<std::string>& allowed) {
  std::string s = r.String(key, 1, 32, IsPrintableAscii, "printable ASCII");
  if (!r.failed() && !allowed.count(s)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    r.Fail(key, "must be one of: " + list);
  }
  return s;
}

ParseFailure Failure(std::string code, std::string field, std::string message, json ref = nullptr) {
  return ParseFailure{std::move(code), std::move(field), std::move(message), std::move(ref)};
}

// Common envelope checks; on success `*object` is the top-level object and `*type` its type.
std::optional<ParseFailure> ReadEnvelope(std::string_view bytes, json* object, std::string* type,
                                         json* id) {
  if (bytes.size() > kMaxMessageBytes)
    return Failure("too_big", "",
                   "message is larger than " + std::to_string(kMaxMessageBytes) + " bytes");
  auto parsed = ParseUntrustedJson(bytes, kMaxDepth);
  if (!parsed) {
    const Error& e = parsed.error();
    if (e.code == "too_deep") return Failure("too_deep", "", "message " + e.message);
    // Bytes after the object are a malformed message, not a JSON syntax slip.
    if (e.code == "trailing_bytes")
      return Failure("bad_message", "", "bytes after the JSON object: " + e.message);
    return Failure("bad_json", "", "message is not valid JSON");
  }
  *object = std::move(parsed).value();
  if (!object->is_object()) return Failure("bad_message", "", "message must be a JSON object");
  ParseFailure f;
  ObjectReader r(*object, "", &f);
  *id = r.OptId("id");
  if (r.failed()) return f;
  *type = r.String("type", 1, 32, IsIdChar, "letters");
  if (r.failed()) {
    f.ref = *id;
    return f;
  }
  return std::nullopt;
}

}  // namespace

Parsed<ClientMessage> ParseClientMessage(std::string_view bytes) {
  json object;
  std::string type;
  json id;
  if (auto f = ReadEnvelope(bytes, &object, &type, &id)) return *f;
  ParseFailure failure;
  ObjectReader r(object, "", &failure);
  r.Member("type");
  r.Member("id");
  ClientMessage m{id, Leave{}};
  if (type == "hello") {
    Hello h;
    h.venue = Venue(r);
    h.token = r.String("token", 1, kMaxTokenChars, IsVisibleAscii, "visible ASCII");
    h.resume = r.OptString("resume", 1, kMaxResumeTokenChars, IsIdChar, "letters and digits");
    h.client = r.OptString("client", 0, kMaxClientChars, IsPrintableAscii, "printable ASCII", true);
    m.body = std::move(h);
  } else if (type == "join") {
    Join j;
    // docs/signaling.md calls the conference a number: a JSON number (a non-negative integer) is
    // taken as its digits, and the string of digits is accepted too.
    if (const json* c = r.Member("conference"); c && c->is_number_unsigned()) {
      j.conference = std::to_string(c->get<uint64_t>());
    } else if (c && c->is_number()) {
      r.Fail("conference", "must be a non-negative integer or a string of digits");
    } else {
      j.conference = r.OptString("conference", 1, kMaxConferenceChars, IsDigit, "digits");
    }
    if (auto b = r.OptInt("booking", 1, kMaxInt)) j.booking = *b;
    if (!r.failed() && j.conference.has_value() == j.booking.has_value())
      r.Fail("conference", "or \"booking\" is required (exactly one of them)");
    m.body = std::move(j);
  } else if (type == "offer") {
    Offer o;
    o.sdp = Sdp(r);
    o.ref = r.OptId("ref");
    m.body = std::move(o);
  } else if (type == "answer") {
    Answer a;
    a.sdp = Sdp(r);
    a.ref = r.OptId("ref");
    m.body = std::move(a);
  } else if (type == "candidate") {
    Candidate c;
    c.candidate = ReadCandidate(r, &failure);
    m.body = std::move(c);
  } else if (type == "leave") {
    m.body = Leave{};
  } else if (type == "hand") {
    m.body = Hand{r.Bool("raised")};
  } else if (type == "ping") {
    m.body = Ping{r.OptInt("ts", 0, kMaxInt, true)};
  } else if (type == "pong") {
    m.body = Pong{r.OptInt("ts", 0, kMaxInt, true)};
  } else {
    return Failure("unknown_type", "type", "unknown message type \"" + type + "\"", id);
  }
  r.Finish();
  if (r.failed()) {
    failure.ref = id;
    return failure;
  }
  return m;
}

Parsed<ServerMessage> ParseServerMessage(std::string_view bytes) {
  json object;
  std::string type;
  json id;
  if (auto f = ReadEnvelope(bytes, &object, &type, &id)) return *f;
  ParseFailure failure;
  ObjectReader r(object, "", &failure);
  r.Member("type");
  r.Member("id");
  ServerMessage m{id, Ping{}};
  if (type == "registered") {
    Registered g;
    g.venue = Venue(r);
    g.name = Text(r, "name");
    g.session = r.String("session", 1, kMaxResumeTokenChars, IsIdChar, "letters and digits");
    g.resume_token =
        r.String("resume_token", 1, kMaxResumeTokenChars, IsIdChar, "letters and digits");
    g.heartbeat_ms = r.Int("heartbeat_ms", 1, 3600 * 1000);
    g.resumed = r.Bool("resumed");
    r.Int("protocol", kVersion, kVersion);
    m.body = std::move(g);
  } else if (type == "joined") {
    Joined j;
    j.conference = Conference(r);
    j.booking = BookingId(r);
    j.title = Text(r, "title");
    if (const json* a = r.Array("participants", kMaxParticipants)) {
      for (size_t i = 0; i < a->size() && !r.failed(); ++i)
        j.participants.push_back(
            ReadParticipant((*a)[i], "participants[" + std::to_string(i) + "]", r, &failure));
    }
    j.layout = ReadEnum(r, "layout", Layouts());
    j.tiles = ReadTiles(r, &failure);
    if (const json* sp = r.Member("speaker"); sp && !sp->is_null()) j.speaker = Venue(r, "speaker");
    j.seat = Seat(r);
    j.start = Text(r, "start", 1);
    j.end = Text(r, "end", 1);
    j.resumed = r.Bool("resumed");
    m.body = std::move(j);
  } else if (type == "invite") {
    Invite v;
    v.conference = Conference(r);
    v.booking = BookingId(r);
    v.title = Text(r, "title");
    v.start = Text(r, "start", 1);
    v.end = Text(r, "end", 1);
    v.attempt = static_cast<int>(r.Int("attempt", 1, 1000));
    m.body = std::move(v);
  } else if (type == "participant") {
    ParticipantEvent p;
    p.conference = Conference(r);
    p.event = ReadEnum(r, "event", {"joined", "left", "away", "back"});
    if (const json* v = r.Member("participant"))
      p.participant = ReadParticipant(*v, "participant", r, &failure);
    else
      r.Fail("participant", "is required");
    m.body = std::move(p);
  } else if (type == "layout") {
    Layout l;
    l.conference = Conference(r);
    l.layout = ReadEnum(r, "layout", Layouts());
    l.tiles = ReadTiles(r, &failure);
    m.body = std::move(l);
  } else if (type == "speaker") {
    m.body = Speaker{Conference(r), Venue(r)};
  } else if (type == "muted") {
    Muted u;
    u.conference = Conference(r);
    u.venue = Venue(r);
    u.muted = r.Bool("muted");
    m.body = std::move(u);
  } else if (type == "hand") {
    HandEvent h;
    h.conference = Conference(r);
    h.venue = Venue(r);
    h.raised = r.Bool("raised");
    m.body = std::move(h);
  } else if (type == "ended") {
    Ended e;
    e.conference = Conference(r);
    e.booking = BookingId(r);
    e.reason = ReadEnum(r, "reason", {"time", "cancelled", "operator", "removed_from_booking"});
    m.body = std::move(e);
  } else if (type == "left") {
    m.body = Left{Conference(r)};
  } else if (type == "offer") {
    Offer o;
    o.sdp = Sdp(r);
    o.ref = r.OptId("ref");
    m.body = std::move(o);
  } else if (type == "answer") {
    Answer a;
    a.sdp = Sdp(r);
    a.ref = r.OptId("ref");
    m.body = std::move(a);
  } else if (type == "candidate") {
    Candidate c;
    c.candidate = ReadCandidate(r, &failure);
    m.body = std::move(c);
  } else if (type == "error") {
    ErrorMessage e;
    e.code = r.String("code", 1, 64, IsIdChar, "letters, digits and '_'");
    e.message = Text(r, "message");
    e.ref = r.OptId("ref");
    e.field = r.OptString("field", 0, kMaxTextChars, IsNotNul, "text").value_or("");
    m.body = std::move(e);
  } else if (type == "ping") {
    m.body = Ping{r.OptInt("ts", 0, kMaxInt, true)};
  } else if (type == "pong") {
    m.body = Pong{r.OptInt("ts", 0, kMaxInt, true)};
  } else {
    return Failure("unknown_type", "type", "unknown message type \"" + type + "\"", id);
  }
  r.Finish();
  if (r.failed()) {
    failure.ref = id;
    return failure;
  }
  return m;
}

namespace {

struct ClientTypeName {
  std::string_view operator()(const Hello&) const { return "hello"; }
  std::string_view operator()(const Join&) const { return "join"; }
  std::string_view operator()(const Offer&) const { return "offer"; }
  std::string_view operator()(const Answer&) const { return "answer"; }
  std::string_view operator()(const Candidate&) const { return "candidate"; }
  std::string_view operator()(const Leave&) const { return "leave"; }
  std::string_view operator()(const Hand&) const { return "hand"; }
  std::string_view operator()(const Ping&) const { return "ping"; }
  std::string_view operator()(const Pong&) const { return "pong"; }
};

struct ServerTypeName {
  std::string_view operator()(const Registered&) const { return "registered"; }
  std::string_view operator()(const Joined&) const { return "joined"; }
  std::string_view operator()(const Invite&) const { return "invite"; }
  std::string_view operator()(const ParticipantEvent&) const { return "participant"; }
  std::string_view operator()(const Layout&) const { return "layout"; }
  std::string_view operator()(const Speaker&) const { return "speaker"; }
  std::string_view operator()(const Muted&) const { return "muted"; }
  std::string_view operator()(const HandEvent&) const { return "hand"; }
  std::string_view operator()(const Ended&) const { return "ended"; }
  std::string_view operator()(const Left&) const { return "left"; }
  std::string_view operator()(const Offer&) const { return "offer"; }
  std::string_view operator()(const Answer&) const { return "answer"; }
  std::string_view operator()(const Candidate&) const { return "candidate"; }
  std::string_view operator()(const ErrorMessage&) const { return "error"; }
  std::string_view operator()(const Ping&) const { return "ping"; }
  std::string_view operator()(const Pong&) const { return "pong"; }
};

json ParticipantJson(const Participant& p) {
  return {{"venue", p.venue},
          {"name", p.name},
          {"seat", p.seat},
          {"connected", p.connected},
          {"hand", p.hand}};
}

json CandidateJson(const Candidate& c) {
  if (!c.candidate) return nullptr;
  json j = {{"candidate", c.candidate->candidate}};
  if (c.candidate->sdp_mid) j["sdpMid"] = *c.candidate->sdp_mid;
  if (c.candidate->sdp_mline_index) j["sdpMLineIndex"] = *c.candidate->sdp_mline_index;
  if (c.candidate->username_fragment) j["usernameFragment"] = *c.candidate->username_fragment;
  return j;
}

json TilesJson(const std::vector<Tile>& tiles) {
  json ts = json::array();
  for (const auto& t : tiles)
    ts.push_back({{"venue", t.venue}, {"x", t.x}, {"y", t.y}, {"w", t.w}, {"h", t.h}});
  return ts;
}

void PutRef(json& j, const json& ref) {
  if (!ref.is_null()) j["ref"] = ref;
}

// Fills `j` with the body's members (type and id are set by the caller).
struct ClientBodyJson {
  json& j;
  void operator()(const Hello& h) const {
    j["venue"] = h.venue;
    j["token"] = h.token;
    if (h.resume) j["resume"] = *h.resume;
    if (h.client) j["client"] = *h.client;
  }
  void operator()(const Join& x) const {
    if (x.conference) j["conference"] = *x.conference;
    if (x.booking) j["booking"] = *x.booking;
  }
  void operator()(const Offer& o) const {
    j["sdp"] = o.sdp;
    PutRef(j, o.ref);
  }
  void operator()(const Answer& a) const {
    j["sdp"] = a.sdp;
    PutRef(j, a.ref);
  }
  void operator()(const Candidate& c) const { j["candidate"] = CandidateJson(c); }
  void operator()(const Leave&) const {}
  void operator()(const Hand& h) const { j["raised"] = h.raised; }
  void operator()(const Ping& p) const {
    if (p.ts) j["ts"] = *p.ts;
  }
  void operator()(const Pong& p) const {
    if (p.ts) j["ts"] = *p.ts;
  }
};

struct ServerBodyJson {
  json& j;
  void operator()(const Registered& g) const {
    j["venue"] = g.venue;
    j["name"] = g.name;
    j["session"] = g.session;
    j["resume_token"] = g.resume_token;
    j["heartbeat_ms"] = g.heartbeat_ms;
    j["resumed"] = g.resumed;
    j["protocol"] = kVersion;
  }
  void operator()(const Joined& x) const {
    j["conference"] = x.conference;
    j["booking"] = x.booking;
    j["title"] = x.title;
    json ps = json::array();
    for (const auto& p : x.participants) ps.push_back(ParticipantJson(p));
    j["participants"] = std::move(ps);
    j["layout"] = x.layout;
    j["tiles"] = TilesJson(x.tiles);
    if (x.speaker) j["speaker"] = *x.speaker;
    j["seat"] = x.seat;
    j["start"] = x.start;
    j["end"] = x.end;
    j["resumed"] = x.resumed;
  }
  void operator()(const Invite& v) const {
    j["conference"] = v.conference;
    j["booking"] = v.booking;
    j["title"] = v.title;
    j["start"] = v.start;
    j["end"] = v.end;
    j["attempt"] = v.attempt;
  }
  void operator()(const ParticipantEvent& p) const {
    j["conference"] = p.conference;
    j["event"] = p.event;
    j["participant"] = ParticipantJson(p.participant);
  }
  void operator()(const Layout& l) const {
    j["conference"] = l.conference;
    j["layout"] = l.layout;
    j["tiles"] = TilesJson(l.tiles);
  }
  void operator()(const Speaker& s) const {
    j["conference"] = s.conference;
    j["venue"] = s.venue;
  }
  void operator()(const Muted& u) const {
    j["conference"] = u.conference;
    j["venue"] = u.venue;
    j["muted"] = u.muted;
  }
  void operator()(const HandEvent& h) const {
    j["conference"] = h.conference;
    j["venue"] = h.venue;
    j["raised"] = h.raised;
  }
  void operator()(const Ended& e) const {
    j["conference"] = e.conference;
    j["booking"] = e.booking;
    j["reason"] = e.reason;
  }
  void operator()(const Left& l) const { j["conference"] = l.conference; }
  void operator()(const Offer& o) const { ClientBodyJson{j}(o); }
  void operator()(const Answer& a) const { ClientBodyJson{j}(a); }
  void operator()(const Candidate& c) const { ClientBodyJson{j}(c); }
  void operator()(const ErrorMessage& e) const {
    j["code"] = e.code;
    j["message"] = e.message;
    PutRef(j, e.ref);
    if (!e.field.empty()) j["field"] = e.field;
  }
  void operator()(const Ping& p) const { ClientBodyJson{j}(p); }
  void operator()(const Pong& p) const { ClientBodyJson{j}(p); }
};

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string_view TypeName(const ClientBody& body) {
  return std::visit(ClientTypeName{}, body);
}
std::string_view TypeName(const ServerBody& body) {
  return std::visit(ServerTypeName{}, body);
}

json ToJson(const ClientMessage& message) {
  json j = {{"type", std::string(TypeName(message.body))}};
  if (!message.id.is_null()) j["id"] = message.id;
  std::visit(ClientBodyJson{j}, message.body);
  return j;
}

json ToJson(const ServerMessage& message) {
  json j = {{"type", std::string(TypeName(message.body))}};
  if (!message.id.is_null()) j["id"] = message.id;
  std::visit(ServerBodyJson{j}, message.body);
  return j;
}

std::string Serialize(const ClientMessage& message) {
  return Dump(ToJson(message));
}
std::string Serialize(const ServerMessage& message) {
  return Dump(ToJson(message));
}

ErrorMessage ToErrorMessage(const ParseFailure& failure) {
  return ErrorMessage{failure.code, failure.message, failure.ref, failure.field};
}

std::string FormatUtc(int64_t unix_seconds) {
  return civil::FormatRfc3339(unix_seconds, 0);
}

}  // namespace plateau::signaling::protocol
