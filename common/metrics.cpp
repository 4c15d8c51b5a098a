#include "plateau/common/metrics.hpp"

#include <cmath>
#include <sstream>

namespace plateau::metrics {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
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

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = "counter";
    f.help = help;
  }
  auto& slot = f.counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = "gauge";
    f.help = help;
  }
  auto& slot = f.gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
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

Registry& Registry::Global() {
  static Registry r;
  return r;
}

}  // namespace plateau::metrics
