// The network as the scheduler sees it: sites in a tree, one link from each site to its parent,
// MCU nodes. Pure data and checks: no I/O. A Topology can only be obtained through
// Topology::Build, so code that holds one may rely on every invariant listed there.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::scheduler {

enum class SiteKind { kHub, kHall, kSubcentre, kDepartment, kCounty };

const char* ToString(SiteKind kind);
std::optional<SiteKind> ParseSiteKind(std::string_view text);

struct Site {
  std::string id;       // stable ASCII id, e.g. "haidong", "minhe"
  std::string name;     // Chinese name, e.g. "民和县"
  std::string name_bo;  // Tibetan name where known (optional)
  SiteKind kind = SiteKind::kCounty;
  std::string parent;   // empty for the hub only
  std::string number;   // dialable number, digits only
  std::string segment;  // number-plan prefix; set on the hub and on sub-centres
  std::string note;     // e.g. "illustrative name"
};

// A tree edge. `from` is the parent, `to` the child. up = child -> parent, down = parent -> child.
struct Link {
  std::string id;
  std::string from;
  std::string to;
  int64_t up_kbps = 0;
  int64_t down_kbps = 0;
  int usable_percent = 80;
  std::string assumption;  // non-empty when the capacity is an assumption, saying which

  int64_t usable_up_kbps() const { return up_kbps * usable_percent / 100; }
  int64_t usable_down_kbps() const { return down_kbps * usable_percent / 100; }
};

struct McuNode {
  std::string id;
  std::string site;
  int ports = 0;
};

struct TopologySpec {
  std::string name;
  std::vector<Site> sites;
  std::vector<Link> links;
  std::vector<McuNode> mcus;
};

// What is wrong with a spec: `subject` names the offending item ("site", "link", "mcu") and
// `index` its position in the spec, so a loader can point at the line it came from.
struct TopologyError {
  std::string code;  // duplicate_id, duplicate_number, unknown_parent, cycle, ...
  std::string message;
  std::string subject;
  size_t index = 0;
};

class Topology {
 public:
  // Checks: exactly one hub; unique site, link and MCU ids; unique numbers made of digits and
  // inside their sub-centre's segment; parents exist and form a tree rooted at the hub (no
  // cycles); halls, departments and sub-centres hang off the hub, counties off a sub-centre;
  // every non-hub site has exactly one link, to its parent; capacities and ports positive;
  // usable share in 1..100; every MCU at a hub or sub-centre site, at most one per site.
  static std::optional<TopologyError> Validate(const TopologySpec& spec);
  static Result<Topology> Build(TopologySpec spec);

  const std::string& name() const { return spec_.name; }
  const std::vector<Site>& sites() const { return spec_.sites; }
  const std::vector<Link>& links() const { return spec_.links; }
  const std::vector<McuNode>& mcus() const { return spec_.mcus; }

  const Site* FindSite(std::string_view id) const;
  const Link* FindLink(std::string_view id) const;
  const Site& hub() const { return spec_.sites[hub_index_]; }
  // The link from `site_id` up to its parent; null for the hub.
  const Link* Uplink(std::string_view site_id) const;
  // The MCU located at the site, if any.
  const McuNode* McuAt(std::string_view site_id) const;
  // The sub-centre a site belongs to (itself for a sub-centre); null for hub, halls, departments.
  const Site* SubcentreOf(std::string_view site_id) const;
  // Sites from `site_id` up to the hub, inclusive at both ends.
  std::vector<const Site*> PathToHub(std::string_view site_id) const;
  std::vector<const Site*> Children(std::string_view site_id) const;
  // Venues are all sites but the hub itself (halls, sub-centres, departments, counties).
  std::vector<const Site*> Venues() const;
  const Site* FindByNumber(std::string_view number) const;

 private:
  explicit Topology(TopologySpec spec);
  TopologySpec spec_;
  size_t hub_index_ = 0;
  std::map<std::string, size_t, std::less<>> site_index_;
  std::map<std::string, size_t, std::less<>> link_index_;
  std::map<std::string, size_t, std::less<>> uplink_of_;
  std::map<std::string, size_t, std::less<>> mcu_at_;
  std::map<std::string, size_t, std::less<>> number_index_;
};

}  // namespace plateau::scheduler
