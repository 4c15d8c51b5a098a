// ConferenceMedia driven the way the Switchboard drives it, with the real engine (mcu/conference)
// and in-process reference terminals that negotiate through SDES SDP: each terminal's own
// VenueTransport (SRTP with the keys of the offer/answer exchange) sends a colour and a tone from
// a TerminalSender and decodes what it gets with avdec_h264 / opusdec (TerminalReceiver).
#include "plateau/negotiation/conference/conference_media.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "media_test_support.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/mcu/transport/venue_transport.hpp"
#include "plateau/negotiation/sdp/sdes_sdp.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/sender.hpp"
#include "support/media/small_config.hpp"
#include "support/shared_slot.hpp"
#include "support/wait.hpp"

namespace plateau::signaling::testing {
namespace {

namespace asio = boost::asio;
namespace tr = plateau::mcu::transport;
namespace term = plateau::terminal::media;
namespace conf = plateau::mcu::conference;
namespace sdp = plateau::negotiation::sdp;
using ::plateau::testing::WaitUntil;

constexpr int kTolerance = 45;  // colour distance after two encodes (as in the media suite)

void Report(const std::string& what) {
  std::printf("[ measured ] %s\n", what.c_str());
  std::fflush(stdout);
}

// Small canvas and tiers: the suite runs on 2 shared cores.
negotiation::conference::ConferenceMediaConfig SmallConfig() {
  negotiation::conference::ConferenceMediaConfig c;
  c.media_address = "127.0.0.1";
  c.profiles = SmallProfiles();
  c.conference.video = mcu::testing::SmallMixerConfig();
  return c;
}

// A free UDP port on loopback for the terminal's offer (bound again right after the answer).
uint16_t ReservePort(asio::io_context& io) {
  asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return s.local_endpoint().port();
}

// What a terminal offers: video and audio both ways; audio only (its offer's video line has only
// VP8 and it also offers BFCP: both must come back with port 0); or receive only (an overflow
// viewing room: a=recvonly, it sends nothing).
enum class Role { kFull, kAudioOnly, kRecvOnly };

// A reference terminal speaking SDES SDP: it offers, applies the answer to its own transport.
// Non-default payload types (102 H.264, 109 Opus) check that the engine sends what was offered.
class SdesTerminal {
 public:
  static constexpr uint8_t kVideoPt = 102;
  static constexpr uint8_t kAudioPt = 109;

  // `metrics` (where the terminal's transport counts) outlives `io`'s handlers.
  SdesTerminal(asio::io_context& io, metrics::Registry& metrics, std::string venue, term::Rgb color,
               double tone_hz, Role role = Role::kFull)
      : io_(io),
        metrics_(metrics),
        venue_(std::move(venue)),
        color_(color),
        tone_hz_(tone_hz),
        role_(role) {}

  ~SdesTerminal() {
    sender_.reset();
    if (auto t = transport_.load()) t->Close();
  }

  bool Start() {
    auto r =
        term::TerminalReceiver::Create(term::ReceiverConfig{kVideoPt, kAudioPt, 50, true, 1000});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return false;
    receiver_ = std::move(r.value());
    if (role_ == Role::kRecvOnly) return true;  // no camera, no microphone
    return StartSender();
  }

  // The terminal restarts its camera and microphone with a new colour and tone: what the others
  // see and hear afterwards can only have come through the transport negotiated after it.
  bool Restart(term::Rgb color, double tone_hz) {
    sender_.reset();
    color_ = color;
    tone_hz_ = tone_hz;
    return StartSender();
  }

  bool StartSender() {
    term::SenderConfig sc;
    sc.color = color_;
    sc.width = 160;
    sc.height = 90;
    sc.video_kbps = 150;
    sc.gop_frames = 1000;  // keyframes when asked: the engine must ask (PLI) after a reconnect
    sc.tone_hz = tone_hz_;
    sc.ids.video_payload_type = kVideoPt;
    sc.ids.audio_payload_type = kAudioPt;
    auto s = term::TerminalSender::Create(
        sc, [this](term::MediaKind kind, std::span<const uint8_t> rtp) {
          // An audio-only terminal has no camera: nothing of its (unused) video leaves it.
          if (role_ == Role::kAudioOnly && kind == term::MediaKind::kVideo) return;
          if (auto t = transport_.load()) t->SendRtp(rtp);
        });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (!s.ok()) return false;
    sender_ = std::move(s.value());
    return true;
  }

  // A new offer with a fresh key on a fresh port (as after a reconnect).
  std::string Offer() {
    key_ = tr::MakeCryptoAttribute();
    port_ = ReservePort(io_);
    return OfferWithCurrentKey();
  }
  std::string OfferWithCurrentKey() {
    sdp::SdesDescription d;
    d.session_id = 1000 + port_;
    d.session_version = ++version_;
    d.address = "127.0.0.1";
    d.port = port_;
    if (role_ != Role::kAudioOnly) d.video_payload_type = kVideoPt;
    d.audio_payload_type = kAudioPt;
    if (role_ == Role::kRecvOnly) d.SetDirection(sdp::Direction::kRecvOnly);
    d.crypto = key_;
    std::string text = sdp::FormatSdes(d);
    if (role_ == Role::kAudioOnly) {
      const std::string port = std::to_string(port_);
      text += "m=video " + port + " RTP/SAVP 100\r\na=mid:2\r\na=rtpmap:100 VP8/90000\r\n" +
              "a=rtcp-mux\r\na=crypto:" + tr::FormatCryptoAttribute(key_) + "\r\n" +
              "m=application " + port + " TCP/BFCP *\r\na=floorctrl:c-only\r\n";
    }
    return text;
  }

  // Applies the server's answer: a new transport with our key and the server's, to its address.
  ::testing::AssertionResult Accept(const std::string& answer_sdp) {
    auto a = sdp::ParseSdes(answer_sdp);
    if (!a) return ::testing::AssertionFailure() << "answer: " << a.error().message;
    const std::optional<uint8_t> video =
        role_ == Role::kAudioOnly ? std::nullopt : std::optional<uint8_t>(kVideoPt);
    if (a->video_payload_type != video || a->audio_payload_type != kAudioPt)
      return ::testing::AssertionFailure() << "answer changed the payload types:\n" << answer_sdp;
    const sdp::Direction want =
        role_ == Role::kRecvOnly ? sdp::Direction::kSendOnly : sdp::Direction::kSendRecv;
    if (a->audio_direction != want || (video && a->video_direction != want))
      return ::testing::AssertionFailure() << "answer has the wrong direction:\n" << answer_sdp;
    if (a->crypto.key == key_.key)
      return ::testing::AssertionFailure() << "the server answered with the venue's own key";
    tr::VenueTransportConfig tc;
    tc.name = "terminal-" + venue_;
    tc.bind_address = "127.0.0.1";
    tc.bind_port = port_;
    auto address = tr::IpAddress::Parse(a->address);
    if (!address) return ::testing::AssertionFailure() << address.error().message;
    tc.remote = tr::Endpoint(*address, a->port);
    tc.send_key = key_.key;
    tc.receive_key = a->crypto.key;
    tc.payload_types = {{kVideoPt, tr::MediaKind::kVideo, 90000},
                        {kAudioPt, tr::MediaKind::kAudio, 48000}};
    tr::VenueTransportCallbacks cb;
    cb.on_rtp = [this](const mcu::rtp::RtpPacket& p, const tr::RtpArrival&) {
      receiver_->PushRtp(p.data());
    };
    cb.on_keyframe_request = [this](uint32_t) {
      keyframe_requests_++;
      if (sender_) sender_->RequestKeyframe();
    };
    auto t = tr::VenueTransport::Create(io_, tc, cb, metrics_);
    if (!t) return ::testing::AssertionFailure() << "transport: " << t.error().message;
    auto old = transport_.exchange(*t);
    if (old) old->Close();
    server_port_ = a->port;
    return ::testing::AssertionSuccess();
  }

  // The terminal went away (its connection and its media stop).
  void Drop() {
    if (auto old = transport_.exchange(nullptr)) old->Close();
  }

  tr::VenueTransportStats TransportStats() const {
    auto t = transport_.load();
    return t ? t->GetStats() : tr::VenueTransportStats{};
  }

  term::TerminalReceiver& receiver() { return *receiver_; }
  Role role() const { return role_; }
  // What the next offer asks for (e.g. the camera came back).
  void SetRole(Role role) { role_ = role; }
  const std::string& venue() const { return venue_; }
  term::Rgb color() const { return color_; }
  double tone() const { return tone_hz_; }
  uint16_t server_port() const { return server_port_; }

 private:
  asio::io_context& io_;
  metrics::Registry& metrics_;
  std::string venue_;
  term::Rgb color_;
  double tone_hz_;
  std::atomic<Role> role_;
  tr::CryptoAttribute key_;
  uint16_t port_ = 0;
  uint16_t server_port_ = 0;
  uint64_t version_ = 0;
  std::unique_ptr<term::TerminalReceiver> receiver_;
  std::unique_ptr<term::TerminalSender> sender_;
  plateau::testing::SharedSlot<tr::VenueTransport> transport_;
  std::atomic<uint64_t> keyframe_requests_{0};
};

// Every tile of the published layout shows its venue's colour in `frame` (sampled a bit above
// the centre: the caption is at the bottom, the sender's clock at the top-left).
bool ShowsTiles(const term::DecodedFrame& frame, const std::vector<protocol::Tile>& tiles,
                const std::map<std::string, term::Rgb>& colors, std::string* why) {
  for (const auto& t : tiles) {
    const int x = static_cast<int>((t.x + t.w * 0.5) * frame.width);
    const int y = static_cast<int>((t.y + t.h * 0.45) * frame.height);
    const term::Rgb got = frame.Average(x, y, std::max(2, frame.width / 80));
    auto known = colors.find(t.venue);
    if (known == colors.end()) {
      *why = "a tile of " + t.venue + ", which is no terminal";
      return false;
    }
    const term::Rgb want = known->second;
    if (term::ColorDistance(got, want) > kTolerance) {
      *why = t.venue + " at (" + std::to_string(x) + "," + std::to_string(y) + "): got " +
             term::FormatRgb(got) + ", want " + term::FormatRgb(want);
      return false;
    }
  }
  return true;
}

class ConferenceMediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    io_thread_ = std::thread([this] { io_.run(); });
    auto m = negotiation::conference::ConferenceMedia::Create(SmallConfig(), metrics_);
    ASSERT_TRUE(m) << m.error().message;
    media_ = std::move(m.value());
    media_->Attach(&events_);
  }
  void TearDown() override {
    terminals_.clear();  // senders stop before the engine goes
    media_.reset();
    work_.reset();
    io_.stop();
    io_thread_.join();
  }

  SdesTerminal* AddTerminal(std::string venue, term::Rgb color, double tone,
                            Role role = Role::kFull) {
    terminals_.push_back(std::make_unique<SdesTerminal>(io_, terminal_metrics_, std::move(venue),
                                                        color, tone, role));
    if (!terminals_.back()->Start()) return nullptr;
    return terminals_.back().get();
  }

  // Waits for the published layout to hold exactly `venues`, then for `viewer` to decode a frame
  // (after `after`) showing every tile in its venue's colour.
  ::testing::AssertionResult SeesEveryTile(SdesTerminal& viewer, std::set<std::string> venues,
                                           uint64_t after, Clock::duration within = 20s) {
    auto layout = events_.WaitForLayout(
        [&](const PublishedLayout& l) {
          std::set<std::string> shown;
          for (const auto& t : l.tiles) shown.insert(t.venue);
          return shown == venues;
        },
        Clock::now() + within);
    if (!layout) return ::testing::AssertionFailure() << "no layout with every venue published";
    std::map<std::string, term::Rgb> colors;
    for (auto& t : terminals_) colors[t->venue()] = t->color();
    // The speaker takes the first tile: the layout may change while we look, so each frame is
    // checked against the latest published one.
    std::string why = "no frame";
    auto frame = viewer.receiver().WaitForFrame(
        [&](const term::DecodedFrame& f) {
          auto latest = events_.LatestLayout();
          return latest && ShowsTiles(f, latest->tiles, colors, &why);
        },
        Clock::now() + within, after);
    if (!frame) {
      const auto s = viewer.receiver().Stats();
      return ::testing::AssertionFailure()
             << viewer.venue() << " never saw the layout: " << why << " (frames "
             << s.frames_decoded << ", keyframes " << s.keyframes << ")";
    }
    return ::testing::AssertionSuccess();
  }

  // `listener` hears `speaker`'s tone loud and its own tone not at all (mix-minus).
  ::testing::AssertionResult HearsOnly(SdesTerminal& listener, SdesTerminal& speaker,
                                       Clock::duration within = 15s) {
    auto& r = listener.receiver();
    const bool ok = WaitUntil(
        [&] {
          const double other = r.ToneLevelDbov(speaker.tone(), 400);
          const double own = r.ToneLevelDbov(listener.tone(), 400);
          return other > -40 && own < other - 20;
        },
        Clock::now() + within);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << listener.venue() << " hears " << speaker.tone() << " Hz at "
           << r.ToneLevelDbov(speaker.tone(), 400) << " dBov and its own " << listener.tone()
           << " Hz at " << r.ToneLevelDbov(listener.tone(), 400) << " dBov";
  }

  // Declared before the io_context and the engine, which count in them until they are gone.
  metrics::Registry metrics_;           // the negotiator's (and its conferences')
  metrics::Registry terminal_metrics_;  // the terminals' transports'
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread io_thread_;
  RecordingEvents events_;
  std::unique_ptr<negotiation::conference::ConferenceMedia> media_;
  std::vector<std::unique_ptr<SdesTerminal>> terminals_;
};

const conf::VenueStats* FindVenue(const conf::ConferenceStats& s, const std::string& id) {
  for (const auto& v : s.venues)
    if (v.id == id) return &v;
  return nullptr;
}
// The result points into `s`: a temporary would leave it dangling (ASan caught one).
const conf::VenueStats* FindVenue(conf::ConferenceStats&& s, const std::string& id) = delete;

TEST_F(ConferenceMediaTest, SdesTerminalsNegotiateSeeAndHearEachOtherResumeAndLeave) {
  const Meeting meeting = TestMeeting(41, "hd-8m");
  media_->ConferenceOpened(meeting);
  EXPECT_EQ(media_->Find(meeting.booking), nullptr) << "the engine starts at the first offer";
  const MediaSeat seat_a = SeatFor(meeting, "datong", "大通县", 1, 101);
  const MediaSeat seat_b = SeatFor(meeting, "huangzhong", "湟中区", 2, 102);
  SdesTerminal* a = AddTerminal("datong", term::Rgb{225, 30, 30}, 500);
  SdesTerminal* b = AddTerminal("huangzhong", term::Rgb{30, 30, 225}, 1100);
  ASSERT_TRUE(a && b);

  // Offer -> answer for both; the answer names the server's address, a port and a new key.
  const auto t0 = Clock::now();
  auto answer_a = OfferAndWait(*media_, seat_a, a->Offer());
  ASSERT_TRUE(answer_a) << answer_a.error().message;
  const double answer_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  ASSERT_TRUE(a->Accept(*answer_a));
  auto answer_b = OfferAndWait(*media_, seat_b, b->Offer());
  ASSERT_TRUE(answer_b) << answer_b.error().message;
  ASSERT_TRUE(b->Accept(*answer_b));
  EXPECT_NE(answer_a->find("c=IN IP4 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(a->server_port(), b->server_port());

  auto conference = media_->Find(meeting.booking);
  ASSERT_NE(conference, nullptr);
  EXPECT_EQ(conference->id(), meeting.conference);
  auto stats = conference->Stats();
  ASSERT_EQ(stats.venues.size(), 2u);
  ASSERT_NE(FindVenue(stats, "datong"), nullptr);
  EXPECT_EQ(FindVenue(stats, "datong")->tier, "hd-8m");  // the profile's tier
  EXPECT_EQ(FindVenue(stats, "datong")->name, "大通县");

  // Media flows both ways: each sees both tiles in place, each hears the other and not itself.
  ASSERT_TRUE(SeesEveryTile(*a, {"datong", "huangzhong"}, 0));
  ASSERT_TRUE(SeesEveryTile(*b, {"datong", "huangzhong"}, 0));
  ASSERT_TRUE(a->receiver().WaitForAudio(600, Clock::now() + 10s));
  EXPECT_TRUE(HearsOnly(*a, *b));
  EXPECT_TRUE(HearsOnly(*b, *a));
  const auto first_media = Clock::now();
  Report("sdes: offer -> answer " + std::to_string(answer_ms) +
         " ms (engine conference started by it); both tiles seen after " +
         std::to_string(std::chrono::duration<double>(first_media - t0).count()) + " s");

  // Operator mute through the live-control seam reaches the engine and the venues.
  ASSERT_TRUE(media_->SetMuted(meeting.booking, "huangzhong", true));
  stats = conference->Stats();
  EXPECT_TRUE(FindVenue(stats, "huangzhong")->muted);
  ASSERT_EQ(events_.Muted().size(), 1u);
  EXPECT_EQ(events_.Muted()[0].venue, "huangzhong");
  ASSERT_TRUE(media_->SetMuted(meeting.booking, "huangzhong", false));

  // The terminal's connection drops: the seat is held, the venue keeps its place in the mix.
  media_->SeatHeld(seat_a);
  a->Drop();
  ASSERT_TRUE(a->Restart(term::Rgb{30, 225, 30}, 700));
  stats = conference->Stats();
  ASSERT_NE(FindVenue(stats, "datong"), nullptr) << "a held seat stays in the conference";
  const int tile_before = FindVenue(stats, "datong")->tile;

  // It resumes: an offer with the old key is refused, one with new keys gets a new transport.
  auto reused = OfferAndWait(*media_, seat_a, a->OfferWithCurrentKey());
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, "bad_sdp");
  const uint64_t seen_a = a->receiver().Stats().frames_decoded;
  const uint64_t seen_b = b->receiver().Stats().frames_decoded;
  const uint64_t samples_a = a->receiver().Stats().audio_samples;
  const auto t1 = Clock::now();
  auto resumed = OfferAndWait(*media_, seat_a, a->Offer());
  ASSERT_TRUE(resumed) << resumed.error().message;
  ASSERT_TRUE(a->Accept(*resumed));
  // b sees a's new colour in a's tile and hears a's new tone: a's media over the new keys.
  ASSERT_TRUE(SeesEveryTile(*b, {"datong", "huangzhong"}, seen_b));
  const auto seen_again = Clock::now();
  EXPECT_TRUE(HearsOnly(*b, *a));
  // a decodes new pictures and new sound of the mix, sent with the server's new key.
  ASSERT_TRUE(SeesEveryTile(*a, {"datong", "huangzhong"}, seen_a));
  EXPECT_TRUE(WaitUntil([&] { return a->receiver().Stats().audio_samples > samples_a + 48000; },
                        Clock::now() + 10s));
  EXPECT_TRUE(HearsOnly(*a, *b));
  Report("sdes resume: new offer -> the other terminal sees the new picture after " +
         std::to_string(std::chrono::duration<double, std::milli>(seen_again - t1).count()) +
         " ms");
  stats = conference->Stats();
  ASSERT_EQ(stats.venues.size(), 2u);
  EXPECT_EQ(FindVenue(stats, "datong")->tile, tile_before);
  const auto ts = a->TransportStats();
  EXPECT_GT(ts.packets_in, 0u);
  EXPECT_EQ(ts.dropped_auth, 0u);
  const auto* resumed_venue = FindVenue(stats, "datong");
  ASSERT_TRUE(resumed_venue->transport.has_value());
  EXPECT_EQ(resumed_venue->transport->dropped_auth, 0u);

  // Released: the venue is gone from the engine; the conference ends with the booking.
  media_->SeatReleased(seat_a);
  stats = conference->Stats();
  EXPECT_EQ(FindVenue(stats, "datong"), nullptr);
  EXPECT_EQ(stats.venues.size(), 1u);
  media_->ConferenceEnded(meeting);
  EXPECT_EQ(media_->Find(meeting.booking), nullptr);
}

// The booking's cascade plan decides where each venue's media goes: a hall on the hub's MCU and
// two counties on their sub-centres' MCUs. The hub's engine holds the hall and one cascade leg per
// sub-centre (not the counties); the published layout names the venue each leg carries; every
// terminal sees every colour and hears the others, never itself.
TEST_F(ConferenceMediaTest, VenuesFollowTheBookingsCascadePlan) {
  Meeting meeting = TestMeeting(45, "hd-8m");
  meeting.venues = {"hall-1", "minhe", "maqin"};
  meeting.main_venue = "hall-1";
  meeting.plan.root_mcu = "mcu-hub";
  meeting.plan.hosts = {{"hall-1", "mcu-hub"}, {"minhe", "mcu-haidong"}, {"maqin", "mcu-golog"}};
  meeting.plan.parents = {{"mcu-haidong", "mcu-hub"}, {"mcu-golog", "mcu-hub"}};
  meeting.plan.names = {{"mcu-hub", "省中心"}, {"mcu-haidong", "海东市"}, {"mcu-golog", "果洛州"}};
  media_->ConferenceOpened(meeting);
  SdesTerminal* hall = AddTerminal("hall-1", term::Rgb{225, 30, 30}, 500);
  SdesTerminal* minhe = AddTerminal("minhe", term::Rgb{30, 200, 60}, 800);
  SdesTerminal* maqin = AddTerminal("maqin", term::Rgb{30, 30, 225}, 1100);
  ASSERT_TRUE(hall && minhe && maqin);
  int seat = 1;
  for (SdesTerminal* t : {hall, minhe, maqin}) {
    const MediaSeat s = SeatFor(meeting, t->venue(), t->venue(), seat, 200 + seat);
    ++seat;
    auto answer = OfferAndWait(*media_, s, t->Offer());
    ASSERT_TRUE(answer) << t->venue() << ": " << answer.error().message;
    ASSERT_TRUE(t->Accept(*answer));
  }
  auto root = media_->Find(meeting.booking);
  ASSERT_NE(root, nullptr);
  auto stats = root->Stats();
  std::set<std::string> at_hub;
  for (const auto& v : stats.venues) at_hub.insert(v.id);
  EXPECT_EQ(at_hub, (std::set<std::string>{"hall-1", "mcu-haidong", "mcu-golog"}));
  EXPECT_EQ(FindVenue(stats, "mcu-haidong")->name, "海东市");

  for (SdesTerminal* viewer : {hall, minhe, maqin})
    EXPECT_TRUE(SeesEveryTile(*viewer, {"hall-1", "minhe", "maqin"}, 0, 30s));
  ASSERT_TRUE(minhe->receiver().WaitForAudio(600, Clock::now() + 10s));
  EXPECT_TRUE(HearsOnly(*hall, *minhe));
  EXPECT_TRUE(HearsOnly(*hall, *maqin));
  EXPECT_TRUE(HearsOnly(*minhe, *maqin));  // across two cascade legs
  EXPECT_TRUE(HearsOnly(*maqin, *hall));

  // The hub knows every venue of every MCU, and which MCU hosts it; the legs are not venues.
  auto roster = [&] {
    std::map<std::string, std::string> out;
    for (const auto& e : media_->Roster(meeting.booking)) out[e.venue] = e.mcu;
    return out;
  };
  EXPECT_EQ(roster(),
            (std::map<std::string, std::string>{
                {"hall-1", "mcu-hub"}, {"minhe", "mcu-haidong"}, {"maqin", "mcu-golog"}}));

  // The county leaves: its sub-centre's engine lets it go; the leg stays for the meeting.
  media_->SeatReleased(SeatFor(meeting, "minhe", "minhe", 2, 202));
  stats = root->Stats();
  EXPECT_NE(FindVenue(stats, "mcu-haidong"), nullptr);
  EXPECT_EQ(roster().count("minhe"), 0u);
  EXPECT_EQ(roster().size(), 2u);
  media_->ConferenceEnded(meeting);
  EXPECT_EQ(media_->Find(meeting.booking), nullptr);
}

// An audio-only venue (its offer: Opus, a VP8-only video line, BFCP) and a receive-only viewing
// room join two full venues. The answers mirror every offered line (unusable ones with port 0);
// the full venues see each other in a two-tile layout; the audio-only venue hears both and is
// heard, but gets no tile and no video; the viewing room sees and hears both, has no tile, and is
// never mixed.
TEST_F(ConferenceMediaTest, AudioOnlyAndReceiveOnlyVenuesGetWhatTheyOffered) {
  const Meeting meeting = TestMeeting(43, "hd-8m");
  media_->ConferenceOpened(meeting);
  SdesTerminal* a = AddTerminal("datong", term::Rgb{225, 30, 30}, 500);
  SdesTerminal* b = AddTerminal("huangzhong", term::Rgb{30, 30, 225}, 1100);
  SdesTerminal* c = AddTerminal("menyuan", term::Rgb{30, 225, 30}, 800, Role::kAudioOnly);
  SdesTerminal* d = AddTerminal("overflow", term::Rgb{200, 200, 30}, 1700, Role::kRecvOnly);
  ASSERT_TRUE(a && b && c && d);
  int seat = 0;
  std::map<std::string, std::string> answers;
  for (SdesTerminal* t : {a, b, c, d}) {
    ++seat;
    const MediaSeat s = SeatFor(meeting, t->venue(), t->venue(), seat, 300 + seat);
    const std::string offer = t->Offer();
    auto answer = OfferAndWait(*media_, s, offer);
    ASSERT_TRUE(answer) << t->venue() << ": " << answer.error().message;
    ASSERT_TRUE(t->Accept(*answer)) << t->venue();
    answers[t->venue()] = *answer;
  }
  // The audio-only venue's answer: its three m-lines in order, video and BFCP with port 0.
  {
    const std::string& text = answers["menyuan"];
    std::vector<std::string> mlines;
    for (size_t at = text.find("\nm="); at != std::string::npos; at = text.find("\nm=", at + 1))
      mlines.push_back(text.substr(at + 1, text.find("\r\n", at) - at - 1));
    ASSERT_EQ(mlines.size(), 3u) << text;
    EXPECT_EQ(mlines[0], "m=audio " + std::to_string(c->server_port()) + " RTP/SAVP 109");
    EXPECT_EQ(mlines[1], "m=video 0 RTP/SAVP 100");
    EXPECT_EQ(mlines[2], "m=application 0 TCP/BFCP *");
    EXPECT_NE(text.find("a=group:BUNDLE 1\r\n"), std::string::npos) << text;
  }
  EXPECT_NE(answers["overflow"].find("a=sendonly"), std::string::npos);
  EXPECT_EQ(answers["overflow"].find("a=sendrecv"), std::string::npos);

  // The full venues see each other in a two-tile layout; so does the viewing room.
  ASSERT_TRUE(SeesEveryTile(*a, {"datong", "huangzhong"}, 0));
  ASSERT_TRUE(SeesEveryTile(*b, {"datong", "huangzhong"}, 0));
  ASSERT_TRUE(SeesEveryTile(*d, {"datong", "huangzhong"}, 0));
  auto layout = events_.LatestLayout();
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->layout, "2") << "the automatic layout counts only venues with video";

  // The audio-only venue hears both full venues (and not itself); they hear it. The viewing
  // room hears the conference.
  ASSERT_TRUE(c->receiver().WaitForAudio(600, Clock::now() + 10s));
  EXPECT_TRUE(HearsOnly(*c, *a));
  EXPECT_TRUE(HearsOnly(*c, *b));
  EXPECT_TRUE(HearsOnly(*a, *c));
  EXPECT_TRUE(HearsOnly(*d, *b));

  // Nothing of the video reached the audio-only venue; it and the viewing room never had a tile.
  auto conference = media_->Find(meeting.booking);
  ASSERT_NE(conference, nullptr);
  const auto stats = conference->Stats();
  ASSERT_EQ(stats.venues.size(), 4u);
  const auto* menyuan = FindVenue(stats, "menyuan");
  const auto* overflow = FindVenue(stats, "overflow");
  ASSERT_TRUE(menyuan && overflow);
  EXPECT_EQ(c->receiver().Stats().video_packets, 0u);
  EXPECT_EQ(c->receiver().Stats().frames_decoded, 0u);
  EXPECT_GT(c->receiver().Stats().audio_packets, 0u);
  EXPECT_EQ(menyuan->tile, -1);
  EXPECT_FALSE(menyuan->media.sends_video || menyuan->media.receives_video);
  EXPECT_TRUE(menyuan->media.sends_audio && menyuan->media.receives_audio);
  EXPECT_EQ(overflow->tile, -1);
  EXPECT_FALSE(overflow->speaking);
  EXPECT_FALSE(overflow->media.sends_video || overflow->media.sends_audio);
  EXPECT_TRUE(overflow->media.receives_video && overflow->media.receives_audio);
  EXPECT_GT(d->receiver().Stats().frames_decoded, 0u);
  for (const auto& p : conference->Placements()) {
    EXPECT_NE(p.venue, "menyuan");
    EXPECT_NE(p.venue, "overflow");
  }
  // The viewing room cannot be pinned to the large pane; the audio-only venue neither. An order
  // names every venue of the conference, with or without a tile.
  EXPECT_EQ(conference->PinSpeaker("overflow").error().code, "no_video");
  EXPECT_EQ(conference->PinSpeaker("menyuan").error().code, "no_video");
  EXPECT_EQ(conference->SetVenueOrder({"huangzhong", "datong"}).error().code, "bad_order");
  ASSERT_TRUE(conference->SetVenueOrder({"overflow", "huangzhong", "menyuan", "datong"}));
  Report("audio-only venue: hears datong at " +
         std::to_string(c->receiver().ToneLevelDbov(a->tone(), 400)) + " dBov, huangzhong at " +
         std::to_string(c->receiver().ToneLevelDbov(b->tone(), 400)) + " dBov, itself at " +
         std::to_string(c->receiver().ToneLevelDbov(c->tone(), 400)) + " dBov; 0 video packets");

  // The audio-only venue's camera comes back: its next offer has video, and it gets a tile.
  const uint64_t seen_a = a->receiver().Stats().frames_decoded;
  const uint64_t seen_c = c->receiver().Stats().frames_decoded;
  c->SetRole(Role::kFull);
  auto full = OfferAndWait(*media_, SeatFor(meeting, "menyuan", "menyuan", 3, 303), c->Offer());
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_TRUE(c->Accept(*full));
  ASSERT_TRUE(SeesEveryTile(*a, {"datong", "huangzhong", "menyuan"}, seen_a));
  ASSERT_TRUE(SeesEveryTile(*c, {"datong", "huangzhong", "menyuan"}, seen_c));
  EXPECT_EQ(events_.LatestLayout()->layout, "2x2");
  const auto menyuan_stats = conference->Stats();
  EXPECT_TRUE(FindVenue(menyuan_stats, "menyuan")->media.sends_video);
  media_->ConferenceEnded(meeting);
}

// ---- the WebRTC path, with an in-process carrier in place of webrtcbin ----

// An ExternalEndpoint carrying a TerminalSender's RTP into the conference and the mix into a
// TerminalReceiver, in memory: what negotiation/webrtc's session does after DTLS-SRTP.
class InProcessLeg final : public negotiation::conference::WebRtcLeg {
 public:
  InProcessLeg(conf::Conference* conference, std::string venue, term::Rgb color)
      : conference_(conference), venue_(std::move(venue)), color_(color) {}
  bool Start() {
    auto r = term::TerminalReceiver::Create(term::ReceiverConfig{96, 111, 50, false, 1000});
    if (!r.ok()) return false;
    receiver_ = std::move(r.value());
    term::SenderConfig sc;
    sc.color = color_;
    sc.width = 160;
    sc.height = 90;
    sc.video_kbps = 150;
    sc.audio = false;
    auto s = term::TerminalSender::Create(sc, [this](term::MediaKind, std::span<const uint8_t> p) {
      if (!closed_) conference_->PushRtp(venue_, p);
    });
    if (!s.ok()) return false;
    sender_ = std::move(s.value());
    return true;
  }
  void SendRtp(conf::MediaKind, std::span<const uint8_t> rtp) override {
    if (closed_) return;
    received_++;
    receiver_->PushRtp(rtp);
  }
  void RequestKeyframe() override {
    if (!closed_ && sender_) sender_->RequestKeyframe();
  }
  Status AddRemoteCandidate(const std::optional<protocol::IceCandidate>& c) override {
    if (c && c->candidate.rfind("candidate:", 0) != 0)
      return Error{"bad_candidate", "not a candidate line"};
    candidates_++;
    return Status::Ok();
  }
  void Renegotiate(std::string, MediaNegotiator::AnswerCallback done) override {
    renegotiations_++;
    done(std::string("v=0\r\n(renegotiated)\r\n"));
  }
  void Close() override {
    closed_ = true;
    sender_.reset();
  }
  std::atomic<bool> closed_{false};
  std::atomic<int> candidates_{0};
  std::atomic<int> renegotiations_{0};
  std::atomic<uint64_t> received_{0};
  std::unique_ptr<term::TerminalReceiver> receiver_;

 private:
  conf::Conference* conference_;
  std::string venue_;
  term::Rgb color_;
  std::unique_ptr<term::TerminalSender> sender_;
};

std::string BrowserOffer(const std::string& fingerprint) {
  return "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
         "a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
         "a=fingerprint:sha-256 " +
         fingerprint +
         "\r\na=setup:actpass\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 H264/90000\r\n"
         "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n";
}

TEST_F(ConferenceMediaTest, BrowserOffersGoToTheWebRtcFactoryAndItsLegCarriesTheMedia) {
  std::mutex mu;
  std::vector<std::shared_ptr<InProcessLeg>> legs;
  std::vector<negotiation::conference::WebRtcLegCallbacks> callbacks;
  media_->SetWebRtcFactory([&](conf::Conference* conference, metrics::Registry&, std::string venue,
                               std::string offer, negotiation::conference::WebRtcLegCallbacks cb,
                               MediaNegotiator::AnswerCallback done)
                               -> Result<std::shared_ptr<negotiation::conference::WebRtcLeg>> {
    if (offer.find("H264") == std::string::npos) return Error{"bad_sdp", "no H.264"};
    auto leg = std::make_shared<InProcessLeg>(conference, venue, term::Rgb{30, 225, 30});
    if (!leg->Start()) return Error{"media_failed", "leg"};
    {
      std::lock_guard lock(mu);
      legs.push_back(leg);
      callbacks.push_back(cb);
    }
    cb.on_candidate(protocol::IceCandidate{"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
                                           "0", 0, std::nullopt});
    cb.on_candidate(std::nullopt);
    done(std::string("v=0\r\n(answer for " + venue + ")\r\n"));
    return std::shared_ptr<negotiation::conference::WebRtcLeg>(leg);
  });
  const Meeting meeting = TestMeeting(42, "hd-2m");
  media_->ConferenceOpened(meeting);
  const MediaSeat seat = SeatFor(meeting, "datong", "大通县", 1, 201);

  auto answer = OfferAndWait(*media_, seat, BrowserOffer("AA:BB"));
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(*answer, "v=0\r\n(answer for datong)\r\n");
  // Server candidates went to the venue (the end-of-candidates too), venue candidates to the leg.
  auto sent = events_.Candidates();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].first, "datong");
  EXPECT_TRUE(sent[0].second.has_value());
  EXPECT_FALSE(sent[1].second.has_value());
  ASSERT_TRUE(media_->Candidate(
      seat,
      protocol::IceCandidate{"candidate:2 1 udp 1 10.0.0.2 9 typ host", "0", 0, std::nullopt}));
  Status bad = media_->Candidate(seat, protocol::IceCandidate{"garbage", "0", 0, std::nullopt});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_candidate");
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0]->candidates_, 1);

  // The leg is the venue's carrier: its video reaches the mixer, the mix comes back to it.
  auto conference = media_->Find(meeting.booking);
  ASSERT_NE(conference, nullptr);
  const auto stats = conference->Stats();
  auto* v = FindVenue(stats, "datong");
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->external);
  EXPECT_EQ(v->tier, "hd-2m");
  auto frame = legs[0]->receiver_->WaitForFrame(
      [](const term::DecodedFrame& f) {
        return term::ColorDistance(f.Average(f.width / 2, f.height * 45 / 100, 4),
                                   term::Rgb{30, 225, 30}) <= kTolerance;
      },
      Clock::now() + 20s);
  ASSERT_NE(frame, nullptr) << "the leg never got its own picture back in the mix";
  EXPECT_EQ(frame->width, 160);  // the 2m tier of the small config

  // Resume with the same DTLS fingerprint: an ICE restart on the same leg.
  media_->SeatHeld(seat);
  auto restarted = OfferAndWait(*media_, seat, BrowserOffer("AA:BB"));
  ASSERT_TRUE(restarted) << restarted.error().message;
  EXPECT_EQ(legs[0]->renegotiations_, 1);
  EXPECT_EQ(legs.size(), 1u);
  // A new page (a new fingerprint): a new leg replaces the old one in the same place.
  auto fresh = OfferAndWait(*media_, seat, BrowserOffer("CC:DD"));
  ASSERT_TRUE(fresh) << fresh.error().message;
  ASSERT_EQ(legs.size(), 2u);
  EXPECT_TRUE(legs[0]->closed_);
  EXPECT_FALSE(legs[1]->closed_);
  EXPECT_EQ(conference->Stats().venues.size(), 1u);
  const uint64_t before = legs[1]->received_;
  EXPECT_TRUE(WaitUntil([&] { return legs[1]->received_ > before + 10; }, Clock::now() + 10s));

  // A failed leg is not renegotiated: the next offer builds a new one.
  callbacks[1].on_failed("ICE failed");
  auto after_failure = OfferAndWait(*media_, seat, BrowserOffer("CC:DD"));
  ASSERT_TRUE(after_failure) << after_failure.error().message;
  ASSERT_EQ(legs.size(), 3u);
  EXPECT_EQ(legs[1]->renegotiations_, 0);
  EXPECT_TRUE(legs[1]->closed_);

  // The factory's refusal reaches the venue as it is.
  auto refused = OfferAndWait(*media_, seat, "v=0\r\na=fingerprint:sha-256 EE\r\n");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "bad_sdp");

  // Released: the leg closes and the venue leaves the engine.
  media_->SeatReleased(seat);
  EXPECT_TRUE(legs[2]->closed_);
  EXPECT_TRUE(conference->Stats().venues.empty());
  media_->ConferenceEnded(meeting);
}

}  // namespace
}  // namespace plateau::signaling::testing
