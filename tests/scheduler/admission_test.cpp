// Admission on the real Qinghai network: the sweep, set-up buffers, refusals and alternatives.
#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

class Admission : public QinghaiNetwork {};
class Alternatives : public QinghaiNetwork {};

TEST_F(Admission, AdmitsProvinceWideMeetingWithCascadeAndEveryLinkWithinBudget) {
  const AdmissionDecision d = Try(Meeting("全省视频会议", AllVenues(net_), At(0, 9), 120));
  ASSERT_TRUE(d.admitted.has_value());
  EXPECT_FALSE(d.refused.has_value());
  EXPECT_EQ(d.admitted->plan.cascades.size(), 8u);
  EXPECT_TRUE(d.admitted->bumped.empty());
  for (const LinkLoad& l : d.admitted->plan.links) {
    const Link* link = net_.topology().FindLink(l.link);
    EXPECT_LE(l.up_kbps, link->usable_up_kbps()) << l.link;
    EXPECT_LE(l.down_kbps, link->usable_down_kbps()) << l.link;
  }
}

TEST_F(Admission, RefusesProvinceWideMeetingWithoutCascadeOnHaidongUplink) {
  BookingRequest r = Meeting("全省视频会议", AllVenues(net_), At(0, 9), 120);
  r.cascade = CascadeMode::kOff;
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_FALSE(d.admitted.has_value());
  for (const char* dir : {"up", "down"}) {
    const Violation* v = FindViolation(*d.refused, "link_capacity", "hub-haidong", dir);
    ASSERT_NE(v, nullptr) << dir;
    EXPECT_EQ(v->needed, 8603);
    EXPECT_EQ(v->available, 6400);
    EXPECT_EQ(v->at, At(0, 8, 45));  // the set-up buffer counts
    EXPECT_NE(v->message.find("hub-haidong"), std::string::npos);
  }
  // Among others: Haixi (9 streams), Hainan (6), Golog and Yushu (7 each).
  EXPECT_EQ(FindViolation(*d.refused, "link_capacity", "hub-haixi", "up")->needed, 9 * 1229);
  EXPECT_NE(FindViolation(*d.refused, "link_capacity", "hub-hainan", "up"), nullptr);
  EXPECT_EQ(FindViolation(*d.refused, "link_capacity", "hub-xining", "up"), nullptr);  // 4 fit
  EXPECT_EQ(d.refused->violations.size(), 2u * 5u);
  // The cheapest change is to cascade; no later start helps a meeting too big for the network.
  ASSERT_FALSE(d.refused->alternatives.empty());
  EXPECT_EQ(d.refused->alternatives[0].kind, "cascade");
  EXPECT_EQ(d.refused->alternatives[0].cascade, CascadeMode::kAuto);
  EXPECT_EQ(FindAlternative(*d.refused, "start"), nullptr);
}

TEST_F(Admission, RefusesOverlappingMeetingThatIncludesABookedCountyAsVenueBusy) {
  const BookingId first = Book(Meeting("春耕动员会", {"hall-1", "minhe"}, At(0, 9), 120));
  const AdmissionDecision d = Try(Meeting("防汛会商", {"hall-2", "minhe", "ledu"}, At(0, 10), 120));
  ASSERT_TRUE(d.refused.has_value());
  ASSERT_FALSE(d.refused->violations.empty());
  const Violation& v = d.refused->violations[0];
  EXPECT_EQ(v.code, "venue_busy");
  EXPECT_EQ(v.venue, "minhe");
  EXPECT_EQ(v.other_booking, first);
  EXPECT_EQ(v.other_title, "春耕动员会");
  EXPECT_EQ(v.at, At(0, 9, 45));
  EXPECT_EQ(FindViolation(*d.refused, "venue_busy", "ledu"), nullptr);
  // A venue conflict is not solved by a lower profile; the same meeting fits after the first.
  EXPECT_EQ(FindAlternative(*d.refused, "profile"), nullptr);
  const Alternative* later = FindAlternative(*d.refused, "start");
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->start, At(0, 11, 15));
}

TEST_F(Admission, SetUpBufferIsCountedForAdmission) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 60));  // busy 08:45-10:00
  BookingRequest b = Meeting("B", {"hall-2", "minhe"}, At(0, 10, 10), 60);
  b.setup_seconds = 15 * kMinute;  // busy from 09:55
  const AdmissionDecision refused = Try(b);
  ASSERT_TRUE(refused.refused.has_value());
  EXPECT_EQ(refused.refused->violations[0].code, "venue_busy");
  EXPECT_EQ(refused.refused->violations[0].at, At(0, 9, 55));
  b.setup_seconds = 10 * kMinute;  // busy from 10:00: back to back is fine
  EXPECT_TRUE(Try(b).admitted.has_value());
}

TEST_F(Admission, RefusesSixthMeetingOverHaidongUplink) {
  // Five meetings of a department with one Haidong county each: each county connects straight
  // to the hub, one hd-2m stream each way on hub-haidong (5 x 1229 = 6145 of 6400).
  for (int k = 0; k < 5; ++k)
    Book(Meeting("专题会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]}, At(0, 9),
                 120 + 10 * k));
  const AdmissionDecision d = Try(Meeting("第六个会", {kDepartments[5], "xunhua"}, At(0, 10), 60));
  ASSERT_TRUE(d.refused.has_value());
  const Violation* up = FindViolation(*d.refused, "link_capacity", "hub-haidong", "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->needed, 6 * 1229);
  EXPECT_EQ(up->available, 6400);
  EXPECT_EQ(up->at, At(0, 9, 45));
  EXPECT_NE(FindViolation(*d.refused, "link_capacity", "hub-haidong", "down"), nullptr);
  EXPECT_EQ(d.refused->violations.size(), 2u);
  // sd-1m would still not fit (6145 + 702 > 6400); the first meeting ends at 11:00.
  EXPECT_EQ(FindAlternative(*d.refused, "profile"), nullptr);
  ASSERT_NE(FindAlternative(*d.refused, "start"), nullptr);
  EXPECT_EQ(FindAlternative(*d.refused, "start")->start, At(0, 11, 15));
}

TEST_F(Admission, RefusesHd8mOnACountyLink) {
  const AdmissionDecision d = Try(Meeting("会", {"hall-1", "minhe"}, At(0, 9), 60, "hd-8m"));
  ASSERT_TRUE(d.refused.has_value());
  const Violation* v = FindViolation(*d.refused, "link_capacity", "haidong-minhe", "up");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->needed, 1995);
  EXPECT_EQ(v->available, 1600);
  EXPECT_EQ(FindViolation(*d.refused, "link_capacity", "hub-haidong"), nullptr);
  ASSERT_FALSE(d.refused->alternatives.empty());
  EXPECT_EQ(d.refused->alternatives[0].kind, "profile");
  EXPECT_EQ(d.refused->alternatives[0].profile, "hd-2m");
}

TEST_F(Admission, RefusesMeetingBeyondASubcentreMcusPorts) {
  net_ = LoadQinghai([](config::Config& c) {
    for (auto& m : c.topology.mcus)
      if (m.id == "mcu-haidong") m.ports = 4;
  });
  const BookingRequest big =
      Regional(Meeting("海东全体", {"haidong", "pingan", "minhe", "ledu", "huzhu"}, At(0, 9), 60),
               "haidong");
  AdmissionDecision d = Try(big);
  ASSERT_TRUE(d.refused.has_value());
  ASSERT_EQ(d.refused->violations.size(), 1u);
  EXPECT_EQ(d.refused->violations[0].code, "mcu_capacity");
  EXPECT_EQ(d.refused->violations[0].mcu, "mcu-haidong");
  EXPECT_EQ(d.refused->violations[0].needed, 5);
  EXPECT_EQ(d.refused->violations[0].available, 4);
  EXPECT_TRUE(d.refused->alternatives.empty());  // too big for the MCU at any time

  Book(Regional(Meeting("A", {"haidong", "pingan", "minhe"}, At(0, 9), 60), "haidong"));
  d = Try(Regional(Meeting("B", {"ledu", "huzhu"}, At(0, 9, 30), 60), "haidong"));
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_EQ(d.refused->violations[0].code, "mcu_capacity");
  EXPECT_EQ(d.refused->violations[0].needed, 5);
  ASSERT_NE(FindAlternative(*d.refused, "start"), nullptr);
  EXPECT_EQ(FindAlternative(*d.refused, "start")->start, At(0, 10, 15));
}

TEST_F(Admission, BumpedAndCancelledBookingsHoldNothing) {
  Booking bumped = Stored(7, Meeting("已被挤占", {"hall-1", "minhe"}, At(0, 9), 120), net_);
  bumped.state = BookingState::kBumped;
  Booking cancelled = Stored(8, Meeting("已取消", {"hall-2", "ledu"}, At(0, 9), 120), net_);
  cancelled.state = BookingState::kCancelled;
  calendar_ = {bumped, cancelled};
  EXPECT_TRUE(Try(Meeting("新会", {"finance", "minhe", "ledu"}, At(0, 9), 60)).admitted);
}

TEST_F(Admission, EditingABookingIsCheckedAgainstEveryOtherBookingButNotItself) {
  const BookingId a = Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 120));
  Book(Meeting("B", {"hall-2", "ledu"}, At(0, 13), 60));
  BookingRequest moved = calendar_[0].request;
  moved.start = At(0, 10);
  moved.end = At(0, 12);
  EXPECT_TRUE(Try(moved, a).admitted);
  EXPECT_TRUE(Try(moved).refused);  // as a new booking it would clash with A itself
  moved.venues.push_back("ledu");
  moved.end = At(0, 13);  // now the set-up of B (12:45) overlaps
  const AdmissionDecision d = Try(moved, a);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(d.refused->violations[0].venue, "ledu");
  EXPECT_EQ(d.refused->violations[0].other_title, "B");
}

TEST_F(Admission, RefusesWeeklyMeetingWhenItsThirdOccurrenceClashes) {
  const BookingId clash = Book(Meeting("专项督查", {"hall-1", "minhe"}, At(14, 9), 60));
  BookingRequest weekly = Meeting("周例会", {"hall-2", "minhe"}, At(0, 9, 30), 60);
  weekly.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 4, 0, {}};
  AdmissionDecision d = Try(weekly);
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_EQ(d.refused->violations[0].code, "venue_busy");
  EXPECT_EQ(d.refused->violations[0].other_booking, clash);
  EXPECT_EQ(d.refused->violations[0].at, At(14, 9, 15));
  // Two meetings at minhe would also mean two streams on its county link (2412 > 1600).
  EXPECT_EQ(FindViolation(*d.refused, "link_capacity", "haidong-minhe", "up")->at, At(14, 9, 15));
  EXPECT_EQ(d.refused->violations.size(), 3u);
  // The whole series moves: the earliest start where every occurrence fits.
  const Alternative* later = FindAlternative(*d.refused, "start");
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->start, At(0, 10, 15));
  BookingRequest moved = weekly;
  moved.end += later->start - moved.start;
  moved.start = later->start;
  EXPECT_TRUE(Try(moved).admitted);

  weekly.recurrence->cancelled = {At(14, 9, 30)};
  EXPECT_TRUE(Try(weekly).admitted);
}

TEST_F(Admission, AnExistingDailySeriesBlocksEachOfItsDays) {
  BookingRequest daily = Meeting("早调度", {"hall-1", "minhe"}, At(0, 8), 30);
  daily.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 0, At(4, 8), {At(2, 8)}};
  const BookingId series = Book(daily);
  for (int day = 0; day < 7; ++day) {
    SCOPED_TRACE(day);
    const AdmissionDecision d = Try(Meeting("会", {"minhe", "ledu"}, At(day, 8, 15), 30));
    const bool blocked = day <= 4 && day != 2;
    EXPECT_EQ(d.refused.has_value(), blocked);
    if (blocked) {
      EXPECT_EQ(d.refused->violations[0].other_booking, series);
    }
  }
}

TEST_F(Admission, IntervalEndPointsAreHalfOpen) {
  BookingRequest a = Meeting("A", {"hall-1", "minhe"}, At(0, 9), 60);
  a.setup_seconds = 0;
  Book(a);
  BookingRequest b = Meeting("B", {"hall-2", "minhe"}, At(0, 10), 60);
  b.setup_seconds = 0;
  EXPECT_TRUE(Try(b).admitted);
  b.start -= 1;
  const AdmissionDecision d = Try(b);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(d.refused->violations[0].at, At(0, 10) - 1);
  EXPECT_EQ(FindAlternative(*d.refused, "start")->start, At(0, 10));  // exact, not a grid
}

TEST_F(Alternatives, SuggestedCascadeReallyFits) {
  BookingRequest r = Meeting("全省会", AllVenues(net_), At(0, 9), 120);
  r.cascade = CascadeMode::kOff;
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused);
  ASSERT_EQ(d.refused->alternatives.size(), 1u);
  r.cascade = d.refused->alternatives[0].cascade;
  EXPECT_TRUE(Try(r).admitted);
}

TEST_F(Alternatives, SuggestsTheBestLowerProfileThatFitsAndItReallyFits) {
  // hub-haidong: four hd-2m meetings and one sd-1m meeting = 4 x 1229 + 702 = 5618 of 6400.
  for (int k = 0; k < 5; ++k)
    Book(Meeting("会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]}, At(0, 9), 120,
                 k == 4 ? "sd-1m" : "hd-2m"));
  BookingRequest r = Meeting("海东汇报", {"hall-1", "haidong"}, At(0, 9), 60, "hd-8m");
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(FindViolation(*d.refused, "link_capacity", "hub-haidong", "up")->needed, 5618 + 1995);
  const Alternative* p = FindAlternative(*d.refused, "profile");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->profile, "sd-1m");  // hd-2m (5618 + 1229 = 6847) does not fit either
  EXPECT_EQ(p->cascade, CascadeMode::kAuto);
  r.profile = p->profile;
  EXPECT_TRUE(Try(r).admitted);
}

TEST_F(Alternatives, OrdersChangesByPictureQualityThenCascading) {
  // Haixi's nine venues without cascading need 9 streams on hub-haixi (11061 > 6400): cascading
  // at the requested hd-2m fits and costs no quality, so it is the one offered.
  std::vector<std::string> venues = {"hall-1", "haixi",   "delingha", "golmud",    "ulan",
                                     "dulan",  "tianjun", "lenghu",   "da-qaidam", "mangnai"};
  BookingRequest r = Meeting("海西会", venues, At(0, 9), 60);
  r.cascade = CascadeMode::kOff;
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused);
  ASSERT_EQ(d.refused->alternatives.size(), 1u);
  EXPECT_EQ(d.refused->alternatives[0].kind, "cascade");
  // At hd-8m no county can be served (1995 > 1600), cascading or not. hd-2m without cascading
  // does not fit; hd-2m with cascading does, and beats sd-1m without (which fits: 9 x 702).
  r.profile = "hd-8m";
  const AdmissionDecision d8 = Try(r);
  ASSERT_TRUE(d8.refused);
  ASSERT_EQ(d8.refused->alternatives.size(), 1u);
  EXPECT_EQ(d8.refused->alternatives[0].kind, "profile");
  EXPECT_EQ(d8.refused->alternatives[0].profile, "hd-2m");
  EXPECT_EQ(d8.refused->alternatives[0].cascade, CascadeMode::kAuto);
  r.profile = "hd-2m";
  r.cascade = CascadeMode::kAuto;
  EXPECT_TRUE(Try(r).admitted);
  r.profile = "sd-1m";
  r.cascade = CascadeMode::kOff;
  EXPECT_TRUE(Try(r).admitted);
}

TEST_F(Alternatives, EarliestStartIsExactAndReallyFits) {
  Book(Meeting("A", {"hall-1", "minhe"}, At(0, 9), 95));       // ends 10:35
  Book(Meeting("B", {"hall-2", "minhe"}, At(0, 11), 60));      // set-up from 10:45
  Book(Meeting("C", {"finance", "minhe"}, At(0, 13, 7), 60));  // set-up from 12:52, ends 14:07
  // 60 min + 15 min set-up: does not fit 10:35-10:45, nor 12:00-12:52; fits from 14:07.
  BookingRequest r = Meeting("D", {"education", "minhe"}, At(0, 9, 30), 60);
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused);
  const Alternative* later = FindAlternative(*d.refused, "start");
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->start, At(0, 14, 22));
  const int64_t len = r.end - r.start;
  r.start = later->start;
  r.end = r.start + len;
  EXPECT_TRUE(Try(r).admitted);
  r.start -= kMinute;
  r.end -= kMinute;
  EXPECT_TRUE(Try(r).refused);
  // 30 minutes + 15 minutes of set-up fit the 52-minute gap between B and C's set-up.
  BookingRequest shorter = Meeting("E", {"education", "minhe"}, At(0, 9, 30), 30);
  const AdmissionDecision d2 = Try(shorter);
  ASSERT_TRUE(d2.refused);
  EXPECT_EQ(FindAlternative(*d2.refused, "start")->start, At(0, 12, 15));
}

TEST_F(Alternatives, NoStartIsOfferedWhenNothingFitsWithinSevenDays) {
  BookingRequest daily = Meeting("全天值守", {"hall-1", "minhe"}, At(0, 0), 23 * 60);
  daily.setup_seconds = 0;
  daily.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 10, 0, {}};
  Book(daily);  // minhe is free only 23:00-24:00 each day
  const AdmissionDecision d = Try(Meeting("会", {"hall-2", "minhe"}, At(0, 9), 120));
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(FindAlternative(*d.refused, "start"), nullptr);
  // A 45-minute meeting with its 15-minute set-up fits the nightly hour.
  const AdmissionDecision d2 = Try(Meeting("短会", {"hall-2", "minhe"}, At(0, 9), 45));
  ASSERT_TRUE(d2.refused);
  EXPECT_EQ(FindAlternative(*d2.refused, "start")->start, At(0, 23, 15));
}

}  // namespace
}  // namespace plateau::scheduler::testing
