// A venue's bookings as an RFC 5545 iCalendar: one VEVENT per booking (recurring bookings as
// RRULE + EXDATE), CRLF line endings, lines folded at 75 octets without splitting a UTF-8
// character, TEXT values escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plateau/scheduler/store/booking_store.hpp"
#include "plateau/scheduler/topology.hpp"

namespace plateau::scheduler::app {

struct CalendarSettings {
  std::string tzid = "Asia/Shanghai";  // empty or offset 0: times are written in UTC ("...Z")
  int utc_offset_minutes = 480;
};

std::string VenueCalendar(const Topology& topology, const Site& venue,
                          const std::vector<store::BookingRecord>& bookings,
                          const CalendarSettings& settings, Instant now);

// One content line, folded (CRLF + space) so no physical line exceeds 75 octets, ending in CRLF.
std::string FoldIcsLine(std::string_view line);
// TEXT escaping: backslash, semicolon, comma, newline.
std::string EscapeIcsText(std::string_view text);

}  // namespace plateau::scheduler::app
