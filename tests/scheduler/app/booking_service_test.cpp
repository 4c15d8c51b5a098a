// BookingService on the real Qinghai network and a real SQLite file, with a fixed clock.
#include "plateau/scheduler/app/booking_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "support/process.hpp"
#include "support/qinghai.hpp"

namespace plateau::scheduler::app {
namespace {

Instant At(const char* rfc3339) {
  return *ParseRfc3339(rfc3339);
}

class BookingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    network_.emplace(plateau::testing::LoadQinghai());
    Reopen();
  }

  void Reopen() {
    service_.reset();
    store_.reset();
    auto store = store::SqliteBookingStore::Open(dir_.path() + "/plateau.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    service_ = std::make_unique<BookingService>(*network_, *store_, clock_, metrics_);
  }

  BookingRequest Meeting(std::vector<std::string> venues,
                         const char* start = "2030-03-04T09:00:00+08:00", int64_t hours = 2) {
    BookingRequest q;
    q.title = "全省经济工作会议";
    q.organiser = "省政府办公厅";
    q.region = "hub";
    q.start = At(start);
    q.end = q.start + hours * kHour;
    q.venues = std::move(venues);
    q.main_venue = q.venues.empty() ? "" : q.venues.front();
    q.profile = "hd-2m";
    q.priority = Priority::kProvincial;
    return q;
  }

  size_t Stored() { return service_->List({})->size(); }
  size_t EventCount() { return service_->Events({})->size(); }

  plateau::testing::TempDir dir_;
  std::optional<Network> network_;
  std::unique_ptr<store::SqliteBookingStore> store_;
  metrics::Registry metrics_;  // declared before the service, which counts in it
  std::unique_ptr<BookingService> service_;
  ManualClock clock_{At("2030-03-01T00:00:00+08:00") * 1000};
};

TEST_F(BookingServiceTest, CreateAssignsIdConferenceNumberPlanAndRecordsAnEvent) {
  auto a = service_->Create(Meeting({"hall-1", "minhe", "ledu"}));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->booking.id, 1);
  EXPECT_EQ(a->booking.conference_number, "80000001");
  EXPECT_EQ(a->booking.state, BookingState::kConfirmed);
  EXPECT_FALSE(a->booking.plan.links.empty());
  EXPECT_EQ(a->created_at, clock_.UnixSeconds());
  auto b = service_->Create(Meeting({"hall-2"}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->booking.conference_number, "80000002");
  auto events = *service_->Events({});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "created");
  EXPECT_EQ(events[0].booking, 1);
}

TEST_F(BookingServiceTest, InvalidRequestsNameTheFieldAndStoreNothing) {
  struct Case {
    BookingRequest request;
    std::string field, code;
  };
  BookingRequest unknown = Meeting({"hall-1", "atlantis"});
  BookingRequest backwards = Meeting({"hall-1"});
  backwards.end = backwards.start - kHour;
  BookingRequest empty = Meeting({});
  BookingRequest main_missing = Meeting({"hall-1", "minhe"});
  main_missing.main_venue = "ledu";
  BookingRequest outside = Meeting({"haidong", "minhe", "datong"});
  outside.region = "haidong";
  outside.priority = Priority::kRegional;
  BookingRequest past = Meeting({"hall-1"}, "2030-02-27T09:00:00+08:00");
  for (const Case& c :
       {Case{unknown, "venues[1]", "unknown_venue"}, Case{backwards, "end", "end_before_start"},
        Case{empty, "venues", "empty_venues"},
        Case{main_missing, "main_venue", "main_not_in_venues"},
        Case{outside, "venues[2]", "outside_region"}, Case{past, "end", "in_past"}}) {
    auto r = service_->Create(c.request);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().kind, ServiceError::Kind::kInvalid);
    EXPECT_EQ(r.error().fields.front().field, c.field);
    EXPECT_EQ(r.error().code, c.code);
  }
  EXPECT_EQ(Stored(), 0u);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(BookingServiceTest, RefusalNamesTheBusyVenueAndStoresNothing) {
  auto first = service_->Create(Meeting({"hall-1", "minhe"}));
  ASSERT_TRUE(first.ok());
  auto second = service_->Create(Meeting({"hall-2", "minhe"}, "2030-03-04T10:00:00+08:00"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ServiceError::Kind::kRefused);
  EXPECT_EQ(second.error().code, "venue_busy");
  const Violation& v = second.error().refusal.violations.front();
  EXPECT_EQ(v.venue, "minhe");
  EXPECT_EQ(v.other_booking, first->booking.id);
  EXPECT_EQ(Stored(), 1u);
  EXPECT_EQ(EventCount(), 1u);
  // Both requests are counted by outcome in the service's registry (this test's alone).
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("plateau_booking_requests_total{outcome=\"admitted\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("plateau_booking_requests_total{outcome=\"refused\"} 1\n"), std::string::npos)
      << text;
}

TEST_F(BookingServiceTest, EditIsReadmittedAsAWholeWithoutCountingItsOwnReservation) {
  auto a = service_->Create(Meeting({"hall-1", "minhe"}));
  ASSERT_TRUE(a.ok());
  BookingRequest later = a->booking.request;
  later.title = "改期";
  later.end += kHour;
  auto edited = service_->Replace(a->booking.id, later);
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  EXPECT_EQ(edited->booking.request.title, "改期");
  EXPECT_EQ(edited->booking.conference_number, a->booking.conference_number);
  EXPECT_EQ(edited->created_at, a->created_at);

  // An edit that collides with another booking is refused and leaves the booking as it was.
  auto b = service_->Create(Meeting({"hall-2", "ledu"}));
  ASSERT_TRUE(b.ok());
  BookingRequest grab = edited->booking.request;
  grab.venues.push_back("ledu");
  auto refused = service_->Replace(a->booking.id, grab);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "venue_busy");
  EXPECT_EQ(service_->Get(a->booking.id)->booking.request.venues,
            (std::vector<std::string>{"hall-1", "minhe"}));
  auto events = *service_->Events({});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].kind, "updated");
}

TEST_F(BookingServiceTest, UnknownAndCancelledBookingsCannotBeEdited) {
  EXPECT_EQ(service_->Replace(42, Meeting({"hall-1"})).error().kind, ServiceError::Kind::kNotFound);
  auto a = service_->Create(Meeting({"hall-1"}));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(service_->Cancel(a->booking.id).ok());
  auto r = service_->Replace(a->booking.id, Meeting({"hall-1"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ServiceError::Kind::kConflict);
  EXPECT_EQ(r.error().code, "booking_cancelled");
}

TEST_F(BookingServiceTest, CancellingFreesTheVenuesAndIsIdempotent) {
  auto a = service_->Create(Meeting({"hall-1", "minhe"}));
  ASSERT_TRUE(a.ok());
  auto c = service_->Cancel(a->booking.id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->booking.state, BookingState::kCancelled);
  ASSERT_TRUE(service_->Cancel(a->booking.id).ok());
  EXPECT_EQ(EventCount(), 2u);  // created + one cancelled
  EXPECT_TRUE(service_->Create(Meeting({"hall-1", "minhe"})).ok());
  EXPECT_EQ(service_->Cancel(99).error().kind, ServiceError::Kind::kNotFound);
}

TEST_F(BookingServiceTest, CancellingOneOccurrenceOfAWeeklyMeeting) {
  BookingRequest weekly = Meeting({"hall-1", "minhe"});
  weekly.recurrence = Recurrence{Recurrence::Frequency::kWeekly, 1, 3, 0, {}};
  auto a = service_->Create(weekly);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(service_->OccurrencesOf(a->booking.request).size(), 3u);
  // Another meeting in week 2 collides...
  BookingRequest week2 = Meeting({"hall-2", "minhe"}, "2030-03-11T09:00:00+08:00");
  EXPECT_EQ(service_->Create(week2).error().code, "venue_busy");
  // ...until that occurrence is cancelled.
  auto c = service_->CancelOccurrence(a->booking.id, At("2030-03-11T09:00:00+08:00"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(service_->OccurrencesOf(c->booking.request).size(), 2u);
  EXPECT_TRUE(service_->Create(week2).ok());
  EXPECT_EQ(service_->CancelOccurrence(a->booking.id, At("2030-03-12T09:00:00+08:00")).error().code,
            "unknown_occurrence");
  auto single = service_->Create(Meeting({"hall-2"}, "2030-03-20T09:00:00+08:00"));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(
      service_->CancelOccurrence(single->booking.id, single->booking.request.start).error().code,
      "not_recurring");
  auto events = *service_->Events({});
  EXPECT_EQ(events[1].kind, "occurrence_cancelled");
}

TEST_F(BookingServiceTest, ProvincialPreemptionBumpsTheRegionalBookingWithAnEvent) {
  BookingRequest regional = Meeting({"haidong", "minhe"});
  regional.region = "haidong";
  regional.priority = Priority::kRegional;
  regional.title = "海东地区防汛会商";
  auto r = service_->Create(regional);
  ASSERT_TRUE(r.ok()) << r.error().message;

  BookingRequest provincial = Meeting({"hall-1", "minhe"});
  EXPECT_EQ(service_->Create(provincial).error().code, "venue_busy");
  provincial.preempt = true;
  auto p = service_->Create(provincial);
  ASSERT_TRUE(p.ok()) << p.error().message;

  auto bumped = *service_->Get(r->booking.id);
  EXPECT_EQ(bumped.booking.state, BookingState::kBumped);
  EXPECT_EQ(bumped.booking.bumped_by, p->booking.id);
  EXPECT_FALSE(bumped.booking.bumped_reason.empty());
  auto events = *service_->Events({});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, "bumped");
  EXPECT_EQ(events[2].booking, r->booking.id);
  EXPECT_EQ(events[2].by_booking, p->booking.id);

  // A bumped booking edited to another time is confirmed again.
  BookingRequest moved = bumped.booking.request;
  moved.start += kDay;
  moved.end += kDay;
  auto again = service_->Replace(r->booking.id, moved);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->booking.state, BookingState::kConfirmed);
  EXPECT_TRUE(again->booking.bumped_reason.empty());
}

TEST_F(BookingServiceTest, EverythingSurvivesReopeningTheStore) {
  auto a = service_->Create(Meeting({"hall-1", "minhe", "ledu"}));
  ASSERT_TRUE(a.ok());
  Reopen();
  auto got = service_->Get(a->booking.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->booking.plan.links.size(), a->booking.plan.links.size());
  EXPECT_EQ(got->booking.request.venues, a->booking.request.venues);
  EXPECT_EQ(service_->Create(Meeting({"hall-2", "minhe"})).error().code, "venue_busy");
  EXPECT_EQ(service_->Create(Meeting({"hall-2"}))->booking.id, 2);
}

TEST_F(BookingServiceTest, ConcurrentRequestsForOneVenueAdmitExactlyOne) {
  constexpr int kThreads = 8;
  std::atomic<int> admitted{0}, busy{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      BookingRequest q = Meeting({"minhe"});
      q.title = "会议 " + std::to_string(i);
      auto r = service_->Create(q);
      if (r.ok())
        ++admitted;
      else if (r.error().code == "venue_busy")
        ++busy;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
  EXPECT_EQ(busy.load(), kThreads - 1);
  EXPECT_EQ(Stored(), 1u);
}

TEST_F(BookingServiceTest, LinkTimelineShowsTheReservation) {
  auto a = service_->Create(Meeting({"hall-1", "minhe"}));
  ASSERT_TRUE(a.ok());
  auto t = service_->LinkTimeline("haidong-minhe", At("2030-03-04T00:00:00+08:00"),
                                  At("2030-03-05T00:00:00+08:00"));
  ASSERT_TRUE(t.ok());
  int64_t peak = 0;
  for (const LinkSample& s : *t) peak = std::max(peak, s.up_kbps);
  int64_t planned = 0;
  for (const LinkLoad& l : a->booking.plan.links)
    if (l.link == "haidong-minhe") planned = l.up_kbps;
  EXPECT_GT(planned, 0);
  EXPECT_EQ(peak, planned);
  EXPECT_EQ(service_->LinkTimeline("nowhere", 0, 1).error().kind, ServiceError::Kind::kNotFound);
  EXPECT_EQ(service_->LinkTimeline("haidong-minhe", 10, 5).error().code, "end_before_start");
}

TEST_F(BookingServiceTest, AvailabilityStartsAfterTheBookedMeeting) {
  ASSERT_TRUE(service_->Create(Meeting({"hall-1", "minhe"})).ok());
  AvailabilityQuery q;
  q.venues = {"hall-2", "minhe"};
  q.profile = "hd-2m";
  q.duration = 2 * kHour;
  q.from = At("2030-03-04T08:00:00+08:00");
  q.limit = 3;
  auto slots = service_->Availability(q);
  ASSERT_TRUE(slots.ok()) << slots.error().message;
  ASSERT_FALSE(slots->empty());
  // The first free slot begins once minhe's meeting is over and the set-up buffer fits.
  EXPECT_GE(slots->front().start, At("2030-03-04T11:15:00+08:00"));
  q.venues = {"atlantis"};
  EXPECT_EQ(service_->Availability(q).error().fields.front().field, "venues[0]");
}

TEST_F(BookingServiceTest, VenueTokensVerifyUntilReplaced) {
  auto t1 = service_->IssueVenueToken("minhe");
  ASSERT_TRUE(t1.ok());
  EXPECT_TRUE(service_->VerifyVenueToken("minhe", *t1));
  EXPECT_FALSE(service_->VerifyVenueToken("ledu", *t1));
  EXPECT_FALSE(service_->VerifyVenueToken("minhe", "pvt_guess"));
  auto t2 = service_->IssueVenueToken("minhe");
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(service_->VerifyVenueToken("minhe", *t1));
  EXPECT_TRUE(service_->VerifyVenueToken("minhe", *t2));
  Reopen();
  EXPECT_TRUE(service_->VerifyVenueToken("minhe", *t2));
  EXPECT_EQ(service_->IssueVenueToken("hub").error().code, "unknown_venue");
  EXPECT_EQ(service_->IssueVenueToken("atlantis").error().code, "unknown_venue");
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(BookingServiceTest, VenueCalendarListsItsMeetings) {
  ASSERT_TRUE(service_->Create(Meeting({"hall-1", "minhe"})).ok());
  ASSERT_TRUE(service_->Create(Meeting({"hall-2", "ledu"})).ok());
  auto ics = service_->VenueCalendar("minhe");
  ASSERT_TRUE(ics.ok());
  EXPECT_NE(ics->find("UID:booking-1@plateau"), std::string::npos);
  EXPECT_EQ(ics->find("UID:booking-2@plateau"), std::string::npos);
  EXPECT_EQ(service_->VenueCalendar("atlantis").error().code, "unknown_venue");
}

}  // namespace
}  // namespace plateau::scheduler::app
