// Randomised admission against a brute-force, minute-by-minute oracle on the real Qinghai
// network. Every decision of the scheduler is checked independently:
// - admitted: the oracle, adding the booking, finds no minute where a venue is in two meetings,
//   a link direction is over its usable capacity or an MCU over its ports;
// - refused: the oracle finds exactly the violations reported (kind, subject, first instant,
//   kbit/s or ports needed), and every alternative offered really fits; for a sample, no
//   earlier start fits either;
// - preempting: the bumped bookings are regional, the request fits without them, and each one
//   is needed (putting it back alone would violate something).
// The oracle computes plans, occurrences and loads on its own, from the topology.
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

constexpr int kDays = 14;                      // requests start within two weeks
constexpr int kMinutes = (kDays + 10) * 1440;  // + recurrence, set-up and 7-day shifts

// --- The oracle's own cascade plan (string based, straight from the rules) -------------------

struct OraclePlan {
  std::map<std::string, std::pair<int64_t, int64_t>> links;  // up, down
  std::map<std::string, int> mcus;
};

OraclePlan PlanByHand(const Network& net, const BookingRequest& r) {
  const Topology& t = net.topology();
  const Profile* p = net.FindProfile(r.profile);
  const int64_t stream = static_cast<int64_t>(
      std::ceil((static_cast<double>(p->video_kbps) + p->audio_kbps) * p->overhead - 1e-6));
  std::set<std::string> subtrees;
  bool every_venue_in_a_subtree = true;
  for (const std::string& v : r.venues) {
    const Site* sc = t.SubcentreOf(v);
    if (sc)
      subtrees.insert(sc->id);
    else
      every_venue_in_a_subtree = false;
  }
  std::string root = t.hub().id;
  if (every_venue_in_a_subtree && subtrees.size() == 1 && t.McuAt(*subtrees.begin()))
    root = *subtrees.begin();
  std::map<std::string, int> taking_part;
  if (r.cascade == CascadeMode::kAuto && root == t.hub().id)
    for (const std::string& v : r.venues)
      if (const Site* sc = t.SubcentreOf(v); sc && t.McuAt(sc->id)) ++taking_part[sc->id];
  OraclePlan plan;
  auto walk = [&](std::string site, const std::string& host) {
    while (site != host) {
      auto& l = plan.links[t.Uplink(site)->id];
      l.first += stream;
      l.second += stream;
      site = t.FindSite(site)->parent;
    }
  };
  for (const std::string& v : r.venues) {
    const Site* sc = t.SubcentreOf(v);
    const std::string host = sc && taking_part[sc->id] >= 2 ? sc->id : root;
    walk(v, host);
    ++plan.mcus[t.McuAt(host)->id];
  }
  for (const auto& [sc, n] : taking_part) {
    if (n < 2) continue;
    walk(sc, root);
    ++plan.mcus[t.McuAt(sc)->id];
    ++plan.mcus[t.McuAt(root)->id];
  }
  return plan;
}

OraclePlan PlanOf(const CascadePlan& p) {
  OraclePlan out;
  for (const LinkLoad& l : p.links) out.links[l.link] = {l.up_kbps, l.down_kbps};
  for (const McuLoad& m : p.mcus) out.mcus[m.mcu] = m.ports;
  return out;
}

bool operator==(const OraclePlan& a, const OraclePlan& b) {
  return a.links == b.links && a.mcus == b.mcus;
}

// Minute ranges [first, last) of every occurrence, set-up included, expanded by hand.
std::vector<std::pair<int, int>> MinutesOf(const BookingRequest& r) {
  std::vector<std::pair<int, int>> out;
  int n = 1;
  int64_t period = 0;
  if (r.recurrence) {
    period = (r.recurrence->frequency == Recurrence::Frequency::kDaily ? 1 : 7) * kDay *
             r.recurrence->interval;
    n = r.recurrence->count;
  }
  for (int k = 0; k < n; ++k) {
    const Instant start = r.start + k * period;
    if (r.recurrence &&
        std::count(r.recurrence->cancelled.begin(), r.recurrence->cancelled.end(), start))
      continue;
    out.emplace_back(static_cast<int>((start - r.setup_seconds - kMonday) / kMinute),
                     static_cast<int>((r.end + k * period - kMonday) / kMinute));
  }
  return out;
}

// (kind 0 venue / 1 link / 2 MCU, site or link or MCU index, direction or other booking)
//   -> (first instant, needed)
using Findings = std::map<std::tuple<int, int, int64_t>, std::pair<Instant, int64_t>>;

Findings FindingsOf(const Network& net, const Refusal& r) {
  const Topology& t = net.topology();
  Findings f;
  for (const Violation& v : r.violations) {
    if (v.code == "venue_busy") {
      f[{0, net.SiteIndex(v.venue), v.other_booking}] = {v.at, 0};
    } else if (v.code == "link_capacity") {
      f[{1, net.LinkResource(v.link), v.direction == "down" ? 1 : 0}] = {v.at, v.needed};
    } else {
      EXPECT_EQ(v.code, "mcu_capacity");
      f[{2, net.McuResource(v.mcu) - static_cast<int>(t.links().size()), 0}] = {v.at, v.needed};
    }
  }
  return f;
}

struct Held {
  BookingRequest request;
  OraclePlan plan;
  std::vector<std::pair<int, int>> minutes;
  // The same plan by index into the topology's sites, links and MCUs.
  std::vector<int> venues;
  std::vector<std::tuple<int, int64_t, int64_t>> links;
  std::vector<std::pair<int, int>> mcus;
  bool live = true;

  bool Overlaps(const Held& o) const {
    for (const auto& [a0, a1] : minutes)
      for (const auto& [b0, b1] : o.minutes)
        if (a0 < b1 && b0 < a1) return true;
    return false;
  }
};

class Oracle {
 public:
  explicit Oracle(const Network& net) : net_(net), t_(net.topology()) {
    for (size_t i = 0; i < t_.sites().size(); ++i) site_[t_.sites()[i].id] = static_cast<int>(i);
    for (size_t i = 0; i < t_.links().size(); ++i) link_[t_.links()[i].id] = static_cast<int>(i);
    for (size_t i = 0; i < t_.mcus().size(); ++i) mcu_[t_.mcus()[i].id] = static_cast<int>(i);
    owner_.assign(size_t{kMinutes} * t_.sites().size(), 0);
    up_.assign(size_t{kMinutes} * t_.links().size(), 0);
    down_.assign(size_t{kMinutes} * t_.links().size(), 0);
    ports_.assign(size_t{kMinutes} * t_.mcus().size(), 0);
  }

  Held Make(const BookingRequest& r) const {
    Held h;
    h.request = r;
    h.plan = PlanByHand(net_, r);
    h.minutes = MinutesOf(r);
    for (const std::string& v : r.venues) h.venues.push_back(site_.at(v));
    for (const auto& [link, load] : h.plan.links)
      h.links.emplace_back(link_.at(link), load.first, load.second);
    for (const auto& [mcu, n] : h.plan.mcus) h.mcus.emplace_back(mcu_.at(mcu), n);
    return h;
  }

  // Violations adding `h`, started `later` minutes later, would cause (every one, or stop at
  // the first with `any`).
  Findings Check(const Held& h, bool any = false, int later = 0) const {
    Findings found;
    // Skip what is already found (a venue: the same holder as last time).
    std::vector<int32_t> last_holder(h.venues.size(), 0);
    std::vector<char> link_found(2 * h.links.size(), 0), mcu_found(h.mcus.size(), 0);
    const size_t sites = t_.sites().size(), links = t_.links().size(), mcus = t_.mcus().size();
    for (const auto& [m0, m1] : h.minutes) {
      for (int m = m0 + later; m < m1 + later; ++m) {
        const Instant at = kMonday + m * kMinute;
        for (size_t i = 0; i < h.venues.size(); ++i) {
          const int32_t o = owner_[Cell(m, h.venues[i], sites)];
          if (o == 0 || o == last_holder[i]) continue;
          last_holder[i] = o;
          found.emplace(std::tuple{0, h.venues[i], int64_t{o}}, std::pair{at, int64_t{0}});
        }
        for (size_t i = 0; i < h.links.size(); ++i) {
          const auto& [l, up, down] = h.links[i];
          const Link& link = t_.links()[l];
          const size_t c = Cell(m, l, links);
          if (!link_found[2 * i] && up_[c] + up > link.usable_up_kbps()) {
            link_found[2 * i] = 1;
            found.emplace(std::tuple{1, l, int64_t{0}}, std::pair{at, up_[c] + up});
          }
          if (!link_found[2 * i + 1] && down_[c] + down > link.usable_down_kbps()) {
            link_found[2 * i + 1] = 1;
            found.emplace(std::tuple{1, l, int64_t{1}}, std::pair{at, down_[c] + down});
          }
        }
        for (size_t i = 0; i < h.mcus.size(); ++i) {
          const auto& [k, n] = h.mcus[i];
          const size_t c = Cell(m, k, mcus);
          if (!mcu_found[i] && ports_[c] + n > t_.mcus()[k].ports) {
            mcu_found[i] = 1;
            found.emplace(std::tuple{2, k, int64_t{0}}, std::pair{at, int64_t{ports_[c] + n}});
          }
        }
        if (any && !found.empty()) return found;
      }
    }
    return found;
  }

  void Apply(const Held& h, BookingId id, int sign) {
    const size_t sites = t_.sites().size(), links = t_.links().size(), mcus = t_.mcus().size();
    for (const auto& [m0, m1] : h.minutes) {
      for (int m = m0; m < m1; ++m) {
        for (int v : h.venues) {
          int32_t& o = owner_[Cell(m, v, sites)];
          if (sign > 0) {
            ASSERT_EQ(o, 0) << "venue " << t_.sites()[v].id << " double-booked at minute " << m;
            o = static_cast<int32_t>(id);
          } else {
            o = 0;
          }
        }
        for (const auto& [l, up, down] : h.links) {
          up_[Cell(m, l, links)] += sign * up;
          down_[Cell(m, l, links)] += sign * down;
        }
        for (const auto& [k, n] : h.mcus) ports_[Cell(m, k, mcus)] += sign * n;
      }
    }
  }

  // Every minute of the whole horizon: no link direction or MCU over budget.
  void ExpectEverythingWithinBudget() const {
    size_t over = 0;
    for (int m = 0; m < kMinutes; ++m) {
      for (size_t l = 0; l < t_.links().size(); ++l) {
        over += up_[Cell(m, l, t_.links().size())] > t_.links()[l].usable_up_kbps();
        over += down_[Cell(m, l, t_.links().size())] > t_.links()[l].usable_down_kbps();
      }
      for (size_t k = 0; k < t_.mcus().size(); ++k)
        over += ports_[Cell(m, k, t_.mcus().size())] > t_.mcus()[k].ports;
    }
    EXPECT_EQ(over, 0u);
  }

 private:
  static size_t Cell(int minute, size_t index, size_t width) {
    return static_cast<size_t>(minute) * width + index;
  }
  const Network& net_;
  const Topology& t_;
  std::map<std::string, int> site_, link_, mcu_;
  std::vector<int32_t> owner_;
  std::vector<int32_t> up_, down_, ports_;
};

// --- Random requests -----------------------------------------------------------------------

class RequestMaker {
 public:
  RequestMaker(const Network& net, uint64_t seed) : rng_(seed) {
    const Topology& t = net.topology();
    for (const Site* s : t.Venues()) all_.push_back(s->id);
    for (const Site& s : t.sites()) {
      if (s.kind != SiteKind::kSubcentre) continue;
      subcentres_.push_back(s.id);
      subtree_[s.id].push_back(s.id);
      for (const Site* c : t.Children(s.id)) subtree_[s.id].push_back(c->id);
    }
  }

  BookingRequest Next(int n) {
    BookingRequest r;
    r.title = "随机会议" + std::to_string(n);
    r.organiser = "测试";
    if (Chance(0.45)) {
      r.region = "hub";
      r.priority = Chance(0.5) ? Priority::kProvincial : Priority::kRegional;
      r.preempt = r.priority == Priority::kProvincial && Chance(0.3);
      const double kind = Uniform();
      if (kind < 0.65) {
        r.venues = Pick(all_, Int(2, 5));
      } else if (kind < 0.85) {
        r.venues = Pick(all_, Int(6, 15));
      } else if (kind < 0.96) {
        r.venues = {"hall-1"};
        for (const std::string& sc : Pick(subcentres_, Int(1, 3)))
          r.venues.insert(r.venues.end(), subtree_[sc].begin(), subtree_[sc].end());
      } else {
        r.venues = all_;
      }
    } else {
      r.region = subcentres_[Int(0, static_cast<int>(subcentres_.size()) - 1)];
      r.priority = Priority::kRegional;
      const auto& mine = subtree_[r.region];
      r.venues = Pick(mine, Int(1, std::min<int>(6, static_cast<int>(mine.size()))));
    }
    r.main_venue = r.venues[Int(0, static_cast<int>(r.venues.size()) - 1)];
    const double p = Uniform();
    r.profile = p < 0.45 ? "hd-2m" : p < 0.65 ? "hd-8m" : "sd-1m";
    // Whole prefectures without cascading are where cascading matters most.
    const bool wide = r.venues.size() > 5;
    r.cascade = Chance(wide ? 0.5 : 0.2) ? CascadeMode::kOff : CascadeMode::kAuto;
    const int setups[] = {0, 5, 15, 30};
    r.setup_seconds = setups[Int(0, 3)] * kMinute;
    r.start = kMonday + (Int(0, kDays * 1440 - 300) + 40) * kMinute;
    r.end = r.start + Int(15, 240) * kMinute;
    if (Chance(0.1)) {
      const bool daily = Chance(0.7);
      Recurrence rec{daily ? Recurrence::Frequency::kDaily : Recurrence::Frequency::kWeekly,
                     1,
                     daily ? Int(2, 3) : 2,
                     0,
                     {}};
      if (Chance(0.3))
        rec.cancelled = {r.start + Int(1, rec.count - 1) * (daily ? kDay : 7 * kDay)};
      r.recurrence = rec;
    }
    return r;
  }

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Uniform() < p; }

 private:
  std::vector<std::string> Pick(const std::vector<std::string>& from, int n) {
    std::vector<std::string> copy = from;
    std::shuffle(copy.begin(), copy.end(), rng_);
    copy.resize(std::min<size_t>(n, copy.size()));
    return copy;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> all_, subcentres_;
  std::map<std::string, std::vector<std::string>> subtree_;
};

struct Tally {
  int admitted = 0, refused = 0, bumps = 0, preempting = 0;
  std::map<std::string, int> violations, alternatives;
  int start_checked_exact = 0, no_start_checked = 0;
};

BookingRequest Shifted(BookingRequest r, int64_t by) {
  r.start += by;
  r.end += by;
  if (r.recurrence)
    for (Instant& c : r.recurrence->cancelled) c += by;
  return r;
}

void ExpectSameDecision(const Network& net, const AdmissionDecision& a,
                        const AdmissionDecision& b) {
  ASSERT_EQ(a.admitted.has_value(), b.admitted.has_value());
  if (a.admitted) {
    EXPECT_TRUE(PlanOf(a.admitted->plan) == PlanOf(b.admitted->plan));
    ASSERT_EQ(a.admitted->bumped.size(), b.admitted->bumped.size());
    for (size_t i = 0; i < a.admitted->bumped.size(); ++i)
      EXPECT_EQ(a.admitted->bumped[i].booking, b.admitted->bumped[i].booking);
    return;
  }
  EXPECT_EQ(FindingsOf(net, *a.refused), FindingsOf(net, *b.refused));
  ASSERT_EQ(a.refused->alternatives.size(), b.refused->alternatives.size());
  for (size_t i = 0; i < a.refused->alternatives.size(); ++i) {
    EXPECT_EQ(a.refused->alternatives[i].kind, b.refused->alternatives[i].kind);
    EXPECT_EQ(a.refused->alternatives[i].profile, b.refused->alternatives[i].profile);
    EXPECT_EQ(a.refused->alternatives[i].start, b.refused->alternatives[i].start);
  }
}

// Fills `tally` as it goes (ASSERTs return early; the caller checks HasFatalFailure).
void RunAgainstOracle(const Network& net, int requests, uint64_t seed, Tally& tally) {
  Oracle oracle(net);
  RequestMaker maker(net, seed);
  Agenda agenda(net);
  std::vector<Booking> bookings;  // every stored booking, for the vector overload
  std::map<BookingId, Held> held;
  BookingId next_id = 1;

  for (int n = 0; n < requests && !::testing::Test::HasFatalFailure(); ++n) {
    const BookingRequest req = maker.Next(n);
    SCOPED_TRACE("request " + std::to_string(n) + " \"" + req.title + "\"");
    const std::vector<FieldError> errors = ValidateRequest(net, req);
    ASSERT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
    const Held candidate = oracle.Make(req);
    EXPECT_TRUE(candidate.plan == PlanOf(PlanCascade(net, req)));

    const AdmissionDecision d = Admit(net, req, agenda);
    if (n % 25 == 0) ExpectSameDecision(net, d, Admit(net, req, bookings));
    ASSERT_NE(d.admitted.has_value(), d.refused.has_value());

    if (d.admitted) {
      ++tally.admitted;
      if (!d.admitted->bumped.empty()) ++tally.preempting;
      EXPECT_TRUE(candidate.plan == PlanOf(d.admitted->plan));
      for (const Bump& b : d.admitted->bumped) {
        ++tally.bumps;
        ASSERT_TRUE(req.preempt);
        ASSERT_TRUE(held.count(b.booking) && held[b.booking].live);
        EXPECT_EQ(held[b.booking].request.priority, Priority::kRegional);
        oracle.Apply(held[b.booking], b.booking, -1);
        held[b.booking].live = false;
        agenda.Remove(b.booking);
        for (Booking& s : bookings)
          if (s.id == b.booking) s.state = BookingState::kBumped;
      }
      const Findings f = oracle.Check(candidate);
      ASSERT_TRUE(f.empty()) << "admitted, but the oracle finds a violation of kind "
                             << std::get<0>(f.begin()->first);
      const BookingId id = next_id++;
      oracle.Apply(candidate, id, +1);
      // Each bumped booking was needed: putting it back alone would violate something.
      for (const Bump& b : d.admitted->bumped)
        EXPECT_FALSE(oracle.Check(held[b.booking], true).empty()) << "needless bump " << b.booking;
      Booking stored;
      stored.id = id;
      stored.request = req;
      stored.plan = d.admitted->plan;
      agenda.Add(stored);
      bookings.push_back(stored);
      held[id] = candidate;
      continue;
    }

    ++tally.refused;
    const Findings expected = oracle.Check(candidate);
    ASSERT_FALSE(expected.empty()) << "refused, but the oracle finds it fits";
    EXPECT_EQ(FindingsOf(net, *d.refused), expected);
    for (const Violation& v : d.refused->violations) ++tally.violations[v.code];
    if (req.preempt) {
      // Not even bumping every regional booking would make room.
      std::vector<BookingId> lifted;
      for (auto& [id, h] : held)
        if (h.live && h.request.priority == Priority::kRegional && h.Overlaps(candidate)) {
          oracle.Apply(h, id, -1);
          lifted.push_back(id);
        }
      EXPECT_FALSE(oracle.Check(candidate, true).empty()) << "preemption would have made room";
      for (BookingId id : lifted) oracle.Apply(held[id], id, +1);
    }
    for (const Alternative& a : d.refused->alternatives) {
      ++tally.alternatives[a.kind];
      BookingRequest alt = req;
      alt.preempt = false;
      if (a.kind == "start") {
        ASSERT_GT(a.start, req.start);
        ASSERT_LE(a.start, req.start + 7 * kDay);
        alt = Shifted(alt, a.start - req.start);
      } else {
        if (a.kind == "profile") {
          alt.profile = a.profile;
          EXPECT_LT(net.FindProfile(a.profile)->stream_kbps(),
                    net.FindProfile(req.profile)->stream_kbps());
        }
        alt.cascade = a.cascade;
      }
      EXPECT_TRUE(oracle.Check(oracle.Make(alt), true).empty()) << a.kind << " does not fit";
      if (a.kind != "start" || n % 10 == 0) {  // the scheduler agrees (sampled; the oracle: all)
        EXPECT_TRUE(Admit(net, alt, agenda).admitted.has_value()) << a.kind;
      }
      // Exact earliest start, checked minute by minute for a sample.
      if (a.kind == "start" && tally.alternatives["start"] % 200 == 1) {
        ++tally.start_checked_exact;
        for (int by = 1; by < (a.start - req.start) / kMinute; ++by)
          ASSERT_FALSE(oracle.Check(candidate, true, by).empty())
              << "an earlier start fits: +" << by << " min";
      }
    }
    const bool offered_start = FindAlternative(*d.refused, "start") != nullptr;
    if (!offered_start && tally.no_start_checked < 8 && n % 7 == 0) {
      ++tally.no_start_checked;
      for (int by = 1; by <= 7 * 1440; ++by)
        ASSERT_FALSE(oracle.Check(candidate, true, by).empty())
            << "a start within 7 days fits: +" << by << " min";
    }
  }
  oracle.ExpectEverythingWithinBudget();
}

void Print(const Tally& t) {
  std::printf("admitted %d, refused %d, preempting admissions %d bumping %d\n", t.admitted,
              t.refused, t.preempting, t.bumps);
  for (const auto& [k, v] : t.violations) std::printf("  violation %s: %d\n", k.c_str(), v);
  for (const auto& [k, v] : t.alternatives) std::printf("  alternative %s: %d\n", k.c_str(), v);
  std::printf("  earliest starts checked minute by minute: %d; 'no start' checked: %d\n",
              t.start_checked_exact, t.no_start_checked);
}

TEST(RandomisedAdmission, AgreesWithBruteForceOracleOnQinghai) {
  const Network net = LoadQinghai();
  Tally t;
  RunAgainstOracle(net, 10000, 20260302, t);
  ASSERT_FALSE(HasFatalFailure());
  Print(t);
  // The mix exercises every path (the generator is fixed; these guard against it degenerating).
  EXPECT_GT(t.admitted, 1000);
  EXPECT_GT(t.refused, 1000);
  EXPECT_GT(t.violations.at("venue_busy"), 100);
  EXPECT_GT(t.violations.at("link_capacity"), 100);
  EXPECT_GT(t.bumps, 10);
  EXPECT_GT(t.alternatives.at("start"), 100);
  EXPECT_GT(t.alternatives.at("profile"), 10);
  EXPECT_GE(t.alternatives.at("cascade"), 3);
}

TEST(RandomisedAdmission, AgreesWithBruteForceOracleWithScarceMcuPorts) {
  const Network net = LoadQinghai([](config::Config& c) {
    for (auto& m : c.topology.mcus) m.ports = m.site == "hub" ? 24 : 4;
  });
  Tally t;
  RunAgainstOracle(net, 2000, 7, t);
  ASSERT_FALSE(HasFatalFailure());
  Print(t);
  EXPECT_GT(t.violations.at("mcu_capacity"), 50);
}

}  // namespace
}  // namespace plateau::scheduler::testing
