#include "plateau/scheduler/config/config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace plateau::scheduler::config {
namespace {

struct Located {
  std::vector<size_t> site_lines, link_lines, mcu_lines;
};

// A parse failure carrying its line (0 = the format gives none).
struct Failure {
  size_t line;
  std::string message;
};

size_t LineOf(const toml::node& n) {
  return n.source().begin.line;
}

class Reader {
 public:
  Reader(const toml::table& t, std::string where) : t_(t), where_(std::move(where)) {}

  void Allow(std::initializer_list<const char*> keys) {
    std::set<std::string> allowed(keys.begin(), keys.end());
    for (const auto& [k, v] : t_) {
      if (!allowed.count(std::string(k.str())))
        throw Failure{LineOf(v), where_ + ": unknown key \"" + std::string(k.str()) + "\""};
    }
  }

  std::string Str(const char* key, bool required, std::string fallback = "") const {
    const toml::node* n = t_.get(key);
    if (!n) {
      if (required) throw Failure{LineOf(t_), where_ + ": missing \"" + key + "\""};
      return fallback;
    }
    if (!n->is_string()) throw Failure{LineOf(*n), where_ + ": \"" + key + "\" must be a string"};
    return std::string(n->as_string()->get());
  }

  int64_t Int(const char* key, bool required, int64_t fallback = 0) const {
    const toml::node* n = t_.get(key);
    if (!n) {
      if (required) throw Failure{LineOf(t_), where_ + ": missing \"" + key + "\""};
      return fallback;
    }
    if (!n->is_integer())
      throw Failure{LineOf(*n), where_ + ": \"" + key + "\" must be an integer"};
    return n->as_integer()->get();
  }

  double Num(const char* key, bool required, double fallback = 0) const {
    const toml::node* n = t_.get(key);
    if (!n) {
      if (required) throw Failure{LineOf(t_), where_ + ": missing \"" + key + "\""};
      return fallback;
    }
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (!n->is_floating_point())
      throw Failure{LineOf(*n), where_ + ": \"" + key + "\" must be a number"};
    return n->as_floating_point()->get();
  }

  size_t line() const { return LineOf(t_); }

 private:
  const toml::table& t_;
  std::string where_;
};

const toml::array* ArrayOfTables(const toml::table& root, const char* key) {
  const toml::node* n = root.get(key);
  if (!n) return nullptr;
  if (!n->is_array_of_tables())
    throw Failure{LineOf(*n),
                  std::string("\"") + key + "\" must be an array of tables ([[" + key + "]])"};
  return n->as_array();
}

// A profile whose reservation is smaller than the stream it stands for would let admission promise
// links more than they can carry: refused, with the figures and the overhead that would do.
void CheckReservationCoversMedia(const ProfileSpec& spec) {
  const scheduler::Profile p{spec.id,       spec.name,  spec.video_kbps, spec.audio_kbps,
                             spec.overhead, spec.width, spec.height};
  const int64_t reserved = p.stream_kbps();
  const int64_t needed = p.media_kbps();
  if (reserved >= needed) return;
  const double factor = static_cast<double>(needed) / (spec.video_kbps + spec.audio_kbps);
  char suggestion[32];
  std::snprintf(suggestion, sizeof suggestion, "%.2f", std::ceil(factor * 100 - 1e-9) / 100);
  throw Failure{spec.line, "profile \"" + spec.id + "\" reserves " + std::to_string(reserved) +
                               " kbit/s per stream but its media needs " + std::to_string(needed) +
                               " (video " + std::to_string(spec.video_kbps) + " + audio " +
                               std::to_string(spec.audio_kbps) +
                               " + RTP/SRTP/UDP/IP headers); raise overhead to at least " +
                               suggestion};
}

Config Parse(const toml::table& root, Located* loc) {
  Config c;
  Reader top(root, "top level");
  top.Allow({"network", "server", "profile", "site", "link", "mcu"});

  if (const toml::node* n = root.get("network")) {
    if (!n->is_table()) throw Failure{LineOf(*n), "\"network\" must be a table"};
    Reader r(*n->as_table(), "[network]");
    r.Allow({"name", "usable_percent"});
    c.topology.name = r.Str("name", false, "unnamed network");
    c.default_usable_percent = static_cast<int>(r.Int("usable_percent", false, 80));
    if (c.default_usable_percent < 1 || c.default_usable_percent > 100)
      throw Failure{r.line(), "[network]: usable_percent must be 1..100"};
  }
  if (const toml::node* n = root.get("server")) {
    if (!n->is_table()) throw Failure{LineOf(*n), "\"server\" must be a table"};
    Reader r(*n->as_table(), "[server]");
    r.Allow({"listen", "timezone", "utc_offset_minutes", "tls_cert", "tls_key"});
    c.server.listen = r.Str("listen", false, c.server.listen);
    c.server.timezone = r.Str("timezone", false, c.server.timezone);
    c.server.utc_offset_minutes =
        static_cast<int>(r.Int("utc_offset_minutes", false, c.server.utc_offset_minutes));
    if (c.server.utc_offset_minutes < -14 * 60 || c.server.utc_offset_minutes > 14 * 60)
      throw Failure{r.line(), "[server]: utc_offset_minutes must be within +-14 hours"};
    c.server.tls_cert = r.Str("tls_cert", false);
    c.server.tls_key = r.Str("tls_key", false);
  }

  if (const toml::array* arr = ArrayOfTables(root, "profile")) {
    std::set<std::string> ids;
    for (const toml::node& n : *arr) {
      Reader r(*n.as_table(), "[[profile]]");
      r.Allow({"id", "name", "video_kbps", "audio_kbps", "overhead", "width", "height"});
      ProfileSpec p;
      p.line = r.line();
      p.id = r.Str("id", true);
      p.name = r.Str("name", false, p.id);
      p.video_kbps = static_cast<int>(r.Int("video_kbps", true));
      p.audio_kbps = static_cast<int>(r.Int("audio_kbps", true));
      p.overhead = r.Num("overhead", false, 1.0);
      p.width = static_cast<int>(r.Int("width", true));
      p.height = static_cast<int>(r.Int("height", true));
      if (!ids.insert(p.id).second)
        throw Failure{p.line, "profile id \"" + p.id + "\" is used twice"};
      if (p.video_kbps <= 0 || p.audio_kbps <= 0)
        throw Failure{p.line, "profile \"" + p.id + "\" needs positive video_kbps and audio_kbps"};
      if (p.overhead < 1.0 || p.overhead > 2.0)
        throw Failure{p.line, "profile \"" + p.id + "\" overhead must be within 1.0..2.0"};
      if (p.width < 64 || p.width > 1920 || p.height < 64 || p.height > 1080 || p.width % 2 != 0 ||
          p.height % 2 != 0)
        throw Failure{p.line, "profile \"" + p.id +
                                  "\" width x height must be even numbers within 64x64..1920x1080"};
      if (p.video_kbps < 32 || p.video_kbps > 20000)
        throw Failure{p.line, "profile \"" + p.id + "\" video_kbps must be within 32..20000"};
      if (p.audio_kbps < 6 || p.audio_kbps > 510)
        throw Failure{p.line, "profile \"" + p.id + "\" audio_kbps must be within 6..510 (Opus)"};
      CheckReservationCoversMedia(p);
      c.profiles.push_back(std::move(p));
    }
  }

  if (const toml::array* arr = ArrayOfTables(root, "site")) {
    for (const toml::node& n : *arr) {
      Reader r(*n.as_table(), "[[site]]");
      r.Allow({"id", "name", "name_bo", "kind", "parent", "number", "segment", "note"});
      scheduler::Site s;
      s.id = r.Str("id", true);
      s.name = r.Str("name", true);
      s.name_bo = r.Str("name_bo", false);
      const std::string kind = r.Str("kind", true);
      auto k = scheduler::ParseSiteKind(kind);
      if (!k)
        throw Failure{r.line(), "site \"" + s.id + "\": kind \"" + kind +
                                    "\" is not one of hub, hall, subcentre, department, county"};
      s.kind = *k;
      s.parent = r.Str("parent", false);
      s.number = r.Str("number", false);
      s.segment = r.Str("segment", false);
      s.note = r.Str("note", false);
      loc->site_lines.push_back(r.line());
      c.topology.sites.push_back(std::move(s));
    }
  }
  if (const toml::array* arr = ArrayOfTables(root, "link")) {
    for (const toml::node& n : *arr) {
      Reader r(*n.as_table(), "[[link]]");
      r.Allow({"id", "from", "to", "up_kbps", "down_kbps", "usable_percent", "assumption"});
      scheduler::Link l;
      l.id = r.Str("id", true);
      l.from = r.Str("from", true);
      l.to = r.Str("to", true);
      l.up_kbps = r.Int("up_kbps", true);
      l.down_kbps = r.Int("down_kbps", true);
      l.usable_percent = static_cast<int>(r.Int("usable_percent", false, c.default_usable_percent));
      l.assumption = r.Str("assumption", false);
      loc->link_lines.push_back(r.line());
      c.topology.links.push_back(std::move(l));
    }
  }
  if (const toml::array* arr = ArrayOfTables(root, "mcu")) {
    for (const toml::node& n : *arr) {
      Reader r(*n.as_table(), "[[mcu]]");
      r.Allow({"id", "site", "ports"});
      scheduler::McuNode m;
      m.id = r.Str("id", true);
      m.site = r.Str("site", true);
      m.ports = static_cast<int>(r.Int("ports", true));
      loc->mcu_lines.push_back(r.line());
      c.topology.mcus.push_back(std::move(m));
    }
  }
  return c;
}

std::string Where(const std::string& source, size_t line) {
  return line > 0 ? source + ":" + std::to_string(line) : source;
}

}  // namespace

Result<Config> LoadString(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return Error{"config_syntax",
                 Where(source_name, e.source().begin.line) + ": " + std::string(e.description())};
  }
  Located loc;
  Config c;
  try {
    c = Parse(root, &loc);
  } catch (const Failure& f) {
    return Error{"config_invalid", Where(source_name, f.line) + ": " + f.message};
  }
  c.source = source_name;
  if (c.topology.sites.empty())
    return Error{"config_invalid", source_name + ": no [[site]] entries"};
  if (auto err = scheduler::Topology::Validate(c.topology)) {
    size_t line = 0;
    const auto& lines = err->subject == "site"   ? loc.site_lines
                        : err->subject == "link" ? loc.link_lines
                                                 : loc.mcu_lines;
    if (err->index < lines.size()) line = lines[err->index];
    return Error{err->code, Where(source_name, line) + ": " + err->message};
  }
  return c;
}

Result<Config> LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"config_unreadable", path + ": cannot open the file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.size() > (8u << 20)) return Error{"config_too_large", path + ": larger than 8 MiB"};
  return LoadString(text, path);
}

Result<scheduler::Topology> BuildTopology(const Config& config) {
  return scheduler::Topology::Build(config.topology);
}

Result<scheduler::Network> BuildNetwork(const Config& config) {
  auto topology = BuildTopology(config);
  if (!topology.ok()) return topology.error();
  std::vector<scheduler::Profile> profiles;
  for (const ProfileSpec& p : config.profiles)
    profiles.push_back(scheduler::Profile{p.id, p.name, p.video_kbps, p.audio_kbps, p.overhead,
                                          p.width, p.height});
  return scheduler::Network(std::move(topology.value()), std::move(profiles));
}

}  // namespace plateau::scheduler::config
