#include "plateau/scheduler/app/booking_json.hpp"

#include <limits>
#include <set>

#include "plateau/common/json_input.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"

namespace plateau::scheduler::app {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxTextBytes = 500;
constexpr size_t kMaxVenues = 1000;
constexpr size_t kMaxCancelled = 1000;

std::string TypeName(const json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) return "number";
  return v.type_name();  // "null", "boolean", "string", "array", "object"
}

FieldError WrongType(const std::string& field, const char* expected, const json& v) {
  return FieldError{field, "wrong_type",
                    "\"" + field + "\" must be " + expected + ", not " + TypeName(v)};
}

// Reads the fields of one JSON object, stopping at the first problem.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

  bool failed() const { return error_.has_value(); }
  const FieldError& error() const { return *error_; }
  void Fail(FieldError e) {
    if (!error_) error_ = std::move(e);
  }
  std::string Name(const char* key) const { return prefix_ + key; }

  void OnlyKeys(std::initializer_list<const char*> allowed) {
    std::set<std::string> ok(allowed.begin(), allowed.end());
    for (auto it = obj_.begin(); it != obj_.end() && !failed(); ++it)
      if (!ok.count(it.key()))
        Fail({prefix_ + it.key(), "unknown_field", "unknown field \"" + prefix_ + it.key() + "\""});
  }

  // Null is treated as absent.
  const json* Get(const char* key, bool required) {
    if (failed()) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) {
      if (required) Fail({Name(key), "missing", "\"" + Name(key) + "\" is required"});
      return nullptr;
    }
    return &*it;
  }

  void String(const char* key, bool required, std::string* out, bool non_empty = false) {
    const json* v = Get(key, required);
    if (!v) return;
    if (!v->is_string()) return Fail(WrongType(Name(key), "a string", *v));
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > kMaxTextBytes)
      return Fail(
          {Name(key), "too_long",
           "\"" + Name(key) + "\" is longer than " + std::to_string(kMaxTextBytes) + " bytes"});
    if (non_empty && s.find_first_not_of(" \t\r\n") == std::string::npos)
      return Fail({Name(key), "empty", "\"" + Name(key) + "\" must not be empty"});
    *out = s;
  }

  void Integer(const char* key, bool required, int64_t lo, int64_t hi, int64_t* out) {
    const json* v = Get(key, required);
    if (!v) return;
    if (!v->is_number_integer()) return Fail(WrongType(Name(key), "an integer", *v));
    const bool in_range =
        v->is_number_unsigned()
            ? v->get<uint64_t>() <= static_cast<uint64_t>(std::max<int64_t>(hi, 0)) &&
                  static_cast<int64_t>(v->get<uint64_t>()) >= lo
            : v->get<int64_t>() >= lo && v->get<int64_t>() <= hi;
    if (!in_range)
      return Fail({Name(key), "out_of_range",
                   "\"" + Name(key) + "\" must be within " + std::to_string(lo) + ".." +
                       std::to_string(hi)});
    *out = v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->get<int64_t>();
  }

  void Bool(const char* key, bool required, bool* out) {
    const json* v = Get(key, required);
    if (!v) return;
    if (!v->is_boolean()) return Fail(WrongType(Name(key), "true or false", *v));
    *out = v->get<bool>();
  }

  void Time(const char* key, bool required, Instant* out) {
    const json* v = Get(key, required);
    if (!v) return;
    if (!v->is_string()) return Fail(WrongType(Name(key), "an RFC 3339 date-time string", *v));
    auto t = ParseRfc3339(v->get_ref<const std::string&>());
    if (!t) return Fail({Name(key), "bad_time", "\"" + Name(key) + "\": " + t.error().message});
    *out = *t;
  }

  // One of `choices`; returns the index, or -1 when absent (or failed).
  int Choice(const char* key, bool required, std::initializer_list<const char*> choices) {
    const json* v = Get(key, required);
    if (!v) return -1;
    std::string list;
    int i = 0;
    for (const char* c : choices) {
      if (v->is_string() && v->get_ref<const std::string&>() == c) return i;
      list += (i++ ? ", " : "") + std::string("\"") + c + "\"";
    }
    Fail({Name(key), "bad_value", "\"" + Name(key) + "\" must be one of " + list});
    return -1;
  }

 private:
  const json& obj_;
  std::string prefix_;
  std::optional<FieldError> error_;
};

std::optional<FieldError> ReadRecurrence(const json& v, Recurrence* out) {
  if (!v.is_object()) return WrongType("recurrence", "an object", v);
  ObjectReader r(v, "recurrence.");
  r.OnlyKeys({"frequency", "interval", "count", "until", "cancelled"});
  const int f = r.Choice("frequency", true, {"daily", "weekly"});
  if (f >= 0)
    out->frequency = f == 0 ? Recurrence::Frequency::kDaily : Recurrence::Frequency::kWeekly;
  int64_t interval = 1, count = 0;
  r.Integer("interval", false, 1, 366, &interval);
  r.Integer("count", false, 0, 10000, &count);
  out->interval = static_cast<int>(interval);
  out->count = static_cast<int>(count);
  r.Time("until", false, &out->until);
  if (const json* c = r.Get("cancelled", false)) {
    if (!c->is_array()) {
      r.Fail(WrongType("recurrence.cancelled", "an array of date-times", *c));
    } else if (c->size() > kMaxCancelled) {
      r.Fail({"recurrence.cancelled", "too_long",
              "\"recurrence.cancelled\" lists more than " + std::to_string(kMaxCancelled)});
    } else {
      for (size_t i = 0; i < c->size() && !r.failed(); ++i) {
        const std::string field = "recurrence.cancelled[" + std::to_string(i) + "]";
        const json& e = (*c)[i];
        if (!e.is_string()) {
          r.Fail(WrongType(field, "an RFC 3339 date-time string", e));
          break;
        }
        auto t = ParseRfc3339(e.get_ref<const std::string&>());
        if (!t) {
          r.Fail({field, "bad_time", "\"" + field + "\": " + t.error().message});
          break;
        }
        out->cancelled.push_back(*t);
      }
    }
  }
  if (r.failed()) return r.error();
  return std::nullopt;
}

json TimeOrNull(Instant t, int off) {
  return FormatRfc3339(t, off);
}

}  // namespace

Outcome<json> ParseJsonObject(std::string_view body) {
  auto parsed = ParseUntrustedJson(body, kMaxBodyDepth);
  if (!parsed) {
    const Error& e = parsed.error();
    if (e.code == "too_deep")
      return ServiceError::Field("body", "too_deep", "the request body is " + e.message);
    if (e.code == "trailing_bytes")
      return ServiceError::Field("body", "malformed_json",
                                 "the request body has bytes after its JSON value: " + e.message);
    return ServiceError::Field("body", "malformed_json", "the request body is not valid JSON");
  }
  json j = std::move(parsed).value();
  if (!j.is_object())
    return ServiceError::Field("body", "not_an_object",
                               "the request body must be a JSON object, not " + TypeName(j));
  return j;
}

Outcome<BookingRequest> BookingRequestFromJson(const json& obj, const BookingJsonOptions& opt) {
  if (!obj.is_object())
    return ServiceError::Field("body", "not_an_object", "the request body must be a JSON object");
  BookingRequest q;
  ObjectReader r(obj, "");
  r.OnlyKeys({"title", "organiser", "region", "start", "end", "setup_minutes", "recurrence",
              "venues", "main_venue", "profile", "layout", "priority", "cascade", "preempt"});
  r.String("title", true, &q.title, /*non_empty=*/true);
  r.String("organiser", false, &q.organiser);
  r.String("region", true, &q.region);
  r.Time("start", true, &q.start);
  r.Time("end", true, &q.end);
  int64_t setup_minutes = q.setup_seconds / 60;
  r.Integer("setup_minutes", false, 0, 24 * 60, &setup_minutes);
  q.setup_seconds = setup_minutes * 60;
  if (const json* rec = r.Get("recurrence", false)) {
    Recurrence value;
    if (auto e = ReadRecurrence(*rec, &value))
      r.Fail(*e);
    else
      q.recurrence = std::move(value);
  }
  if (const json* v = r.Get("venues", true)) {
    if (!v->is_array()) {
      r.Fail(WrongType("venues", "an array of venue ids", *v));
    } else if (v->size() > kMaxVenues) {
      r.Fail({"venues", "too_long", "\"venues\" lists more than " + std::to_string(kMaxVenues)});
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        const json& e = (*v)[i];
        if (!e.is_string()) {
          r.Fail(WrongType("venues[" + std::to_string(i) + "]", "a venue id string", e));
          break;
        }
        q.venues.push_back(e.get<std::string>());
      }
    }
  }
  r.String("main_venue", true, &q.main_venue);
  r.String("profile", true, &q.profile);
  r.String("layout", false, &q.layout);
  const int priority = r.Choice("priority", false, {"regional", "provincial"});
  if (priority >= 0)
    q.priority = priority == 1 ? Priority::kProvincial : Priority::kRegional;
  else
    q.priority = q.region == opt.hub ? Priority::kProvincial : Priority::kRegional;
  const int cascade = r.Choice("cascade", false, {"auto", "off"});
  if (cascade >= 0) q.cascade = cascade == 1 ? CascadeMode::kOff : CascadeMode::kAuto;
  r.Bool("preempt", false, &q.preempt);
  if (r.failed()) return ServiceError::Invalid({r.error()});
  return q;
}

Outcome<BookingRequest> ParseBookingRequest(std::string_view body, const BookingJsonOptions& opt) {
  auto j = ParseJsonObject(body);
  if (!j) return j.error();
  return BookingRequestFromJson(*j, opt);
}

json BookingRequestToJson(const BookingRequest& q, int off) {
  json j = {{"title", q.title},
            {"organiser", q.organiser},
            {"region", q.region},
            {"start", FormatRfc3339(q.start, off)},
            {"end", FormatRfc3339(q.end, off)},
            {"setup_minutes", q.setup_seconds / 60},
            {"venues", q.venues},
            {"main_venue", q.main_venue},
            {"profile", q.profile},
            {"layout", q.layout},
            {"priority", ToString(q.priority)},
            {"cascade", ToString(q.cascade)}};
  if (q.recurrence) {
    const Recurrence& r = *q.recurrence;
    json rec = {{"frequency", r.frequency == Recurrence::Frequency::kDaily ? "daily" : "weekly"},
                {"interval", r.interval}};
    if (r.count > 0) rec["count"] = r.count;
    if (r.until != 0) rec["until"] = FormatRfc3339(r.until, off);
    json cancelled = json::array();
    for (Instant c : r.cancelled) cancelled.push_back(FormatRfc3339(c, off));
    rec["cancelled"] = std::move(cancelled);
    j["recurrence"] = std::move(rec);
  }
  return j;
}

Outcome<BookingRequest> ApplyBookingPatch(const BookingRequest& current, std::string_view body,
                                          const BookingJsonOptions& opt) {
  auto patch = ParseJsonObject(body);
  if (!patch) return patch.error();
  for (const char* key : {"id", "conference_number", "state", "plan", "occurrences", "created_at",
                          "updated_at", "bumped_reason", "bumped_by"})
    if (patch->contains(key))
      return ServiceError::Field(key, "read_only",
                                 std::string("\"") + key + "\" cannot be changed");
  json merged = BookingRequestToJson(current, opt.utc_offset_minutes);
  // A priority equal to its region's default is left implicit, so a patch that moves the booking
  // to another region gets that region's default.
  const Priority region_default =
      current.region == opt.hub ? Priority::kProvincial : Priority::kRegional;
  if (current.priority == region_default) merged.erase("priority");
  merged.merge_patch(*patch);
  return BookingRequestFromJson(merged, opt);
}

json PlanToJson(const CascadePlan& p) {
  json hosts = json::array(), cascades = json::array(), links = json::array(), mcus = json::array();
  for (const VenueHost& h : p.hosts) hosts.push_back({{"venue", h.venue}, {"mcu", h.mcu}});
  for (const CascadeLeg& c : p.cascades)
    cascades.push_back({{"from_mcu", c.from_mcu}, {"to_mcu", c.to_mcu}, {"link", c.link}});
  for (const LinkLoad& l : p.links)
    links.push_back({{"link", l.link}, {"up_kbps", l.up_kbps}, {"down_kbps", l.down_kbps}});
  for (const McuLoad& m : p.mcus) mcus.push_back({{"mcu", m.mcu}, {"ports", m.ports}});
  return {{"root_mcu", p.root_mcu},
          {"hosts", std::move(hosts)},
          {"cascades", std::move(cascades)},
          {"links", std::move(links)},
          {"mcus", std::move(mcus)}};
}

json BookingToJson(const store::BookingRecord& r, int off,
                   const std::vector<Interval>* occurrences) {
  const Booking& b = r.booking;
  json j = {{"id", b.id}, {"conference_number", b.conference_number}, {"state", ToString(b.state)}};
  json req = BookingRequestToJson(b.request, off);
  for (auto it = req.begin(); it != req.end(); ++it) j[it.key()] = it.value();
  j["preempt"] = b.request.preempt;
  if (b.state == BookingState::kBumped) {
    j["bumped_reason"] = b.bumped_reason;
    j["bumped_by"] = b.bumped_by;
  }
  j["plan"] = PlanToJson(b.plan);
  if (occurrences) {
    json occ = json::array();
    for (const Interval& i : *occurrences)
      occ.push_back({{"start", FormatRfc3339(i.from + b.request.setup_seconds, off)},
                     {"end", FormatRfc3339(i.to, off)}});
    j["occurrences"] = std::move(occ);
  }
  j["created_at"] = TimeOrNull(r.created_at, off);
  j["updated_at"] = TimeOrNull(r.updated_at, off);
  return j;
}

json ViolationToJson(const Violation& v, int off) {
  json j = {{"code", v.code}, {"message", v.message}, {"at", FormatRfc3339(v.at, off)}};
  if (v.code == "venue_busy") {
    j["venue"] = v.venue;
    j["other_booking"] = v.other_booking;
    j["other_title"] = v.other_title;
  } else if (v.code == "link_capacity") {
    j["link"] = v.link;
    j["direction"] = v.direction;
    j["needed_kbps"] = v.needed;
    j["available_kbps"] = v.available;
  } else if (v.code == "mcu_capacity") {
    j["mcu"] = v.mcu;
    j["needed_ports"] = v.needed;
    j["available_ports"] = v.available;
  }
  return j;
}

json AlternativeToJson(const Alternative& a, int64_t duration, int off) {
  json j = {{"kind", a.kind}, {"message", a.message}};
  if (a.kind == "profile") j["profile"] = a.profile;
  if (a.kind == "cascade") j["cascade"] = ToString(a.cascade);
  if (a.kind == "start") {
    j["start"] = FormatRfc3339(a.start, off);
    if (duration > 0) j["end"] = FormatRfc3339(a.start + duration, off);
  }
  return j;
}

json EventToJson(const store::Event& e, int off) {
  json j = {{"id", e.id},
            {"at", FormatRfc3339(e.at, off)},
            {"kind", e.kind},
            {"booking", e.booking},
            {"message", e.message}};
  if (e.by_booking != 0) j["by_booking"] = e.by_booking;
  return j;
}

json ErrorToJson(const ServiceError& e, int off, int64_t duration) {
  json err = {{"code", e.code}, {"message", e.message}};
  if (e.kind == ServiceError::Kind::kInvalid && !e.fields.empty()) {
    err["field"] = e.fields.front().field;
    json fields = json::array();
    for (const FieldError& f : e.fields)
      fields.push_back({{"field", f.field}, {"code", f.code}, {"message", f.message}});
    err["fields"] = std::move(fields);
  }
  if (e.kind == ServiceError::Kind::kRefused) {
    json violations = json::array(), alternatives = json::array();
    for (const Violation& v : e.refusal.violations) violations.push_back(ViolationToJson(v, off));
    for (const Alternative& a : e.refusal.alternatives)
      alternatives.push_back(AlternativeToJson(a, duration, off));
    err["violations"] = std::move(violations);
    err["alternatives"] = std::move(alternatives);
  }
  return {{"error", std::move(err)}};
}

}  // namespace plateau::scheduler::app
