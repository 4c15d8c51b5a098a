// Regions, priority and preemption on the real Qinghai network.
#include <algorithm>

#include "domain_samples.hpp"

namespace plateau::scheduler::testing {
namespace {

class Preemption : public QinghaiNetwork {
 protected:
  // A routine hub meeting at regional priority: department + one Haidong county, straight over
  // hub-haidong.
  BookingId RoutineOnHaidongUplink(int k, std::string profile = "hd-2m") {
    BookingRequest r = Meeting("例会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]},
                               At(0, 9), 120, std::move(profile));
    r.priority = Priority::kRegional;
    return Book(r);
  }
  static BookingRequest Urgent(std::vector<std::string> venues, std::string profile = "hd-2m") {
    BookingRequest r = Meeting("紧急会议", std::move(venues), At(0, 10), 60, std::move(profile));
    r.preempt = true;
    return r;
  }
  static std::vector<BookingId> Ids(const std::vector<Bump>& bumps) {
    std::vector<BookingId> ids;
    for (const Bump& b : bumps) ids.push_back(b.booking);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
};

TEST_F(Preemption, ProvincialRequestBumpsTheRegionalMeetingHoldingACounty) {
  const BookingId regional =
      Book(Regional(Meeting("海东农牧会", {"haidong", "minhe", "ledu"}, At(0, 9), 120), "haidong"));
  const BookingId other =
      Book(Regional(Meeting("西宁会", {"xining", "datong"}, At(0, 9), 120), "xining"));
  const AdmissionDecision d = Try(Urgent({"hall-1", "minhe"}));
  ASSERT_TRUE(d.admitted.has_value());
  ASSERT_EQ(d.admitted->bumped.size(), 1u);
  EXPECT_EQ(d.admitted->bumped[0].booking, regional);
  EXPECT_NE(d.admitted->bumped[0].booking, other);
  EXPECT_NE(d.admitted->bumped[0].reason.find("紧急会议"), std::string::npos);
  EXPECT_NE(d.admitted->bumped[0].reason.find("provincial"), std::string::npos);
}

TEST_F(Preemption, WithoutPreemptAProvincialRequestIsRefusedLikeAnyOther) {
  Book(Regional(Meeting("海东农牧会", {"haidong", "minhe"}, At(0, 9), 120), "haidong"));
  BookingRequest r = Urgent({"hall-1", "minhe"});
  r.preempt = false;
  const AdmissionDecision d = Try(r);
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_EQ(d.refused->violations[0].code, "venue_busy");
}

TEST_F(Preemption, NeverBumpsAnotherProvincialMeeting) {
  Book(Meeting("省长办公会", {"hall-2", "minhe"}, At(0, 9), 120));
  const AdmissionDecision d = Try(Urgent({"hall-1", "minhe"}));
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_EQ(d.refused->violations[0].code, "venue_busy");
}

TEST_F(Preemption, BumpsOnlyTheLatestCreatedMeetingOnTheFullUplink) {
  std::vector<BookingId> ids;
  for (int k = 0; k < 5; ++k) ids.push_back(RoutineOnHaidongUplink(k));  // 6145 of 6400
  BookingRequest later = Meeting("下午会", {kDepartments[6], "hualong"}, At(0, 14), 60);
  later.priority = Priority::kRegional;
  Book(later);  // not in the way: later in the day
  const AdmissionDecision d = Try(Urgent({"hall-1", "xunhua"}));
  ASSERT_TRUE(d.admitted.has_value());
  EXPECT_EQ(Ids(d.admitted->bumped), std::vector<BookingId>{ids[4]});
}

TEST_F(Preemption, SkipsProvincialMeetingsWhenPickingWhomToBump) {
  std::vector<BookingId> ids;
  for (int k = 0; k < 3; ++k) ids.push_back(RoutineOnHaidongUplink(k));
  for (int k = 3; k < 5; ++k)
    Book(Meeting("省级会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]}, At(0, 9),
                 120));
  const AdmissionDecision d = Try(Urgent({"hall-1", "xunhua"}));
  ASSERT_TRUE(d.admitted.has_value());
  EXPECT_EQ(Ids(d.admitted->bumped), std::vector<BookingId>{ids[2]});
}

TEST_F(Preemption, BumpsOnlyTheMeetingsNeeded) {
  // 4 x hd-2m + 1 x sd-1m = 5618 on hub-haidong. An hd-8m request (1995) must free 1213 kbit/s.
  // Latest-created first would take the sd-1m meeting (702, not enough) and then the next one;
  // the final pass gives the sd-1m meeting back because bumping the other alone suffices.
  std::vector<BookingId> ids;
  for (int k = 0; k < 5; ++k) ids.push_back(RoutineOnHaidongUplink(k, k == 4 ? "sd-1m" : "hd-2m"));
  const AdmissionDecision d = Try(Urgent({"hall-1", "haidong"}, "hd-8m"));
  ASSERT_TRUE(d.admitted.has_value());
  EXPECT_EQ(Ids(d.admitted->bumped), std::vector<BookingId>{ids[3]});
}

TEST_F(Preemption, RefusesWhenEvenBumpingEveryRegionalMeetingWouldNotDo) {
  for (int k = 0; k < 5; ++k)
    Book(Meeting("省级会" + std::to_string(k), {kDepartments[k], kHaidongCounties[k]}, At(0, 9),
                 120));
  const AdmissionDecision d = Try(Urgent({"hall-1", "xunhua"}));
  ASSERT_TRUE(d.refused.has_value());
  EXPECT_NE(FindViolation(*d.refused, "link_capacity", "hub-haidong", "up"), nullptr);
}

TEST_F(Preemption, ARegionalMeetingBumpedForItsVenueIsNotAlsoCountedOnLinks) {
  // The regional meeting holding minhe is bumped; with it gone the link has room as well.
  for (int k = 0; k < 4; ++k) RoutineOnHaidongUplink(k);
  BookingRequest holder = Meeting("民和会", {kDepartments[5], "xunhua"}, At(0, 9), 120);
  holder.priority = Priority::kRegional;
  const BookingId h = Book(holder);  // 5 streams on hub-haidong now
  const AdmissionDecision d = Try(Urgent({"hall-1", "xunhua"}));
  ASSERT_TRUE(d.admitted.has_value());
  EXPECT_EQ(Ids(d.admitted->bumped), std::vector<BookingId>{h});
}

TEST_F(Preemption, ABumpedMeetingFreesItsVenueForTheNextRequest) {
  Book(Regional(Meeting("海东会", {"haidong", "minhe"}, At(0, 9), 120), "haidong"));
  Book(Urgent({"hall-1", "minhe"}));  // Book marks the bumped booking
  EXPECT_EQ(calendar_[0].state, BookingState::kBumped);
  EXPECT_TRUE(Try(Regional(Meeting("海东会(改)", {"haidong", "pingan"}, At(0, 9), 120), "haidong"))
                  .admitted);
}

}  // namespace
}  // namespace plateau::scheduler::testing
