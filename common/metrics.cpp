#include "plateau/common/metrics.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace plateau::metrics {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string LabelText(const Labels& labels) {
  if (labels.empty()) return "";
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) s += ",";
    first = false;
    s += k + "=\"" + Escape(v) + "\"";
  }
  return s + "}";
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  std::ostringstream os;
  os.precision(15);
  os << v;
  return os.str();
}

}  // namespace

Registry::Family& Registry::FamilyOfType(const std::string& name, const std::string& help,
                                         const char* type) {
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  } else if (f.type != type) {
    throw std::logic_error("metric " + name + " is a " + f.type + ", cannot register it as a " +
                           type);
  }
  return f;
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyOfType(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyOfType(name, help, "gauge").gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

bool Registry::Remove(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mu_);
  const auto f = families_.find(name);
  if (f == families_.end()) return false;
  bool removed = false;
  if (auto c = f->second.counters.find(labels); c != f->second.counters.end()) {
    removed_counters_.push_back(std::move(c->second));
    f->second.counters.erase(c);
    removed = true;
  }
  if (auto g = f->second.gauges.find(labels); g != f->second.gauges.end()) {
    removed_gauges_.push_back(std::move(g->second));
    f->second.gauges.erase(g);
    removed = true;
  }
  if (f->second.counters.empty() && f->second.gauges.empty()) families_.erase(f);
  return removed;
}

std::string Registry::RenderText() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters)
      out += name + LabelText(labels) + " " + Number(c->Value()) + "\n";
    for (const auto& [labels, g] : f.gauges)
      out += name + LabelText(labels) + " " + Number(g->Value()) + "\n";
  }
  return out;
}

}  // namespace plateau::metrics
