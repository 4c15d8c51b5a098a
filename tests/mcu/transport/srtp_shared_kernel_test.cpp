// libsrtp keeps one crypto kernel per process, shared with every other user of libsrtp in it: in
// `plateau serve` that is GStreamer's srtp plugin, which calls srtp_init() when the first
// webrtcbin loads it. This binary is its own process, so it starts with a kernel nobody has
// touched and plays the other library's part itself (docs/media-transport.md, "libsrtp is
// shared"). Suite `unit`.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"

namespace plateau::mcu::transport {
namespace {

std::vector<uint8_t> Packet(uint16_t seq) {
  rtp::RtpHeader h;
  h.payload_type = 96;
  h.sequence_number = seq;
  h.timestamp = seq * 3000u;
  h.ssrc = 0x1234;
  std::vector<uint8_t> body(100);
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<uint8_t>(i + seq);
  return rtp::BuildRtpPacket(h, body);
}

struct Pair {
  std::unique_ptr<SrtpSession> out, in;
};

// An outbound and an inbound session on one key; failures name the error.
Pair MakePair(SrtpProfile profile) {
  const SrtpKey key = GenerateSrtpKey(profile);
  auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, key);
  auto in = SrtpSession::Create(SrtpSession::Direction::kInbound, key);
  EXPECT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  EXPECT_TRUE(in.ok()) << in.error().code << ": " << in.error().message;
  if (!out.ok() || !in.ok()) return {};
  return {std::move(*out), std::move(*in)};
}

// Protects packet `seq` and unprotects it again; true when the plain packet comes back.
bool RoundTrip(Pair& p, uint16_t seq) {
  const auto plain = Packet(seq);
  auto wire = plain;
  if (p.out->ProtectRtp(&wire) != SrtpStatus::kOk) return false;
  size_t n = 0;
  if (p.in->UnprotectRtp(wire, &n) != SrtpStatus::kOk) return false;
  return std::vector<uint8_t>(wire.begin(), wire.begin() + n) == plain;
}

// Before the fix: Plateau's own srtp_init() came second, got srtp_err_status_bad_param (libsrtp
// refuses to load its "srtp" debug module twice), kept that as its status, and every SDES session
// of the process failed with "srtp_init" from then on.
TEST(SrtpSharedKernel, SessionsWorkWhenAnotherLibraryInitialisedLibsrtpFirstAndAgainLater) {
  // What GStreamer's srtp plugin does when the first webrtcbin loads it.
  ASSERT_EQ(srtp_init(), srtp_err_status_ok);

  ASSERT_TRUE(InitSrtpLibrary().ok());
  Pair cm = MakePair(SrtpProfile::kAesCm128HmacSha1_80);
  Pair gcm = MakePair(SrtpProfile::kAeadAes128Gcm);
  ASSERT_TRUE(cm.out && gcm.out);
  EXPECT_TRUE(RoundTrip(cm, 1));
  EXPECT_TRUE(RoundTrip(gcm, 1));

  // Another srtp_init() while our sessions are live (libsrtp answers "already there") changes
  // nothing for them, nor for sessions made afterwards.
  EXPECT_EQ(srtp_init(), srtp_err_status_bad_param);
  EXPECT_TRUE(RoundTrip(cm, 2));
  EXPECT_TRUE(RoundTrip(gcm, 2));
  Pair later = MakePair(SrtpProfile::kAesCm128HmacSha1_80);
  ASSERT_TRUE(later.out);
  EXPECT_TRUE(RoundTrip(later, 1));
  EXPECT_TRUE(InitSrtpLibrary().ok());
}

}  // namespace
}  // namespace plateau::mcu::transport
