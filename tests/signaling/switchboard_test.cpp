// The Switchboard's session rules with an injected clock, on the real scheduler: BookingService on
// the Qinghai network with a SQLite file, bound through the real BookingVenueAuthenticator and
// BookingConferenceDirectory. Connections are recording peers (the WebSocket transport's place);
// every message the Switchboard sends must pass the strict server-message parser.
#include "plateau/signaling/switchboard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "plateau/common/metrics.hpp"
#include "plateau/scheduler/app/booking_service.hpp"
#include "plateau/scheduler/app/rfc3339.hpp"
#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/store/sqlite_booking_store.hpp"
#include "plateau/signaling/scheduler_binding.hpp"
#include "support/process.hpp"
#include "support/qinghai.hpp"

namespace plateau::signaling {
namespace {

using nlohmann::json;
namespace sch = plateau::scheduler;

int64_t AtMs(const char* rfc3339) {
  return *sch::app::ParseRfc3339(rfc3339) * 1000;
}

class RecordingPeer final : public listener::WebSocketPeer {
 public:
  void Send(std::string text) override {
    std::lock_guard lock(mu_);
    auto parsed = protocol::ParseServerMessage(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.failure().message;
    messages_.push_back(json::parse(text));
  }
  void Close(listener::CloseCode code, std::string reason) override {
    std::lock_guard lock(mu_);
    closed_ = true;
    code_ = static_cast<int>(code);
    reason_ = reason;
  }
  std::string remote() const override { return "127.0.0.1:1"; }

  std::vector<json> Of(const std::string& type) const {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& m : messages_)
      if (m["type"] == type) out.push_back(m);
    return out;
  }
  std::optional<json> Last(const std::string& type) const {
    auto all = Of(type);
    if (all.empty()) return std::nullopt;
    return all.back();
  }
  void Clear() {
    std::lock_guard lock(mu_);
    messages_.clear();
  }
  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  int code() const {
    std::lock_guard lock(mu_);
    return code_;
  }
  std::string reason() const {
    std::lock_guard lock(mu_);
    return reason_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<json> messages_;
  bool closed_ = false;
  int code_ = 0;
  std::string reason_;
};

// Records what the Switchboard asks of the media side and answers offers from another thread,
// the way the conference layer will (webrtcbin answers on a GStreamer thread).
class RecordingNegotiator final : public MediaNegotiator {
 public:
  void Attach(MediaEvents* events) override { events_ = events; }
  void ConferenceOpened(const Meeting& m) override {
    Log("opened " + m.conference);
    std::lock_guard lock(mu_);
    offer_threads_.push_back(std::this_thread::get_id());
  }
  void ConferenceEnded(const Meeting& m) override { Log("ended " + m.conference); }
  void Offer(const MediaSeat& seat, std::string sdp, AnswerCallback done) override {
    Log("offer " + seat.venue + " seat " + std::to_string(seat.seat));
    {
      std::lock_guard lock(mu_);
      offer_threads_.push_back(std::this_thread::get_id());
    }
    last_seat = seat;
    if (blocker) blocker();
    if (hold_answers) {
      held = std::move(done);
      return;
    }
    std::thread([done, sdp] { done("answer-to:" + sdp); }).join();
  }
  Status Answer(const MediaSeat& seat, std::string) override {
    Log("answer " + seat.venue);
    return Status::Ok();
  }
  Status Candidate(const MediaSeat& seat, std::optional<protocol::IceCandidate> c) override {
    Log("candidate " + seat.venue + (c ? " " + c->candidate : " end"));
    if (c && c->candidate == "bad") return Error{"bad_candidate", "cannot parse the candidate"};
    return Status::Ok();
  }
  void SeatHeld(const MediaSeat& seat) override { Log("held " + seat.venue); }
  void SeatReleased(const MediaSeat& seat) override { Log("released " + seat.venue); }

  std::vector<std::string> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The threads ConferenceOpened and Offer ran on.
  std::vector<std::thread::id> threads() const {
    std::lock_guard lock(mu_);
    return offer_threads_;
  }
  bool Called(const std::string& call) const {
    auto c = calls();
    return std::find(c.begin(), c.end(), call) != c.end();
  }

  MediaEvents* events_ = nullptr;
  bool hold_answers = false;
  AnswerCallback held;
  std::function<void()> blocker;  // run at the start of Offer (a slow engine)
  MediaSeat last_seat;

 private:
  void Log(std::string s) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(s));
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  std::vector<std::thread::id> offer_threads_;
};

class SwitchboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    network_.emplace(plateau::testing::LoadQinghai());
    auto store = sch::store::SqliteBookingStore::Open(dir_.path() + "/plateau.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    service_ = std::make_unique<sch::app::BookingService>(*network_, *store_, clock_, metrics_);
    auth_ = std::make_unique<BookingVenueAuthenticator>(*service_);
    directory_ = std::make_unique<BookingConferenceDirectory>(*service_);
    // Recording peers do not answer pings: keep them from idling out in tests about other rules.
    SwitchboardSettings settings;
    settings.idle_timeout_ms = 3'600'000;
    Build(settings);
  }

  virtual bool UseRecordingMedia() const { return false; }

  void Build(const SwitchboardSettings& settings) {
    MediaNegotiator& media = UseRecordingMedia() ? static_cast<MediaNegotiator&>(recorder_)
                                                 : static_cast<MediaNegotiator&>(unavailable_);
    board_ = std::make_shared<Switchboard>(settings, clock_, metrics_, *auth_, *directory_, media,
                                           admitted_);
    board_->Start();
  }

  // 09:00-11:00 with the default 15-minute set-up buffer: opens at 08:45.
  int64_t Book(std::vector<std::string> venues) {
    sch::BookingRequest q;
    q.title = "全省防汛工作视频会议";
    q.organiser = "省政府办公厅";
    q.region = "hub";
    q.start = *sch::app::ParseRfc3339("2030-03-04T09:00:00+08:00");
    q.end = q.start + 2 * sch::kHour;
    q.venues = std::move(venues);
    q.main_venue = q.venues.front();
    q.profile = "hd-2m";
    q.priority = sch::Priority::kProvincial;
    auto b = service_->Create(q);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? b->booking.id : 0;
  }

  std::shared_ptr<RecordingPeer> Connect() {
    auto p = std::make_shared<RecordingPeer>();
    board_->OnOpen(p);
    return p;
  }
  // Media calls run on the Switchboard's media executor: wait for them, so what they send back is
  // there when the test looks.
  void Say(const std::shared_ptr<RecordingPeer>& p, const json& m) {
    board_->OnText(p, m.dump());
    board_->WaitForMedia();
  }

  std::string TokenFor(const std::string& venue) {
    auto it = tokens_.find(venue);
    if (it != tokens_.end()) return it->second;
    auto t = service_->IssueVenueToken(venue);
    EXPECT_TRUE(t.ok());
    return tokens_[venue] = *t;
  }

  std::shared_ptr<RecordingPeer> Register(const std::string& venue,
                                          const std::string& resume = "") {
    auto p = Connect();
    json hello = {{"type", "hello"}, {"venue", venue}, {"token", TokenFor(venue)}};
    if (!resume.empty()) hello["resume"] = resume;
    Say(p, hello);
    EXPECT_TRUE(p->Last("registered")) << venue;
    return p;
  }

  std::shared_ptr<RecordingPeer> Joined(const std::string& venue, int64_t booking) {
    auto p = Register(venue);
    Say(p, {{"type", "join"}, {"booking", booking}});
    EXPECT_TRUE(p->Last("joined")) << venue;
    return p;
  }

  void At(const char* rfc3339) { clock_.SetMs(AtMs(rfc3339)); }
  void Advance(int64_t ms) {
    clock_.AdvanceMs(ms);
    board_->Tick();
    board_->WaitForMedia();
  }

  plateau::testing::TempDir dir_;
  ManualClock clock_{AtMs("2030-03-04T08:30:00+08:00")};
  metrics::Registry metrics_;  // the service's and the Switchboard's; declared before them
  std::optional<sch::Network> network_;
  std::unique_ptr<sch::store::SqliteBookingStore> store_;
  std::unique_ptr<sch::app::BookingService> service_;
  std::unique_ptr<BookingVenueAuthenticator> auth_;
  std::unique_ptr<BookingConferenceDirectory> directory_;
  UnavailableMedia unavailable_;
  RecordingNegotiator recorder_;
  AdmittedVenues admitted_;
  std::shared_ptr<Switchboard> board_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(SwitchboardTest, HelloRegistersWithTheTopologyName) {
  auto p = Register("datong");
  auto r = *p->Last("registered");
  EXPECT_EQ(r["name"], "大通县");
  EXPECT_EQ(r["heartbeat_ms"], 10000);
  EXPECT_EQ(board_->registered_venues(), 1u);
}

TEST_F(SwitchboardTest, ThirdWrongTokenCloses) {
  TokenFor("datong");
  auto p = Connect();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(p->closed());
    Say(p, {{"type", "hello"}, {"id", i}, {"venue", "datong"}, {"token", "pvt_wrong"}});
  }
  ASSERT_EQ(p->Of("error").size(), 3u);
  EXPECT_EQ(p->Of("error")[2]["code"], "unauthorized");
  EXPECT_EQ(p->Of("error")[2]["ref"], 2);
  EXPECT_TRUE(p->closed());
  EXPECT_EQ(p->code(), 1008);
  EXPECT_EQ(board_->registered_venues(), 0u);
}

TEST_F(SwitchboardTest, JoinOpensAtStartMinusTheSetUpBuffer) {
  const int64_t id = Book({"datong", "huangzhong"});
  auto p = Register("datong");
  At("2030-03-04T08:44:59+08:00");
  Say(p, {{"type", "join"}, {"booking", id}});
  ASSERT_TRUE(p->Last("error"));
  EXPECT_EQ((*p->Last("error"))["code"], "not_started");
  At("2030-03-04T08:45:00+08:00");
  Say(p, {{"type", "join"}, {"conference", "80000001"}});
  auto j = p->Last("joined");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["booking"], id);
  EXPECT_EQ((*j)["start"], "2030-03-04T01:00:00Z");
  EXPECT_EQ((*j)["seat"], 1);
}

TEST_F(SwitchboardTest, AfterTheEndJoinIsEnded) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T11:00:00+08:00");
  auto p = Register("datong");
  Say(p, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ((*p->Last("error"))["code"], "ended");
}

TEST_F(SwitchboardTest, OnlyBookedOrAdmittedVenuesMayJoin) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto p = Register("huangyuan");
  Say(p, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ((*p->Last("error"))["code"], "not_invited");
  admitted_.Admit(id, "huangyuan");
  Say(p, {{"type", "join"}, {"booking", id}});
  EXPECT_TRUE(p->Last("joined"));
}

TEST_F(SwitchboardTest, ParticipantsSeeEachOtherJoinAndLeave) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  auto jb = *b->Last("joined");
  ASSERT_EQ(jb["participants"].size(), 2u);
  EXPECT_EQ(jb["seat"], 2);
  EXPECT_EQ((*a->Last("participant"))["event"], "joined");
  Say(b, {{"type", "leave"}});
  EXPECT_TRUE(b->Last("left"));
  EXPECT_EQ((*a->Last("participant"))["event"], "left");
  // Joining the same conference twice answers joined again, with the same seat.
  Say(a, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ(a->Of("joined").size(), 2u);
  EXPECT_EQ((*a->Last("joined"))["seat"], 1);
}

// Whether `venue` has its hand up according to the participants of `peer`'s last `joined`.
std::optional<bool> HandInJoined(const RecordingPeer& peer, const std::string& venue) {
  auto j = peer.Last("joined");
  if (!j) return std::nullopt;
  for (const auto& p : (*j)["participants"])
    if (p["venue"] == venue) return p["hand"].get<bool>();
  return std::nullopt;
}

TEST_F(SwitchboardTest, HandNeedsASeat) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto anon = Connect();
  Say(anon, {{"type", "hand"}, {"id", 1}, {"raised", true}});
  EXPECT_EQ((*anon->Last("error"))["code"], "not_registered");
  auto a = Register("datong");
  Say(a, {{"type", "hand"}, {"id", "h1"}, {"raised", true}});
  auto e = a->Last("error");
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "not_joined");
  EXPECT_EQ((*e)["ref"], "h1");
  EXPECT_FALSE(a->Last("hand"));
  Say(a, {{"type", "hand"}, {"id", "h2"}, {"raised", "yes"}});
  EXPECT_EQ((*a->Last("error"))["code"], "bad_message");
  EXPECT_EQ((*a->Last("error"))["field"], "raised");
  // Seated, then left: no seat, no hand.
  Say(a, {{"type", "join"}, {"booking", id}});
  Say(a, {{"type", "leave"}});
  a->Clear();
  Say(a, {{"type", "hand"}, {"raised", true}});
  EXPECT_EQ((*a->Last("error"))["code"], "not_joined");
}

TEST_F(SwitchboardTest, RaisedHandReachesEveryoneInTheConferenceAndLaterJoiners) {
  const int64_t id = Book({"datong", "huangzhong", "huangyuan"});
  const int64_t other = Book({"minhe", "ledu"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  auto elsewhere = Joined("minhe", other);
  auto waiting = Register("huangyuan");  // registered, not seated
  Say(a, {{"type", "hand"}, {"id", "h1"}, {"raised", true}});
  for (auto& p : {a, b}) {
    auto h = p->Last("hand");
    ASSERT_TRUE(h);
    EXPECT_EQ((*h)["conference"], (*a->Last("joined"))["conference"]);
    EXPECT_EQ((*h)["venue"], "datong");
    EXPECT_EQ((*h)["raised"], true);
    EXPECT_FALSE(h->contains("ref"));
  }
  EXPECT_FALSE(a->Last("error"));
  EXPECT_FALSE(elsewhere->Last("hand"));
  EXPECT_FALSE(waiting->Last("hand"));
  // Raising it again is confirmed to the sender only.
  Say(a, {{"type", "hand"}, {"raised", true}});
  EXPECT_EQ(a->Of("hand").size(), 2u);
  EXPECT_EQ(b->Of("hand").size(), 1u);
  // A venue joining later sees the hand in its `joined`, and joins with its own hand down.
  Say(waiting, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ(HandInJoined(*waiting, "datong"), true);
  EXPECT_EQ(HandInJoined(*waiting, "huangyuan"), false);
  EXPECT_EQ((*a->Last("participant"))["participant"]["hand"], false);
  // Lowering it is broadcast too.
  Say(a, {{"type", "hand"}, {"raised", false}});
  for (auto& p : {a, b, waiting}) EXPECT_EQ((*p->Last("hand"))["raised"], false);
  Say(b, {{"type", "join"}, {"booking", id}});  // idempotent join: the snapshot agrees
  EXPECT_EQ(HandInJoined(*b, "datong"), false);
}

TEST_F(SwitchboardTest, HandIsKeptAcrossAResumeAndClearedWhenTheSeatIsReleased) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  Say(a, {{"type", "hand"}, {"raised", true}});
  const json reg = *a->Last("registered");
  board_->OnClose(a);
  auto away = *b->Last("participant");
  EXPECT_EQ(away["event"], "away");
  EXPECT_EQ(away["participant"]["hand"], true);
  auto again = Register("datong", reg["resume_token"]);
  ASSERT_EQ((*again->Last("registered"))["resumed"], true);
  EXPECT_EQ(HandInJoined(*again, "datong"), true);
  auto back = *b->Last("participant");
  EXPECT_EQ(back["event"], "back");
  EXPECT_EQ(back["participant"]["hand"], true);
  // Grace expiry releases the seat: the hand goes with it.
  board_->OnClose(again);
  Advance(30'000);
  EXPECT_EQ((*b->Last("participant"))["event"], "left");
  EXPECT_EQ((*b->Last("participant"))["participant"]["hand"], false);
  auto fresh = Joined("datong", id);
  EXPECT_EQ(HandInJoined(*fresh, "datong"), false);
  // Leave releases it too.
  Say(fresh, {{"type", "hand"}, {"raised", true}});
  Say(fresh, {{"type", "leave"}});
  Say(fresh, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ(HandInJoined(*fresh, "datong"), false);
  EXPECT_EQ((*b->Last("hand"))["raised"], true);  // b saw it raised, then only `left` for it
}

TEST_F(SwitchboardTest, LiveControlLowersAHand) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  Say(b, {{"type", "hand"}, {"raised", true}});
  ASSERT_EQ(a->Of("hand").size(), 1u);
  ASSERT_TRUE(board_->LowerHand(id, "huangzhong"));
  for (auto& p : {a, b}) {
    ASSERT_EQ(p->Of("hand").size(), 2u);
    EXPECT_EQ((*p->Last("hand"))["venue"], "huangzhong");
    EXPECT_EQ((*p->Last("hand"))["raised"], false);
  }
  // Already down: nothing to send.
  ASSERT_TRUE(board_->LowerHand(id, "huangzhong"));
  EXPECT_EQ(a->Of("hand").size(), 2u);
  Say(a, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ(HandInJoined(*a, "huangzhong"), false);
  auto not_seated = board_->LowerHand(id, "huangyuan");
  ASSERT_FALSE(not_seated);
  EXPECT_EQ(not_seated.error().code, "not_joined");
  auto not_open = board_->LowerHand(id + 1000, "datong");
  ASSERT_FALSE(not_open);
  EXPECT_EQ(not_open.error().code, "unknown_conference");
}

TEST_F(SwitchboardTest, HandMessagesCountAgainstTheFloodLimit) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  for (int i = 0; i < 100 && !a->closed(); ++i) Say(a, {{"type", "hand"}, {"raised", i % 2 == 0}});
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(a->reason(), "message rate limit exceeded");
  EXPECT_EQ((*a->Last("error"))["code"], "rate_limited");
  EXPECT_LT(b->Of("hand").size(), 60u);  // the bucket (60, minus hello and join) bounds the echo
}

TEST_F(SwitchboardTest, OpeningConferenceInvitesRegisteredVenuesAndRedialsAtMostThreeTimes) {
  Book({"datong", "huangzhong"});
  At("2030-03-04T08:44:50+08:00");
  auto a = Register("datong");
  board_->Tick();
  EXPECT_TRUE(a->Of("invite").empty());
  clock_.SetMs(AtMs("2030-03-04T08:45:00+08:00"));
  board_->Tick();
  ASSERT_EQ(a->Of("invite").size(), 1u);
  EXPECT_EQ(a->Of("invite")[0]["attempt"], 1);
  EXPECT_EQ(board_->open_conferences(), 1u);
  Advance(5'000);
  EXPECT_EQ(a->Of("invite").size(), 1u);
  Advance(5'000);
  EXPECT_EQ(a->Of("invite").size(), 2u);
  Advance(10'000);
  Advance(10'000);
  Advance(10'000);
  ASSERT_EQ(a->Of("invite").size(), 3u);
  EXPECT_EQ(a->Of("invite")[2]["attempt"], 3);
}

TEST_F(SwitchboardTest, DroppedVenueResumesItsSeatWithinTheGracePeriod) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  const json reg = *a->Last("registered");
  board_->OnClose(a);
  EXPECT_EQ((*b->Last("participant"))["event"], "away");
  EXPECT_EQ(board_->held_seats(), 1u);
  Advance(29'000);
  EXPECT_EQ(board_->held_seats(), 1u);
  auto again = Register("datong", reg["resume_token"]);
  auto r = *again->Last("registered");
  EXPECT_EQ(r["resumed"], true);
  EXPECT_EQ(r["session"], reg["session"]);
  auto j = again->Last("joined");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["seat"], 1);
  EXPECT_EQ((*j)["resumed"], true);
  EXPECT_EQ((*b->Last("participant"))["event"], "back");
  EXPECT_EQ(board_->held_seats(), 0u);
  // The old resume token was rotated away.
  board_->OnClose(again);
  auto stale = Register("datong", reg["resume_token"]);
  EXPECT_EQ((*stale->Last("registered"))["resumed"], false);
}

TEST_F(SwitchboardTest, GraceExpiryFreesTheSeatAndTheVenueIsRedialledWhenBack) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  const json reg = *a->Last("registered");
  board_->OnClose(a);
  Advance(30'000);
  EXPECT_EQ((*b->Last("participant"))["event"], "left");
  EXPECT_EQ(board_->held_seats(), 0u);
  auto again = Register("datong", reg["resume_token"]);
  EXPECT_EQ((*again->Last("registered"))["resumed"], false);
  auto invite = again->Last("invite");
  ASSERT_TRUE(invite);
  EXPECT_EQ((*invite)["booking"], id);
  EXPECT_EQ((*invite)["attempt"], 1);
}

TEST_F(SwitchboardTest, AVenueThatLeftIsNotRedialled) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  a->Clear();
  Say(a, {{"type", "leave"}});
  for (int i = 0; i < 5; ++i) Advance(10'000);
  EXPECT_TRUE(a->Of("invite").empty());
}

TEST_F(SwitchboardTest, ANewHelloReplacesTheOldConnectionAndItsSeat) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  auto a2 = Register("datong");
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(a->reason(), "replaced by a new connection");
  EXPECT_EQ((*a->Last("error"))["code"], "replaced");
  EXPECT_EQ((*b->Last("participant"))["event"], "left");
  EXPECT_TRUE(a2->Last("invite"));  // redialled straight away
  board_->OnClose(a);               // the old transport reports its close later: no effect
  EXPECT_EQ(board_->registered_venues(), 2u);
}

TEST_F(SwitchboardTest, FloodIsRateLimitedThenClosed) {
  auto a = Register("datong");
  for (int i = 0; i < 100 && !a->closed(); ++i) Say(a, {{"type", "ping"}, {"ts", i}});
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(a->reason(), "message rate limit exceeded");
  EXPECT_EQ((*a->Last("error"))["code"], "rate_limited");
  // The bucket holds 60 and refills at 20/s: a paced client is never limited.
  auto b = Register("huangzhong");
  for (int i = 0; i < 200; ++i) {
    clock_.AdvanceMs(50);
    Say(b, {{"type", "ping"}});
  }
  EXPECT_FALSE(b->closed());
  EXPECT_EQ(b->Of("pong").size(), 200u);
}

TEST_F(SwitchboardTest, HeartbeatPingsAndIdleConnectionsAreClosed) {
  Build(SwitchboardSettings{});  // the defaults: ping every 10 s, idle after 30 s
  auto a = Register("datong");
  Advance(10'000);
  ASSERT_EQ(a->Of("ping").size(), 1u);
  Say(a, {{"type", "pong"}});
  Advance(10'000);
  Advance(10'000);
  EXPECT_FALSE(a->closed());
  Advance(10'000);  // 30 s since the pong
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(a->reason(), "idle timeout");
  EXPECT_EQ(a->code(), 1001);
}

TEST_F(SwitchboardTest, ConnectionWithoutHelloIsClosed) {
  auto p = Connect();
  Advance(9'000);
  EXPECT_FALSE(p->closed());
  Advance(1'000);
  EXPECT_TRUE(p->closed());
  EXPECT_EQ((*p->Last("error"))["code"], "hello_timeout");
}

TEST_F(SwitchboardTest, ConferenceEndsAtItsEndTime) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T10:59:00+08:00");
  auto a = Joined("datong", id);
  clock_.SetMs(AtMs("2030-03-04T11:00:00+08:00"));
  board_->Tick();
  auto e = a->Last("ended");
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["reason"], "time");
  EXPECT_EQ(board_->open_conferences(), 0u);
  Say(a, {{"type", "leave"}});
  EXPECT_EQ((*a->Last("error"))["code"], "not_joined");
}

TEST_F(SwitchboardTest, CancellingTheBookingEndsTheOpenConference) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  ASSERT_TRUE(service_->Cancel(id).ok());
  board_->Tick();
  ASSERT_TRUE(a->Last("ended"));
  EXPECT_EQ((*a->Last("ended"))["reason"], "cancelled");
  Say(a, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ((*a->Last("error"))["code"], "ended");
}

TEST_F(SwitchboardTest, OperatorCanEndAConference) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  board_->EndConference(id, "operator");
  EXPECT_EQ((*a->Last("ended"))["reason"], "operator");
}

TEST_F(SwitchboardTest, JoiningASecondConferenceNeedsALeaveFirst) {
  const int64_t first = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", first);
  sch::BookingRequest q;
  q.title = "第二个会议";
  q.organiser = "海东市政府办公室";
  q.region = "hub";
  q.start = *sch::app::ParseRfc3339("2030-03-04T09:00:00+08:00");
  q.end = q.start + sch::kHour;
  q.venues = {"huangyuan"};
  q.main_venue = "huangyuan";
  q.profile = "hd-2m";
  q.priority = sch::Priority::kProvincial;
  auto second = service_->Create(q);
  ASSERT_TRUE(second.ok()) << second.error().message;
  admitted_.Admit(second->booking.id, "datong");
  Say(a, {{"type", "join"}, {"booking", second->booking.id}});
  EXPECT_EQ((*a->Last("error"))["code"], "already_joined");
}

TEST_F(SwitchboardTest, WithoutTheMediaEngineOffersAreRefusedClearly) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Register("datong");
  Say(a, {{"type", "offer"}, {"id", "o0"}, {"sdp", "v=0\r\n"}});
  EXPECT_EQ((*a->Last("error"))["code"], "not_joined");
  Say(a, {{"type", "join"}, {"booking", id}});
  Say(a, {{"type", "offer"}, {"id", "o1"}, {"sdp", "v=0\r\n"}});
  auto e = *a->Last("error");
  EXPECT_EQ(e["code"], "media_unavailable");
  EXPECT_EQ(e["ref"], "o1");
  EXPECT_TRUE(a->Of("answer").empty());
}

class SwitchboardMediaTest : public SwitchboardTest {
 protected:
  bool UseRecordingMedia() const override { return true; }
};

TEST_F(SwitchboardMediaTest, OfferReachesTheNegotiatorForTheSeatAndTheAnswerComesBack) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  EXPECT_TRUE(recorder_.Called("opened 80000001"));
  Say(a, {{"type", "offer"}, {"id", 5}, {"sdp", "v=0 offer"}});
  auto answer = a->Last("answer");
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["sdp"], "answer-to:v=0 offer");
  EXPECT_EQ((*answer)["ref"], 5);
  EXPECT_EQ(recorder_.last_seat.venue, "datong");
  EXPECT_EQ(recorder_.last_seat.seat, 1);
  EXPECT_EQ(recorder_.last_seat.booking, id);
  EXPECT_EQ(recorder_.last_seat.profile, "hd-2m");
  EXPECT_EQ(recorder_.last_seat.peer_address, "127.0.0.1");  // where its signaling comes from
  Say(a, {{"type", "candidate"}, {"candidate", nullptr}});
  EXPECT_TRUE(recorder_.Called("candidate datong end"));
  Say(a,
      {{"type", "candidate"}, {"id", "c"}, {"candidate", {{"candidate", "bad"}, {"sdpMid", "0"}}}});
  EXPECT_EQ((*a->Last("error"))["code"], "bad_candidate");
  EXPECT_EQ((*a->Last("error"))["ref"], "c");
}

TEST_F(SwitchboardMediaTest, SeatLifecycleReachesTheNegotiatorInOrder) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  board_->OnClose(a);
  Advance(30'000);
  clock_.SetMs(AtMs("2030-03-04T11:00:00+08:00"));
  board_->Tick();
  board_->WaitForMedia();
  const std::vector<std::string> expected = {"opened 80000001", "held datong", "released datong",
                                             "ended 80000001"};
  EXPECT_EQ(recorder_.calls(), expected);
}

TEST_F(SwitchboardMediaTest, AnAnswerForASeatThatWasGivenUpIsDropped) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  recorder_.hold_answers = true;
  Say(a, {{"type", "offer"}, {"sdp", "v=0"}});
  Say(a, {{"type", "leave"}});
  Say(a, {{"type", "join"}, {"booking", id}});  // same venue, new seat epoch
  recorder_.held(std::string("late answer"));
  EXPECT_TRUE(a->Of("answer").empty());
}

TEST_F(SwitchboardMediaTest, MediaEventsReachTheSeatedVenues) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  auto outsider = Register("huangyuan");
  ASSERT_NE(recorder_.events_, nullptr);
  recorder_.events_->PublishLayout(
      id, "2",
      {protocol::Tile{"datong", 0, 0, 0.5, 1}, protocol::Tile{"huangzhong", 0.5, 0, 0.5, 1}});
  recorder_.events_->PublishSpeaker(id, "huangzhong");
  recorder_.events_->PublishMuted(id, "datong", true);
  for (auto& p : {a, b}) {
    ASSERT_TRUE(p->Last("layout"));
    EXPECT_EQ((*p->Last("layout"))["tiles"].size(), 2u);
    EXPECT_EQ((*p->Last("speaker"))["venue"], "huangzhong");
    EXPECT_EQ((*p->Last("muted"))["muted"], true);
  }
  EXPECT_FALSE(outsider->Last("layout"));
  // A later joiner is told the current layout.
  Say(a, {{"type", "offer"}, {"sdp", "v=0"}});
  recorder_.events_->SendCandidate(
      recorder_.last_seat,
      protocol::IceCandidate{"candidate:9 1 udp 1 127.0.0.1 5000 typ host", "0", 0, std::nullopt});
  EXPECT_TRUE(a->Last("candidate"));
  EXPECT_FALSE(b->Last("candidate"));
  Say(b, {{"type", "join"}, {"booking", id}});
  EXPECT_EQ((*b->Last("joined"))["layout"], "2");
}

// A venue that joins after the layout and the speaker were published learns both from `joined`,
// not only at the next change.
TEST_F(SwitchboardMediaTest, ALateJoinerIsToldTheTilesAndTheCurrentSpeaker) {
  const int64_t id = Book({"datong", "huangzhong", "huangyuan"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  ASSERT_NE(recorder_.events_, nullptr);
  EXPECT_EQ((*b->Last("joined"))["tiles"], json::array());  // nothing published yet
  EXPECT_FALSE((*b->Last("joined")).contains("speaker"));
  recorder_.events_->PublishLayout(
      id, "2",
      {protocol::Tile{"datong", 0, 0, 0.5, 1}, protocol::Tile{"huangzhong", 0.5, 0, 0.5, 1}});
  recorder_.events_->PublishSpeaker(id, "huangzhong");
  auto late = Joined("huangyuan", id);
  const json joined = *late->Last("joined");
  EXPECT_EQ(joined["layout"], "2");
  ASSERT_EQ(joined["tiles"].size(), 2u);
  EXPECT_EQ(joined["tiles"][1]["venue"], "huangzhong");
  EXPECT_EQ(joined["tiles"][1]["x"], 0.5);
  EXPECT_EQ(joined["speaker"], "huangzhong");
}

// The negotiator's calls (the first offer builds a conference's pipelines: seconds) run on the
// Switchboard's own media executor, never on the thread that delivered the message.
TEST_F(SwitchboardMediaTest, MediaCallsRunOnTheMediaExecutorNotOnTheCallersThread) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  Say(a, {{"type", "offer"}, {"sdp", "v=0 a"}});
  Say(b, {{"type", "offer"}, {"sdp", "v=0 b"}});
  ASSERT_TRUE(a->Last("answer"));
  ASSERT_TRUE(b->Last("answer"));
  const auto threads = recorder_.threads();
  ASSERT_EQ(threads.size(), 3u);  // opened, offer, offer
  for (const auto& t : threads) {
    EXPECT_NE(t, std::this_thread::get_id());
    EXPECT_EQ(t, board_->media_thread());
  }
}

// While a media call is slow (a conference starting), the Switchboard keeps serving: the slow
// call itself waits (with a deadline) to see another venue's ping answered and its join handled.
TEST_F(SwitchboardMediaTest, ASlowMediaCallDoesNotHoldUpOtherVenues) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Register("huangzhong");
  std::atomic<bool> served_meanwhile{false};
  recorder_.blocker = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (b->Last("pong") && b->Last("joined")) {
        served_meanwhile = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  board_->OnText(a, json{{"type", "offer"}, {"sdp", "v=0"}}.dump());  // the slow call
  board_->OnText(b, json{{"type", "ping"}, {"ts", 7}}.dump());
  board_->OnText(b, json{{"type", "join"}, {"booking", id}}.dump());
  board_->WaitForMedia();
  recorder_.blocker = nullptr;
  EXPECT_TRUE(served_meanwhile);
  EXPECT_TRUE(a->Last("answer"));
}

// A venue taken off the booking (PATCH) while seated loses its seat and is told why; the others
// see it leave; it cannot join again.
TEST_F(SwitchboardTest, AVenueRemovedFromTheBookingLosesItsSeat) {
  const int64_t id = Book({"datong", "huangzhong", "huangyuan"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  auto edited = service_->Modify(
      id, [](const sch::store::BookingRecord& current) -> sch::app::Outcome<sch::BookingRequest> {
        sch::BookingRequest r = current.booking.request;
        r.venues = {"datong", "huangyuan"};
        return r;
      });
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  Advance(500);
  auto ended = b->Last("ended");
  ASSERT_TRUE(ended);
  EXPECT_EQ((*ended)["reason"], "removed_from_booking");
  EXPECT_EQ((*ended)["booking"], id);
  EXPECT_FALSE(b->closed());  // still registered: it may be on other bookings
  auto left = a->Last("participant");
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["event"], "left");
  EXPECT_EQ((*left)["participant"]["venue"], "huangzhong");
  EXPECT_FALSE(a->Last("ended"));
  Say(b, {{"type", "join"}, {"id", "again"}, {"booking", id}});
  EXPECT_EQ((*b->Last("error"))["code"], "not_invited");
  Say(b, {{"type", "hand"}, {"id", "h"}, {"raised", true}});
  EXPECT_EQ((*b->Last("error"))["code"], "not_joined");
}

// An operator's admission revoked while the admitted venue is seated ends its seat the same way.
TEST_F(SwitchboardTest, AVenueWhoseAdmissionIsRevokedLosesItsSeat) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  admitted_.Admit(id, "huangyuan");
  auto c = Joined("huangyuan", id);
  admitted_.Revoke(id, "huangyuan");
  Advance(500);
  ASSERT_TRUE(c->Last("ended"));
  EXPECT_EQ((*c->Last("ended"))["reason"], "removed_from_booking");
}

// Re-issuing a venue's token (`plateau venue-token`) ends the session registered with the old one:
// `error token_revoked`, close 1008, the seat released (the others see it leave); the new token
// registers and joins as usual and is not revoked.
TEST_F(SwitchboardTest, AReissuedTokenEndsTheSessionItReplaced) {
  const int64_t id = Book({"datong", "huangzhong"});
  At("2030-03-04T08:50:00+08:00");
  auto a = Joined("datong", id);
  auto b = Joined("huangzhong", id);
  tokens_.erase("huangzhong");
  const std::string fresh = TokenFor("huangzhong");  // re-issued: the old one is revoked
  Advance(board_->settings().credential_check_ms);
  auto e = b->Last("error");
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "token_revoked");
  EXPECT_TRUE(b->closed());
  EXPECT_EQ(b->code(), 1008);
  EXPECT_EQ(b->reason(), "venue token revoked");
  auto left = a->Last("participant");
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["event"], "left");
  EXPECT_EQ((*left)["participant"]["venue"], "huangzhong");
  EXPECT_EQ(board_->held_seats(), 0u);  // released, not held for a resume
  EXPECT_FALSE(a->closed());
  auto again = Joined("huangzhong", id);
  Advance(board_->settings().credential_check_ms);
  EXPECT_FALSE(again->closed());
  EXPECT_FALSE(again->Last("error"));
}

// Directory look-ups (SQLite) are made without the Switchboard's lock: a look-up that takes long
// must not stall every venue. The probe checks, from inside each look-up, that another thread can
// take the lock (it reads the connection count, which locks it).
class ProbingDirectory final : public ConferenceDirectory {
 public:
  explicit ProbingDirectory(ConferenceDirectory& inner) : inner_(inner) {}
  ~ProbingDirectory() override {
    for (auto& t : probes_) t.join();
  }
  Result<std::optional<Meeting>> FindByNumber(const std::string& c, int64_t now) override {
    Probe("number");
    return inner_.FindByNumber(c, now);
  }
  Result<std::optional<Meeting>> FindByBooking(int64_t b, int64_t now) override {
    Probe("booking");
    return inner_.FindByBooking(b, now);
  }
  Result<std::vector<Meeting>> OpenAt(int64_t now) override {
    Probe("open");
    return inner_.OpenAt(now);
  }
  Switchboard* board = nullptr;
  std::vector<std::string> under_lock;  // look-ups made while the lock was held
  int lookups = 0;

 private:
  void Probe(const std::string& what) {
    if (!board) return;
    ++lookups;
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    probes_.emplace_back([b = board, done] {
      b->connections();
      done->set_value();
    });
    // Wait with a deadline: with the lock held by our caller the probe cannot finish until we
    // return (then it is joined at the end of the test).
    if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
      under_lock.push_back(what);
  }
  ConferenceDirectory& inner_;
  std::vector<std::thread> probes_;
};

TEST_F(SwitchboardTest, DirectoryLookUpsAreNotMadeWithTheLockHeld) {
  ProbingDirectory probing(*directory_);
  {
    SwitchboardSettings settings;
    settings.idle_timeout_ms = 3'600'000;
    auto board = std::make_shared<Switchboard>(settings, clock_, metrics_, *auth_, probing,
                                               unavailable_, admitted_);
    board->Start();
    probing.board = board.get();
    const int64_t id = Book({"datong", "huangzhong"});
    At("2030-03-04T08:50:00+08:00");
    auto p = std::make_shared<RecordingPeer>();
    board->OnOpen(p);
    board->OnText(
        p, json{{"type", "hello"}, {"venue", "datong"}, {"token", TokenFor("datong")}}.dump());
    board->OnText(p, json{{"type", "join"}, {"booking", id}}.dump());
    board->OnText(p, json{{"type", "leave"}}.dump());
    board->OnText(p, json{{"type", "join"}, {"conference", "80000001"}}.dump());
    EXPECT_TRUE(p->Last("joined"));
    board->Tick();
    probing.board = nullptr;
    board->Stop();
  }
  EXPECT_EQ(probing.lookups, 3);  // booking, number, open
  EXPECT_EQ(probing.under_lock, std::vector<std::string>{});
}

}  // namespace
}  // namespace plateau::signaling
