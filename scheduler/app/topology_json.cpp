#include "plateau/scheduler/app/topology_json.hpp"

#include <functional>
#include <sstream>

namespace plateau::scheduler::app {

nlohmann::json TopologyToJson(const Topology& t) {
  nlohmann::json sites = nlohmann::json::array();
  for (const Site& s : t.sites()) {
    nlohmann::json j = {
        {"id", s.id},
        {"name", s.name},
        {"kind", ToString(s.kind)},
        {"parent", s.parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.parent)},
        {"number", s.number.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.number)}};
    if (!s.name_bo.empty()) j["name_bo"] = s.name_bo;
    if (!s.segment.empty()) j["segment"] = s.segment;
    if (!s.note.empty()) j["note"] = s.note;
    sites.push_back(std::move(j));
  }
  nlohmann::json links = nlohmann::json::array();
  for (const Link& l : t.links()) {
    nlohmann::json j = {
        {"id", l.id},           {"from", l.from},           {"to", l.to},
        {"up_kbps", l.up_kbps}, {"down_kbps", l.down_kbps}, {"usable_percent", l.usable_percent}};
    if (!l.assumption.empty()) j["assumption"] = l.assumption;
    links.push_back(std::move(j));
  }
  nlohmann::json mcus = nlohmann::json::array();
  for (const McuNode& m : t.mcus())
    mcus.push_back({{"id", m.id}, {"site", m.site}, {"ports", m.ports}});
  return {{"name", t.name()}, {"sites", sites}, {"links", links}, {"mcus", mcus}};
}

namespace {
std::string Mbps(int64_t kbps) {
  std::ostringstream os;
  if (kbps >= 1000 && kbps % 1000 == 0)
    os << kbps / 1000 << " Mbit/s";
  else
    os << kbps << " kbit/s";
  return os.str();
}
}  // namespace

std::string TopologyToText(const Topology& t) {
  std::ostringstream os;
  os << t.name() << "\n";
  std::function<void(const Site&, const std::string&, bool)> walk =
      [&](const Site& s, const std::string& prefix, bool last) {
        const bool root = s.parent.empty();
        os << prefix << (root ? "" : (last ? "└─ " : "├─ ")) << s.name << " [" << s.id << ", "
           << ToString(s.kind);
        if (!s.number.empty()) os << ", #" << s.number;
        os << "]";
        if (const Link* l = t.Uplink(s.id)) {
          os << "  link "
             << (l->up_kbps == l->down_kbps
                     ? Mbps(l->down_kbps)
                     : Mbps(l->down_kbps) + " down / " + Mbps(l->up_kbps) + " up")
             << " (" << l->usable_percent << "% usable)";
          if (!l->assumption.empty()) os << " *assumed";
        }
        if (const McuNode* m = t.McuAt(s.id))
          os << "  MCU " << m->id << " " << m->ports << " ports";
        os << "\n";
        auto kids = t.Children(s.id);
        const std::string next = root ? "" : prefix + (last ? "   " : "│  ");
        for (size_t i = 0; i < kids.size(); ++i) walk(*kids[i], next, i + 1 == kids.size());
      };
  walk(t.hub(), "", true);
  size_t counts[5] = {};
  for (const Site& s : t.sites()) ++counts[static_cast<int>(s.kind)];
  os << "\n"
     << counts[1] << " halls, " << counts[2] << " sub-centres, " << counts[3] << " departments, "
     << counts[4] << " counties; " << t.links().size() << " links, " << t.mcus().size()
     << " MCUs\n";
  return os.str();
}

}  // namespace plateau::scheduler::app
