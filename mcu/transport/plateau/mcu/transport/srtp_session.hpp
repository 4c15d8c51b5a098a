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
#include "plateau/mcu/transport/crypto_attribute.hpp"
#include "plateau/mcu/transport/srtp_key.hpp"

namespace plateau::mcu::transport {

// Initialises libsrtp's process-wide crypto kernel (and libsodium) once; later calls return the
// first result. Also accepts a kernel that another library of the process initialised first
// (GStreamer's srtp plugin does when the first webrtcbin is built), after checking that it makes
// sessions. Plateau never shuts libsrtp down. Call it before building GStreamer SRTP elements so
// the two first-time initialisations never run at once (libsrtp's init is not thread-safe).
// Error "srtp_init".
Status InitSrtpLibrary();

// Fresh random keying material from libsodium's CSPRNG (plateau::random).
SrtpKey GenerateSrtpKey(SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80);

// A fresh attribute with a random key (tag 1 by default).
CryptoAttribute MakeCryptoAttribute(SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80,
                                    uint32_t tag = 1);

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
