#include "plateau/scheduler/topology.hpp"

#include <algorithm>
#include <set>

namespace plateau::scheduler {

const char* ToString(SiteKind kind) {
  switch (kind) {
    case SiteKind::kHub: return "hub";
    case SiteKind::kHall: return "hall";
    case SiteKind::kSubcentre: return "subcentre";
    case SiteKind::kDepartment: return "department";
    case SiteKind::kCounty: return "county";
  }
  return "county";
}

std::optional<SiteKind> ParseSiteKind(std::string_view text) {
  if (text == "hub") return SiteKind::kHub;
  if (text == "hall") return SiteKind::kHall;
  if (text == "subcentre") return SiteKind::kSubcentre;
  if (text == "department") return SiteKind::kDepartment;
  if (text == "county") return SiteKind::kCounty;
  return std::nullopt;
}

namespace {

TopologyError Err(std::string code, std::string message, std::string subject, size_t index) {
  return TopologyError{std::move(code), std::move(message), std::move(subject), index};
}

bool IsAsciiId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool IsDigits(const std::string& s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<TopologyError> Topology::Validate(const TopologySpec& spec) {
  std::map<std::string, size_t> sites;
  size_t hubs = 0;
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Site& s = spec.sites[i];
    if (!IsAsciiId(s.id))
      return Err("bad_id", "site id \"" + s.id + "\" must be 1-64 characters of a-z, 0-9, - or _",
                 "site", i);
    if (!sites.emplace(s.id, i).second)
      return Err("duplicate_id", "site id \"" + s.id + "\" is used twice", "site", i);
    if (s.name.empty()) return Err("missing_name", "site \"" + s.id + "\" has no name", "site", i);
    if (s.kind == SiteKind::kHub) {
      ++hubs;
      if (!s.parent.empty())
        return Err("bad_parent", "the hub \"" + s.id + "\" cannot have a parent", "site", i);
    }
  }
  if (hubs != 1)
    return Err("hub_count",
               "the network needs exactly one site of kind \"hub\", found " + std::to_string(hubs),
               "site", 0);

  // Parents exist and kinds fit the tree the province runs.
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Site& s = spec.sites[i];
    if (s.kind == SiteKind::kHub) continue;
    if (s.parent.empty())
      return Err("missing_parent", "site \"" + s.id + "\" has no parent", "site", i);
    auto p = sites.find(s.parent);
    if (p == sites.end())
      return Err("unknown_parent",
                 "site \"" + s.id + "\" names parent \"" + s.parent + "\", which is not a site",
                 "site", i);
  }
  // Cycles: walk up from every site; more steps than sites means a loop.
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    size_t cur = i;
    std::set<size_t> seen{cur};
    while (spec.sites[cur].kind != SiteKind::kHub) {
      cur = sites.at(spec.sites[cur].parent);
      if (!seen.insert(cur).second)
        return Err("cycle",
                   "site \"" + spec.sites[i].id + "\" is part of a parent cycle (via \"" +
                       spec.sites[cur].id + "\")",
                   "site", i);
    }
  }
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Site& s = spec.sites[i];
    if (s.kind == SiteKind::kHub) continue;
    const Site& parent = spec.sites[sites.at(s.parent)];
    if (s.kind == SiteKind::kCounty && parent.kind != SiteKind::kSubcentre)
      return Err("county_parent",
                 "county \"" + s.id + "\" must be under a sub-centre, but its parent \"" +
                     parent.id + "\" is a " + ToString(parent.kind),
                 "site", i);
    if (s.kind != SiteKind::kCounty && parent.kind != SiteKind::kHub)
      return Err("bad_parent",
                 std::string(ToString(s.kind)) + " \"" + s.id +
                     "\" must hang off the hub, but its parent \"" + parent.id + "\" is a " +
                     ToString(parent.kind),
                 "site", i);
  }

  // Number plan.
  std::map<std::string, size_t> numbers;
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Site& s = spec.sites[i];
    if ((s.kind == SiteKind::kHub || s.kind == SiteKind::kSubcentre) && !IsDigits(s.segment))
      return Err("bad_segment",
                 "site \"" + s.id + "\" needs a number segment made of digits (\"segment\")",
                 "site", i);
    if (s.kind == SiteKind::kHub && s.number.empty()) continue;  // the hub itself is not dialled
    if (!IsDigits(s.number))
      return Err("bad_number", "site \"" + s.id + "\" needs a dialable number of digits, got \"" +
                                   s.number + "\"",
                 "site", i);
    if (!numbers.emplace(s.number, i).second)
      return Err("duplicate_number",
                 "number " + s.number + " of site \"" + s.id + "\" is already used by \"" +
                     spec.sites[numbers.at(s.number)].id + "\"",
                 "site", i);
    const Site* owner = &s;
    if (s.kind == SiteKind::kCounty) owner = &spec.sites[sites.at(s.parent)];
    if (s.kind == SiteKind::kHall || s.kind == SiteKind::kDepartment)
      owner = &spec.sites[sites.at(s.parent)];
    if (!owner->segment.empty() && s.number.rfind(owner->segment, 0) != 0)
      return Err("number_outside_segment",
                 "number " + s.number + " of site \"" + s.id + "\" is outside segment " +
                     owner->segment + " of \"" + owner->id + "\"",
                 "site", i);
  }

  // Links: one per non-hub site, to its parent.
  std::set<std::string> link_ids;
  std::map<std::string, size_t> uplinks;
  for (size_t i = 0; i < spec.links.size(); ++i) {
    const Link& l = spec.links[i];
    if (!IsAsciiId(l.id))
      return Err("bad_id", "link id \"" + l.id + "\" must be 1-64 characters of a-z, 0-9, - or _",
                 "link", i);
    if (!link_ids.insert(l.id).second)
      return Err("duplicate_id", "link id \"" + l.id + "\" is used twice", "link", i);
    if (!sites.count(l.from))
      return Err("unknown_site", "link \"" + l.id + "\" starts at unknown site \"" + l.from + "\"",
                 "link", i);
    if (!sites.count(l.to))
      return Err("unknown_site", "link \"" + l.id + "\" ends at unknown site \"" + l.to + "\"",
                 "link", i);
    const Site& child = spec.sites[sites.at(l.to)];
    if (child.parent != l.from)
      return Err("not_a_tree_edge",
                 "link \"" + l.id + "\" joins \"" + l.from + "\" to \"" + l.to +
                     "\", but the parent of \"" + l.to + "\" is \"" + child.parent + "\"",
                 "link", i);
    if (!uplinks.emplace(l.to, i).second)
      return Err("duplicate_link", "site \"" + l.to + "\" has more than one link to its parent",
                 "link", i);
    if (l.up_kbps <= 0 || l.down_kbps <= 0)
      return Err("bad_capacity",
                 "link \"" + l.id + "\" needs a positive capacity in each direction (up_kbps=" +
                     std::to_string(l.up_kbps) + ", down_kbps=" + std::to_string(l.down_kbps) +
                     ")",
                 "link", i);
    if (l.usable_percent < 1 || l.usable_percent > 100)
      return Err("bad_usable_percent",
                 "link \"" + l.id + "\" usable_percent must be 1..100, got " +
                     std::to_string(l.usable_percent),
                 "link", i);
  }
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Site& s = spec.sites[i];
    if (s.kind != SiteKind::kHub && !uplinks.count(s.id))
      return Err("missing_link", "site \"" + s.id + "\" has no link to its parent \"" + s.parent +
                                     "\"",
                 "site", i);
  }

  std::set<std::string> mcu_ids, mcu_sites;
  for (size_t i = 0; i < spec.mcus.size(); ++i) {
    const McuNode& m = spec.mcus[i];
    if (!IsAsciiId(m.id))
      return Err("bad_id", "MCU id \"" + m.id + "\" must be 1-64 characters of a-z, 0-9, - or _",
                 "mcu", i);
    if (!mcu_ids.insert(m.id).second)
      return Err("duplicate_id", "MCU id \"" + m.id + "\" is used twice", "mcu", i);
    auto s = sites.find(m.site);
    if (s == sites.end())
      return Err("unknown_site", "MCU \"" + m.id + "\" is at unknown site \"" + m.site + "\"",
                 "mcu", i);
    const SiteKind k = spec.sites[s->second].kind;
    if (k != SiteKind::kHub && k != SiteKind::kSubcentre)
      return Err("bad_mcu_site", "MCU \"" + m.id + "\" must be at the hub or a sub-centre",
                 "mcu", i);
    if (!mcu_sites.insert(m.site).second)
      return Err("duplicate_mcu", "site \"" + m.site + "\" has more than one MCU", "mcu", i);
    if (m.ports <= 0)
      return Err("bad_capacity",
                 "MCU \"" + m.id + "\" needs a positive port count, got " + std::to_string(m.ports),
                 "mcu", i);
  }
  const bool hub_has_mcu = std::any_of(spec.mcus.begin(), spec.mcus.end(), [&](const McuNode& m) {
    return spec.sites[sites.at(m.site)].kind == SiteKind::kHub;
  });
  if (!hub_has_mcu) return Err("missing_mcu", "the hub needs an MCU", "mcu", 0);
  return std::nullopt;
}

Result<Topology> Topology::Build(TopologySpec spec) {
  if (auto err = Validate(spec)) return Error{err->code, err->message};
  return Topology(std::move(spec));
}

Topology::Topology(TopologySpec spec) : spec_(std::move(spec)) {
  for (size_t i = 0; i < spec_.sites.size(); ++i) {
    site_index_.emplace(spec_.sites[i].id, i);
    if (spec_.sites[i].kind == SiteKind::kHub) hub_index_ = i;
    if (!spec_.sites[i].number.empty()) number_index_.emplace(spec_.sites[i].number, i);
  }
  for (size_t i = 0; i < spec_.links.size(); ++i) {
    link_index_.emplace(spec_.links[i].id, i);
    uplink_of_.emplace(spec_.links[i].to, i);
  }
  for (size_t i = 0; i < spec_.mcus.size(); ++i) mcu_at_.emplace(spec_.mcus[i].site, i);
}

const Site* Topology::FindSite(std::string_view id) const {
  auto it = site_index_.find(id);
  return it == site_index_.end() ? nullptr : &spec_.sites[it->second];
}

const Link* Topology::FindLink(std::string_view id) const {
  auto it = link_index_.find(id);
  return it == link_index_.end() ? nullptr : &spec_.links[it->second];
}

const Link* Topology::Uplink(std::string_view site_id) const {
  auto it = uplink_of_.find(site_id);
  return it == uplink_of_.end() ? nullptr : &spec_.links[it->second];
}

const McuNode* Topology::McuAt(std::string_view site_id) const {
  auto it = mcu_at_.find(site_id);
  return it == mcu_at_.end() ? nullptr : &spec_.mcus[it->second];
}

const Site* Topology::SubcentreOf(std::string_view site_id) const {
  const Site* s = FindSite(site_id);
  if (!s) return nullptr;
  if (s->kind == SiteKind::kSubcentre) return s;
  if (s->kind == SiteKind::kCounty) return FindSite(s->parent);
  return nullptr;
}

std::vector<const Site*> Topology::PathToHub(std::string_view site_id) const {
  std::vector<const Site*> path;
  for (const Site* s = FindSite(site_id); s; s = s->parent.empty() ? nullptr : FindSite(s->parent))
    path.push_back(s);
  return path;
}

std::vector<const Site*> Topology::Children(std::string_view site_id) const {
  std::vector<const Site*> out;
  for (const Site& s : spec_.sites)
    if (s.parent == site_id) out.push_back(&s);
  return out;
}

std::vector<const Site*> Topology::Venues() const {
  std::vector<const Site*> out;
  for (const Site& s : spec_.sites)
    if (s.kind != SiteKind::kHub) out.push_back(&s);
  return out;
}

const Site* Topology::FindByNumber(std::string_view number) const {
  auto it = number_index_.find(number);
  return it == number_index_.end() ? nullptr : &spec_.sites[it->second];
}

}  // namespace plateau::scheduler
