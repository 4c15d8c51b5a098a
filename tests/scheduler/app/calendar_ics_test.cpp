// RFC 5545 output: folding, escaping, time zones, recurrences, a venue's whole calendar.
#include "plateau/scheduler/app/calendar_ics.hpp"

#include <gtest/gtest.h>

#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "support/process.hpp"
#include "support/qinghai.hpp"

namespace plateau::scheduler::app {
namespace {

// Physical lines (without their CRLF); fails the test on a bare LF or a missing final CRLF.
std::vector<std::string> PhysicalLines(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t crlf = text.find("\r\n", i);
    EXPECT_NE(crlf, std::string::npos) << "text does not end in CRLF";
    if (crlf == std::string::npos) break;
    std::string line = text.substr(i, crlf - i);
    EXPECT_EQ(line.find('\n'), std::string::npos) << "bare LF in: " << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << "bare CR in: " << line;
    out.push_back(std::move(line));
    i = crlf + 2;
  }
  return out;
}

// Content lines with folding undone (RFC 5545 3.1).
std::vector<std::string> Unfold(const std::string& text) {
  std::vector<std::string> out;
  for (std::string& l : PhysicalLines(text)) {
    if (!l.empty() && l[0] == ' ' && !out.empty())
      out.back() += l.substr(1);
    else
      out.push_back(std::move(l));
  }
  return out;
}

bool StartsUtf8Character(const std::string& s, size_t i) {
  return i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

TEST(IcsFolding, ShortLinesStayWhole) {
  EXPECT_EQ(FoldIcsLine("SUMMARY:hello"), "SUMMARY:hello\r\n");
  const std::string exactly75(75, 'a');
  EXPECT_EQ(FoldIcsLine(exactly75), exactly75 + "\r\n");
  EXPECT_EQ(FoldIcsLine(std::string(76, 'a')), std::string(75, 'a') + "\r\n a\r\n");
}

TEST(IcsFolding, ChineseTextFoldsAt75OctetsBetweenCharacters) {
  std::string line = "SUMMARY:";
  for (int i = 0; i < 60; ++i) line += "青海省人民政府";  // 3 octets each
  const std::string folded = FoldIcsLine(line);
  const std::vector<std::string> lines = PhysicalLines(folded);
  ASSERT_GT(lines.size(), 10u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 75u) << i;
    if (i > 0) {
      ASSERT_EQ(lines[i][0], ' ');
      EXPECT_TRUE(StartsUtf8Character(lines[i], 1)) << "line " << i << " splits a character";
    }
    // Folding wastes at most two octets (a 3-octet character that did not fit).
    if (i + 1 < lines.size()) {
      EXPECT_GE(lines[i].size(), 73u) << i;
    }
  }
  EXPECT_EQ(Unfold(folded), std::vector<std::string>{line});
}

TEST(IcsText, EscapesBackslashSemicolonCommaAndNewline) {
  EXPECT_EQ(EscapeIcsText("a\\b;c,d\ne"), "a\\\\b\\;c\\,d\\ne");
  EXPECT_EQ(EscapeIcsText("line\r\nnext"), "line\\nnext");
  EXPECT_EQ(EscapeIcsText(std::string("bell\x07")), "bell");
}

class VenueCalendarTest : public ::testing::Test {
 protected:
  void SetUp() override { topology_.emplace(plateau::testing::LoadQinghai().topology()); }

  store::BookingRecord Record(BookingId id, const std::string& title, Instant start) {
    store::BookingRecord r;
    r.booking.id = id;
    r.booking.conference_number = "8000000" + std::to_string(id);
    r.booking.request.title = title;
    r.booking.request.organiser = "省政府办公厅";
    r.booking.request.region = "hub";
    r.booking.request.start = start;
    r.booking.request.end = start + 2 * kHour;
    r.booking.request.venues = {"hall-1", "minhe"};
    r.booking.request.main_venue = "hall-1";
    r.booking.request.profile = "hd-2m";
    r.created_at = r.updated_at = start - kDay;
    return r;
  }

  std::optional<Topology> topology_;
  const Instant nine_ = *ParseRfc3339("2030-03-04T09:00:00+08:00");
};

TEST_F(VenueCalendarTest, ShanghaiTimesRecurrenceExceptionsAndCancelledMeetings) {
  store::BookingRecord weekly = Record(1, "全省安全生产视频会议; 第一季度, 调度", nine_);
  Recurrence rec;
  rec.frequency = Recurrence::Frequency::kWeekly;
  rec.count = 4;
  rec.cancelled = {nine_ + 7 * kDay};
  weekly.booking.request.recurrence = rec;
  store::BookingRecord daily = Record(2, "防汛会商", nine_ + kDay);
  Recurrence until;
  until.frequency = Recurrence::Frequency::kDaily;
  until.interval = 2;
  until.until = nine_ + 9 * kDay;
  daily.booking.request.recurrence = until;
  store::BookingRecord cancelled = Record(3, "取消的会议", nine_ + 2 * kDay);
  cancelled.booking.state = BookingState::kCancelled;

  const std::string ics = VenueCalendar(*topology_, *topology_->FindSite("minhe"),
                                        {weekly, daily, cancelled}, CalendarSettings{}, nine_);
  for (const std::string& l : PhysicalLines(ics)) EXPECT_LE(l.size(), 75u) << l;
  const std::vector<std::string> lines = Unfold(ics);
  auto has = [&](const std::string& l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
  };
  EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
  EXPECT_EQ(lines.back(), "END:VCALENDAR");
  EXPECT_TRUE(has("VERSION:2.0"));
  EXPECT_TRUE(has("TZID:Asia/Shanghai"));
  EXPECT_TRUE(has("TZOFFSETTO:+0800"));
  EXPECT_TRUE(has("X-WR-CALNAME:" + topology_->FindSite("minhe")->name));
  EXPECT_TRUE(has("DTSTART;TZID=Asia/Shanghai:20300304T090000"));
  EXPECT_TRUE(has("DTEND;TZID=Asia/Shanghai:20300304T110000"));
  EXPECT_TRUE(has("RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=4"));
  EXPECT_TRUE(has("EXDATE;TZID=Asia/Shanghai:20300311T090000"));
  // UNTIL is in UTC when DTSTART carries a TZID (RFC 5545 3.3.10).
  EXPECT_TRUE(has("RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20300313T010000Z"));
  EXPECT_TRUE(has("SUMMARY:全省安全生产视频会议\\; 第一季度\\, 调度"));
  EXPECT_TRUE(has("UID:booking-3@plateau"));
  EXPECT_TRUE(has("STATUS:CANCELLED"));
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT"), 3);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "STATUS:CONFIRMED"), 2);
}

TEST_F(VenueCalendarTest, UtcWhenTheOffsetIsZero) {
  CalendarSettings utc{"UTC", 0};
  const std::string ics = VenueCalendar(*topology_, *topology_->FindSite("minhe"),
                                        {Record(1, "会议", nine_)}, utc, nine_);
  const std::vector<std::string> lines = Unfold(ics);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "DTSTART:20300304T010000Z"), lines.end());
  EXPECT_EQ(ics.find("VTIMEZONE"), std::string::npos);
}

TEST_F(VenueCalendarTest, EmptyCalendarIsStillValid) {
  const std::string ics =
      VenueCalendar(*topology_, *topology_->FindSite("minhe"), {}, CalendarSettings{}, nine_);
  const std::vector<std::string> lines = Unfold(ics);
  EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
  EXPECT_EQ(lines.back(), "END:VCALENDAR");
  EXPECT_EQ(ics.find("VEVENT"), std::string::npos);
}

}  // namespace
}  // namespace plateau::scheduler::app
