// The network plus its profiles: everything a decision depends on besides the bookings.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plateau/scheduler/profile.hpp"
#include "plateau/scheduler/topology.hpp"

namespace plateau::scheduler {

namespace detail {
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
}  // namespace detail

// The network plus its profiles: everything a decision depends on besides the bookings.
class Network {
 public:
  Network(Topology topology, std::vector<Profile> profiles);
  const Topology& topology() const { return topology_; }
  const std::vector<Profile>& profiles() const { return profiles_; }
  const Profile* FindProfile(std::string_view id) const;

  // Dense indices, built once here so that admission does no string work per booking.
  // Sites are numbered as in topology().sites(); "resources" are the links (0..links-1, in
  // topology().links() order) followed by the MCUs (in topology().mcus() order).
  int SiteIndex(std::string_view id) const;     // -1 when unknown
  int LinkResource(std::string_view id) const;  // -1 when unknown
  int McuResource(std::string_view id) const;   // -1 when unknown
  size_t site_count() const { return site_parent_.size(); }
  size_t resource_count() const { return capacity_up_.size(); }
  size_t link_count() const { return topology_.links().size(); }
  // Usable capacity of a resource: kbit/s per direction for a link; ports (up) for an MCU.
  int64_t capacity_up(int resource) const { return capacity_up_[resource]; }
  int64_t capacity_down(int resource) const { return capacity_down_[resource]; }
  // Per site: parent (-1 for the hub), uplink resource, sub-centre and MCU resource (-1: none).
  int site_parent(int site) const { return site_parent_[site]; }
  int site_uplink(int site) const { return site_uplink_[site]; }
  int site_subcentre(int site) const { return site_subcentre_[site]; }
  int site_mcu(int site) const { return site_mcu_[site]; }
  int hub_site() const { return hub_site_; }
  int mcu_site(int resource) const { return mcu_site_[resource - link_count()]; }

 private:
  void BuildIndices();

  Topology topology_;
  std::vector<Profile> profiles_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> site_index_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> link_index_;
  std::unordered_map<std::string, int, detail::StringHash, std::equal_to<>> mcu_index_;
  std::vector<int> site_parent_, site_uplink_, site_subcentre_, site_mcu_, mcu_site_;
  std::vector<int64_t> capacity_up_, capacity_down_;
  int hub_site_ = 0;
};

}  // namespace plateau::scheduler
