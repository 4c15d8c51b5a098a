#include "plateau/scheduler/app/calendar_ics.hpp"

#include <cstdio>

#include "plateau/scheduler/app/rfc3339.hpp"

namespace plateau::scheduler::app {
namespace {

std::string Stamp(const CivilTime& c, bool utc) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02d%02dT%02d%02d%02d%s", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second, utc ? "Z" : "");
  return buf;
}

std::string Utc(Instant t) {
  return Stamp(ToCivil(t, 0), true);
}

std::string OffsetText(int minutes) {
  char buf[16];
  const int a = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

class Writer {
 public:
  void Line(std::string_view l) { out_ += FoldIcsLine(l); }
  void Line(std::string_view name, std::string_view value) {
    std::string l(name);
    l += ':';
    l += value;
    Line(l);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string EscapeIcsText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;
      default:
        // Other control characters are not allowed in TEXT.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') break;
        out += c;
    }
  }
  return out;
}

std::string FoldIcsLine(std::string_view line) {
  std::string out;
  size_t room = 75;  // octets left on the current physical line
  size_t i = 0;
  while (i < line.size()) {
    // Length of the UTF-8 sequence starting here (continuation bytes never start a chunk).
    size_t n = 1;
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c >= 0xF0)
      n = 4;
    else if (c >= 0xE0)
      n = 3;
    else if (c >= 0xC0)
      n = 2;
    bool whole = i + n <= line.size();
    for (size_t k = 1; whole && k < n; ++k)
      whole = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    if (!whole) n = 1;  // malformed or truncated: move byte by byte
    if (n > room) {
      out += "\r\n ";
      room = 74;  // the leading space takes one octet
    }
    out.append(line.substr(i, n));
    room -= n;
    i += n;
  }
  out += "\r\n";
  return out;
}

std::string VenueCalendar(const Topology& topology, const Site& venue,
                          const std::vector<store::BookingRecord>& bookings,
                          const CalendarSettings& settings, Instant now) {
  const bool utc = settings.tzid.empty() || settings.utc_offset_minutes == 0;
  auto local = [&](Instant t) -> std::string {
    if (utc) return ":" + Utc(t);
    return ";TZID=" + settings.tzid + ":" + Stamp(ToCivil(t, settings.utc_offset_minutes), false);
  };
  Writer w;
  w.Line("BEGIN", "VCALENDAR");
  w.Line("VERSION", "2.0");
  w.Line("PRODID", "-//Plateau//Scheduler " PLATEAU_VERSION "//ZH");
  w.Line("CALSCALE", "GREGORIAN");
  w.Line("METHOD", "PUBLISH");
  w.Line("X-WR-CALNAME", EscapeIcsText(venue.name));
  if (!utc) {
    w.Line("X-WR-TIMEZONE", settings.tzid);
    // A fixed offset all year (Asia/Shanghai has no DST): one STANDARD component.
    w.Line("BEGIN", "VTIMEZONE");
    w.Line("TZID", settings.tzid);
    w.Line("BEGIN", "STANDARD");
    w.Line("DTSTART", "19700101T000000");
    w.Line("TZOFFSETFROM", OffsetText(settings.utc_offset_minutes));
    w.Line("TZOFFSETTO", OffsetText(settings.utc_offset_minutes));
    w.Line("END", "STANDARD");
    w.Line("END", "VTIMEZONE");
  }
  for (const store::BookingRecord& r : bookings) {
    const Booking& b = r.booking;
    const BookingRequest& q = b.request;
    w.Line("BEGIN", "VEVENT");
    w.Line("UID", "booking-" + std::to_string(b.id) + "@plateau");
    w.Line("DTSTAMP", Utc(now));
    w.Line("CREATED", Utc(r.created_at));
    w.Line("LAST-MODIFIED", Utc(r.updated_at));
    w.Line("DTSTART" + local(q.start));
    w.Line("DTEND" + local(q.end));
    if (q.recurrence) {
      const Recurrence& rec = *q.recurrence;
      std::string rule = std::string("FREQ=") +
                         (rec.frequency == Recurrence::Frequency::kDaily ? "DAILY" : "WEEKLY") +
                         ";INTERVAL=" + std::to_string(rec.interval);
      if (rec.count > 0)
        rule += ";COUNT=" + std::to_string(rec.count);
      else if (rec.until != 0)
        rule += ";UNTIL=" + Utc(rec.until);  // UTC form, as RFC 5545 requires with TZID
      w.Line("RRULE", rule);
      for (Instant c : rec.cancelled) w.Line("EXDATE" + local(c));
    }
    w.Line("SUMMARY", EscapeIcsText(q.title));
    const Site* main = topology.FindSite(q.main_venue);
    std::string description = "会议号 Conference number: " + b.conference_number;
    if (!q.organiser.empty()) description += "\n组织者 Organiser: " + q.organiser;
    description += "\n主会场 Main venue: " + (main ? main->name : q.main_venue);
    description += "\n会场数 Venues: " + std::to_string(q.venues.size());
    description += "\n档次 Profile: " + q.profile;
    if (b.state == BookingState::kBumped && !b.bumped_reason.empty())
      description += "\n已被调整 Bumped: " + b.bumped_reason;
    w.Line("DESCRIPTION", EscapeIcsText(description));
    w.Line("LOCATION", EscapeIcsText(venue.name));
    w.Line("STATUS", b.state == BookingState::kConfirmed ? "CONFIRMED" : "CANCELLED");
    w.Line("TRANSP", "OPAQUE");
    w.Line("END", "VEVENT");
  }
  w.Line("END", "VCALENDAR");
  return w.Take();
}

}  // namespace plateau::scheduler::app
