// The real Qinghai topology from configs/qinghai.toml, as the scheduler will see it.
#include <gtest/gtest.h>

#include "plateau/scheduler/app/topology_json.hpp"
#include "plateau/scheduler/config/config.hpp"

namespace plateau::scheduler {
namespace {

std::string QinghaiPath() {
  const char* root = std::getenv("PLATEAU_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/configs/qinghai.toml";
}

class QinghaiTopology : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = scheduler::config::LoadFile(QinghaiPath());
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto t = scheduler::config::BuildTopology(*c);
    ASSERT_TRUE(t.ok()) << t.error().message;
    topo_.emplace(std::move(t.value()));
  }
  std::optional<Topology> topo_;
};

int CountKind(const Topology& t, SiteKind k) {
  int n = 0;
  for (const Site& s : t.sites()) n += s.kind == k;
  return n;
}

TEST_F(QinghaiTopology, HasTheProvincesVenues) {
  EXPECT_EQ(CountKind(*topo_, SiteKind::kHub), 1);
  EXPECT_EQ(CountKind(*topo_, SiteKind::kHall), 2);
  EXPECT_EQ(CountKind(*topo_, SiteKind::kSubcentre), 9);
  EXPECT_EQ(CountKind(*topo_, SiteKind::kDepartment), 12);
  EXPECT_EQ(CountKind(*topo_, SiteKind::kCounty), 42);
  EXPECT_EQ(topo_->Venues().size(), 65u);
}

TEST_F(QinghaiTopology, HaidongHasSixCountiesOnTwoMegabitLinks) {
  auto kids = topo_->Children("haidong");
  ASSERT_EQ(kids.size(), 6u);
  for (const Site* k : kids) {
    EXPECT_EQ(k->kind, SiteKind::kCounty);
    const Link* l = topo_->Uplink(k->id);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->down_kbps, 2000);
    EXPECT_EQ(l->usable_down_kbps(), 1600);
  }
  const Link* up = topo_->Uplink("haidong");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->from, "hub");
  EXPECT_EQ(up->up_kbps, 8000);
  EXPECT_EQ(up->usable_up_kbps(), 6400);
}

TEST_F(QinghaiTopology, CountyPathCrossesItsPrefecture) {
  auto path = topo_->PathToHub("minhe");
  ASSERT_EQ(path.size(), 3u);
  EXPECT_EQ(path[0]->id, "minhe");
  EXPECT_EQ(path[1]->id, "haidong");
  EXPECT_EQ(path[2]->id, "hub");
  EXPECT_EQ(topo_->SubcentreOf("minhe")->id, "haidong");
}

TEST_F(QinghaiTopology, EverySubcentreAndTheHubRunAnMcu) {
  ASSERT_NE(topo_->McuAt("hub"), nullptr);
  for (const Site& s : topo_->sites()) {
    if (s.kind == SiteKind::kSubcentre) {
      EXPECT_NE(topo_->McuAt(s.id), nullptr) << s.id;
    }
  }
}

TEST_F(QinghaiTopology, NumbersAreDialableAndInTheirSegment) {
  const Site* golmud = topo_->FindSite("golmud");
  ASSERT_NE(golmud, nullptr);
  EXPECT_EQ(golmud->name, "格尔木市");
  EXPECT_EQ(topo_->FindByNumber(golmud->number), golmud);
  EXPECT_EQ(golmud->number.rfind(topo_->FindSite("haixi")->segment, 0), 0u);
}

TEST_F(QinghaiTopology, JsonViewHasTheDocumentedShape) {
  auto j = app::TopologyToJson(*topo_);
  ASSERT_EQ(j["sites"].size(), 66u);
  for (const auto& s : j["sites"]) {
    for (const char* k : {"id", "name", "kind", "parent", "number"}) {
      EXPECT_TRUE(s.contains(k)) << k;
    }
  }
  for (const auto& l : j["links"]) {
    for (const char* k : {"id", "from", "to", "up_kbps", "down_kbps", "usable_percent"}) {
      EXPECT_TRUE(l.contains(k)) << k;
    }
  }
  for (const auto& m : j["mcus"]) {
    for (const char* k : {"id", "site", "ports"}) {
      EXPECT_TRUE(m.contains(k)) << k;
    }
  }
}

}  // namespace
}  // namespace plateau::scheduler
