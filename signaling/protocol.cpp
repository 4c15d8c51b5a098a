#include "plateau/signaling/protocol.hpp"

#include <concepts>
#include <set>
#include <type_traits>
#include <utility>

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

  // A reader for the object `v` at member `key` of this one, recording into the same failure.
  ObjectReader Nested(const json& v, const std::string& key) const {
    return ObjectReader(v, Path(key), failure_);
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

// ---- one description per message ----
//
// Each message (and each object inside one) is described once, by a `Members(io, m)` function that
// names its members in the order they are read, with their JSON types and limits. The same function
// reads (io = MemberReader: checks every member, records the first problem) and writes
// (io = MemberWriter: puts the members into a JSON object), so the two directions cannot drift
// apart. `TypeOf` next to it gives the message's `type`. docs/signaling/schemas/ says the same in
// JSON Schema; both are checked against one corpus (tests/signaling/data/messages.jsonl).

template <typename T>
struct Tag {};

// `m` is a T (reading) or a const T (writing).
template <typename M, typename T>
concept Is = std::same_as<std::remove_const_t<M>, T>;

class MemberReader {
 public:
  static constexpr bool kReads = true;
  explicit MemberReader(ObjectReader& r) : r_(r) {}
  ObjectReader& reader() { return r_; }

  void String(const char* key, std::string& v, size_t min, size_t max, bool (*pred)(unsigned char),
              const char* charset) {
    v = r_.String(key, min, max, pred, charset);
  }
  // Absent (or null when `nullable`) -> nullopt.
  void OptString(const char* key, std::optional<std::string>& v, size_t min, size_t max,
                 bool (*pred)(unsigned char), const char* charset, bool nullable = false) {
    v = r_.OptString(key, min, max, pred, charset, nullable);
  }
  // Absent -> "", and "" is not written.
  void StringOrEmpty(const char* key, std::string& v, size_t max, bool (*pred)(unsigned char),
                     const char* charset) {
    v = r_.OptString(key, 0, max, pred, charset).value_or("");
  }
  template <typename I>
  void Int(const char* key, I& v, int64_t min, int64_t max) {
    v = static_cast<I>(r_.Int(key, min, max));
  }
  template <typename I>
  void OptInt(const char* key, std::optional<I>& v, int64_t min, int64_t max, bool nullable) {
    if (auto i = r_.OptInt(key, min, max, nullable)) v = static_cast<I>(*i);
  }
  // A member that must hold exactly `value` (the protocol version).
  void Constant(const char* key, int64_t value) { r_.Int(key, value, value); }
  void Number(const char* key, double& v, double min, double max) { v = r_.Number(key, min, max); }
  void Bool(const char* key, bool& v) { v = r_.Bool(key); }
  // Optional string-or-integer id ("ref"): null when absent.
  void Id(const char* key, json& v) { v = r_.OptId(key); }
  void Enum(const char* key, std::string& v, const std::set<std::string>& allowed) {
    v = r_.String(key, 1, 32, IsPrintableAscii, "printable ASCII");
    if (!r_.failed() && !allowed.count(v)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      r_.Fail(key, "must be one of: " + list);
    }
  }
  template <typename T>
  void Object(const char* key, T& v) {
    if (const json* o = r_.Member(key))
      ReadObject(*o, key, v);
    else
      r_.Fail(key, "is required");
  }
  // Required; null -> nullopt.
  template <typename T>
  void NullableObject(const char* key, std::optional<T>& v, const char* null_means) {
    const json* o = r_.Member(key);
    if (!o) {
      r_.Fail(key, std::string("is required (null marks ") + null_means + ")");
      return;
    }
    if (o->is_null()) return;
    ReadObject(*o, key, v.emplace());
  }
  template <typename T>
  void Array(const char* key, std::vector<T>& v, size_t max_items) {
    const json* a = r_.Array(key, max_items);
    if (!a) return;
    for (size_t i = 0; i < a->size() && !r_.failed(); ++i)
      ReadObject((*a)[i], std::string(key) + "[" + std::to_string(i) + "]", v.emplace_back());
  }

 private:
  template <typename T>
  void ReadObject(const json& o, const std::string& path, T& v);

  ObjectReader& r_;
};

class MemberWriter {
 public:
  static constexpr bool kReads = false;
  explicit MemberWriter(json& j) : j_(j) {}
  json& object() { return j_; }

  void String(const char* key, const std::string& v, size_t, size_t, bool (*)(unsigned char),
              const char*) {
    j_[key] = v;
  }
  void OptString(const char* key, const std::optional<std::string>& v, size_t, size_t,
                 bool (*)(unsigned char), const char*, bool = false) {
    if (v) j_[key] = *v;
  }
  void StringOrEmpty(const char* key, const std::string& v, size_t, bool (*)(unsigned char),
                     const char*) {
    if (!v.empty()) j_[key] = v;
  }
  template <typename I>
  void Int(const char* key, const I& v, int64_t, int64_t) {
    j_[key] = v;
  }
  template <typename I>
  void OptInt(const char* key, const std::optional<I>& v, int64_t, int64_t, bool) {
    if (v) j_[key] = *v;
  }
  void Constant(const char* key, int value) { j_[key] = value; }
  void Number(const char* key, double v, double, double) { j_[key] = v; }
  void Bool(const char* key, bool v) { j_[key] = v; }
  void Id(const char* key, const json& v) {
    if (!v.is_null()) j_[key] = v;
  }
  void Enum(const char* key, const std::string& v, const std::set<std::string>&) { j_[key] = v; }
  template <typename T>
  void Object(const char* key, const T& v) {
    j_[key] = WriteObject(v);
  }
  template <typename T>
  void NullableObject(const char* key, const std::optional<T>& v, const char*) {
    j_[key] = v ? WriteObject(*v) : json(nullptr);
  }
  template <typename T>
  void Array(const char* key, const std::vector<T>& v, size_t) {
    json a = json::array();
    for (const T& item : v) a.push_back(WriteObject(item));
    j_[key] = std::move(a);
  }

  template <typename T>
  static json WriteObject(const T& v);

 private:
  json& j_;
};

// Members every message spells the same way.
void VenueId(auto& io, auto& v, const char* key = "venue") {
  io.String(key, v, 1, kMaxVenueChars, IsIdChar, "letters, digits, '-', '_' and '.'");
}
void ConferenceNumber(auto& io, auto& v) {
  io.String("conference", v, 1, kMaxConferenceChars, IsDigit, "digits");
}
void Text(auto& io, const char* key, auto& v, size_t min_chars = 0) {
  io.String(key, v, min_chars, kMaxTextChars, IsNotNul, "characters other than NUL");
}
void Sdp(auto& io, auto& v) {
  io.String("sdp", v, 1, kMaxSdpBytes, IsNotNul, "text");
}
void BookingId(auto& io, auto& v) {
  io.Int("booking", v, 1, kMaxInt);
}
void Seat(auto& io, auto& v) {
  io.Int("seat", v, 0, 65535);
}
void Timestamp(auto& io, auto& v) {
  io.OptInt("ts", v, 0, kMaxInt, true);
}
void PrintableOptString(auto& io, const char* key, auto& v, size_t max_chars) {
  io.OptString(key, v, 0, max_chars, IsPrintableAscii, "printable ASCII", true);
}

const std::set<std::string>& Layouts() {
  static const std::set<std::string> k = {"auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"};
  return k;
}

// -- objects inside messages --

void Members(auto& io, Is<IceCandidate> auto& m) {
  io.String("candidate", m.candidate, 0, kMaxCandidateChars, IsPrintableAscii, "printable ASCII");
  PrintableOptString(io, "sdpMid", m.sdp_mid, kMaxMidChars);
  io.OptInt("sdpMLineIndex", m.sdp_mline_index, 0, 255, true);
  PrintableOptString(io, "usernameFragment", m.username_fragment, kMaxUfragChars);
}
// Rules across members, checked once the object is read (an unknown member is reported first).
template <typename T>
void CheckRead(ObjectReader&, const T&) {}
void CheckRead(ObjectReader& r, const IceCandidate& c) {
  if (!c.sdp_mid && !c.sdp_mline_index && !r.failed())
    r.Fail("sdpMid", "or sdpMLineIndex is required");
}

void Members(auto& io, Is<Participant> auto& m) {
  VenueId(io, m.venue);
  Text(io, "name", m.name);
  Seat(io, m.seat);
  io.Bool("connected", m.connected);
  io.Bool("hand", m.hand);
}

void Members(auto& io, Is<Tile> auto& m) {
  VenueId(io, m.venue);
  io.Number("x", m.x, 0, 1);
  io.Number("y", m.y, 0, 1);
  io.Number("w", m.w, 0, 1);
  io.Number("h", m.h, 0, 1);
}

template <typename T>
void MemberReader::ReadObject(const json& o, const std::string& path, T& v) {
  if (!o.is_object()) {
    r_.Fail(path, "must be an object");
    return;
  }
  ObjectReader nested = r_.Nested(o, path);
  MemberReader io(nested);
  Members(io, v);
  nested.Finish();
  CheckRead(nested, v);
}

template <typename T>
json MemberWriter::WriteObject(const T& v) {
  json o = json::object();
  MemberWriter io(o);
  Members(io, v);
  return o;
}

// -- both directions --

constexpr std::string_view TypeOf(Tag<Offer>) {
  return "offer";
}
void Members(auto& io, Is<Offer> auto& m) {
  Sdp(io, m.sdp);
  io.Id("ref", m.ref);
}

constexpr std::string_view TypeOf(Tag<Answer>) {
  return "answer";
}
void Members(auto& io, Is<Answer> auto& m) {
  Sdp(io, m.sdp);
  io.Id("ref", m.ref);
}

constexpr std::string_view TypeOf(Tag<Candidate>) {
  return "candidate";
}
void Members(auto& io, Is<Candidate> auto& m) {
  io.NullableObject("candidate", m.candidate, "the end of candidates");
}

constexpr std::string_view TypeOf(Tag<Ping>) {
  return "ping";
}
void Members(auto& io, Is<Ping> auto& m) {
  Timestamp(io, m.ts);
}

constexpr std::string_view TypeOf(Tag<Pong>) {
  return "pong";
}
void Members(auto& io, Is<Pong> auto& m) {
  Timestamp(io, m.ts);
}

// -- client -> server --

constexpr std::string_view TypeOf(Tag<Hello>) {
  return "hello";
}
void Members(auto& io, Is<Hello> auto& m) {
  VenueId(io, m.venue);
  io.String("token", m.token, 1, kMaxTokenChars, IsVisibleAscii, "visible ASCII");
  io.OptString("resume", m.resume, 1, kMaxResumeTokenChars, IsIdChar, "letters and digits");
  PrintableOptString(io, "client", m.client, kMaxClientChars);
}

constexpr std::string_view TypeOf(Tag<Join>) {
  return "join";
}
void Members(auto& io, Is<Join> auto& m) {
  if constexpr (std::remove_reference_t<decltype(io)>::kReads) {
    ObjectReader& r = io.reader();
    // docs/signaling.md calls the conference a number: a JSON number (a non-negative integer) is
    // taken as its digits, and the string of digits is accepted too.
    if (const json* c = r.Member("conference"); c && c->is_number_unsigned()) {
      m.conference = std::to_string(c->get<uint64_t>());
    } else if (c && c->is_number()) {
      r.Fail("conference", "must be a non-negative integer or a string of digits");
    } else {
      io.OptString("conference", m.conference, 1, kMaxConferenceChars, IsDigit, "digits");
    }
    io.OptInt("booking", m.booking, 1, kMaxInt, false);
    if (!r.failed() && m.conference.has_value() == m.booking.has_value())
      r.Fail("conference", "or \"booking\" is required (exactly one of them)");
  } else {
    io.OptString("conference", m.conference, 1, kMaxConferenceChars, IsDigit, "digits");
    io.OptInt("booking", m.booking, 1, kMaxInt, false);
  }
}

constexpr std::string_view TypeOf(Tag<Leave>) {
  return "leave";
}
void Members(auto&, Is<Leave> auto&) {}

constexpr std::string_view TypeOf(Tag<Hand>) {
  return "hand";
}
void Members(auto& io, Is<Hand> auto& m) {
  io.Bool("raised", m.raised);
}

// -- server -> client --

constexpr std::string_view TypeOf(Tag<Registered>) {
  return "registered";
}
void Members(auto& io, Is<Registered> auto& m) {
  VenueId(io, m.venue);
  Text(io, "name", m.name);
  io.String("session", m.session, 1, kMaxResumeTokenChars, IsIdChar, "letters and digits");
  io.String("resume_token", m.resume_token, 1, kMaxResumeTokenChars, IsIdChar,
            "letters and digits");
  io.Int("heartbeat_ms", m.heartbeat_ms, 1, 3600 * 1000);
  io.Bool("resumed", m.resumed);
  io.Constant("protocol", kVersion);
}

constexpr std::string_view TypeOf(Tag<Joined>) {
  return "joined";
}
void Members(auto& io, Is<Joined> auto& m) {
  ConferenceNumber(io, m.conference);
  BookingId(io, m.booking);
  Text(io, "title", m.title);
  io.Array("participants", m.participants, kMaxParticipants);
  io.Enum("layout", m.layout, Layouts());
  io.Array("tiles", m.tiles, kMaxTiles);
  io.OptString("speaker", m.speaker, 1, kMaxVenueChars, IsIdChar,
               "letters, digits, '-', '_' and '.'", true);
  Seat(io, m.seat);
  Text(io, "start", m.start, 1);
  Text(io, "end", m.end, 1);
  io.Bool("resumed", m.resumed);
}

constexpr std::string_view TypeOf(Tag<Invite>) {
  return "invite";
}
void Members(auto& io, Is<Invite> auto& m) {
  ConferenceNumber(io, m.conference);
  BookingId(io, m.booking);
  Text(io, "title", m.title);
  Text(io, "start", m.start, 1);
  Text(io, "end", m.end, 1);
  io.Int("attempt", m.attempt, 1, 1000);
}

constexpr std::string_view TypeOf(Tag<ParticipantEvent>) {
  return "participant";
}
void Members(auto& io, Is<ParticipantEvent> auto& m) {
  ConferenceNumber(io, m.conference);
  io.Enum("event", m.event, {"joined", "left", "away", "back"});
  io.Object("participant", m.participant);
}

constexpr std::string_view TypeOf(Tag<Layout>) {
  return "layout";
}
void Members(auto& io, Is<Layout> auto& m) {
  ConferenceNumber(io, m.conference);
  io.Enum("layout", m.layout, Layouts());
  io.Array("tiles", m.tiles, kMaxTiles);
}

constexpr std::string_view TypeOf(Tag<Speaker>) {
  return "speaker";
}
void Members(auto& io, Is<Speaker> auto& m) {
  ConferenceNumber(io, m.conference);
  VenueId(io, m.venue);
}

constexpr std::string_view TypeOf(Tag<Muted>) {
  return "muted";
}
void Members(auto& io, Is<Muted> auto& m) {
  ConferenceNumber(io, m.conference);
  VenueId(io, m.venue);
  io.Bool("muted", m.muted);
}

constexpr std::string_view TypeOf(Tag<HandEvent>) {
  return "hand";
}
void Members(auto& io, Is<HandEvent> auto& m) {
  ConferenceNumber(io, m.conference);
  VenueId(io, m.venue);
  io.Bool("raised", m.raised);
}

constexpr std::string_view TypeOf(Tag<Ended>) {
  return "ended";
}
void Members(auto& io, Is<Ended> auto& m) {
  ConferenceNumber(io, m.conference);
  BookingId(io, m.booking);
  io.Enum("reason", m.reason, {"time", "cancelled", "operator", "removed_from_booking"});
}

constexpr std::string_view TypeOf(Tag<Left>) {
  return "left";
}
void Members(auto& io, Is<Left> auto& m) {
  ConferenceNumber(io, m.conference);
}

constexpr std::string_view TypeOf(Tag<ErrorMessage>) {
  return "error";
}
void Members(auto& io, Is<ErrorMessage> auto& m) {
  io.String("code", m.code, 1, 64, IsIdChar, "letters, digits and '_'");
  Text(io, "message", m.message);
  io.Id("ref", m.ref);
  io.StringOrEmpty("field", m.field, kMaxTextChars, IsNotNul, "text");
}

// ---- the generic parts: envelope, dispatch on `type` ----

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

// The body whose TypeOf is `type`, read from `r`; nullopt for an unknown type (nothing read).
template <typename Body, size_t... I>
std::optional<Body> ReadBody(std::string_view type, ObjectReader& r, std::index_sequence<I...>) {
  std::optional<Body> body;
  auto try_one = [&]<size_t N>(std::integral_constant<size_t, N>) {
    using T = std::variant_alternative_t<N, Body>;
    if (type != TypeOf(Tag<T>{})) return false;
    MemberReader io(r);
    Members(io, std::get<N>(body.emplace(std::in_place_index<N>)));
    return true;
  };
  (try_one(std::integral_constant<size_t, I>{}) || ...);
  return body;
}

template <typename Message>
Parsed<Message> ParseMessage(std::string_view bytes) {
  using Body = decltype(Message::body);
  json object;
  std::string type;
  json id;
  if (auto f = ReadEnvelope(bytes, &object, &type, &id)) return *f;
  ParseFailure failure;
  ObjectReader r(object, "", &failure);
  r.Member("type");
  r.Member("id");
  std::optional<Body> body =
      ReadBody<Body>(type, r, std::make_index_sequence<std::variant_size_v<Body>>{});
  if (!body) return Failure("unknown_type", "type", "unknown message type \"" + type + "\"", id);
  r.Finish();
  if (r.failed()) {
    failure.ref = id;
    return failure;
  }
  return Message{id, std::move(*body)};
}

template <typename Message>
json MessageJson(const Message& message) {
  json j = {{"type", std::string(TypeName(message.body))}};
  if (!message.id.is_null()) j["id"] = message.id;
  std::visit(
      [&j](const auto& body) {
        MemberWriter io(j);
        Members(io, body);
      },
      message.body);
  return j;
}

}  // namespace

Parsed<ClientMessage> ParseClientMessage(std::string_view bytes) {
  return ParseMessage<ClientMessage>(bytes);
}
Parsed<ServerMessage> ParseServerMessage(std::string_view bytes) {
  return ParseMessage<ServerMessage>(bytes);
}

std::string_view TypeName(const ClientBody& body) {
  return std::visit([](const auto& b) { return TypeOf(Tag<std::decay_t<decltype(b)>>{}); }, body);
}
std::string_view TypeName(const ServerBody& body) {
  return std::visit([](const auto& b) { return TypeOf(Tag<std::decay_t<decltype(b)>>{}); }, body);
}

json ToJson(const ClientMessage& message) {
  return MessageJson(message);
}
json ToJson(const ServerMessage& message) {
  return MessageJson(message);
}

namespace {

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

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
