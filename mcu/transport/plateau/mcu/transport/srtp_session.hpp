// SRTP/SRTCP (RFC 3711) over libsrtp2: the only place libsrtp is used.
//
// An SrtpSession protects what we send (kOutbound) or unprotects what we receive (kInbound) for any
// SSRC with one master key. srtp_init() runs once per process (thread-safe, on first use, or
// InitSrtpLibrary()); libsrtp's kernel is shared with GStreamer's srtp plugin (webrtcbin), see
// InitSrtpLibrary. A
// session is used from one thread at a time (the transport's io thread); different sessions may
// be used on different threads concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "plateau/common/result.hpp"

namespace plateau::mcu::transport {

enum class SrtpProfile {
  kAesCm128HmacSha1_80,  // RFC 4568 AES_CM_128_HMAC_SHA1_80 (the default)
  kAesCm128HmacSha1_32,  // RFC 4568 AES_CM_128_HMAC_SHA1_32 (RTP tag 4 bytes; SRTCP still 10)
  // RFC 7714 AEAD_AES_128_GCM: 16-byte tag on SRTP and SRTCP, 16-byte key + 12-byte salt. With
  // Debian's libsrtp2 (built on NSS) it costs a sixth of AES_CM + HMAC per packet (docs/bench.md),
  // so Plateau's own terminals offer it first.
  kAeadAes128Gcm,
};

std::string_view ToString(SrtpProfile profile);  // the RFC 4568 suite name

inline constexpr size_t kSrtpMasterKeyLength = 16;
inline constexpr size_t kSrtpMasterSaltLength = 14;  // AES_CM; AEAD_AES_128_GCM's salt is 12
// The longest keying material of any profile (AES_CM: 30 bytes; AEAD_AES_128_GCM: 28).
inline constexpr size_t kSrtpKeyingMaterialLength = kSrtpMasterKeyLength + kSrtpMasterSaltLength;
// Upper bound of what protect adds: a 16-byte GCM tag (+ 4-byte SRTCP index for RTCP).
inline constexpr size_t kSrtpMaxOverhead = 20;

// How many bytes of key || salt the profile uses (30 or 28).
size_t KeyingMaterialLength(SrtpProfile profile);

// Master key || master salt, as carried base64 in a=crypto "inline:" (RFC 4568, RFC 7714). Only
// the first KeyingMaterialLength(profile) bytes are used; the rest stay zero.
struct SrtpKey {
  SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80;
  std::array<uint8_t, kSrtpKeyingMaterialLength> material{};
  std::span<const uint8_t> bytes() const {
    return {material.data(), KeyingMaterialLength(profile)};
  }
  bool operator==(const SrtpKey&) const = default;
};

// Initialises libsrtp's process-wide crypto kernel (and libsodium) once; later calls return the
// first result. Also accepts a kernel that another library of the process initialised first
// (GStreamer's srtp plugin does when the first webrtcbin is built), after checking that it makes
// sessions. Plateau never shuts libsrtp down. Call it before building GStreamer SRTP elements so
// the two first-time initialisations never run at once (libsrtp's init is not thread-safe).
// Error "srtp_init".
Status InitSrtpLibrary();

// Fresh random keying material from libsodium's CSPRNG (randombytes_buf).
SrtpKey GenerateSrtpKey(SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80);

enum class SrtpStatus {
  kOk,
  kAuthFailed,  // bad authentication tag (this is also where plain RTP/RTCP ends up)
  kReplayed,    // index already seen, or older than the replay window
  kMalformed,   // too short / too long / not RTP or RTCP at all
  kError,       // anything else libsrtp reports
};
std::string_view ToString(SrtpStatus status);

class SrtpSession {
 public:
  enum class Direction { kInbound, kOutbound };

  struct Options {
    // Replay window for SRTP packets (libsrtp allows 64..32768). Large enough that a packet
    // recovered by NACK a few hundred packets late is still accepted.
    unsigned long replay_window = 1024;
    // Outbound: allow protecting the same sequence number again (answering NACKs by resending
    // the original packet, RFC 4585 without RTX).
    bool allow_repeat_tx = true;
  };

  // Errors: "srtp_init" (library failed to initialise), "srtp_create" (libsrtp refused the policy).
  static Result<std::unique_ptr<SrtpSession>> Create(Direction direction, const SrtpKey& key);
  static Result<std::unique_ptr<SrtpSession>> Create(Direction direction, const SrtpKey& key,
                                                     Options options);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  Direction direction() const { return direction_; }
  SrtpProfile profile() const { return profile_; }

  // Outbound only. Protects a plain packet in place; the vector grows by the tag (and the SRTCP
  // index). kMalformed if the packet is shorter than a header or would exceed the size limit.
  SrtpStatus ProtectRtp(std::vector<uint8_t>* packet);
  SrtpStatus ProtectRtcp(std::vector<uint8_t>* packet);

  // Inbound only. Authenticates and decrypts `packet` in place; on kOk `*plain_size` is the size
  // of the plain packet at the start of `packet`. Any other status leaves the session's replay
  // state unchanged and the contents of `packet` unspecified.
  SrtpStatus UnprotectRtp(std::span<uint8_t> packet, size_t* plain_size);
  SrtpStatus UnprotectRtcp(std::span<uint8_t> packet, size_t* plain_size);

 private:
  struct Context;
  SrtpSession(Direction direction, SrtpProfile profile, std::unique_ptr<Context> context);
  Direction direction_;
  SrtpProfile profile_;
  std::unique_ptr<Context> context_;
};

}  // namespace plateau::mcu::transport
