// LinkTimeline and FindFreeSlots on the real Qinghai network.
#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

class LinkTimelineTest : public QinghaiNetwork {};
class FreeSlots : public QinghaiNetwork {};

std::vector<std::tuple<Instant, int64_t, int64_t>> Points(const std::vector<LinkSample>& s) {
  std::vector<std::tuple<Instant, int64_t, int64_t>> out;
  for (const LinkSample& p : s) out.emplace_back(p.at, p.up_kbps, p.down_kbps);
  return out;
}

TEST_F(LinkTimelineTest, StepsAtEveryChangeOfReservedKbps) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));           // hub-haidong 08:45-11:00
  Book(Meeting("B", {"hall-2", "ledu"}, At(0, 10), 120, "sd-1m"));  // 09:45-12:00
  Book(Meeting("C", {"finance", "pingan"}, At(0, 12), 60));         // 11:45-13:00
  const auto expected = std::vector<std::tuple<Instant, int64_t, int64_t>>{
      {At(0, 8), 0, 0},
      {At(0, 8, 45), 1229, 1229},
      {At(0, 9, 45), 1229 + 702, 1229 + 702},
      {At(0, 11), 702, 702},
      {At(0, 11, 45), 702 + 1229, 702 + 1229},
      {At(0, 12), 1229, 1229},
      {At(0, 13), 0, 0},
  };
  EXPECT_EQ(Points(LinkTimeline(net_, "hub-haidong", At(0, 8), At(0, 14), calendar_)), expected);
  EXPECT_EQ(Points(LinkTimeline(net_, "hub-haidong", At(0, 8), At(0, 14), Agenda(net_, calendar_))),
            expected);
}

TEST_F(LinkTimelineTest, StartsWithTheLoadAtFromAndStopsBeforeTo) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));
  const auto pts = Points(LinkTimeline(net_, "haidong-minhe", At(0, 10), At(0, 11), calendar_));
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(pts[0], std::make_tuple(At(0, 10), int64_t{1229}, int64_t{1229}));
}

TEST_F(LinkTimelineTest, IgnoresBumpedBookingsAndUnknownLinks) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));
  calendar_[0].state = BookingState::kBumped;
  const auto pts = Points(LinkTimeline(net_, "hub-haidong", At(0, 8), At(0, 14), calendar_));
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(std::get<1>(pts[0]), 0);
  EXPECT_TRUE(LinkTimeline(net_, "nowhere", At(0, 8), At(0, 14), calendar_).empty());
  EXPECT_TRUE(LinkTimeline(net_, "hub-haidong", At(0, 14), At(0, 8), calendar_).empty());
}

TEST_F(LinkTimelineTest, ExpandsRecurringBookings) {
  BookingRequest daily = Meeting("早会", {"hall-1", "minhe"}, At(0, 8), 30);
  daily.setup_seconds = 0;
  daily.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 3, 0, {}};
  Book(daily);
  const auto pts = Points(LinkTimeline(net_, "hub-haidong", At(0, 0), At(3, 0), calendar_));
  ASSERT_EQ(pts.size(), 7u);
  EXPECT_EQ(std::get<0>(pts[5]), At(2, 8));
  EXPECT_EQ(std::get<0>(pts[6]), At(2, 8, 30));
}

TEST_F(FreeSlots, ReturnsTheEarliestBackToBackSlotsAroundABookedVenue) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));  // minhe busy 08:45-11:00
  const BookingRequest shape = Meeting("?", {"hall-2", "minhe"}, 0, 60);
  const std::vector<Slot> slots = FindFreeSlots(net_, shape, At(0, 8), 7 * kHour, 3, calendar_);
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].start, At(0, 11, 15));
  EXPECT_EQ(slots[0].end, At(0, 12, 15));
  EXPECT_EQ(slots[1].start, At(0, 12, 15));
  EXPECT_EQ(slots[2].start, At(0, 13, 15));
  // The same from the Agenda; each slot really admits the meeting.
  const Agenda agenda(net_, calendar_);
  const std::vector<Slot> again = FindFreeSlots(net_, shape, At(0, 8), 7 * kHour, 3, agenda);
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(again[i].start, slots[i].start);
    BookingRequest r = Meeting("slot", shape.venues, slots[i].start, 60);
    EXPECT_TRUE(Admit(net_, r, agenda).admitted);
  }
}

TEST_F(FreeSlots, StayWithinTheHorizon) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));
  const BookingRequest shape = Meeting("?", {"hall-2", "minhe"}, 0, 60);
  const std::vector<Slot> slots = FindFreeSlots(net_, shape, At(0, 8), 5 * kHour, 10, calendar_);
  ASSERT_EQ(slots.size(), 1u);  // 12:15-13:15 would end after 13:00
  EXPECT_EQ(slots[0].start, At(0, 11, 15));
  EXPECT_TRUE(FindFreeSlots(net_, shape, At(0, 8), 5 * kHour, 0, calendar_).empty());
}

TEST_F(FreeSlots, NoneForAMeetingTheNetworkCannotCarry) {
  BookingRequest shape = Meeting("全省会", AllVenues(net_), 0, 60);
  shape.cascade = CascadeMode::kOff;
  EXPECT_TRUE(FindFreeSlots(net_, shape, At(0, 8), 7 * kDay, 5, calendar_).empty());
  shape.cascade = CascadeMode::kAuto;
  const std::vector<Slot> slots = FindFreeSlots(net_, shape, At(0, 8), 7 * kDay, 5, calendar_);
  ASSERT_EQ(slots.size(), 5u);
  EXPECT_EQ(slots[0].start, At(0, 8));
}

TEST_F(FreeSlots, FindsTheFirstSlotWhereLinkCapacityAllows) {
  for (int k = 0; k < 5; ++k)
    Book(Meeting("会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]}, At(0, 9),
                 120 + 30 * k));  // the first ends at 11:00
  const BookingRequest shape = Meeting("?", {"hall-1", "xunhua"}, 0, 60);
  const std::vector<Slot> slots = FindFreeSlots(net_, shape, At(0, 9), kDay, 1, calendar_);
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].start, At(0, 11, 15));
}

}  // namespace
}  // namespace plateau::scheduler::testing
