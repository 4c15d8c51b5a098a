// Cascade planning: which MCU hosts each venue and what every link and MCU carries.
//
// Root: the hub's MCU, unless every venue lies in one sub-centre's subtree and that sub-centre
// has an MCU (then the meeting is hosted there and touches no provincial link).
// cascade=auto with the root at the hub: a sub-centre MCU hosts its own venues (itself and its
// counties) and joins the root as one cascade leg over its uplink when two or more of them take
// part; otherwise a venue connects straight to the root MCU along the tree path.
// cascade=off: every venue connects straight to the root MCU.
// Every link on a venue's path to its host carries one stream each way; a cascade leg carries
// one stream each way on the sub-centre's uplink. Ports: one per venue on its host, one per
// cascade leg at each end. A venue at its host MCU's own site uses no link.
#include <algorithm>

#include "internal.hpp"

namespace plateau::scheduler {
namespace detail {

PlannedRequest Plan(const Network& net, const BookingRequest& req) {
  const Topology& topo = net.topology();
  const Profile* profile = net.FindProfile(req.profile);
  const int64_t stream = profile ? profile->stream_kbps() : 0;

  std::vector<int> venues;
  venues.reserve(req.venues.size());
  std::vector<char> seen(net.site_count(), 0);
  for (const std::string& id : req.venues) {
    const int v = net.SiteIndex(id);
    if (v < 0 || v == net.hub_site() || seen[v]) continue;  // ValidateRequest reports these
    seen[v] = 1;
    venues.push_back(v);
  }

  int root_site = net.hub_site();
  if (!venues.empty()) {
    const int sc = net.site_subcentre(venues.front());
    const bool one_subtree = sc >= 0 && net.site_mcu(sc) >= 0 &&
                             std::all_of(venues.begin(), venues.end(),
                                         [&](int v) { return net.site_subcentre(v) == sc; });
    if (one_subtree) root_site = sc;
  }
  const int root_mcu = net.site_mcu(root_site);

  std::vector<int> taking_part(net.site_count(), 0);
  if (req.cascade == CascadeMode::kAuto && root_site == net.hub_site()) {
    for (int v : venues) {
      const int sc = net.site_subcentre(v);
      if (sc >= 0 && net.site_mcu(sc) >= 0) ++taking_part[sc];
    }
  }
  auto host_site = [&](int v) {
    const int sc = net.site_subcentre(v);
    return sc >= 0 && taking_part[sc] >= 2 ? sc : root_site;
  };

  std::vector<int64_t> up(net.resource_count(), 0), down(net.resource_count(), 0);
  // One stream each way on every link from `site` up to its ancestor `host`.
  auto carry = [&](int site, int host) {
    for (int s = site; s >= 0 && s != host; s = net.site_parent(s)) {
      const int link = net.site_uplink(s);
      if (link < 0) break;
      up[link] += stream;
      down[link] += stream;
    }
  };

  PlannedRequest out;
  CascadePlan& plan = out.plan;
  plan.root_mcu = root_mcu >= 0 ? topo.mcus()[root_mcu - net.link_count()].id : "";
  for (int v : venues) {
    const int host = host_site(v);
    carry(v, host);
    const int mcu = net.site_mcu(host);
    if (mcu >= 0) ++up[mcu];
    plan.hosts.push_back(
        VenueHost{topo.sites()[v].id, mcu >= 0 ? topo.mcus()[mcu - net.link_count()].id : ""});
  }
  for (size_t sc = 0; sc < taking_part.size(); ++sc) {
    if (taking_part[sc] < 2) continue;
    const int from_mcu = net.site_mcu(static_cast<int>(sc));
    carry(static_cast<int>(sc), root_site);
    ++up[from_mcu];
    if (root_mcu >= 0) ++up[root_mcu];
    const int link = net.site_uplink(static_cast<int>(sc));
    plan.cascades.push_back(CascadeLeg{topo.mcus()[from_mcu - net.link_count()].id, plan.root_mcu,
                                       link >= 0 ? topo.links()[link].id : ""});
  }

  out.demand.venues = std::move(venues);
  for (size_t r = 0; r < net.resource_count(); ++r) {
    if (up[r] == 0 && down[r] == 0) continue;
    out.demand.loads.push_back(ResourceLoad{static_cast<int>(r), up[r], down[r]});
    if (r < net.link_count()) {
      plan.links.push_back(LinkLoad{topo.links()[r].id, up[r], down[r]});
    } else {
      plan.mcus.push_back(McuLoad{topo.mcus()[r - net.link_count()].id, static_cast<int>(up[r])});
    }
  }
  return out;
}

Demand DemandOf(const Network& net, const Booking& booking) {
  Demand d;
  d.venues.reserve(booking.request.venues.size());
  for (const std::string& id : booking.request.venues) {
    const int v = net.SiteIndex(id);
    if (v >= 0) d.venues.push_back(v);
  }
  for (const LinkLoad& l : booking.plan.links) {
    const int r = net.LinkResource(l.link);
    if (r >= 0 && (l.up_kbps != 0 || l.down_kbps != 0))
      d.loads.push_back(ResourceLoad{r, l.up_kbps, l.down_kbps});
  }
  for (const McuLoad& m : booking.plan.mcus) {
    const int r = net.McuResource(m.mcu);
    if (r >= 0 && m.ports != 0) d.loads.push_back(ResourceLoad{r, m.ports, 0});
  }
  return d;
}

}  // namespace detail

CascadePlan PlanCascade(const Network& net, const BookingRequest& req) {
  return detail::Plan(net, req).plan;
}

}  // namespace plateau::scheduler
