#include "plateau/mcu/transport/srtp_session.hpp"

#include <sodium.h>
#include <srtp2/srtp.h>

#include <climits>
#include <cstring>
#include <mutex>

#include "plateau/common/random.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"

namespace plateau::mcu::transport {
namespace {

// Whether the crypto kernel can make the sessions we need: an outbound session per profile,
// created and freed again.
srtp_err_status_t ProbeKernel() {
  for (const bool gcm : {false, true}) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    if (gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    policy.ssrc.type = ssrc_any_outbound;
    std::array<unsigned char, kSrtpKeyingMaterialLength> material{};
    policy.key = material.data();
    policy.window_size = 128;
    srtp_t session = nullptr;
    const srtp_err_status_t s = srtp_create(&session, &policy);
    if (s != srtp_err_status_ok) return s;
    srtp_dealloc(session);
  }
  return srtp_err_status_ok;
}

// libsrtp has one crypto kernel per process and Plateau is not its only user: GStreamer's srtp
// plugin (the srtpenc/srtpdec inside every webrtcbin) calls srtp_init() once, when the plugin is
// loaded (the first WebRTC leg), ignores its result, and never calls srtp_shutdown(). libsrtp's
// srtp_init() is not idempotent: a second call finds the kernel already initialised, re-runs the
// self-tests, then refuses to load its "srtp" debug module twice and returns
// srtp_err_status_bad_param. Whoever comes second gets that error. GStreamer shrugs it off; we
// used to keep it as our init status for good, so every SDES venue after the first browser was
// refused until a restart. Now "already initialised" is accepted once the kernel has shown it
// makes sessions. We never call srtp_shutdown(): it would free the cipher and auth type lists
// that every live session, ours and GStreamer's, was made from. (NSS, which Debian's libsrtp2
// is built on, needs nothing from us: each cipher and HMAC context opens its own reference-counted
// NSS_InitContext and closes it when the session is freed.) docs/media-transport.md, "libsrtp is
// shared".
srtp_err_status_t InitOnce() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] {
    status = srtp_init();
    if (status == srtp_err_status_bad_param) status = ProbeKernel();
    if (status == srtp_err_status_ok && sodium_init() < 0) status = srtp_err_status_init_fail;
  });
  return status;
}

SrtpStatus Map(srtp_err_status_t s) {
  switch (s) {
    case srtp_err_status_ok:
      return SrtpStatus::kOk;
    case srtp_err_status_auth_fail:
    // SRTCP whose E flag says "not encrypted" while the policy requires encryption: what plain
    // RTCP looks like to libsrtp. Refused for the same reason as a bad tag.
    case srtp_err_status_cant_check:
      return SrtpStatus::kAuthFailed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return SrtpStatus::kReplayed;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      return SrtpStatus::kMalformed;
    default:
      return SrtpStatus::kError;
  }
}

// Largest datagram handled: the largest plain packet plus the SRTP trailer.
constexpr size_t kMaxProtectedSize = rtp::kMaxRtpPacketSize + kSrtpMaxOverhead;
// Smallest SRTP (12-byte header + 4-byte tag) and SRTCP (8 + 4 index + 10 tag) packets.
constexpr size_t kMinSrtpSize = rtp::kRtpFixedHeaderSize + 4;
constexpr size_t kMinSrtcpSize = 8 + 4 + 10;

}  // namespace

Status InitSrtpLibrary() {
  const srtp_err_status_t s = InitOnce();
  if (s == srtp_err_status_ok) return Status::Ok();
  return Error{"srtp_init", "libsrtp or libsodium failed to initialise (status " +
                                std::to_string(static_cast<int>(s)) + ")"};
}

struct SrtpSession::Context {
  srtp_t session = nullptr;
  ~Context() {
    if (session) srtp_dealloc(session);
  }
};

std::string_view ToString(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::kOk:
      return "ok";
    case SrtpStatus::kAuthFailed:
      return "auth_failed";
    case SrtpStatus::kReplayed:
      return "replayed";
    case SrtpStatus::kMalformed:
      return "malformed";
    case SrtpStatus::kError:
      break;
  }
  return "error";
}

SrtpKey GenerateSrtpKey(SrtpProfile profile) {
  InitOnce();
  SrtpKey key;
  key.profile = profile;
  random::Bytes({key.material.data(), KeyingMaterialLength(profile)});
  return key;
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(Direction direction, const SrtpKey& key) {
  return Create(direction, key, Options{});
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(Direction direction, const SrtpKey& key,
                                                         Options options) {
  if (auto st = InitSrtpLibrary(); !st) return st.error();
  if (options.replay_window < 64 || options.replay_window > 0x7FFF) {
    return Error{"srtp_create", "SRTP replay window must be 64..32767 packets"};
  }
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  switch (key.profile) {
    case SrtpProfile::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      break;
    case SrtpProfile::kAesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      break;
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      break;
  }
  if (key.profile == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);  // RFC 7714 section 9.3
  } else {
    // RFC 4568 section 6.2: SRTCP always uses the 80-bit tag.
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  std::array<unsigned char, kSrtpKeyingMaterialLength> material;
  std::memcpy(material.data(), key.material.data(), material.size());  // libsrtp reads its length
  policy.key = material.data();
  policy.window_size = options.replay_window;
  policy.allow_repeat_tx = options.allow_repeat_tx ? 1 : 0;
  policy.next = nullptr;
  auto context = std::make_unique<Context>();
  const srtp_err_status_t s = srtp_create(&context->session, &policy);
  sodium_memzero(material.data(), material.size());
  if (s != srtp_err_status_ok) {
    context->session = nullptr;
    return Error{"srtp_create", "libsrtp refused the SRTP policy (status " +
                                    std::to_string(static_cast<int>(s)) + ")"};
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(direction, key.profile, std::move(context)));
}

SrtpSession::SrtpSession(Direction direction, SrtpProfile profile, std::unique_ptr<Context> context)
    : direction_(direction), profile_(profile), context_(std::move(context)) {}

SrtpSession::~SrtpSession() = default;

SrtpStatus SrtpSession::ProtectRtp(std::vector<uint8_t>* packet) {
  if (direction_ != Direction::kOutbound) return SrtpStatus::kError;
  if (packet->size() < rtp::kRtpFixedHeaderSize || packet->size() > rtp::kMaxRtpPacketSize) {
    return SrtpStatus::kMalformed;
  }
  const size_t plain = packet->size();
  packet->resize(plain + SRTP_MAX_TRAILER_LEN);
  int len = static_cast<int>(plain);
  const srtp_err_status_t s = srtp_protect(context_->session, packet->data(), &len);
  packet->resize(s == srtp_err_status_ok ? static_cast<size_t>(len) : plain);
  return Map(s);
}

SrtpStatus SrtpSession::ProtectRtcp(std::vector<uint8_t>* packet) {
  if (direction_ != Direction::kOutbound) return SrtpStatus::kError;
  if (packet->size() < 8 || packet->size() > rtp::kMaxRtcpCompoundSize) {
    return SrtpStatus::kMalformed;
  }
  const size_t plain = packet->size();
  packet->resize(plain + SRTP_MAX_TRAILER_LEN + 4);
  int len = static_cast<int>(plain);
  const srtp_err_status_t s = srtp_protect_rtcp(context_->session, packet->data(), &len);
  packet->resize(s == srtp_err_status_ok ? static_cast<size_t>(len) : plain);
  return Map(s);
}

SrtpStatus SrtpSession::UnprotectRtp(std::span<uint8_t> packet, size_t* plain_size) {
  if (direction_ != Direction::kInbound) return SrtpStatus::kError;
  if (packet.size() < kMinSrtpSize || packet.size() > kMaxProtectedSize) {
    return SrtpStatus::kMalformed;
  }
  // libsrtp reads the fixed header and the CSRC/extension lengths it declares (it checks them
  // against `len` itself since 2.4); we have checked the outer bounds.
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t s = srtp_unprotect(context_->session, packet.data(), &len);
  if (s != srtp_err_status_ok) return Map(s);
  *plain_size = static_cast<size_t>(len);
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::UnprotectRtcp(std::span<uint8_t> packet, size_t* plain_size) {
  if (direction_ != Direction::kInbound) return SrtpStatus::kError;
  if (packet.size() < kMinSrtcpSize || packet.size() > kMaxProtectedSize) {
    return SrtpStatus::kMalformed;
  }
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t s = srtp_unprotect_rtcp(context_->session, packet.data(), &len);
  if (s != srtp_err_status_ok) return Map(s);
  *plain_size = static_cast<size_t>(len);
  return SrtpStatus::kOk;
}

CryptoAttribute MakeCryptoAttribute(SrtpProfile profile, uint32_t tag) {
  CryptoAttribute attr;
  attr.tag = tag;
  attr.key = GenerateSrtpKey(profile);
  return attr;
}

}  // namespace plateau::mcu::transport
