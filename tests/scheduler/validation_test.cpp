// ValidateRequest: every problem names its field; a sub-centre stays inside its own subtree.
#include <algorithm>

#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

class Validation : public QinghaiNetwork {
 protected:
  BookingRequest Valid() const { return Meeting("常务会", {"hall-1", "minhe"}, At(0, 9), 60); }
  // The errors' "field:code" pairs.
  std::vector<std::string> Problems(const BookingRequest& r) const {
    std::vector<std::string> out;
    for (const FieldError& e : ValidateRequest(net_, r)) {
      out.push_back(e.field + ":" + e.code);
      EXPECT_FALSE(e.message.empty()) << e.field;
    }
    return out;
  }
  using V = std::vector<std::string>;
};

TEST_F(Validation, AcceptsAValidProvincialMeetingOverTheWholeProvince) {
  EXPECT_EQ(Problems(Valid()), V{});
  BookingRequest all = Meeting("全省会", AllVenues(net_), At(0, 9), 120);
  all.preempt = true;
  EXPECT_EQ(Problems(all), V{});
}

TEST_F(Validation, NamesMissingTitleAndOrganiser) {
  BookingRequest r = Valid();
  r.title = " ";
  r.organiser = "";
  EXPECT_EQ(Problems(r), (V{"title:missing_title", "organiser:missing_organiser"}));
}

TEST_F(Validation, NamesEndBeforeStart) {
  BookingRequest r = Valid();
  r.end = r.start;
  EXPECT_EQ(Problems(r), V{"end:end_before_start"});
  r.end = r.start + 8 * kDay;
  EXPECT_EQ(Problems(r), V{"end:too_long"});
  r.end = r.start + kHour;
  r.setup_seconds = -1;
  EXPECT_EQ(Problems(r), V{"setup_seconds:bad_setup"});
}

TEST_F(Validation, NamesEveryBadVenueByItsPosition) {
  BookingRequest r = Valid();
  r.venues = {"hall-1", "atlantis", "hub", "hall-1"};
  EXPECT_EQ(Problems(r),
            (V{"venues[1]:unknown_venue", "venues[2]:not_a_venue", "venues[3]:duplicate_venue"}));
  r.venues = {};
  EXPECT_EQ(Problems(r), (V{"venues:empty_venues", "main_venue:main_not_in_venues"}));
}

TEST_F(Validation, MainVenueMustBeAmongTheVenues) {
  BookingRequest r = Valid();
  r.main_venue = "hall-2";
  EXPECT_EQ(Problems(r), V{"main_venue:main_not_in_venues"});
}

TEST_F(Validation, ARegionsBookingMayNotReachOutsideItsSubtree) {
  BookingRequest r = Regional(
      Meeting("海东会", {"haidong", "minhe", "hall-1", "datong"}, At(0, 9), 60), "haidong");
  EXPECT_EQ(Problems(r), (V{"venues[2]:outside_region", "venues[3]:outside_region"}));
  r.venues = {"haidong", "minhe"};
  EXPECT_EQ(Problems(r), V{});
  r.region = "minhe";  // a county is not a region
  EXPECT_EQ(Problems(r), V{"region:unknown_region"});
  r.region = "party-committee";
  EXPECT_EQ(Problems(r), (V{"venues[0]:outside_region", "venues[1]:outside_region"}));
}

TEST_F(Validation, ProvincialPriorityAndPreemptBelongToTheProvince) {
  BookingRequest r = Regional(Meeting("海东会", {"haidong", "minhe"}, At(0, 9), 60), "haidong");
  r.priority = Priority::kProvincial;
  EXPECT_EQ(Problems(r), V{"priority:bad_priority"});
  r.priority = Priority::kRegional;
  r.preempt = true;
  EXPECT_EQ(Problems(r), V{"preempt:preempt_needs_provincial"});
}

TEST_F(Validation, NamesUnknownProfileAndLayout) {
  BookingRequest r = Valid();
  r.profile = "4k";
  r.layout = "5x5";
  EXPECT_EQ(Problems(r), (V{"profile:unknown_profile", "layout:unknown_layout"}));
  for (const char* l : {"auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"}) {
    r = Valid();
    r.layout = l;
    EXPECT_EQ(Problems(r), V{}) << l;
  }
}

TEST_F(Validation, RecurrenceNeedsEitherCountOrUntilAndAtMost366Occurrences) {
  BookingRequest r = Valid();
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 0, 0, {}};
  EXPECT_EQ(Problems(r), V{"recurrence:bad_recurrence"});
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 3, At(30, 0), {}};
  EXPECT_EQ(Problems(r), V{"recurrence:bad_recurrence"});
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 0, 3, 0, {}};
  EXPECT_EQ(Problems(r), V{"recurrence.interval:bad_recurrence"});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 367, 0, {}};
  EXPECT_EQ(Problems(r), V{"recurrence.count:too_many_occurrences"});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 366, 0, {}};
  EXPECT_EQ(Problems(r), V{});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 0, At(366, 9), {}};  // 367 days
  EXPECT_EQ(Problems(r), V{"recurrence.until:too_many_occurrences"});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 0, At(365, 9), {}};
  EXPECT_EQ(Problems(r), V{});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 0, At(-1, 9), {}};
  EXPECT_EQ(Problems(r), V{"recurrence.until:bad_recurrence"});
}

// Issue 9.10: a count-based series starting late in year 9999 used to be accepted and then list
// occurrences the API itself refuses to read (year 10000 once written at +08:00).
TEST_F(Validation, TheLastOccurrenceEndsBeforeYear10000) {
  constexpr Instant kDec1Of9999 = 253399622400;  // 9999-12-01T00:00:00Z
  BookingRequest r = Meeting("年末例会", {"hall-1", "minhe"}, kDec1Of9999, 60);
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 4, 0, {}};  // ends 9999-12-22
  EXPECT_EQ(Problems(r), V{});
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 5, 0, {}};  // ends 9999-12-29 01:00
  EXPECT_EQ(Problems(r), V{});
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 6, 0, {}};  // 10000-01-05
  EXPECT_EQ(Problems(r), V{"recurrence.count:bad_time"});
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 300, 0, {}};
  EXPECT_EQ(Problems(r), V{"recurrence.count:bad_time"});
  // An until-bounded series whose last occurrence starts in time but ends too late.
  BookingRequest late = Meeting("跨年会", {"hall-1"}, kDec1Of9999 + 28 * kDay + 23 * kHour, 120);
  late.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 0, late.start, {}};
  EXPECT_EQ(Problems(late), V{"recurrence.until:bad_time"});
}

TEST_F(Validation, CancelledOccurrencesMustBeOccurrenceStarts) {
  BookingRequest r = Valid();
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 2, 3, 0, {At(14, 9), At(7, 9)}};
  EXPECT_EQ(Problems(r), V{"recurrence.cancelled[1]:bad_recurrence"});  // every other week
  r.recurrence->cancelled = {At(0, 9), At(14, 9), At(28, 9)};
  EXPECT_EQ(Problems(r), V{"recurrence.cancelled:bad_recurrence"});  // nothing left
  r.recurrence->cancelled = {At(42, 9)};                             // past the third occurrence
  EXPECT_EQ(Problems(r), V{"recurrence.cancelled[0]:bad_recurrence"});
}

TEST_F(Validation, OccurrencesOfASeriesMayNotOverlap) {
  BookingRequest r = Meeting("长会", {"hall-1"}, At(0, 0), 23 * 60 + 50);
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 1, 3, 0, {}};
  EXPECT_EQ(Problems(r), V{"recurrence.interval:bad_recurrence"});  // 15 min set-up overlaps
  r.setup_seconds = 10 * kMinute;
  EXPECT_EQ(Problems(r), V{});
}

TEST(OccurrencesTest, WeeklyCountExpandsEveryOccurrenceWithItsSetUpBuffer) {
  BookingRequest r = Meeting("周例会", {"hall-1"}, At(0, 9), 60);
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 4, 0, {}};
  const std::vector<Interval> occ = Occurrences(r);
  ASSERT_EQ(occ.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(occ[k].from, At(7 * k, 8, 45));
    EXPECT_EQ(occ[k].to, At(7 * k, 10));
  }
}

TEST(OccurrencesTest, DailyUntilIncludesTheLastStartAtOrBeforeUntil) {
  BookingRequest r = Meeting("早会", {"hall-1"}, At(0, 8), 30);
  r.setup_seconds = 0;
  r.recurrence = Recurrence{Recurrence::Frequency::kDaily, 2, 0, At(6, 8), {}};
  std::vector<Interval> occ = Occurrences(r);
  ASSERT_EQ(occ.size(), 4u);  // days 0, 2, 4, 6
  EXPECT_EQ(occ.back().from, At(6, 8));
  r.recurrence->until = At(6, 8) - 1;
  EXPECT_EQ(Occurrences(r).size(), 3u);
}

TEST(OccurrencesTest, CancelledOccurrencesAreSkipped) {
  BookingRequest r = Meeting("周例会", {"hall-1"}, At(0, 9), 60);
  r.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 4, 0, {At(7, 9), At(21, 9)}};
  const std::vector<Interval> occ = Occurrences(r);
  ASSERT_EQ(occ.size(), 2u);
  EXPECT_EQ(occ[0].to, At(0, 10));
  EXPECT_EQ(occ[1].to, At(14, 10));
}

TEST(OccurrencesTest, AOneOffMeetingIsOneIntervalFromItsSetUp) {
  BookingRequest r = Meeting("会", {"hall-1"}, At(0, 9), 60);
  r.setup_seconds = 20 * kMinute;
  const std::vector<Interval> occ = Occurrences(r);
  ASSERT_EQ(occ.size(), 1u);
  EXPECT_EQ(occ[0].from, At(0, 8, 40));
  EXPECT_EQ(occ[0].to, At(0, 10));
  EXPECT_EQ(FormatUtc(At(0, 8, 40)), "2026-03-02T00:40:00Z");
}

}  // namespace
}  // namespace plateau::scheduler::testing
