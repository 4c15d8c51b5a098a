#include "plateau/signaling/scheduler_binding.hpp"

#include "plateau/scheduler/app/booking_service.hpp"

namespace plateau::signaling {

namespace sch = plateau::scheduler;

Result<VenueIdentity> BookingVenueAuthenticator::Verify(const std::string& venue,
                                                        const std::string& token) {
  const sch::Site* site = service_.network().topology().FindSite(venue);
  // Same answer for an unknown venue and a wrong token.
  if (!site || site->kind == sch::SiteKind::kHub)
    return Error{"unauthorized", "unknown venue or wrong token"};
  std::optional<std::string> credential = service_.MatchVenueToken(venue, token);
  if (!credential) return Error{"unauthorized", "unknown venue or wrong token"};
  return VenueIdentity{site->id, site->name, std::move(*credential)};
}

Result<std::optional<std::string>> BookingVenueAuthenticator::CurrentCredential(
    const std::string& venue) {
  auto current = service_.CurrentVenueCredential(venue);
  if (!current) return Error{"unavailable", current.error().message};
  return std::move(current).value();
}

void BookingConferenceDirectory::FillPlan(const sch::CascadePlan& plan, MediaPlan& out) const {
  const auto& topology = service_.network().topology();
  out.root_mcu = plan.root_mcu;
  auto site_of_mcu = [&topology](const std::string& mcu) -> std::string {
    for (const auto& m : topology.mcus())
      if (m.id == mcu) return m.site;
    return "";
  };
  // The links from `site` up to `host_site` (the host is always the site or an ancestor).
  auto path = [&topology](std::string site, const std::string& host_site) {
    std::vector<std::string> links;
    for (int guard = 0; !site.empty() && site != host_site && guard < 16; ++guard) {
      const sch::Link* up = topology.Uplink(site);
      if (!up) break;
      links.push_back(up->id);
      site = up->from;
    }
    return links;
  };
  for (const auto& h : plan.hosts) {
    out.hosts[h.venue] = h.mcu;
    out.paths[h.venue] = path(h.venue, site_of_mcu(h.mcu));
  }
  for (const auto& c : plan.cascades) {
    out.parents[c.from_mcu] = c.to_mcu;
    out.paths[c.from_mcu] = path(site_of_mcu(c.from_mcu), site_of_mcu(c.to_mcu));
  }
  for (const auto& l : plan.links) out.reserved[l.link] = {l.up_kbps, l.down_kbps};
  for (const auto& mcu : topology.mcus()) {
    const auto* site = topology.FindSite(mcu.site);
    out.names[mcu.id] = site ? site->name : mcu.id;
  }
}

Meeting BookingConferenceDirectory::ToMeeting(const sch::Booking& b, int64_t now) const {
  const sch::BookingRequest& r = b.request;
  Meeting m;
  m.booking = b.id;
  m.conference = b.conference_number;
  m.title = r.title;
  m.venues = r.venues;
  m.main_venue = r.main_venue;
  m.layout = r.layout;
  m.profile = r.profile;
  FillPlan(b.plan, m.plan);
  m.cancelled = b.state != sch::BookingState::kConfirmed;
  m.opens = r.start - r.setup_seconds;
  m.start = r.start;
  m.end = r.end;
  const std::vector<sch::Interval> occurrences = service_.OccurrencesOf(r);
  if (occurrences.empty()) {
    m.cancelled = true;  // every occurrence cancelled
    return m;
  }
  // Open at `now`, else the next to open, else the last.
  const sch::Interval* pick = &occurrences.back();
  for (const auto& o : occurrences) {
    if (o.to > now) {
      pick = &o;
      break;
    }
  }
  m.opens = pick->from;
  m.start = pick->from + r.setup_seconds;
  m.end = pick->to;
  return m;
}

Result<std::optional<Meeting>> BookingConferenceDirectory::FindByBooking(int64_t booking,
                                                                         int64_t now) {
  auto got = service_.Get(booking);
  if (!got) {
    if (got.error().kind == sch::app::ServiceError::Kind::kNotFound)
      return std::optional<Meeting>{};
    return Error{"unavailable", got.error().message};
  }
  return std::optional<Meeting>{ToMeeting(got->booking, now)};
}

Result<std::optional<Meeting>> BookingConferenceDirectory::FindByNumber(
    const std::string& conference, int64_t now) {
  // Numbers are "8" + the booking id (BookingService::ConferenceNumberFor); the stored number is
  // compared, so a number that merely parses does not match.
  if (conference.size() < 2 || conference.size() > 19 || conference[0] != '8' ||
      conference.find_first_not_of("0123456789") != std::string::npos)
    return std::optional<Meeting>{};
  const int64_t id = std::stoll(conference.substr(1));
  if (id <= 0) return std::optional<Meeting>{};
  auto m = FindByBooking(id, now);
  if (m && *m && (*m)->conference != conference) return std::optional<Meeting>{};
  return m;
}

Result<std::vector<Meeting>> BookingConferenceDirectory::OpenAt(int64_t now) {
  sch::store::BookingQuery q;
  q.from = now;
  q.to = now + 1;
  q.states = {sch::BookingState::kConfirmed};
  auto list = service_.List(q);
  if (!list) return Error{"unavailable", list.error().message};
  std::vector<Meeting> out;
  for (const auto& record : *list) {
    Meeting m = ToMeeting(record.booking, now);
    if (m.IsOpenAt(now)) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace plateau::signaling
