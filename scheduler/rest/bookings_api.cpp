#include "plateau/scheduler/rest/bookings_api.hpp"

#include <charconv>
#include <cmath>
#include <set>

#include "plateau/common/log.hpp"
#include "plateau/scheduler/app/booking_json.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/app/topology_json.hpp"

namespace plateau::scheduler::rest {

using listener::HttpRequest;
using listener::HttpResponse;
using listener::Router;

namespace {

using nlohmann::json;
using scheduler::Instant;
using scheduler::app::BookingService;
using scheduler::app::Outcome;
using scheduler::app::ServiceError;
using scheduler::store::BookingRecord;

constexpr size_t kDefaultListLimit = 1000;
constexpr size_t kMaxListLimit = 10000;

class Api {
 public:
  Api(BookingService& service, LinkMeasures measures)
      : s_(service), measures_(std::move(measures)) {}

  int off() const { return s_.settings().utc_offset_minutes; }
  scheduler::app::BookingJsonOptions json_options() const {
    return {off(), s_.network().topology().hub().id};
  }

  HttpResponse Fail(const ServiceError& e, int64_t duration = 0) const {
    int status = 500;
    switch (e.kind) {
      case ServiceError::Kind::kInvalid:
        status = 400;
        break;
      case ServiceError::Kind::kNotFound:
        status = 404;
        break;
      case ServiceError::Kind::kRefused:
      case ServiceError::Kind::kConflict:
        status = 409;
        break;
      case ServiceError::Kind::kStorage:
        // The details are in the log; the client gets a stable code.
        return HttpResponse::Error(500, "storage_error", "the booking store failed; try again");
    }
    return HttpResponse::Json(status, scheduler::app::ErrorToJson(e, off(), duration));
  }

  json BookingJson(const BookingRecord& r) const {
    const std::vector<scheduler::Interval> occ = s_.OccurrencesOf(r.booking.request);
    return scheduler::app::BookingToJson(r, off(), &occ);
  }

  // Unknown query parameters are refused, so a typo ("venu=") does not silently widen a query.
  static std::optional<ServiceError> OnlyParams(const HttpRequest& req,
                                                std::initializer_list<const char*> allowed) {
    std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& [k, v] : req.query)
      if (!ok.count(k))
        return ServiceError::Field(k, "unknown_parameter", "unknown query parameter \"" + k + "\"");
    return std::nullopt;
  }

  static const std::string* Param(const HttpRequest& req, const char* name) {
    auto it = req.query.find(name);
    return it == req.query.end() ? nullptr : &it->second;
  }

  static Outcome<std::optional<Instant>> TimeParam(const HttpRequest& req, const char* name) {
    const std::string* v = Param(req, name);
    if (!v) return std::optional<Instant>();
    auto t = scheduler::app::ParseRfc3339(*v);
    if (!t)
      return ServiceError::Field(name, "bad_time",
                                 "\"" + std::string(name) + "\": " + t.error().message);
    return std::optional<Instant>(*t);
  }

  static Outcome<std::optional<int64_t>> IntParam(const HttpRequest& req, const char* name,
                                                  int64_t lo, int64_t hi) {
    const std::string* v = Param(req, name);
    if (!v) return std::optional<int64_t>();
    int64_t x = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (ec != std::errc() || p != v->data() + v->size() || x < lo || x > hi)
      return ServiceError::Field(name, "out_of_range",
                                 "\"" + std::string(name) + "\" must be a whole number within " +
                                     std::to_string(lo) + ".." + std::to_string(hi));
    return std::optional<int64_t>(x);
  }

  // Booking ids are positive integers; anything else names no resource.
  static std::optional<scheduler::BookingId> Id(const HttpRequest& req) {
    auto it = req.params.find("id");
    if (it == req.params.end() || it->second.empty() || it->second.size() > 18) return std::nullopt;
    int64_t id = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), id);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || id <= 0)
      return std::nullopt;
    return id;
  }

  static HttpResponse NoBooking(const HttpRequest& req) {
    return HttpResponse::Error(404, "not_found", "no resource at " + req.path);
  }

  HttpResponse Topology(const HttpRequest&) const {
    return HttpResponse::Json(200, scheduler::app::TopologyToJson(s_.network().topology()));
  }

  HttpResponse CreateBooking(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {})) return Fail(*e);
    auto request = scheduler::app::ParseBookingRequest(req.body, json_options());
    if (!request) return Fail(request.error());
    auto out = s_.Create(*request);
    if (!out) return Fail(out.error(), request->end - request->start);
    HttpResponse r = HttpResponse::Json(201, BookingJson(*out));
    r.headers.emplace_back("Location", "/api/v1/bookings/" + std::to_string(out->booking.id));
    return r;
  }

  HttpResponse ListBookings(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"from", "to", "venue", "state", "limit"})) return Fail(*e);
    scheduler::store::BookingQuery q;
    auto from = TimeParam(req, "from");
    if (!from) return Fail(from.error());
    auto to = TimeParam(req, "to");
    if (!to) return Fail(to.error());
    q.from = *from;
    q.to = *to;
    if (q.from && q.to && *q.to <= *q.from)
      return Fail(ServiceError::Field("to", "end_before_start", "\"to\" must be after \"from\""));
    if (const std::string* v = Param(req, "venue")) {
      const scheduler::Site* site = s_.network().topology().FindSite(*v);
      if (!site || site->kind == scheduler::SiteKind::kHub)
        return Fail(ServiceError::Field("venue", "unknown_venue", "no venue \"" + *v + "\""));
      q.venue = *v;
    }
    if (const std::string* v = Param(req, "state")) {
      if (*v == "confirmed")
        q.states = {scheduler::BookingState::kConfirmed};
      else if (*v == "bumped")
        q.states = {scheduler::BookingState::kBumped};
      else if (*v == "cancelled")
        q.states = {scheduler::BookingState::kCancelled};
      else
        return Fail(ServiceError::Field("state", "bad_value",
                                        "\"state\" must be confirmed, bumped or cancelled"));
    }
    auto limit = IntParam(req, "limit", 1, kMaxListLimit);
    if (!limit) return Fail(limit.error());
    q.limit = limit->value_or(kDefaultListLimit);
    auto out = s_.List(q);
    if (!out) return Fail(out.error());
    json list = json::array();
    for (const BookingRecord& r : *out) list.push_back(BookingJson(r));
    return HttpResponse::Json(200, {{"bookings", std::move(list)}});
  }

  HttpResponse GetBooking(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {})) return Fail(*e);
    auto id = Id(req);
    if (!id) return NoBooking(req);
    auto out = s_.Get(*id);
    if (!out) return Fail(out.error());
    return HttpResponse::Json(200, BookingJson(*out));
  }

  HttpResponse PatchBooking(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {})) return Fail(*e);
    auto id = Id(req);
    if (!id) return NoBooking(req);
    int64_t duration = 0;
    const auto options = json_options();
    auto out = s_.Modify(*id, [&](const BookingRecord& current) {
      auto patched = scheduler::app::ApplyBookingPatch(current.booking.request, req.body, options);
      if (patched) duration = patched->end - patched->start;
      return patched;
    });
    if (!out) return Fail(out.error(), duration);
    return HttpResponse::Json(200, BookingJson(*out));
  }

  HttpResponse DeleteBooking(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"occurrence"})) return Fail(*e);
    auto id = Id(req);
    if (!id) return NoBooking(req);
    auto occurrence = TimeParam(req, "occurrence");
    if (!occurrence) return Fail(occurrence.error());
    auto out = *occurrence ? s_.CancelOccurrence(*id, **occurrence) : s_.Cancel(*id);
    if (!out) return Fail(out.error());
    return HttpResponse::Json(200, BookingJson(*out));
  }

  HttpResponse Links(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {})) return Fail(*e);
    json links = json::array();
    const auto measured = measures_ ? measures_() : std::map<std::string, LinkLoadNow>{};
    for (const scheduler::Link& l : s_.network().topology().links()) {
      json j = {{"id", l.id},
                {"from", l.from},
                {"to", l.to},
                {"up_kbps", l.up_kbps},
                {"down_kbps", l.down_kbps},
                {"usable_percent", l.usable_percent},
                {"usable_up_kbps", l.usable_up_kbps()},
                {"usable_down_kbps", l.usable_down_kbps()}};
      if (!l.assumption.empty()) j["assumption"] = l.assumption;
      if (measures_) {
        const auto m = measured.find(l.id);
        const LinkLoadNow now = m != measured.end() ? m->second : LinkLoadNow{};
        j["now"] = {{"measured_up_kbps", std::round(now.measured_up_kbps * 10) / 10},
                    {"measured_down_kbps", std::round(now.measured_down_kbps * 10) / 10},
                    {"reserved_up_kbps", now.reserved_up_kbps},
                    {"reserved_down_kbps", now.reserved_down_kbps}};
      }
      links.push_back(std::move(j));
    }
    return HttpResponse::Json(200, {{"links", std::move(links)}});
  }

  HttpResponse LinkTimeline(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"from", "to"})) return Fail(*e);
    const std::string link = req.params.at("id");
    const scheduler::Link* l = s_.network().topology().FindLink(link);
    if (!l) return HttpResponse::Error(404, "not_found", "no link \"" + link + "\"");
    auto from = TimeParam(req, "from");
    if (!from) return Fail(from.error());
    auto to = TimeParam(req, "to");
    if (!to) return Fail(to.error());
    const Instant f = from->value_or(s_.Now());
    const Instant t = to->value_or(f + 7 * scheduler::kDay);
    auto out = s_.LinkTimeline(link, f, t);
    if (!out) return Fail(out.error());
    json samples = json::array();
    for (const scheduler::LinkSample& x : *out)
      samples.push_back({{"at", scheduler::app::FormatRfc3339(x.at, off())},
                         {"up_kbps", x.up_kbps},
                         {"down_kbps", x.down_kbps}});
    return HttpResponse::Json(200, {{"link", link},
                                    {"from", scheduler::app::FormatRfc3339(f, off())},
                                    {"to", scheduler::app::FormatRfc3339(t, off())},
                                    {"usable_up_kbps", l->usable_up_kbps()},
                                    {"usable_down_kbps", l->usable_down_kbps()},
                                    {"samples", std::move(samples)}});
  }

  HttpResponse Availability(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"venues", "duration", "profile", "from", "horizon_days", "limit",
                                  "region", "cascade", "setup_minutes"}))
      return Fail(*e);
    scheduler::app::AvailabilityQuery q;
    const std::string* venues = Param(req, "venues");
    if (!venues || venues->empty())
      return Fail(ServiceError::Field("venues", "missing",
                                      "\"venues\" is required: venue ids separated by commas"));
    for (size_t i = 0; i <= venues->size();) {
      size_t comma = venues->find(',', i);
      if (comma == std::string::npos) comma = venues->size();
      q.venues.push_back(venues->substr(i, comma - i));
      i = comma + 1;
    }
    const std::string* duration = Param(req, "duration");
    if (!duration)
      return Fail(ServiceError::Field("duration", "missing",
                                      "\"duration\" is required (minutes or ISO 8601, e.g. PT2H)"));
    auto d = scheduler::app::ParseDuration(*duration);
    if (!d) return Fail(ServiceError::Field("duration", d.error().code, d.error().message));
    q.duration = *d;
    const std::string* profile = Param(req, "profile");
    if (!profile) return Fail(ServiceError::Field("profile", "missing", "\"profile\" is required"));
    q.profile = *profile;
    auto from = TimeParam(req, "from");
    if (!from) return Fail(from.error());
    q.from = from->value_or(s_.Now());
    auto horizon = IntParam(req, "horizon_days", 1, 31);
    if (!horizon) return Fail(horizon.error());
    q.horizon = horizon->value_or(7) * scheduler::kDay;
    auto limit = IntParam(req, "limit", 1, 100);
    if (!limit) return Fail(limit.error());
    q.limit = static_cast<size_t>(limit->value_or(10));
    auto setup = IntParam(req, "setup_minutes", 0, 24 * 60);
    if (!setup) return Fail(setup.error());
    q.setup_seconds = setup->value_or(15) * scheduler::kMinute;
    if (const std::string* r = Param(req, "region")) q.region = *r;
    if (const std::string* c = Param(req, "cascade")) {
      if (*c == "off")
        q.cascade = scheduler::CascadeMode::kOff;
      else if (*c != "auto")
        return Fail(ServiceError::Field("cascade", "bad_value", "\"cascade\" must be auto or off"));
    }
    auto out = s_.Availability(q);
    if (!out) return Fail(out.error());
    json slots = json::array();
    for (const scheduler::Slot& x : *out)
      slots.push_back({{"start", scheduler::app::FormatRfc3339(x.start, off())},
                       {"end", scheduler::app::FormatRfc3339(x.end, off())}});
    return HttpResponse::Json(200, {{"slots", std::move(slots)}});
  }

  HttpResponse Events(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"after", "booking", "limit"})) return Fail(*e);
    scheduler::store::EventQuery q;
    auto after = IntParam(req, "after", 0, INT64_MAX);
    if (!after) return Fail(after.error());
    auto booking = IntParam(req, "booking", 1, INT64_MAX);
    if (!booking) return Fail(booking.error());
    auto limit = IntParam(req, "limit", 1, kMaxListLimit);
    if (!limit) return Fail(limit.error());
    q.after_id = after->value_or(0);
    q.booking = booking->value_or(0);
    q.limit = static_cast<size_t>(limit->value_or(kDefaultListLimit));
    auto out = s_.Events(q);
    if (!out) return Fail(out.error());
    json events = json::array();
    for (const scheduler::store::Event& e : *out)
      events.push_back(scheduler::app::EventToJson(e, off()));
    return HttpResponse::Json(200, {{"events", std::move(events)}});
  }

  HttpResponse Calendar(const HttpRequest& req) const {
    if (auto e = OnlyParams(req, {"venue"})) return Fail(*e);
    const std::string* venue = Param(req, "venue");
    if (!venue) return Fail(ServiceError::Field("venue", "missing", "\"venue\" is required"));
    auto out = s_.VenueCalendar(*venue);
    if (!out) return Fail(out.error());
    HttpResponse r =
        HttpResponse::Text(200, std::move(out).value(), "text/calendar; charset=utf-8");
    r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + *venue + ".ics\"");
    return r;
  }

 private:
  BookingService& s_;
  LinkMeasures measures_;
};

}  // namespace

void RegisterBookingsApi(Router& router, scheduler::app::BookingService& service,
                         LinkMeasures measures) {
  auto api = std::make_shared<Api>(service, std::move(measures));
  auto bind = [api](HttpResponse (Api::*fn)(const HttpRequest&) const) {
    return [api, fn](const HttpRequest& req) { return ((*api).*fn)(req); };
  };
  router.Add("GET", "/api/v1/topology", bind(&Api::Topology));
  router.Add("POST", "/api/v1/bookings", bind(&Api::CreateBooking));
  router.Add("GET", "/api/v1/bookings", bind(&Api::ListBookings));
  router.Add("GET", "/api/v1/bookings.ics", bind(&Api::Calendar));
  router.Add("GET", "/api/v1/bookings/{id}", bind(&Api::GetBooking));
  router.Add("PATCH", "/api/v1/bookings/{id}", bind(&Api::PatchBooking));
  router.Add("DELETE", "/api/v1/bookings/{id}", bind(&Api::DeleteBooking));
  router.Add("GET", "/api/v1/links", bind(&Api::Links));
  router.Add("GET", "/api/v1/links/{id}/timeline", bind(&Api::LinkTimeline));
  router.Add("GET", "/api/v1/availability", bind(&Api::Availability));
  router.Add("GET", "/api/v1/events", bind(&Api::Events));
}

}  // namespace plateau::scheduler::rest
