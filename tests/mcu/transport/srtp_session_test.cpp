// SRTP/SRTCP protection through libsrtp2 (RFC 3711), in process.
#include "plateau/mcu/transport/srtp_session.hpp"

#include <gtest/gtest.h>

#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"

namespace plateau::mcu::transport {
namespace {

std::vector<uint8_t> Packet(uint16_t seq, size_t payload = 100, uint32_t ssrc = 0x1234) {
  rtp::RtpHeader h;
  h.payload_type = 96;
  h.sequence_number = seq;
  h.timestamp = seq * 3000u;
  h.ssrc = ssrc;
  std::vector<uint8_t> body(payload);
  for (size_t i = 0; i < payload; ++i) body[i] = static_cast<uint8_t>(i + seq);
  return rtp::BuildRtpPacket(h, body);
}

struct Pair {
  std::unique_ptr<SrtpSession> out;
  std::unique_ptr<SrtpSession> in;
};

Pair MakePair(SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80) {
  const SrtpKey key = GenerateSrtpKey(profile);
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, key);
  auto in = SrtpSession::Create(SrtpSession::Direction::kInbound, key);
  EXPECT_TRUE(out.ok());
  EXPECT_TRUE(in.ok());
  return {std::move(*out), std::move(*in)};
}

SrtpStatus Unprotect(SrtpSession& in, std::vector<uint8_t> bytes, std::vector<uint8_t>* plain) {
  size_t n = 0;
  const SrtpStatus s = in.UnprotectRtp(bytes, &n);
  if (s == SrtpStatus::kOk) plain->assign(bytes.begin(), bytes.begin() + n);
  return s;
}

TEST(SrtpSession, ProtectThenUnprotectGivesThePlainPacketBack) {
  for (auto [profile, tag] : {std::pair{SrtpProfile::kAesCm128HmacSha1_80, 10},
                              std::pair{SrtpProfile::kAesCm128HmacSha1_32, 4},
                              std::pair{SrtpProfile::kAeadAes128Gcm, 16}}) {
    SCOPED_TRACE(std::string(ToString(profile)));
    Pair p = MakePair(profile);
    const auto plain = Packet(1);
    auto wire = plain;
    ASSERT_EQ(p.out->ProtectRtp(&wire), SrtpStatus::kOk);
    EXPECT_EQ(wire.size(), plain.size() + static_cast<size_t>(tag));
    EXPECT_NE(std::vector<uint8_t>(wire.begin() + 12, wire.begin() + 112),
              std::vector<uint8_t>(plain.begin() + 12, plain.end()));  // payload encrypted
    std::vector<uint8_t> got;
    ASSERT_EQ(Unprotect(*p.in, wire, &got), SrtpStatus::kOk);
    EXPECT_EQ(got, plain);
  }
}

// AEAD_AES_128_GCM (RFC 7714) on SRTCP: encrypted, 16-byte tag, a flipped bit is refused.
TEST(SrtpSession, GcmProtectsRtcpAndRefusesATamperedPacket) {
  Pair p = MakePair(SrtpProfile::kAeadAes128Gcm);
  // A receiver report with no blocks: V=2, PT=201, length 1, sender SSRC.
  const std::vector<uint8_t> plain = {0x80, 201, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78};
  auto wire = plain;
  ASSERT_EQ(p.out->ProtectRtcp(&wire), SrtpStatus::kOk);
  EXPECT_EQ(wire.size(), plain.size() + 16 + 4);
  auto tampered = wire;
  tampered[wire.size() - 5] ^= 0x01;  // inside the tag
  size_t n = 0;
  EXPECT_EQ(p.in->UnprotectRtcp(tampered, &n), SrtpStatus::kAuthFailed);
  ASSERT_EQ(p.in->UnprotectRtcp(wire, &n), SrtpStatus::kOk);
  EXPECT_EQ(std::vector<uint8_t>(wire.begin(), wire.begin() + static_cast<long>(n)), plain);
}

// A GCM session and an AES_CM session with the same bytes do not understand each other.
TEST(SrtpSession, ProfilesDoNotInteroperate) {
  SrtpKey gcm = GenerateSrtpKey(SrtpProfile::kAeadAes128Gcm);
  SrtpKey cm = gcm;
  cm.profile = SrtpProfile::kAesCm128HmacSha1_80;
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, gcm);
  auto in = SrtpSession::Create(SrtpSession::Direction::kInbound, cm);
  ASSERT_TRUE(out.ok() && in.ok());
  auto wire = Packet(1);
  ASSERT_EQ((*out)->ProtectRtp(&wire), SrtpStatus::kOk);
  std::vector<uint8_t> got;
  EXPECT_EQ(Unprotect(**in, wire, &got), SrtpStatus::kAuthFailed);
}

TEST(SrtpSession, CorruptedTagIsAnAuthenticationFailure) {
  Pair p = MakePair();
  auto wire = Packet(1);
  ASSERT_EQ(p.out->ProtectRtp(&wire), SrtpStatus::kOk);
  wire.back() ^= 0x01;
  std::vector<uint8_t> got;
  EXPECT_EQ(Unprotect(*p.in, wire, &got), SrtpStatus::kAuthFailed);
  wire.back() ^= 0x01;  // the failure did not poison the replay state
  EXPECT_EQ(Unprotect(*p.in, wire, &got), SrtpStatus::kOk);
}

TEST(SrtpSession, PlainRtpAndAWrongKeyFailAuthentication) {
  Pair p = MakePair();
  std::vector<uint8_t> got;
  EXPECT_EQ(Unprotect(*p.in, Packet(1), &got), SrtpStatus::kAuthFailed);
  Pair other = MakePair();
  auto wire = Packet(2);
  ASSERT_EQ(other.out->ProtectRtp(&wire), SrtpStatus::kOk);
  EXPECT_EQ(Unprotect(*p.in, wire, &got), SrtpStatus::kAuthFailed);
}

TEST(SrtpSession, ReplayedAndTooOldPacketsAreRefused) {
  Pair p = MakePair();
  std::vector<uint8_t> got;
  auto first = Packet(1);
  ASSERT_EQ(p.out->ProtectRtp(&first), SrtpStatus::kOk);
  ASSERT_EQ(Unprotect(*p.in, first, &got), SrtpStatus::kOk);
  EXPECT_EQ(Unprotect(*p.in, first, &got), SrtpStatus::kReplayed);
  // A packet protected early but delivered after 2000 newer ones is outside the 1024 window.
  auto late = Packet(2);
  ASSERT_EQ(p.out->ProtectRtp(&late), SrtpStatus::kOk);
  for (uint16_t seq = 3; seq < 2003; ++seq) {
    auto w = Packet(seq, 20);
    ASSERT_EQ(p.out->ProtectRtp(&w), SrtpStatus::kOk);
    ASSERT_EQ(Unprotect(*p.in, w, &got), SrtpStatus::kOk);
  }
  EXPECT_EQ(Unprotect(*p.in, late, &got), SrtpStatus::kReplayed);
}

TEST(SrtpSession, RetransmissionOfAPacketTheReceiverNeverSawIsAccepted) {
  Pair p = MakePair();
  std::vector<uint8_t> got;
  const auto plain5 = Packet(5);
  auto lost = plain5;
  ASSERT_EQ(p.out->ProtectRtp(&lost), SrtpStatus::kOk);  // sent, lost on the way
  for (uint16_t seq = 6; seq < 300; ++seq) {
    auto w = Packet(seq, 20);
    ASSERT_EQ(p.out->ProtectRtp(&w), SrtpStatus::kOk);
    ASSERT_EQ(Unprotect(*p.in, w, &got), SrtpStatus::kOk);
  }
  auto resent = plain5;  // answering a NACK: the same packet protected again
  ASSERT_EQ(p.out->ProtectRtp(&resent), SrtpStatus::kOk);
  ASSERT_EQ(Unprotect(*p.in, resent, &got), SrtpStatus::kOk);
  EXPECT_EQ(got, plain5);
}

TEST(SrtpSession, RtcpRoundTripsAndRejectsTampering) {
  Pair p = MakePair(SrtpProfile::kAesCm128HmacSha1_32);
  const auto plain = rtp::BuildRtcp(rtp::ReceiverReport{7, {}});
  auto wire = plain;
  ASSERT_EQ(p.out->ProtectRtcp(&wire), SrtpStatus::kOk);
  EXPECT_EQ(wire.size(), plain.size() + 4 + 10);  // SRTCP index + 80-bit tag, even with _32
  auto tampered = wire;
  tampered[6] ^= 0x80;
  size_t n = 0;
  EXPECT_EQ(p.in->UnprotectRtcp(tampered, &n), SrtpStatus::kAuthFailed);
  ASSERT_EQ(p.in->UnprotectRtcp(wire, &n), SrtpStatus::kOk);
  EXPECT_EQ(std::vector<uint8_t>(wire.begin(), wire.begin() + n), plain);
  auto again = plain;
  ASSERT_EQ(p.out->ProtectRtcp(&again), SrtpStatus::kOk);
  auto replay = again;
  ASSERT_EQ(p.in->UnprotectRtcp(again, &n), SrtpStatus::kOk);
  EXPECT_EQ(p.in->UnprotectRtcp(replay, &n), SrtpStatus::kReplayed);
}

TEST(SrtpSession, PlainRtcpFailsAuthentication) {
  Pair p = MakePair();
  rtp::ReceiverReport rr{0xee, {rtp::ReportBlock{0xa0, 10, 5, 100, 1, 0, 0}}};
  auto plain = rtp::BuildRtcp(rr);
  size_t n = 0;
  EXPECT_EQ(p.in->UnprotectRtcp(plain, &n), SrtpStatus::kAuthFailed);
}

TEST(SrtpSession, RefusesWrongDirectionAndImpossibleSizes) {
  Pair p = MakePair();
  auto bytes = Packet(1);
  size_t n = 0;
  EXPECT_EQ(p.in->ProtectRtp(&bytes), SrtpStatus::kError);
  EXPECT_EQ(p.out->UnprotectRtp(bytes, &n), SrtpStatus::kError);
  std::vector<uint8_t> tiny = {0x80, 0x60, 0, 1};
  EXPECT_EQ(p.in->UnprotectRtp(tiny, &n), SrtpStatus::kMalformed);
  EXPECT_EQ(p.out->ProtectRtp(&tiny), SrtpStatus::kMalformed);
  std::vector<uint8_t> huge(2000, 0x80);
  EXPECT_EQ(p.in->UnprotectRtp(huge, &n), SrtpStatus::kMalformed);
  EXPECT_EQ(p.in->UnprotectRtcp(huge, &n), SrtpStatus::kMalformed);
}

TEST(SrtpSession, GeneratedKeysDifferAndBadWindowIsRefused) {
  EXPECT_NE(GenerateSrtpKey().material, GenerateSrtpKey().material);
  SrtpSession::Options o;
  o.replay_window = 10;
  const auto s = SrtpSession::Create(SrtpSession::Direction::kInbound, GenerateSrtpKey(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "srtp_create");
}

}  // namespace
}  // namespace plateau::mcu::transport
