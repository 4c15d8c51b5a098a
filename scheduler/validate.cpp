// ValidateRequest: every field-level problem of a booking request, each naming its field.
#include <algorithm>
#include <set>

#include "internal.hpp"

namespace plateau::scheduler {
namespace {

constexpr size_t kMaxTextLength = 200;
constexpr int64_t kMaxDuration = 7 * kDay;
constexpr int64_t kMaxSetup = kDay;
constexpr int kMaxOccurrences = 366;
constexpr Instant kLatestInstant = 253402300799;  // 9999-12-31T23:59:59Z, the RFC 3339 limit
// The last occurrence must end by 9999-12-30T00:00:00Z: the latest instant the API reads, so every
// occurrence can be written back with a four-digit year at any UTC offset (and read again).
constexpr Instant kLatestOccurrenceEnd = 253402128000;

bool IsBlank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

const char* const kLayouts[] = {"auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"};

}  // namespace

std::vector<FieldError> ValidateRequest(const Network& net, const BookingRequest& req) {
  std::vector<FieldError> errors;
  auto add = [&](std::string field, std::string code, std::string message) {
    errors.push_back(FieldError{std::move(field), std::move(code), std::move(message)});
  };
  const Topology& topo = net.topology();

  if (IsBlank(req.title)) add("title", "missing_title", "the meeting needs a title");
  if (req.title.size() > kMaxTextLength)
    add("title", "too_long", "the title is longer than 200 bytes");
  if (IsBlank(req.organiser))
    add("organiser", "missing_organiser", "the meeting needs an organiser");
  if (req.organiser.size() > kMaxTextLength)
    add("organiser", "too_long", "the organiser is longer than 200 bytes");

  const Site* region = topo.FindSite(req.region);
  const bool provincial_region = region && region->kind == SiteKind::kHub;
  if (!region || (region->kind != SiteKind::kHub && region->kind != SiteKind::kSubcentre)) {
    add("region", "unknown_region",
        "region \"" + req.region + "\" is neither the hub (\"" + topo.hub().id +
            "\") nor a sub-centre");
    region = nullptr;
  }

  const bool times_in_range =
      req.start >= 0 && req.start <= kLatestInstant && req.end >= 0 && req.end <= kLatestInstant;
  if (req.start < 0 || req.start > kLatestInstant)
    add("start", "bad_time", "start is outside 1970..9999");
  if (req.end < 0 || req.end > kLatestInstant) add("end", "bad_time", "end is outside 1970..9999");
  if (times_in_range && req.end <= req.start)
    add("end", "end_before_start", "the meeting must end after it starts");
  else if (times_in_range && req.end - req.start > kMaxDuration)
    add("end", "too_long", "a meeting lasts at most 7 days; book longer events as a recurrence");
  if (req.setup_seconds < 0 || req.setup_seconds > kMaxSetup)
    add("setup_seconds", "bad_setup", "the set-up buffer must be between 0 and 24 hours");

  // Venues: known, not the hub itself, no duplicates, inside the region.
  std::set<std::string> seen;
  if (req.venues.empty()) add("venues", "empty_venues", "the meeting needs at least one venue");
  for (size_t i = 0; i < req.venues.size(); ++i) {
    const std::string field = "venues[" + std::to_string(i) + "]";
    const std::string& id = req.venues[i];
    const Site* s = topo.FindSite(id);
    if (!s) {
      add(field, "unknown_venue", "\"" + id + "\" is not a venue of this network");
      continue;
    }
    if (s->kind == SiteKind::kHub) {
      add(field, "not_a_venue",
          "\"" + id + "\" is the hub itself; book one of its main halls instead");
      continue;
    }
    if (!seen.insert(id).second) {
      add(field, "duplicate_venue", "venue \"" + id + "\" is listed twice");
      continue;
    }
    if (region && !provincial_region) {
      const Site* sc = topo.SubcentreOf(id);
      if (!sc || sc->id != region->id)
        add(field, "outside_region",
            "venue \"" + id + "\" is outside region \"" + region->id +
                "\": a sub-centre books only its own venue and counties");
    }
  }
  if (std::find(req.venues.begin(), req.venues.end(), req.main_venue) == req.venues.end())
    add("main_venue", "main_not_in_venues",
        "the main venue \"" + req.main_venue + "\" must be one of the venues");

  if (!net.FindProfile(req.profile)) {
    std::string known;
    for (const Profile& p : net.profiles()) known += (known.empty() ? "" : ", ") + p.id;
    add("profile", "unknown_profile",
        "profile \"" + req.profile + "\" is not configured (known: " + known + ")");
  }
  if (std::find(std::begin(kLayouts), std::end(kLayouts), req.layout) == std::end(kLayouts))
    add("layout", "unknown_layout",
        "layout \"" + req.layout + "\" is not one of auto, 1, 2, 1+5, 2x2, 1+7, 3x3, 4x4");

  if (req.recurrence) {
    const Recurrence& r = *req.recurrence;
    const size_t before = errors.size();
    if (r.interval < 1 || r.interval > 52)
      add("recurrence.interval", "bad_recurrence", "the interval must be 1..52");
    if (r.count < 0 || r.count > kMaxOccurrences)
      add("recurrence.count", "too_many_occurrences", "count must be 1..366");
    if (r.until < 0 || r.until > kLatestInstant)
      add("recurrence.until", "bad_time", "until is outside 1970..9999");
    if ((r.count > 0) == (r.until > 0))
      add("recurrence", "bad_recurrence", "give either a count or an until, not both or neither");
    if (errors.size() == before && times_in_range) {
      const int64_t period = detail::RecurrencePeriod(req);
      if (r.until > 0 && r.until < req.start)
        add("recurrence.until", "bad_recurrence", "until is before the first occurrence");
      else if (r.until > 0 && (r.until - req.start) / period + 1 > kMaxOccurrences)
        add("recurrence.until", "too_many_occurrences",
            "more than 366 occurrences until " + FormatUtc(r.until));
      if (period < req.end - req.start + std::max<int64_t>(req.setup_seconds, 0))
        add("recurrence.interval", "bad_recurrence",
            "occurrences (with their set-up buffer) would overlap one another");
      const int64_t n = r.count > 0 ? r.count : (r.until - req.start) / period + 1;
      if (errors.size() == before && req.end + (n - 1) * period > kLatestOccurrenceEnd)
        add(r.count > 0 ? "recurrence.count" : "recurrence.until", "bad_time",
            "the last occurrence would end after 9999-12-30T00:00:00Z (the latest time the API "
            "accepts)");
    }
    if (errors.size() == before && times_in_range) {
      const int64_t period = detail::RecurrencePeriod(req);
      const int64_t n = r.count > 0 ? r.count : (r.until - req.start) / period + 1;
      std::set<Instant> cancelled;
      for (size_t i = 0; i < r.cancelled.size(); ++i) {
        const Instant c = r.cancelled[i];
        const bool on_grid =
            c >= req.start && (c - req.start) % period == 0 && (c - req.start) / period < n;
        if (!on_grid)
          add("recurrence.cancelled[" + std::to_string(i) + "]", "bad_recurrence",
              FormatUtc(c) + " is not the start of an occurrence");
        else
          cancelled.insert(c);
      }
      if (static_cast<int64_t>(cancelled.size()) == n)
        add("recurrence.cancelled", "bad_recurrence",
            "every occurrence is cancelled; delete the booking instead");
    }
  }

  if (req.priority == Priority::kProvincial && region && !provincial_region)
    add("priority", "bad_priority",
        "provincial priority belongs to the provincial region (\"" + topo.hub().id + "\")");
  if (req.preempt && req.priority != Priority::kProvincial)
    add("preempt", "preempt_needs_provincial", "only a provincial meeting may preempt others");
  return errors;
}

}  // namespace plateau::scheduler
