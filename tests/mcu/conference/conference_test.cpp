// The conference layer checked by what a viewer sees and hears: reference terminals join over
// SRTP on loopback, each sending its own colour and tone; what they receive is decoded with
// FFmpeg's avdec_h264 (not the OpenH264 the MCU encodes with) and opusdec.
#include "plateau/mcu/conference/conference.hpp"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <set>

#include "plateau/common/metrics.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "support/asio_endpoint.hpp"
#include "support/media/conference_rig.hpp"

namespace plateau::mcu::testing {
namespace {

// Prints what a test measured (the docs quote these lines).
void Report(const std::string& what) {
  std::printf("[ measured ] %s\n", what.c_str());
  std::fflush(stdout);
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::set<std::string> Speakers(const conference::ConferenceStats& s) {
  std::set<std::string> out;
  for (const auto& v : s.venues)
    if (v.speaking) out.insert(v.id);
  return out;
}

// Records what the callbacks said, for the test thread.
struct Events {
  std::mutex mu;
  std::vector<std::string> layouts;
  std::vector<std::optional<std::string>> speakers;
  conference::ConferenceCallbacks Callbacks() {
    conference::ConferenceCallbacks cb;
    cb.on_layout = [this](const std::string& layout, const std::vector<media::Placement>&) {
      std::lock_guard lock(mu);
      layouts.push_back(layout);
    };
    cb.on_speaker = [this](const std::optional<std::string>& venue) {
      std::lock_guard lock(mu);
      speakers.push_back(venue);
    };
    return cb;
  }
  bool SawLayout(const std::string& name) {
    std::lock_guard lock(mu);
    return std::find(layouts.begin(), layouts.end(), name) != layouts.end();
  }
};

// 1. Six terminals, each its own colour and tone. Three speak loudly, three softly: the K = 3
// loud ones are the speakers. Every tile holds its venue's colour (both tiers), listeners hear the
// three speakers, a speaker hears the other two and not itself, and a layout change shows up.
TEST(Conference, MixByContentSixTerminals) {
  Events events;
  ConferenceRig rig(SmallConferenceConfig("mix"), events.Callbacks());
  ASSERT_TRUE(rig.ok());
  const auto colors = Palette(6);
  const double tones[] = {400, 700, 1000, 1300, 1600, 1900};
  const double volumes[] = {0.5, 0.25, 0.25, 0.02, 0.02, 0.02};
  for (size_t i = 0; i < 6; ++i) {
    TerminalOptions o;
    o.tone_hz = tones[i];
    o.tone_volume = volumes[i];
    o.receive = i == 0 || i == 3;  // v1: a speaker on 8m; v4: a listener on 2m
    o.tier = i == 3 ? "2m" : "8m";
    ASSERT_NE(rig.Join("v" + std::to_string(i + 1), kNames[i], colors[i], o), nullptr);
  }
  auto stats = rig.conference().Stats();
  EXPECT_EQ(stats.layout, "1+5");
  EXPECT_EQ(stats.video_encoders, 2u);
  EXPECT_EQ(stats.audio_encoders, 4u);  // K + 1

  // The loud three become the speakers; the large pane is the dominant one.
  ASSERT_TRUE(WaitUntil(
      [&] {
        stats = rig.conference().Stats();
        return Speakers(stats) == std::set<std::string>{"v1", "v2", "v3"} && stats.speaker &&
               rig.conference().Placements()[0].venue == *stats.speaker;
      },
      Clock::now() + 20s))
      << "speakers " << Speakers(stats).size();
  EXPECT_TRUE(stats.speaker == "v1" || stats.speaker == "v2" || stats.speaker == "v3");

  std::string why;
  auto frame = rig.WaitForLayout("v1", Clock::now() + 20s, &why);
  ASSERT_NE(frame, nullptr) << rig.Why(why, "v1", "conf-mix-8m");
  MaybeDump(frame, "conf-mix-8m");
  EXPECT_EQ(frame->width, 320);
  auto small = rig.WaitForLayout("v4", Clock::now() + 10s, &why);
  ASSERT_NE(small, nullptr) << rig.Why(why, "v4", "conf-mix-2m");
  MaybeDump(small, "conf-mix-2m");
  EXPECT_EQ(small->width, 160);
  EXPECT_EQ(small->height, 90);
  EXPECT_EQ(rig.conference().Stats().active_decoders, 6);

  // Audio: the listener hears the three speakers and none of the soft venues; the speaker v1
  // hears v2 and v3 and not its own tone (mix-minus).
  auto& speaker = *rig.terminal("v1").receiver;
  auto& listener = *rig.terminal("v4").receiver;
  ASSERT_TRUE(listener.WaitForAudio(600, Clock::now() + 10s));
  ASSERT_TRUE(speaker.WaitForAudio(600, Clock::now() + 10s));
  auto levels = [&](terminal::media::TerminalReceiver& r) {
    std::string out;
    for (double hz : tones) out += std::to_string(static_cast<int>(r.ToneLevelDbov(hz, 400))) + " ";
    return out;
  };
  const bool heard = WaitUntil(
      [&] {
        const double floor_l =
            std::max({listener.ToneLevelDbov(1300, 400), listener.ToneLevelDbov(1600, 400),
                      listener.ToneLevelDbov(1900, 400)});
        const double quiet_l =
            std::min({listener.ToneLevelDbov(400, 400), listener.ToneLevelDbov(700, 400),
                      listener.ToneLevelDbov(1000, 400)});
        const double own = speaker.ToneLevelDbov(400, 400);
        const double others =
            std::min(speaker.ToneLevelDbov(700, 400), speaker.ToneLevelDbov(1000, 400));
        return quiet_l > -40 && floor_l < quiet_l - 20 && others > -40 && own < others - 20;
      },
      Clock::now() + 10s);
  EXPECT_TRUE(heard) << "listener dBov by tone: " << levels(listener)
                     << "; speaker v1: " << levels(speaker);
  Report("mix: listener tones (400..1900 Hz) dBov " + levels(listener) + "| speaker v1 " +
         levels(speaker));

  // A layout change: 2x2 is seen in the decoded picture within one second.
  const auto t0 = Clock::now();
  ASSERT_TRUE(rig.conference().SetLayout("2x2").ok());
  ASSERT_EQ(rig.conference().Placements().size(), 4u);
  frame = rig.WaitForLayout("v1", t0 + 1s, &why);
  ASSERT_NE(frame, nullptr) << rig.Why(why, "v1", "conf-mix-2x2");
  MaybeDump(frame, "conf-mix-2x2");
  Report("mix: layout 1+5 -> 2x2 seen after " + std::to_string(Ms(frame->arrival - t0)) + " ms");
  EXPECT_EQ(rig.conference().Stats().active_decoders, 4);
  EXPECT_TRUE(WaitUntil([&] { return events.SawLayout("2x2"); }, Clock::now() + 2s));
  EXPECT_TRUE(events.SawLayout("1+5"));
  {
    std::lock_guard lock(events.mu);
    EXPECT_FALSE(events.speakers.empty());
  }
  // Round-trip times come from RTCP (reports about every second).
  EXPECT_TRUE(WaitUntil(
      [&] {
        stats = rig.conference().Stats();
        for (const auto& v : stats.venues)
          if (v.rtt_ms < 0) return false;
        return true;
      },
      Clock::now() + 10s));
  for (const auto& v : stats.venues) {
    ASSERT_TRUE(v.transport.has_value()) << v.id;
    EXPECT_EQ(v.transport->dropped_auth, 0u) << v.id;
    EXPECT_GT(v.packets_in, 0u) << v.id;
    EXPECT_GT(v.packets_out, 0u) << v.id;
    EXPECT_GE(v.rtt_ms, 0.0) << v.id;
    EXPECT_LT(v.rtt_ms, 1000.0) << v.id;
  }
  EXPECT_EQ(stats.video.pipeline_errors, 0u);

  // Prometheus: labelled by conference (and per venue by the venue's site id).
  std::string text;
  EXPECT_TRUE(WaitUntil(
      [&] {
        text = rig.metrics().RenderText();
        return text.find("plateau_conference_venues{conference=\"mix\"} 6") != std::string::npos &&
               text.find("plateau_conference_active_decoders{conference=\"mix\"} 4") !=
                   std::string::npos &&
               text.find("plateau_conference_venue_packets_in_total{venue=\"v1\"}") !=
                   std::string::npos;
      },
      Clock::now() + 5s))
      << text;
}

// 2. Twenty venues in 4x4: exactly sixteen decoders run; a hidden venue made visible shows its
// colour within one second.
TEST(Conference, OnlyVisibleVenuesAreDecoded) {
  auto config = SmallConferenceConfig("visible");
  config.layout = "4x4";
  ConferenceRig rig(config);
  ASSERT_TRUE(rig.ok());
  const auto colors = Palette(20);
  for (size_t i = 0; i < 20; ++i) {
    terminal::media::ClipConfig c;
    c.color = colors[i];
    c.width = 160;
    c.height = 90;
    c.seconds = 4;
    c.gop_frames = 120;  // one keyframe per loop: a newly visible venue needs its PLI answered
    c.video_kbps = 100;
    c.audio = false;
    auto clip = terminal::media::EncodedClip::Generate(c);
    ASSERT_TRUE(clip.ok()) << clip.error().message;
    TerminalOptions o;
    o.clip = *clip;
    o.receive = i == 0;
    ASSERT_NE(rig.Join("v" + std::to_string(i + 1), kNames[i], colors[i], o), nullptr);
  }
  std::string why;
  auto grid = rig.WaitForLayout("v1", Clock::now() + 20s, &why);
  ASSERT_NE(grid, nullptr) << rig.Why(why, "v1", "conf-visible-4x4");
  MaybeDump(grid, "conf-visible-4x4");
  // The grid shows the sixteen visible venues; the hidden ones (joined last) may not have had a
  // packet counted yet on a loaded machine. Wait for every venue's first packet (bounded).
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto s = rig.conference().Stats();
        return std::all_of(s.venues.begin(), s.venues.end(),
                           [](const auto& v) { return v.packets_in > 0; });
      },
      Clock::now() + 10s));
  auto stats = rig.conference().Stats();
  EXPECT_EQ(stats.active_decoders, 16);
  EXPECT_EQ(stats.layout, "4x4");
  for (const auto& v : stats.venues) {
    const bool hidden = v.id == "v17" || v.id == "v18" || v.id == "v19" || v.id == "v20";
    EXPECT_EQ(v.decoding, !hidden) << v.id;
    EXPECT_EQ(v.visible, !hidden) << v.id;
    EXPECT_EQ(v.tile < 0, hidden) << v.id;
    EXPECT_GT(v.packets_in, 0u) << v.id;
    if (hidden) {
      EXPECT_EQ(v.frames_decoded, 0u) << v.id;
    }
  }

  // v20 moves to the front of the order: it takes tile 0 and shows within one second; v16 drops
  // out and still sixteen decoders run.
  std::vector<std::string> order = {"v20"};
  for (int i = 1; i <= 19; ++i) order.push_back("v" + std::to_string(i));
  const uint64_t requests_before = rig.terminal("v20").keyframe_requests;
  const auto t0 = Clock::now();
  ASSERT_TRUE(rig.conference().SetVenueOrder(order).ok());
  const auto placements = rig.conference().Placements();
  ASSERT_EQ(placements[0].venue, "v20");
  auto frame = rig.terminal("v1").receiver->WaitForFrame(
      [&](const terminal::media::DecodedFrame& f) {
        return ShowsLayout(
            f, {placements[0]}, 320, 180, [&](const std::string& v) { return rig.ColorOf(v); },
            &why);
      },
      t0 + 1s);
  ASSERT_NE(frame, nullptr) << rig.Why(why, "v1", "conf-visible-v20");
  MaybeDump(frame, "conf-visible-v20");
  Report("visible: hidden venue shown after " + std::to_string(Ms(frame->arrival - t0)) + " ms");
  EXPECT_GT(rig.terminal("v20").keyframe_requests.load(), requests_before);  // a PLI reached it
  stats = rig.conference().Stats();
  EXPECT_EQ(stats.active_decoders, 16);
  EXPECT_FALSE(FindVenue(stats, "v16")->decoding);
  EXPECT_TRUE(FindVenue(stats, "v20")->decoding);

  // Pinning a hidden venue puts it in the large pane (tile 0) the same way.
  ASSERT_TRUE(rig.conference().PinSpeaker("v18").ok());
  ASSERT_EQ(rig.conference().Placements()[0].venue, "v18");
  ASSERT_NE(rig.WaitForLayout("v1", Clock::now() + 3s, &why), nullptr)
      << rig.Why(why, "v1", "conf-visible-pin");
  EXPECT_EQ(rig.conference().Stats().active_decoders, 16);
}

// Builds one H.264 RTP packet (a non-IDR slice: well-formed, never a decoder start).
std::vector<uint8_t> SlicePacket(uint32_t ssrc, uint16_t seq, uint8_t pt = 96) {
  rtp::RtpHeader h;
  h.payload_type = pt;
  h.sequence_number = seq;
  h.timestamp = seq * 3000u;
  h.marker = true;
  h.ssrc = ssrc;
  std::vector<uint8_t> payload(200, 0x5a);
  payload[0] = 0x41;  // NAL type 1 (non-IDR slice), nri 2
  return rtp::BuildRtpPacket(h, payload);
}

// 3. SRTP is enforced at the conference: a bad tag, a wrong key, plain RTP and replays are dropped
// and counted, and none of it reaches the video mixer or a decoder.
// Encode only tiers that have receivers: a conference whose venues all receive "8m" does not
// encode "2m"; the first venue receiving "2m" starts it (and decodes the mix from its first
// frame); when that venue leaves, "2m" stops again.
TEST(Conference, EncodesOnlyTheTiersItsVenuesReceive) {
  ConferenceRig rig(SmallConferenceConfig("tiers"));
  ASSERT_TRUE(rig.ok());
  const auto colors = Palette(2);
  TerminalOptions big;
  big.receive = true;
  big.tier = "8m";
  ASSERT_NE(rig.Join("a", kNames[0], colors[0], big), nullptr);
  TerminalOptions sender_only;  // on "2m", but its offer receives no video
  sender_only.tier = "2m";
  sender_only.media.receives_video = false;
  sender_only.tone_volume = 0.02;  // "a" stays the speaker: the layout holds still
  ASSERT_NE(rig.Join("b", kNames[1], colors[1], sender_only), nullptr);
  std::string why;
  ASSERT_NE(rig.WaitForLayout("a", Clock::now() + 20s, &why), nullptr)
      << rig.Why(why, "a", "tiers-a");
  auto stats = rig.conference().Stats();
  EXPECT_EQ(stats.video_encoders, 1u);
  ASSERT_EQ(stats.video.tiers.size(), 2u);
  EXPECT_TRUE(stats.video.tiers[0].active);
  EXPECT_FALSE(stats.video.tiers[1].active);
  EXPECT_EQ(stats.video.tiers[1].frames_encoded, 0u);

  TerminalOptions small;
  small.receive = true;
  small.tier = "2m";
  small.tone_volume = 0.02;
  ASSERT_NE(rig.Join("c", kNames[2], terminal::media::Rgb{200, 200, 40}, small), nullptr);
  ASSERT_NE(rig.WaitForLayout("c", Clock::now() + 20s, &why), nullptr)
      << rig.Why(why, "c", "tiers-c");
  stats = rig.conference().Stats();
  EXPECT_EQ(stats.video_encoders, 2u);
  EXPECT_TRUE(stats.video.tiers[1].active);
  EXPECT_GE(stats.video.tiers[1].frames_encoded, 1u);

  ASSERT_TRUE(rig.conference().RemoveVenue("c").ok());
  stats = rig.conference().Stats();
  EXPECT_EQ(stats.video_encoders, 1u);
  EXPECT_FALSE(stats.video.tiers[1].active);
  const std::string metrics = rig.metrics().RenderText();
  EXPECT_NE(metrics.find("plateau_conference_video_encoders{conference=\"tiers\"} 1"),
            std::string::npos)
      << metrics;
}

TEST(Conference, SrtpIsEnforced) {
  ConferenceRig rig(SmallConferenceConfig("srtp"));
  ASSERT_TRUE(rig.ok());
  auto& conf = rig.conference();
  const auto up_bad = transport::GenerateSrtpKey();
  const auto up_replay = transport::GenerateSrtpKey();
  conference::SdesEndpoint ep;
  ep.send_key = transport::GenerateSrtpKey();
  ep.receive_key = up_bad;
  auto bad = conf.AddVenue({"bad", "海东市", "", false}, ep);
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  ep.receive_key = up_replay;
  auto replay = conf.AddVenue({"replay", "西宁市", "", false}, ep);
  ASSERT_TRUE(replay.ok()) << replay.error().message;

  asio::io_context io;
  asio::ip::udp::socket sock(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto send = [&](const std::vector<uint8_t>& bytes, const transport::Endpoint& to) {
    sock.send_to(asio::buffer(bytes), ::plateau::testing::ToUdp(to));
  };

  // "bad": 20 packets with a flipped authentication tag, 20 under a wrong key, 20 plain.
  auto right = transport::SrtpSession::Create(transport::SrtpSession::Direction::kOutbound, up_bad);
  auto wrong = transport::SrtpSession::Create(transport::SrtpSession::Direction::kOutbound,
                                              transport::GenerateSrtpKey());
  ASSERT_TRUE(right.ok() && wrong.ok());
  uint16_t seq = 100;
  for (int i = 0; i < 20; ++i) {
    auto p = SlicePacket(0xbad, seq++);
    ASSERT_EQ((*right)->ProtectRtp(&p), transport::SrtpStatus::kOk);
    p.back() ^= 0x01;
    send(p, *bad->local);
    auto q = SlicePacket(0xbad, seq++);
    ASSERT_EQ((*wrong)->ProtectRtp(&q), transport::SrtpStatus::kOk);
    send(q, *bad->local);
    send(SlicePacket(0xbad, seq++), *bad->local);
  }
  // "replay": 20 genuine packets once (accepted), then the same 20 again (replays).
  auto genuine =
      transport::SrtpSession::Create(transport::SrtpSession::Direction::kOutbound, up_replay);
  ASSERT_TRUE(genuine.ok());
  std::vector<std::vector<uint8_t>> sent;
  for (uint16_t s = 1; s <= 20; ++s) {
    auto p = SlicePacket(0x5e1, s);
    ASSERT_EQ((*genuine)->ProtectRtp(&p), transport::SrtpStatus::kOk);
    send(p, *replay->local);
    sent.push_back(std::move(p));
  }
  auto video_packets = [&](const std::string& id) -> uint64_t {
    for (const auto& v : conf.Stats().video.venues)
      if (v.venue == id) return v.packets;
    return ~0ull;
  };
  ASSERT_TRUE(WaitUntil([&] { return video_packets("replay") == 20; }, Clock::now() + 10s))
      << video_packets("replay");
  for (const auto& p : sent) send(p, *replay->local);

  conference::ConferenceStats stats;
  ASSERT_TRUE(WaitUntil(
      [&] {
        stats = conf.Stats();
        const auto* b = FindVenue(stats, "bad");
        const auto* r = FindVenue(stats, "replay");
        // The genuine venue latched our address and is being sent the mix.
        return b->transport->dropped_auth == 60 && r->transport->dropped_replay == 20 &&
               r->packets_out > 0;
      },
      Clock::now() + 10s))
      << "auth " << FindVenue(stats, "bad")->transport->dropped_auth << " replay "
      << FindVenue(stats, "replay")->transport->dropped_replay;
  const auto* b = FindVenue(stats, "bad");
  const auto* r = FindVenue(stats, "replay");
  EXPECT_EQ(b->packets_in, 0u);
  EXPECT_EQ(b->packets_out, 0u);  // nothing latched the venue's address: nothing sent to it
  EXPECT_EQ(b->frames_decoded, 0u);
  EXPECT_EQ(b->dropped_packets, 60u);
  EXPECT_EQ(r->packets_in, 20u);
  EXPECT_EQ(r->dropped_packets, 20u);
  EXPECT_EQ(r->frames_decoded, 0u);
  EXPECT_EQ(video_packets("bad"), 0u);
  EXPECT_EQ(video_packets("replay"), 20u);  // the replays never reached the mixer
  EXPECT_GE(stats.dropped_packets, 80u);
  Report("srtp: dropped " + std::to_string(stats.dropped_packets) + " (auth " +
         std::to_string(b->transport->dropped_auth) + ", replay " +
         std::to_string(r->transport->dropped_replay) + "), accepted " +
         std::to_string(r->packets_in));
}

// 4. Loss: a terminal behind a relay that drops 2% each way. The conference asks for what it
// misses (NACK), answers the terminal's NACKs from its history, and the picture stays right.
TEST(Conference, RecoversFromTwoPercentLossBothWays) {
  ConferenceRig rig(SmallConferenceConfig("loss"));
  ASSERT_TRUE(rig.ok());
  const auto colors = Palette(2);
  TerminalOptions lossy;
  lossy.receive = true;
  lossy.video_kbps = 400;
  lossy.relay = ::plateau::testing::UdpRelayConfig{};
  lossy.relay->loss_percent = 2;
  lossy.relay->seed = 20240601;
  ASSERT_NE(rig.Join("lossy", kNames[0], colors[0], lossy), nullptr);
  ASSERT_NE(rig.Join("clean", kNames[1], colors[1]), nullptr);

  std::string why;
  ASSERT_NE(rig.WaitForLayout("lossy", Clock::now() + 20s, &why), nullptr)
      << rig.Why(why, "lossy", "conf-loss-first");
  conference::ConferenceStats stats;
  auto& terminal = rig.terminal("lossy");
  ASSERT_TRUE(WaitUntil(
      [&] {
        stats = rig.conference().Stats();
        const auto& t = *FindVenue(stats, "lossy")->transport;
        const auto mine = terminal.transport.load()->GetStats();
        const auto relay = terminal.relay->counters();
        return t.nacks_sent > 0 && t.recovered > 0 && t.retransmitted > 0 && mine.recovered > 0 &&
               relay.to_server.dropped >= 10 && relay.to_client.dropped >= 10;
      },
      Clock::now() + 40s))
      << "conference nacks_sent " << FindVenue(stats, "lossy")->transport->nacks_sent
      << " retransmitted " << FindVenue(stats, "lossy")->transport->retransmitted;
  const auto relay = terminal.relay->counters();
  EXPECT_GT(relay.to_server.dropped, 0u);
  EXPECT_GT(relay.to_client.dropped, 0u);

  // After recovery the picture is right, and stays decodable: a later frame is right too.
  const uint64_t index = terminal.receiver->LatestFrame()->index;
  auto frame = rig.WaitForLayout("lossy", Clock::now() + 5s, &why, index);
  ASSERT_NE(frame, nullptr) << rig.Why(why, "lossy", "conf-loss-after");
  frame = rig.WaitForLayout("lossy", Clock::now() + 5s, &why, frame->index + 30);
  ASSERT_NE(frame, nullptr) << rig.Why(why, "lossy", "conf-loss-later");
  MaybeDump(frame, "conf-loss");
  stats = rig.conference().Stats();
  const auto& t = *FindVenue(stats, "lossy")->transport;
  const auto mine = terminal.transport.load()->GetStats();
  Report("loss: relay dropped " + std::to_string(relay.to_server.dropped) + " up / " +
         std::to_string(relay.to_client.dropped) + " down; conference nacks_sent " +
         std::to_string(t.nacks_sent) + " recovered " + std::to_string(t.recovered) +
         " retransmitted " + std::to_string(t.retransmitted) + "; terminal recovered " +
         std::to_string(mine.recovered) + ", fps " +
         std::to_string(terminal.receiver->Stats().fps));
  EXPECT_GT(terminal.receiver->Stats().fps, 10.0);
}

// An external carrier as signaling's WebRTC session is one: plain RTP both ways, in memory.
class MemoryEndpoint : public conference::ExternalEndpoint {
 public:
  MemoryEndpoint() {
    auto r = terminal::media::TerminalReceiver::Create(
        terminal::media::ReceiverConfig{96, 111, 50, true, 1000});
    EXPECT_TRUE(r.ok());
    if (r.ok()) receiver = std::move(r.value());
  }
  void SendRtp(conference::MediaKind kind, std::span<const uint8_t> rtp) override {
    (kind == conference::MediaKind::kVideo ? video : audio)++;
    receiver->PushRtp(rtp);
  }
  void RequestKeyframe() override { keyframe_requests++; }
  conference::ExternalLegStats LegStats() override {
    conference::ExternalLegStats s;
    s.rtt_ms = 12.5;
    s.state = "connected";
    return s;
  }
  std::unique_ptr<terminal::media::TerminalReceiver> receiver;
  std::atomic<uint64_t> video{0};
  std::atomic<uint64_t> audio{0};
  std::atomic<uint64_t> keyframe_requests{0};
};

// A live sender whose packets go into Conference::PushRtp (the external path).
std::unique_ptr<terminal::media::TerminalSender> ExternalSender(conference::Conference& conf,
                                                                const std::string& venue,
                                                                Rgb color) {
  terminal::media::SenderConfig sc;
  sc.color = color;
  sc.width = 160;
  sc.height = 90;
  sc.video_kbps = 150;
  sc.gop_frames = 30;
  sc.tone_hz = 2200;
  auto s = terminal::media::TerminalSender::Create(
      sc, [&conf, venue](terminal::media::MediaKind, std::span<const uint8_t> rtp) {
        conf.PushRtp(venue, rtp);
      });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s.value()) : nullptr;
}

// ReconnectVenue swaps the carrier (new SDES keys and port, or a new external endpoint) and the
// venue keeps its tile and mute state; external venues are mixed and receive the mix like SDES
// ones; RemoveVenue frees the tile.
TEST(Conference, ExternalAndReconnectedVenuesKeepTheirPlace) {
  ConferenceRig rig(SmallConferenceConfig("resume"));
  ASSERT_TRUE(rig.ok());
  auto& conf = rig.conference();
  const auto colors = Palette(3);
  TerminalOptions viewer;
  viewer.receive = true;
  ASSERT_NE(rig.Join("a", kNames[0], colors[0], viewer), nullptr);
  ASSERT_NE(rig.Join("b", kNames[1], colors[1]), nullptr);
  auto first = std::make_shared<MemoryEndpoint>();
  auto x_info = conf.AddVenue({"x", kNames[2], "2m", false}, first);
  ASSERT_TRUE(x_info.ok()) << x_info.error().message;
  EXPECT_FALSE(x_info->local.has_value());
  EXPECT_EQ(x_info->tier, "2m");
  auto x_sender = ExternalSender(conf, "x", colors[2]);
  ASSERT_NE(x_sender, nullptr);
  rig.SetColor("x", colors[2]);
  // Every venue sends a tone: voice activation would move the large pane whenever the dominant
  // speaker changes, and this test is about tiles kept across reconnects. Pin it.
  ASSERT_TRUE(conf.PinSpeaker("a").ok());
  auto color_of = [&](const std::string& v) { return rig.ColorOf(v); };
  auto shows = [&](terminal::media::TerminalReceiver& r, Clock::time_point deadline,
                   std::string* why) {
    const auto placements = conf.Placements();
    return r.WaitForFrame(
        [&](const terminal::media::DecodedFrame& f) {
          return ShowsLayout(f, placements, 320, 180, color_of, why);
        },
        deadline);
  };

  std::string why;
  ASSERT_NE(shows(*rig.terminal("a").receiver, Clock::now() + 20s, &why), nullptr)
      << rig.Why(why, "a", "conf-resume-a");
  auto frame = shows(*first->receiver, Clock::now() + 10s, &why);
  ASSERT_NE(frame, nullptr) << why;
  EXPECT_EQ(frame->width, 160);  // the 2m tier
  ASSERT_TRUE(first->receiver->WaitForAudio(200, Clock::now() + 5s));

  // b: operator mute, then a resume on a new port with new keys.
  ASSERT_TRUE(conf.SetMuted("b", true).ok());
  const auto placements = conf.Placements();
  const uint16_t old_port = rig.terminal("b").info.local->port();
  auto resumed = rig.Reconnect("b");
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_NE(resumed->local->port(), old_port);
  EXPECT_EQ(conf.Placements(), placements);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto s = conf.Stats();
        const auto* b = FindVenue(s, "b");
        return b->muted && b->transport && b->transport->packets_in > 0 &&
               b->transport->packets_out > 0;
      },
      Clock::now() + 10s));
  const uint64_t after = rig.terminal("a").receiver->LatestFrame()->index + 30;
  ASSERT_NE(rig.WaitForLayout("a", Clock::now() + 10s, &why, after), nullptr)
      << rig.Why(why, "a", "conf-resume-b");

  // x: a new external endpoint (a new WebRTC session); the old one is no longer sent to.
  auto second = std::make_shared<MemoryEndpoint>();
  ASSERT_TRUE(conf.ReconnectVenue("x", second).ok());
  EXPECT_EQ(conf.Placements(), placements);
  ASSERT_NE(shows(*second->receiver, Clock::now() + 10s, &why), nullptr) << why;
  const uint64_t old_video = first->video;
  ASSERT_TRUE(WaitUntil([&] { return second->video > 100; }, Clock::now() + 10s));
  EXPECT_EQ(first->video.load(), old_video);
  auto stats = conf.Stats();
  const auto* x = FindVenue(stats, "x");
  EXPECT_TRUE(x->external);
  EXPECT_FALSE(x->transport.has_value());
  EXPECT_EQ(x->rtt_ms, 12.5);
  EXPECT_GT(x->packets_in, 0u);
  EXPECT_TRUE(x->decoding);

  // Garbage pushed for x, and RTP for a venue that does not exist, never reach a mixer.
  const uint64_t dropped = stats.dropped_packets;
  const std::vector<uint8_t> garbage = {0x80, 0x60, 0x00};
  conf.PushRtp("x", garbage);
  conf.PushRtp("x", SlicePacket(1, 1, 100));  // a payload type the conference does not use
  conf.PushRtp("nobody", SlicePacket(1, 1));
  conf.PushRtp("a", SlicePacket(1, 1));  // SDES venues take media only through SRTP
  EXPECT_EQ(conf.Stats().dropped_packets, dropped + 4);

  // Removing b frees its tile: three venues -> two, layout "2".
  x_sender.reset();
  ASSERT_TRUE(conf.RemoveVenue("b").ok());
  EXPECT_EQ(conf.RemoveVenue("b").error().code, "unknown_venue");
  stats = conf.Stats();
  EXPECT_EQ(stats.layout, "2");
  EXPECT_EQ(stats.venues.size(), 2u);
  EXPECT_EQ(stats.active_decoders, 2);
}

// Every refused call names its reason and leaves the conference as it was.
TEST(Conference, BadCallsReturnErrorsAndChangeNothing) {
  metrics::Registry registry;
  auto config = SmallConferenceConfig("");
  EXPECT_EQ(conference::Conference::Create(config, registry).error().code, "bad_config");
  config = SmallConferenceConfig("bad");
  config.audio_payload_type = config.video_payload_type;
  EXPECT_EQ(conference::Conference::Create(config, registry).error().code, "bad_config");
  config = SmallConferenceConfig("bad");
  config.layout = "5x5";
  EXPECT_EQ(conference::Conference::Create(config, registry).error().code, "bad_layout");
  config = SmallConferenceConfig("bad");
  config.audio.speakers = 0;
  EXPECT_FALSE(conference::Conference::Create(config, registry).ok());
  config = SmallConferenceConfig("bad");
  config.video.canvas_width = 321;
  EXPECT_EQ(conference::Conference::Create(config, registry).error().code, "bad_config");

  config = SmallConferenceConfig("limits");
  config.max_venues = 2;
  ConferenceRig rig(config);
  ASSERT_TRUE(rig.ok());
  auto& conf = rig.conference();
  ASSERT_NE(rig.Join("a", kNames[0], Palette(1)[0]), nullptr);
  const auto before_stats = conf.Stats();
  const auto before = conf.Placements();
  conference::SdesEndpoint ep;
  ep.send_key = transport::GenerateSrtpKey();
  ep.receive_key = transport::GenerateSrtpKey();
  EXPECT_EQ(conf.AddVenue({"a", "x", "", false}, ep).error().code, "duplicate_venue");
  EXPECT_EQ(conf.AddVenue({"", "x", "", false}, ep).error().code, "bad_venue");
  EXPECT_EQ(conf.AddVenue({"c", "x", "4k", false}, ep).error().code, "unknown_tier");
  EXPECT_EQ(conf.AddVenue({"c", "x", "", false}, std::shared_ptr<conference::ExternalEndpoint>())
                .error()
                .code,
            "bad_endpoint");
  auto same_pt = ep;
  same_pt.audio_payload_type = same_pt.video_payload_type;
  EXPECT_EQ(conf.AddVenue({"c", "x", "", false}, same_pt).error().code, "bad_payload_type");
  auto taken = ep;
  taken.bind_port = rig.terminal("a").info.local->port();
  EXPECT_EQ(conf.AddVenue({"c", "x", "", false}, taken).error().code, "bind_failed");
  EXPECT_EQ(conf.ReconnectVenue("a", taken).error().code, "bind_failed");
  EXPECT_EQ(conf.ReconnectVenue("nope", ep).error().code, "unknown_venue");
  EXPECT_EQ(conf.RemoveVenue("nope").error().code, "unknown_venue");
  EXPECT_EQ(conf.SetLayout("5x5").error().code, "bad_layout");
  EXPECT_EQ(conf.SetVenueOrder({"a", "nope"}).error().code, "bad_order");
  EXPECT_EQ(conf.PinSpeaker("nope").error().code, "unknown_venue");
  EXPECT_EQ(conf.SetMuted("nope", true).error().code, "unknown_venue");
  auto after_stats = conf.Stats();
  EXPECT_EQ(conf.Placements(), before);
  ASSERT_EQ(after_stats.venues.size(), 1u);
  EXPECT_EQ(after_stats.layout, before_stats.layout);
  EXPECT_FALSE(after_stats.venues[0].muted);

  // The bound: a second venue fits, a third does not.
  auto b = conf.AddVenue({"b", "x", "2m", true}, ep);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(conf.AddVenue({"c", "x", "", false}, ep).error().code, "too_many_venues");
  EXPECT_TRUE(FindVenue(conf.Stats(), "b")->muted);
  // The venue that failed to reconnect still has its carrier: its terminal is still mixed.
  EXPECT_TRUE(WaitUntil(
      [&] {
        const auto s = conf.Stats();
        return FindVenue(s, "a")->decoding && FindVenue(s, "a")->frames_decoded > 0;
      },
      Clock::now() + 20s));
}

// A conference counts in the registry it is given and nowhere else: two conferences with their
// own registries (as two tests, or two servers in one process, have) never see each other's
// series, and a conference's series leave its registry when it stops.
TEST(Conference, CountsOnlyInTheRegistryItWasGiven) {
  metrics::Registry first_registry;
  metrics::Registry second_registry;
  auto first = conference::Conference::Create(SmallConferenceConfig("first"), first_registry);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = conference::Conference::Create(SmallConferenceConfig("second"), second_registry);
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto north =
      first.value()->AddVenue({"north", "North", "", false}, std::make_shared<MemoryEndpoint>());
  ASSERT_TRUE(north.ok()) << north.error().message;
  auto south =
      second.value()->AddVenue({"south", "South", "", false}, std::make_shared<MemoryEndpoint>());
  ASSERT_TRUE(south.ok()) << south.error().message;

  auto has = [](const metrics::Registry& r, const std::string& what) {
    return r.RenderText().find(what) != std::string::npos;
  };
  EXPECT_TRUE(has(first_registry, "plateau_conference_venues{conference=\"first\"} 1"))
      << first_registry.RenderText();
  EXPECT_TRUE(has(first_registry, "plateau_conference_venue_packets_in_total{venue=\"north\"}"));
  EXPECT_FALSE(has(first_registry, "conference=\"second\""));
  EXPECT_FALSE(has(first_registry, "venue=\"south\""));
  EXPECT_TRUE(has(second_registry, "plateau_conference_venues{conference=\"second\"} 1"))
      << second_registry.RenderText();
  EXPECT_TRUE(has(second_registry, "plateau_conference_venue_packets_in_total{venue=\"south\"}"));
  EXPECT_FALSE(has(second_registry, "conference=\"first\""));
  EXPECT_FALSE(has(second_registry, "venue=\"north\""));

  // The first stops: its conference's series go from its registry; the second's stay.
  first.value().reset();
  EXPECT_FALSE(has(first_registry, "conference=\"first\"")) << first_registry.RenderText();
  EXPECT_TRUE(has(second_registry, "plateau_conference_venues{conference=\"second\"} 1"));
}

}  // namespace
}  // namespace plateau::mcu::testing
