// Admission benchmark: one booking against a calendar of 10,000 existing ones on the real
// Qinghai network. Prints JSON with the median (and p90) per decision for
//   agenda    - Admit() against an Agenda kept by the caller (the time index),
//   vector    - Admit() against the plain vector of bookings (filters, then indexes nearby ones),
//   baseline  - a brute-force check of the same request minute by minute against every booking,
// and the ratio baseline / agenda and baseline / vector, all measured in the same run.
//
//   build/bench/scheduler/scheduler_admission_bench [--config configs/qinghai.toml]
//       [--existing 10000] [--probes 400] [--seed 1]
// or: meson compile -C build bench-scheduler
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/validation.hpp"

namespace {

using namespace plateau::scheduler;

constexpr Instant kDayZero = 1772380800;  // Monday 2026-03-02 00:00 Beijing time

struct Options {
  std::string config;
  int existing = 10000;
  int probes = 400;
  uint64_t seed = 1;
};

// Realistic mix: most meetings are a sub-centre's own (its venue and a few counties); the rest
// are provincial meetings with a few venues, and now and then whole prefectures.
class Generator {
 public:
  Generator(const Network& net, uint64_t seed, int days) : rng_(seed), days_(days) {
    const Topology& t = net.topology();
    for (const Site* s : t.Venues()) all_.push_back(s->id);
    for (const Site& s : t.sites()) {
      if (s.kind != SiteKind::kSubcentre) continue;
      subs_.push_back(s.id);
      tree_[s.id].push_back(s.id);
      for (const Site* c : t.Children(s.id)) tree_[s.id].push_back(c->id);
    }
  }

  BookingRequest Next(int n) {
    BookingRequest r;
    r.title = "meeting " + std::to_string(n);
    r.organiser = "bench";
    const double kind = U();
    if (kind < 0.6) {
      r.region = subs_[I(0, static_cast<int>(subs_.size()) - 1)];
      const auto& mine = tree_[r.region];
      r.venues = Pick(mine, I(1, std::min<int>(4, static_cast<int>(mine.size()))));
    } else {
      r.region = "hub";
      r.priority = Priority::kProvincial;
      if (kind < 0.97) {
        r.venues = Pick(all_, I(2, 8));
      } else {
        r.venues = {"hall-1"};
        for (const std::string& sc : Pick(subs_, I(1, 3)))
          r.venues.insert(r.venues.end(), tree_[sc].begin(), tree_[sc].end());
      }
    }
    r.main_venue = r.venues.front();
    r.profile = U() < 0.7 ? "hd-2m" : "sd-1m";
    const int day = I(0, days_ - 1);
    r.start = kDayZero + day * kDay + (8 * 60 + 5 * I(0, 120)) * kMinute;
    r.end = r.start + 15 * I(2, 12) * kMinute;
    if (U() < 0.1) r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 4, 0, {}};
    return r;
  }

 private:
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int I(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::vector<std::string> Pick(const std::vector<std::string>& from, int n) {
    std::vector<std::string> c = from;
    std::shuffle(c.begin(), c.end(), rng_);
    c.resize(std::min<size_t>(n, c.size()));
    return c;
  }
  std::mt19937_64 rng_;
  int days_;
  std::vector<std::string> all_, subs_;
  std::map<std::string, std::vector<std::string>> tree_;
};

// The baseline: what admission looks like without an interval sweep or a time index. Every
// minute of the request is checked against every booking (plans pre-resolved to indices, so
// only the algorithm differs).
class MinuteByMinute {
 public:
  explicit MinuteByMinute(const Network& net) : net_(net) {}

  void Add(const Booking& b) {
    Entry e;
    e.occurrences = Occurrences(b.request);
    for (const std::string& v : b.request.venues) e.venues.push_back(net_.SiteIndex(v));
    for (const LinkLoad& l : b.plan.links)
      e.loads.push_back({net_.LinkResource(l.link), l.up_kbps, l.down_kbps});
    for (const McuLoad& m : b.plan.mcus) e.loads.push_back({net_.McuResource(m.mcu), m.ports, 0});
    entries_.push_back(std::move(e));
  }

  // Number of (minute, constraint) violations: like the scheduler it finds every violated
  // constraint, not just the first.
  size_t Violations(const BookingRequest& req) const {
    const CascadePlan plan = PlanCascade(net_, req);
    std::vector<int> venue_mark(net_.site_count(), 0);
    for (const std::string& v : req.venues) venue_mark[net_.SiteIndex(v)] = 1;
    std::vector<int64_t> up(net_.resource_count()), down(net_.resource_count());
    size_t violations = 0;
    for (const Interval& o : Occurrences(req)) {
      for (Instant t = o.from; t < o.to; t += kMinute) {
        std::fill(up.begin(), up.end(), 0);
        std::fill(down.begin(), down.end(), 0);
        for (const LinkLoad& l : plan.links) {
          up[net_.LinkResource(l.link)] += l.up_kbps;
          down[net_.LinkResource(l.link)] += l.down_kbps;
        }
        for (const McuLoad& m : plan.mcus) up[net_.McuResource(m.mcu)] += m.ports;
        for (const Entry& e : entries_) {
          bool active = false;
          for (const Interval& eo : e.occurrences) active |= eo.from <= t && t < eo.to;
          if (!active) continue;
          for (int v : e.venues) violations += venue_mark[v];
          for (const Load& l : e.loads) {
            up[l.resource] += l.up;
            down[l.resource] += l.down;
          }
        }
        for (size_t r = 0; r < net_.resource_count(); ++r)
          violations += (up[r] > net_.capacity_up(static_cast<int>(r))) +
                        (down[r] > net_.capacity_down(static_cast<int>(r)));
      }
    }
    return violations;
  }

 private:
  struct Load {
    int resource;
    int64_t up, down;
  };
  struct Entry {
    std::vector<Interval> occurrences;
    std::vector<int> venues;
    std::vector<Load> loads;
  };
  const Network& net_;
  std::vector<Entry> entries_;
};

struct Stats {
  std::vector<double> us;
  double Median() { return Quantile(0.5); }
  double Quantile(double q) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[static_cast<size_t>(q * (us.size() - 1))];
  }
};

template <typename F>
double TimeUs(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

int Run(const Options& opt) {
  auto config = plateau::scheduler::config::LoadFile(opt.config);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  auto built = plateau::scheduler::config::BuildNetwork(*config);
  if (!built.ok()) {
    std::fprintf(stderr, "%s\n", built.error().message.c_str());
    return 2;
  }
  const Network& net = *built;

  // About 30 meetings a day across the province, so 10,000 bookings are a year's calendar.
  const int days = std::max(7, opt.existing / 30);
  Generator gen(net, opt.seed, days);
  Agenda agenda(net);
  std::vector<Booking> bookings;
  MinuteByMinute baseline(net);
  int attempts = 0;
  while (static_cast<int>(bookings.size()) < opt.existing && attempts < 20 * opt.existing) {
    const BookingRequest r = gen.Next(attempts++);
    AdmissionDecision d = Admit(net, r, agenda);
    if (!d.admitted) continue;
    Booking b;
    b.id = static_cast<BookingId>(bookings.size() + 1);
    b.request = r;
    b.plan = std::move(d.admitted->plan);
    agenda.Add(b);
    baseline.Add(b);
    bookings.push_back(std::move(b));
  }

  Stats agenda_all, vector_all, base_all, agenda_admit, agenda_refuse, vector_admit, vector_refuse,
      base_admit;
  int admitted = 0, refused = 0, disagreements = 0;
  Generator probes(net, opt.seed + 1000, days);
  volatile size_t sink = 0;
  for (int i = 0; i < opt.probes; ++i) {
    const BookingRequest r = probes.Next(i);
    AdmissionDecision a, v;
    size_t violations = 0;
    const double ta = TimeUs([&] { a = Admit(net, r, agenda); });
    const double tv = TimeUs([&] { v = Admit(net, r, bookings); });
    const double tb = TimeUs([&] { violations = baseline.Violations(r); });
    const bool fits = violations == 0;
    sink = sink + (a.admitted ? 1 : 0) + (v.admitted ? 1 : 0);
    if (fits != a.admitted.has_value() || fits != v.admitted.has_value()) ++disagreements;
    agenda_all.us.push_back(ta);
    vector_all.us.push_back(tv);
    base_all.us.push_back(tb);
    if (a.admitted) {
      ++admitted;
      agenda_admit.us.push_back(ta);
      vector_admit.us.push_back(tv);
      base_admit.us.push_back(tb);
    } else {
      ++refused;
      agenda_refuse.us.push_back(ta);
      vector_refuse.us.push_back(tv);
    }
  }

  const double a_med = agenda_all.Median(), v_med = vector_all.Median(), b_med = base_all.Median();
  const double a_adm = agenda_admit.Median(), v_adm = vector_admit.Median();
  const double b_adm = base_admit.Median();
  std::printf(
      "{\"benchmark\":\"scheduler_admission\",\"existing_bookings\":%zu,\"calendar_days\":%d,"
      "\"probes\":%d,\"admitted\":%d,\"refused\":%d,\"decisions_disagreeing_with_baseline\":%d,\n"
      " \"agenda_median_us\":%.1f,\"agenda_p90_us\":%.1f,"
      "\"agenda_admitted_median_us\":%.1f,\"agenda_refused_median_us\":%.1f,\n"
      " \"vector_median_us\":%.1f,\"vector_p90_us\":%.1f,"
      "\"vector_admitted_median_us\":%.1f,\"vector_refused_median_us\":%.1f,\n"
      " \"baseline_median_us\":%.1f,\"baseline_p90_us\":%.1f,\"baseline_admitted_median_us\":%.1f,"
      "\n"
      " \"ratio_baseline_over_agenda\":%.1f,\"ratio_baseline_over_vector\":%.1f,"
      "\"ratio_admitted_baseline_over_agenda\":%.1f,\"ratio_admitted_baseline_over_vector\":%.1f}"
      "\n",
      bookings.size(), days, opt.probes, admitted, refused, disagreements, a_med,
      agenda_all.Quantile(0.9), a_adm, agenda_refuse.Median(), v_med, vector_all.Quantile(0.9),
      v_adm, vector_refuse.Median(), b_med, base_all.Quantile(0.9), b_adm, b_med / a_med,
      b_med / v_med, a_adm > 0 ? b_adm / a_adm : 0.0, v_adm > 0 ? b_adm / v_adm : 0.0);
  return disagreements == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  const char* root = std::getenv("PLATEAU_SOURCE_ROOT");
  opt.config = std::string(root ? root : ".") + "/configs/qinghai.toml";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--config")
      opt.config = argv[i + 1];
    else if (k == "--existing")
      opt.existing = std::atoi(argv[i + 1]);
    else if (k == "--probes")
      opt.probes = std::atoi(argv[i + 1]);
    else if (k == "--seed")
      opt.seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--config FILE] [--existing N] [--probes N] [--seed N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (argc % 2 == 0 || opt.existing < 1 || opt.probes < 1) {
    std::fprintf(stderr, "usage: %s [--config FILE] [--existing N] [--probes N] [--seed N]\n",
                 argv[0]);
    return 2;
  }
  return Run(opt);
}
