// Network: the topology and profiles, with the dense indices admission works on.
#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler {

Network::Network(Topology topology, std::vector<Profile> profiles)
    : topology_(std::move(topology)), profiles_(std::move(profiles)) {
  BuildIndices();
}

const Profile* Network::FindProfile(std::string_view id) const {
  for (const Profile& p : profiles_)
    if (p.id == id) return &p;
  return nullptr;
}

int Network::SiteIndex(std::string_view id) const {
  auto it = site_index_.find(id);
  return it == site_index_.end() ? -1 : it->second;
}

int Network::LinkResource(std::string_view id) const {
  auto it = link_index_.find(id);
  return it == link_index_.end() ? -1 : it->second;
}

int Network::McuResource(std::string_view id) const {
  auto it = mcu_index_.find(id);
  return it == mcu_index_.end() ? -1 : it->second;
}

void Network::BuildIndices() {
  const auto& sites = topology_.sites();
  const auto& links = topology_.links();
  const auto& mcus = topology_.mcus();
  for (size_t i = 0; i < sites.size(); ++i) site_index_.emplace(sites[i].id, static_cast<int>(i));
  for (size_t i = 0; i < links.size(); ++i) link_index_.emplace(links[i].id, static_cast<int>(i));
  for (size_t i = 0; i < mcus.size(); ++i)
    mcu_index_.emplace(mcus[i].id, static_cast<int>(links.size() + i));

  site_parent_.assign(sites.size(), -1);
  site_uplink_.assign(sites.size(), -1);
  site_subcentre_.assign(sites.size(), -1);
  site_mcu_.assign(sites.size(), -1);
  for (size_t i = 0; i < sites.size(); ++i) {
    const Site& s = sites[i];
    if (s.kind == SiteKind::kHub) hub_site_ = static_cast<int>(i);
    if (!s.parent.empty()) site_parent_[i] = SiteIndex(s.parent);
    if (const Link* l = topology_.Uplink(s.id)) site_uplink_[i] = LinkResource(l->id);
    if (const Site* sc = topology_.SubcentreOf(s.id)) site_subcentre_[i] = SiteIndex(sc->id);
    if (const McuNode* m = topology_.McuAt(s.id)) site_mcu_[i] = McuResource(m->id);
  }
  for (const McuNode& m : mcus) mcu_site_.push_back(SiteIndex(m.site));

  for (const Link& l : links) {
    capacity_up_.push_back(l.usable_up_kbps());
    capacity_down_.push_back(l.usable_down_kbps());
  }
  for (const McuNode& m : mcus) {
    capacity_up_.push_back(m.ports);
    capacity_down_.push_back(0);
  }
}

}  // namespace plateau::scheduler
