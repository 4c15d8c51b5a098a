// VenueTransport over real UDP sockets on 127.0.0.1: SRTP enforcement, NACK recovery through a
// lossy relay, RTCP reports and RTT, keyframe requests, and hostile input.
#include "plateau/mcu/transport/venue_transport.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "plateau/common/metrics.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "support/asio_endpoint.hpp"
#include "support/udp_relay.hpp"
#include "support/wait.hpp"

namespace plateau::mcu::transport {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;
using ::plateau::testing::FromUdp;
using ::plateau::testing::ToUdp;
using ::plateau::testing::WaitUntil;

constexpr uint8_t kVideoPt = 96;
constexpr uint8_t kAudioPt = 111;

std::vector<uint8_t> VideoPacket(uint32_t ssrc, uint16_t seq, size_t size = 1000) {
  rtp::RtpHeader h;
  h.payload_type = kVideoPt;
  h.sequence_number = seq;
  h.timestamp = (seq / 10) * 3000u;  // ten packets per frame
  h.marker = seq % 10 == 9;
  h.ssrc = ssrc;
  std::vector<uint8_t> payload(size);
  payload[0] = 0x7c;  // FU-A
  payload[1] = 0x01;
  for (size_t i = 2; i < size; ++i) payload[i] = static_cast<uint8_t>(seq + i);
  return rtp::BuildRtpPacket(h, payload);
}

std::vector<uint8_t> AudioPacket(uint32_t ssrc, uint16_t seq, uint8_t pt = kAudioPt) {
  rtp::RtpHeader h;
  h.payload_type = pt;
  h.sequence_number = seq;
  h.timestamp = seq * 960u;
  h.ssrc = ssrc;
  std::vector<uint8_t> payload(80, static_cast<uint8_t>(seq));
  payload[0] = 0x78;
  return rtp::BuildRtpPacket(h, payload);
}

// Everything a transport delivered, safe to read from the test thread.
class Sink {
 public:
  struct Item {
    uint32_t ssrc;
    uint16_t seq;
    MediaKind kind;
    bool recovered;
    std::vector<uint8_t> bytes;
  };
  void Add(const rtp::RtpPacket& p, const RtpArrival& a) {
    std::lock_guard lock(mu_);
    items_.push_back({p.ssrc(), p.sequence_number(), a.kind, a.recovered,
                      std::vector<uint8_t>(p.data().begin(), p.data().end())});
  }
  void AddKeyframeRequest(uint32_t ssrc) {
    std::lock_guard lock(mu_);
    keyframe_requests_.push_back(ssrc);
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::vector<Item> items() const {
    std::lock_guard lock(mu_);
    return items_;
  }
  std::set<uint16_t> Seqs(uint32_t ssrc) const {
    std::lock_guard lock(mu_);
    std::set<uint16_t> out;
    for (const auto& i : items_) {
      if (i.ssrc == ssrc) out.insert(i.seq);
    }
    return out;
  }
  std::vector<uint32_t> keyframe_requests() const {
    std::lock_guard lock(mu_);
    return keyframe_requests_;
  }
  VenueTransportCallbacks Callbacks() {
    VenueTransportCallbacks cb;
    cb.on_rtp = [this](const rtp::RtpPacket& p, const RtpArrival& a) { Add(p, a); };
    cb.on_keyframe_request = [this](uint32_t ssrc) { AddKeyframeRequest(ssrc); };
    return cb;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Item> items_;
  std::vector<uint32_t> keyframe_requests_;
};

Endpoint Loopback(uint16_t port) {
  return {::plateau::testing::Loopback(), port};
}

class VenueTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    for (auto& t : transports_) t->Close();
    transports_.clear();
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  std::shared_ptr<VenueTransport> Make(VenueTransportConfig config, Sink* sink) {
    auto t = VenueTransport::Create(io_, std::move(config), sink->Callbacks(), metrics_);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    if (!t.ok()) return nullptr;
    transports_.push_back(*t);
    return *t;
  }

  // Runs `fn` on the io thread and waits for it: everything posted before has run.
  void Drain() {
    std::promise<void> done;
    asio::post(io_, [&] { done.set_value(); });
    done.get_future().wait();
  }

  VenueTransportConfig Config(const std::string& name, const SrtpKey& send,
                              const SrtpKey& receive) {
    VenueTransportConfig c;
    c.name = name;
    c.send_key = send;
    c.receive_key = receive;
    c.rtcp_interval = 200ms;
    return c;
  }

  // Declared before io_ so that they outlive every handler the io_context still holds.
  Sink sink_a_;
  Sink sink_b_;
  SrtpKey key_a_ = GenerateSrtpKey();
  SrtpKey key_b_ = GenerateSrtpKey();
  metrics::Registry metrics_;  // where the transports count
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_{
      asio::make_work_guard(io_)};
  std::thread thread_;
  std::vector<std::shared_ptr<VenueTransport>> transports_;
};

TEST_F(VenueTransportTest, DeliversAuthenticatedMediaAndLatchesTheRemote) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  EXPECT_NE(b->local_endpoint().port(), 0);
  EXPECT_FALSE(b->remote_endpoint());

  for (uint16_t seq = 0; seq < 50; ++seq) a->SendRtp(AudioPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 50; }));
  const auto items = sink_b_.items();
  EXPECT_EQ(items[7].bytes, AudioPacket(0xa0, 7));  // the plain packet, byte for byte
  EXPECT_EQ(items[7].kind, MediaKind::kAudio);
  ASSERT_TRUE(b->remote_endpoint());
  EXPECT_EQ(b->remote_endpoint()->port(), a->local_endpoint().port());

  // B learned where A is: media flows back.
  for (uint16_t seq = 0; seq < 20; ++seq) b->SendRtp(VideoPacket(0xb0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_a_.size() == 20; }));
  EXPECT_EQ(sink_a_.items()[0].kind, MediaKind::kVideo);

  const auto sa = a->GetStats();
  const auto sb = b->GetStats();
  EXPECT_EQ(sa.packets_out, 50u);
  EXPECT_EQ(sb.packets_in, 50u);
  EXPECT_EQ(sb.packets_out, 20u);
  EXPECT_EQ(sa.packets_in, 20u);
  EXPECT_EQ(sb.dropped_auth + sb.dropped_replay + sb.dropped_malformed + sb.dropped_unknown, 0u);
  ASSERT_EQ(sb.inbound.size(), 1u);
  EXPECT_EQ(sb.inbound[0].ssrc, 0xa0u);
  EXPECT_EQ(sb.inbound[0].lost, 0);
}

// An SDES offer's address is only the venue's claim: pointed at a third party (127.0.0.9 here,
// while the venue signals from 127.0.0.1), the transport sends nothing there; once an
// authenticated packet comes from the venue's real address, media flows to that address only.
TEST_F(VenueTransportTest, AClaimedRemoteElsewhereGetsNothingUntilTheVenueLatches) {
  asio::io_context victim_io;
  udp::socket victim(victim_io, udp::endpoint(asio::ip::make_address("127.0.0.9"), 0));
  victim.non_blocking(true);
  auto venue = Make(Config("venue", key_b_, key_a_), &sink_b_);  // the real venue, on 127.0.0.1
  auto cs = Config("server", key_a_, key_b_);
  cs.remote = FromUdp(victim.local_endpoint());               // what the offer claimed
  cs.claim_trusted_address = ::plateau::testing::Loopback();  // where its signaling is
  auto server = Make(cs, &sink_a_);
  ASSERT_TRUE(server && venue);
  EXPECT_FALSE(server->remote_endpoint());

  for (uint16_t seq = 0; seq < 20; ++seq) server->SendRtp(VideoPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return server->GetStats().send_dropped_no_remote >= 20; }));

  // The venue's first authenticated packet, from its real address, latches the remote.
  venue->SetRemote(server->local_endpoint());
  venue->SendRtp(AudioPacket(0xb0, 1));
  ASSERT_TRUE(WaitUntil([&] { return sink_a_.size() == 1; }));
  ASSERT_TRUE(server->remote_endpoint());
  EXPECT_EQ(*server->remote_endpoint(), venue->local_endpoint());
  for (uint16_t seq = 20; seq < 30; ++seq) server->SendRtp(VideoPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 10; }));
  EXPECT_EQ(sink_b_.items()[0].seq, 20);

  // Loopback delivers in order: whatever had been sent to the claimed address is queued there by
  // now. Nothing was (no media, no RTCP).
  std::array<uint8_t, 2048> buf;
  udp::endpoint from;
  boost::system::error_code ec;
  const size_t n = victim.receive_from(asio::buffer(buf), from, 0, ec);
  EXPECT_EQ(ec, asio::error::would_block) << n << " bytes reached the claimed address";
}

// A claim on the venue's own signaling address is used at once (no need to wait for its packets).
TEST_F(VenueTransportTest, AClaimedRemoteOnTheSignalingAddressIsUsedAtOnce) {
  auto venue = Make(Config("venue", key_b_, key_a_), &sink_b_);
  auto cs = Config("server", key_a_, key_b_);
  cs.remote = venue->local_endpoint();
  cs.claim_trusted_address = ::plateau::testing::Loopback();
  auto server = Make(cs, &sink_a_);
  ASSERT_TRUE(server && venue);
  for (uint16_t seq = 0; seq < 10; ++seq) server->SendRtp(VideoPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 10; }));
}

TEST_F(VenueTransportTest, SrtpIsEnforcedBadTagReplayAndPlainRtpAreDroppedAndCounted) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  for (uint16_t seq = 0; seq < 20; ++seq) a->SendRtp(VideoPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 20; }));

  // An injector on another port holding A's key (as a wire capture would give an attacker
  // protected packets to replay).
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, key_a_);
  ASSERT_TRUE(out.ok());
  asio::io_context local;
  udp::socket raw(local, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto to_b = ToUdp(b->local_endpoint());
  auto send = [&](const std::vector<uint8_t>& bytes) { raw.send_to(asio::buffer(bytes), to_b); };
  auto protect = [&](std::vector<uint8_t> p) {
    EXPECT_EQ((*out)->ProtectRtp(&p), SrtpStatus::kOk);
    return p;
  };

  const auto valid = protect(AudioPacket(0xee, 100));
  send(valid);  // delivered
  send(valid);  // replay -> dropped_replay
  auto bad_tag = protect(AudioPacket(0xee, 101));
  bad_tag.back() ^= 0xff;
  send(bad_tag);                 // dropped_auth
  send(AudioPacket(0xee, 102));  // plain RTP -> dropped_auth
  auto rtcp = rtp::BuildRtcp(rtp::Pli{0xee, 0xa0});
  ASSERT_EQ((*out)->ProtectRtcp(&rtcp), SrtpStatus::kOk);
  rtcp[rtcp.size() - 1] ^= 0x01;
  send(rtcp);                                  // SRTCP with a bad tag -> dropped_auth
  send(rtp::BuildRtcp(rtp::Pli{0xee, 0xa0}));  // plain PLI: too short for SRTCP -> malformed
  rtp::ReceiverReport plain_rr{0xee, {rtp::ReportBlock{0xa0, 10, 5, 100, 1, 0, 0}}};
  send(rtp::BuildRtcp(plain_rr));  // plain RTCP long enough for SRTCP -> dropped_auth
  send({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // STUN -> dropped_unknown
  send({0x16, 0xfe, 0xfd, 0, 0, 0, 0});  // DTLS -> dropped_unknown
  send({0x80, 0x6f, 0x00});              // truncated -> dropped_malformed
  std::vector<uint8_t> oversized = AudioPacket(0xee, 103);
  oversized.resize(1600, 0x42);
  send(oversized);  // oversized -> dropped_malformed
  // Authenticated, but the RTP inside is malformed (padding longer than the packet).
  std::vector<uint8_t> bad_padding = AudioPacket(0xee, 104);
  bad_padding[0] |= 0x20;
  bad_padding.back() = 200;
  send(protect(bad_padding));                 // dropped_malformed
  send(protect(AudioPacket(0xee, 105, 50)));  // authenticated, PT 50 not configured
  send(protect(AudioPacket(0xee, 106)));      // delivered

  // A keeps working afterwards.
  for (uint16_t seq = 20; seq < 30; ++seq) a->SendRtp(VideoPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 32; })) << sink_b_.size();
  ASSERT_TRUE(WaitUntil([&] { return b->GetStats().dropped_unknown_pt == 1; }));
  const auto s = b->GetStats();
  EXPECT_EQ(s.dropped_replay, 1u);
  EXPECT_EQ(s.dropped_auth, 4u);
  EXPECT_EQ(s.dropped_unknown, 2u);
  EXPECT_EQ(s.dropped_malformed, 4u);
  EXPECT_EQ(s.dropped_unknown_pt, 1u);
  EXPECT_EQ(s.plis_received, 0u);  // the forged PLIs did nothing
  EXPECT_TRUE(sink_b_.keyframe_requests().empty());
  EXPECT_EQ(sink_b_.Seqs(0xee), (std::set<uint16_t>{100, 106}));
  EXPECT_EQ(sink_b_.Seqs(0xa0).size(), 30u);
  EXPECT_EQ(s.packets_in, 32u);
}

TEST_F(VenueTransportTest, LossyRelayVideoIsRecoveredByNackInBothDirections) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  ASSERT_TRUE(b);
  plateau::testing::UdpRelayConfig rc;
  rc.loss_percent = 0;  // raised once both streams are established
  rc.seed = 20240601;
  plateau::testing::UdpRelay relay(b->local_endpoint().port(), rc);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = Loopback(relay.port());
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);

  constexpr uint32_t kVideoA = 0xa1, kAudioA = 0xa2, kVideoB = 0xb1;
  constexpr uint16_t kPackets = 3000;
  constexpr uint16_t kTail = 50;  // after the measured range, so its last gaps are seen too
  uint16_t seq = 0;
  auto send_step = [&] {
    a->SendRtp(VideoPacket(kVideoA, seq));
    b->SendRtp(VideoPacket(kVideoB, seq));
    if (seq % 4 == 0) a->SendRtp(AudioPacket(kAudioA, static_cast<uint16_t>(seq / 4 + 1)));
    ++seq;
  };
  // Loss-free start: B learns A's address (through the relay) from A's first packets, then both
  // streams are established (a NACK generator cannot know about a loss before the first packet).
  a->SendRtp(AudioPacket(kAudioA, 0));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 1 && b->remote_endpoint(); }));
  for (int i = 0; i < 8; ++i) send_step();
  ASSERT_TRUE(WaitUntil(
      [&] { return sink_a_.Seqs(kVideoB).size() == 8 && sink_b_.Seqs(kVideoA).size() == 8; }));
  relay.SetLossPercent(2.0);
  while (seq < kPackets + kTail) {
    for (int i = 0; i < 10; ++i) send_step();
    std::this_thread::sleep_for(5ms);  // pacing: ~2000 packets/s per direction
  }

  auto complete = [&](const Sink& sink, uint32_t ssrc) {
    const auto got = sink.Seqs(ssrc);
    size_t n = 0;
    for (uint16_t s = 0; s < kPackets; ++s) n += got.count(s);
    return n;
  };
  EXPECT_TRUE(WaitUntil([&] { return complete(sink_b_, kVideoA) == kPackets; }, 20s))
      << complete(sink_b_, kVideoA);
  EXPECT_TRUE(WaitUntil([&] { return complete(sink_a_, kVideoB) == kPackets; }, 20s))
      << complete(sink_a_, kVideoB);

  const auto counters = relay.counters();
  EXPECT_GT(counters.to_server.dropped, 0u);
  EXPECT_GT(counters.to_client.dropped, 0u);
  const auto sa = a->GetStats();
  const auto sb = b->GetStats();
  // Both sides asked, both answered, both recovered.
  EXPECT_GT(sb.nacks_sent, 0u);
  EXPECT_GT(sa.nacks_received, 0u);
  EXPECT_GT(sa.retransmitted, 0u);
  EXPECT_GT(sb.recovered, 0u);
  EXPECT_GT(sa.nacks_sent, 0u);
  EXPECT_GT(sb.nacks_received, 0u);
  EXPECT_GT(sb.retransmitted, 0u);
  EXPECT_GT(sa.recovered, 0u);
  // Audio is not NACKed: its loss shows in B's report blocks about A's audio SSRC, which A sees.
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& o : a->GetStats().outbound) {
      if (o.ssrc == kAudioA && o.remote_lost > 0) return true;
    }
    return false;
  })) << "no report block with loss reached A";
  for (const auto& in : b->GetStats().inbound) {
    if (in.ssrc == kAudioA) {
      EXPECT_GT(in.lost, 0);
    }
    if (in.ssrc == kVideoA) {
      EXPECT_GT(in.recovered, 0u);
    }
  }
  std::printf(
      "[ relay ] to_b dropped %llu of %llu, to_a dropped %llu of %llu; "
      "B: nacks_sent %llu (seqs %llu) recovered %llu; A: retransmitted %llu missed %llu\n",
      static_cast<unsigned long long>(counters.to_server.dropped),
      static_cast<unsigned long long>(counters.to_server.received),
      static_cast<unsigned long long>(counters.to_client.dropped),
      static_cast<unsigned long long>(counters.to_client.received),
      static_cast<unsigned long long>(sb.nacks_sent),
      static_cast<unsigned long long>(sb.nack_seqs_sent),
      static_cast<unsigned long long>(sb.recovered),
      static_cast<unsigned long long>(sa.retransmitted),
      static_cast<unsigned long long>(sa.retransmit_missed));
}

TEST_F(VenueTransportTest, WithoutNackTheRelayLossStaysLost) {
  auto cb = Config("b", key_b_, key_a_);
  cb.nack = false;
  auto b = Make(cb, &sink_b_);
  ASSERT_TRUE(b);
  plateau::testing::UdpRelayConfig rc;
  rc.loss_percent = 5;
  rc.seed = 7;
  plateau::testing::UdpRelay relay(b->local_endpoint().port(), rc);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = Loopback(relay.port());
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);
  constexpr uint16_t kPackets = 1000;
  for (uint16_t seq = 0; seq < kPackets; ++seq) {
    a->SendRtp(VideoPacket(0xa1, seq, 200));
    if (seq % 20 == 19) std::this_thread::sleep_for(2ms);
  }
  // Then loss-free packets until one arrives: everything before it has been handled.
  relay.SetLossPercent(0);
  uint16_t seq = kPackets;
  ASSERT_TRUE(WaitUntil([&] {
    a->SendRtp(VideoPacket(0xa1, seq++, 200));
    return !sink_b_.Seqs(0xa1).empty() && *sink_b_.Seqs(0xa1).rbegin() >= kPackets;
  }));
  const auto got = sink_b_.Seqs(0xa1);
  const size_t in_range = std::distance(got.begin(), got.lower_bound(kPackets));
  EXPECT_LT(in_range, kPackets);
  EXPECT_GT(relay.counters().to_server.dropped, 0u);
  const auto s = b->GetStats();
  EXPECT_EQ(s.nacks_sent, 0u);
  EXPECT_EQ(s.recovered, 0u);
  ASSERT_EQ(s.inbound.size(), 1u);
  EXPECT_GT(s.inbound[0].lost, 0);
}

TEST_F(VenueTransportTest, RoundTripTimeFromSenderAndReceiverReports) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  ASSERT_TRUE(b);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);
  uint16_t seq = 0;
  const bool measured = WaitUntil([&] {
    a->SendRtp(AudioPacket(0xa0, seq));
    b->SendRtp(AudioPacket(0xb0, seq));
    ++seq;
    return a->GetStats().rtt_ms > 0 && b->GetStats().rtt_ms > 0;
  });
  ASSERT_TRUE(measured);
  const double rtt_a = a->GetStats().rtt_ms;
  const double rtt_b = b->GetStats().rtt_ms;
  std::printf("[ rtt ] loopback: A %.3f ms, B %.3f ms\n", rtt_a, rtt_b);
  EXPECT_GT(rtt_a, 0);
  EXPECT_LT(rtt_a, 500);  // loopback: anything near a second would mean LSR/DLSR are wrong
  EXPECT_GT(rtt_b, 0);
  EXPECT_LT(rtt_b, 500);
  EXPECT_GT(a->GetStats().rtcp_in, 0u);
  EXPECT_GT(a->GetStats().rtcp_out, 0u);
}

TEST_F(VenueTransportTest, RoundTripTimeIncludesTheRelayDelay) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  ASSERT_TRUE(b);
  plateau::testing::UdpRelayConfig rc;
  rc.delay = 20ms;  // each way
  plateau::testing::UdpRelay relay(b->local_endpoint().port(), rc);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = Loopback(relay.port());
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);
  uint16_t seq = 0;
  ASSERT_TRUE(WaitUntil([&] {
    a->SendRtp(AudioPacket(0xa0, seq));
    b->SendRtp(AudioPacket(0xb0, seq));
    ++seq;
    return a->GetStats().rtt_ms > 0;
  }));
  const double rtt = a->GetStats().rtt_ms;
  std::printf("[ rtt ] through a 20 ms + 20 ms relay: %.3f ms\n", rtt);
  EXPECT_GE(rtt, 39.9);  // the relay alone adds 40 ms
  EXPECT_LT(rtt, 1000);
}

TEST_F(VenueTransportTest, KeyframeRequestsReachTheSenderAsPliOrFir) {
  auto cb = Config("b", key_b_, key_a_);
  auto b = Make(cb, &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  ca.keyframe_method = KeyframeRequestMethod::kFir;
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  a->SendRtp(VideoPacket(0xa1, 0));
  a->SendRtp(AudioPacket(0xa2, 0));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 2; }));
  b->SendRtp(VideoPacket(0xb1, 0));  // B has latched onto A by now
  ASSERT_TRUE(WaitUntil([&] { return sink_a_.size() == 1; }));

  b->RequestKeyframe();  // every inbound video SSRC: only 0xa1
  ASSERT_TRUE(WaitUntil([&] { return sink_a_.keyframe_requests().size() == 1; }));
  EXPECT_EQ(sink_a_.keyframe_requests()[0], 0xa1u);
  EXPECT_EQ(b->GetStats().plis_sent, 1u);
  EXPECT_EQ(a->GetStats().plis_received, 1u);

  a->RequestKeyframe(0xb1);  // A is configured for FIR
  a->RequestKeyframe(0xb1);  // a new request: a new FIR sequence number
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.keyframe_requests().size() == 2; }));
  EXPECT_EQ(sink_b_.keyframe_requests()[1], 0xb1u);
  EXPECT_EQ(a->GetStats().firs_sent, 2u);
  EXPECT_EQ(b->GetStats().firs_received, 2u);
}

TEST_F(VenueTransportTest, NackForPacketsNotInHistoryIsCountedAsMissed) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  ca.history_packets = 16;
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  for (uint16_t seq = 0; seq < 100; ++seq) a->SendRtp(VideoPacket(0xa1, seq, 100));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 100; }));
  // B (by its key) asks for 3 old packets (gone from a 16-packet history) and 2 recent ones.
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, key_b_);
  ASSERT_TRUE(out.ok());
  rtp::Nack nack;
  nack.sender_ssrc = 0xb0;
  nack.media_ssrc = 0xa1;
  nack.sequence_numbers = {3, 4, 5, 98, 99};
  auto bytes = rtp::BuildRtcp(nack);
  ASSERT_EQ((*out)->ProtectRtcp(&bytes), SrtpStatus::kOk);
  asio::io_context local;
  udp::socket raw(local, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  raw.send_to(asio::buffer(bytes), ToUdp(a->local_endpoint()));
  ASSERT_TRUE(WaitUntil([&] { return a->GetStats().nacks_received == 1; }));
  const auto s = a->GetStats();
  EXPECT_EQ(s.nack_seqs_received, 5u);
  EXPECT_EQ(s.retransmit_missed, 3u);
  EXPECT_EQ(s.retransmitted, 2u);
}

TEST_F(VenueTransportTest, RandomDatagramsAreAllDroppedAndTheTransportKeepsWorking) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  asio::io_context local;
  udp::socket raw(local, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::mt19937 rng(12345);
  constexpr int kDatagrams = 5000;
  std::vector<uint8_t> buf;
  for (int i = 0; i < kDatagrams; ++i) {
    buf.resize(std::uniform_int_distribution<size_t>(0, 1600)(rng));
    for (auto& byte : buf) byte = static_cast<uint8_t>(rng());
    // Half of them look like RTP/RTCP so that they reach SRTP and the parsers.
    if (!buf.empty() && i % 2 == 0) buf[0] = static_cast<uint8_t>(0x80 | (buf[0] & 0x3f));
    raw.send_to(asio::buffer(buf), ToUdp(b->local_endpoint()));
    if (i % 200 == 199) std::this_thread::sleep_for(1ms);  // stay within the socket buffer
  }
  a->SendRtp(AudioPacket(0xa0, 1));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 1; }));
  const auto s = b->GetStats();
  EXPECT_EQ(s.dropped_auth + s.dropped_replay + s.dropped_malformed + s.dropped_unknown +
                s.dropped_unknown_pt + s.dropped_stream_limit + s.dropped_foreign_source,
            static_cast<uint64_t>(kDatagrams));
  EXPECT_GT(s.dropped_auth, 0u);
  EXPECT_GT(s.dropped_unknown, 0u);
  EXPECT_GT(s.dropped_malformed, 0u);
  EXPECT_EQ(s.packets_in, 1u);
  EXPECT_EQ(sink_b_.items()[0].ssrc, 0xa0u);
}

TEST_F(VenueTransportTest, WithoutLatchingForeignSourcesAreDroppedBeforeSrtp) {
  auto ca = Config("a", key_a_, key_b_);
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);
  auto cb = Config("b", key_b_, key_a_);
  cb.remote = a->local_endpoint();
  cb.latch = false;
  auto b = Make(cb, &sink_b_);
  ASSERT_TRUE(b);
  a->SetRemote(b->local_endpoint());
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, key_a_);
  ASSERT_TRUE(out.ok());
  auto forged = AudioPacket(0xee, 1);
  ASSERT_EQ((*out)->ProtectRtp(&forged), SrtpStatus::kOk);
  asio::io_context local;
  udp::socket raw(local, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  raw.send_to(asio::buffer(forged), ToUdp(b->local_endpoint()));
  a->SendRtp(AudioPacket(0xa0, 1));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return b->GetStats().dropped_foreign_source == 1; }));
  EXPECT_EQ(sink_b_.items()[0].ssrc, 0xa0u);
  EXPECT_EQ(b->remote_endpoint()->port(), a->local_endpoint().port());
}

TEST_F(VenueTransportTest, SendRtpRefusesWhatIsNotConfiguredRtp) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  a->SendRtp(AudioPacket(0xa0, 1));  // no remote yet
  a->SendRtp(std::vector<uint8_t>{1, 2, 3});
  a->SendRtp(AudioPacket(0xa0, 2, 50));  // PT 50 is not configured
  Drain();
  auto s = a->GetStats();
  EXPECT_EQ(s.send_dropped_no_remote, 1u);
  EXPECT_EQ(s.send_dropped_invalid, 2u);
  EXPECT_EQ(s.packets_out, 0u);
  a->SetRemote(b->local_endpoint());
  a->SendRtp(AudioPacket(0xa0, 3));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 1; }));
}

TEST_F(VenueTransportTest, CloseStopsSendingAndIsIdempotent) {
  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a && b);
  a->SendRtp(AudioPacket(0xa0, 1));
  ASSERT_TRUE(WaitUntil([&] { return sink_b_.size() == 1; }));
  a->Close();
  a->Close();
  a->SendRtp(AudioPacket(0xa0, 2));
  a->RequestKeyframe();
  Drain();
  EXPECT_EQ(a->GetStats().packets_out, 1u);
}

TEST_F(VenueTransportTest, ClosingFromInsideACallbackIsSafe) {
  auto cb = Config("b", key_b_, key_a_);
  std::shared_ptr<VenueTransport> b;
  auto seen = std::make_shared<std::atomic<int>>(0);
  VenueTransportCallbacks callbacks;
  callbacks.on_rtp = [&b, seen](const rtp::RtpPacket&, const RtpArrival&) {
    b->Close();          // destroys nothing we are running in
    seen->fetch_add(1);  // still valid after Close
  };
  auto created = VenueTransport::Create(io_, cb, callbacks, metrics_);
  ASSERT_TRUE(created.ok());
  b = *created;
  auto ca = Config("a", key_a_, key_b_);
  ca.remote = b->local_endpoint();
  auto a = Make(ca, &sink_a_);
  ASSERT_TRUE(a);
  for (uint16_t seq = 0; seq < 5; ++seq) a->SendRtp(AudioPacket(0xa0, seq));
  ASSERT_TRUE(WaitUntil([&] { return seen->load() >= 1; }));
  Drain();
  EXPECT_EQ(seen->load(), 1);  // nothing delivered after Close
  b.reset();
}

TEST_F(VenueTransportTest, CreateRefusesBadConfiguration) {
  auto bad_address = Config("x", key_a_, key_b_);
  bad_address.bind_address = "not-an-address";
  auto r1 = VenueTransport::Create(io_, bad_address, {}, metrics_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, "bad_address");

  auto b = Make(Config("b", key_b_, key_a_), &sink_b_);
  ASSERT_TRUE(b);
  auto taken = Config("x", key_a_, key_b_);
  taken.bind_port = b->local_endpoint().port();
  auto r2 = VenueTransport::Create(io_, taken, {}, metrics_);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "bind");

  auto twice = Config("x", key_a_, key_b_);
  twice.payload_types.push_back({96, MediaKind::kAudio, 48000});
  auto r3 = VenueTransport::Create(io_, twice, {}, metrics_);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, "bad_config");

  auto rtcp_range = Config("x", key_a_, key_b_);
  rtcp_range.payload_types = {{72, MediaKind::kVideo, 90000}};
  auto r4 = VenueTransport::Create(io_, rtcp_range, {}, metrics_);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, "bad_config");
}

}  // namespace
}  // namespace plateau::mcu::transport
