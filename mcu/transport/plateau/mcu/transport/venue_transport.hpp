// VenueTransport: the media connection between the MCU and one venue in one conference.
//
// One UDP socket carries RTP and RTCP together (rtcp-mux, RFC 5761), protected with SRTP/SRTCP
// using SDES keys from the control plane (RFC 4568). What it does:
//
//   inbound:  datagram -> classify (RFC 7983) -> SRTP/SRTCP unprotect -> validate -> statistics
//             -> NACK bookkeeping (video) -> on_rtp(plain packet)
//             RTCP: SR/RR -> RTT and remote loss; NACK -> resend from history; PLI/FIR ->
//             on_keyframe_request; REMB -> on_remb; BYE -> on_bye.
//   outbound: SendRtp(plain packet) -> history (video) -> SRTP protect -> send.
//   timers:   compound SR or RR + SDES CNAME about every rtcp_interval (randomised 0.5x..1.5x,
//             RFC 3550 6.3.5); NACKs for missing inbound video packets as soon as they are due.
//
// The remote address is either configured or learned from the first packet that passes SRTP
// authentication (latching). A remote that is only a venue's claim (claim_trusted_address) is used
// before the latch only when it is where the venue's signaling comes from: an offer cannot aim
// the conference's stream at a third party. Nothing that arrives can crash it: malformed,
// unauthenticated, replayed or unknown datagrams are dropped and counted in Stats, never delivered.
//
// Threading: the transport lives on the boost::asio::io_context passed to Create(); the caller owns
// the thread(s) running it (use one thread, or one strand-equivalent: a single-threaded
// io_context). Every callback is invoked on that thread. The public methods are safe to call from
// any thread: when called on the io thread they act immediately, otherwise the work is posted
// there (SendRtp copies the packet). GetStats() takes a short lock. Close() (or destroying the
// VenueTransport) stops it: once that has run on the io thread no callback is invoked again; the
// internal state is freed when the pending handlers have completed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/rtp/nack.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/address.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/mcu/transport/venue_transport_stats.hpp"

namespace plateau::mcu::transport {

// What a payload type carries (from the SDP): kind and RTP clock rate.
struct PayloadTypeInfo {
  uint8_t payload_type = 0;
  MediaKind kind = MediaKind::kAudio;
  uint32_t clock_rate = 0;
};

// Plateau's defaults: H.264 on 96 (90 kHz), Opus on 111 (48 kHz).
std::vector<PayloadTypeInfo> DefaultPayloadTypes();

enum class KeyframeRequestMethod { kPli, kFir };

struct VenueTransportConfig {
  std::string name;  // the venue id: log fields and metric labels
  std::string bind_address = "127.0.0.1";
  uint16_t bind_port = 0;  // 0 = any free port (see local_endpoint())
  // Where to send. Unset: learned from the first authenticated packet.
  std::optional<Endpoint> remote;
  // If true, the remote is (re)learned from authenticated packets: the first one when unset, and
  // afterwards a source change is followed only on an authenticated packet. If false, datagrams
  // from any other address than `remote` are dropped (dropped_foreign_source) before SRTP.
  bool latch = true;
  // When set, `remote` is only the venue's claim (an SDP offer's c=/m= address), and a claim can
  // point anywhere: before the first authenticated packet, media goes to `remote` only when its
  // address is this one (where the venue's authenticated signaling connection comes from);
  // otherwise nothing is sent until an authenticated packet arrives and latches the remote (then
  // media goes only there). Unset: `remote` is trusted as configured.
  std::optional<IpAddress> claim_trusted_address;
  SrtpKey send_key;     // protects what we send (the venue's inbound key)
  SrtpKey receive_key;  // the venue's key: unprotects what we receive
  std::vector<PayloadTypeInfo> payload_types = DefaultPayloadTypes();
  uint32_t rtcp_ssrc = 0;  // sender SSRC of our RTCP (RR, NACK, PLI); 0 = random
  std::string cname;       // SDES CNAME; empty = "plateau-" + name
  std::chrono::milliseconds rtcp_interval{1000};
  bool nack = true;                   // ask for lost inbound video packets
  rtp::NackConfig nack_config;        // retries, max age, bound
  size_t history_packets = 1024;      // per outbound video SSRC, for answering NACKs
  int64_t history_max_age_ms = 2000;  // older packets are not resent
  size_t max_inbound_streams = 8;     // SSRCs tracked; packets of further SSRCs are dropped
  size_t max_outbound_streams = 8;
  KeyframeRequestMethod keyframe_method = KeyframeRequestMethod::kPli;
  unsigned long replay_window = 1024;  // SRTP replay window (packets)
};

// Per arrival details given to on_rtp.
struct RtpArrival {
  int64_t arrival_us = 0;  // the transport's Clock::Monotonic(), microseconds since its epoch
  MediaKind kind = MediaKind::kAudio;
  bool recovered = false;  // filled a gap the NACK generator was waiting for
};

struct VenueTransportCallbacks {
  // Each authenticated, well-formed RTP packet of a configured payload type, plain, as it
  // arrives (not reordered: a jitter buffer downstream does that; recovered packets arrive late).
  // The view is valid only during the call.
  std::function<void(const rtp::RtpPacket& packet, const RtpArrival& arrival)> on_rtp;
  // The venue asked for a keyframe (PLI or FIR) for `media_ssrc` (normally one of our SSRCs).
  std::function<void(uint32_t media_ssrc)> on_keyframe_request;
  // REMB estimate from the venue.
  std::function<void(uint64_t bitrate_bps)> on_remb;
  // The venue said BYE for `ssrc`.
  std::function<void(uint32_t ssrc)> on_bye;
};

class VenueTransport {
 public:
  // Binds the socket and starts receiving and the RTCP timer. Errors: "bad_address" (bind_address
  // does not parse), "bind" (the address/port cannot be bound), "srtp_create" (a key is refused),
  // "bad_config" (empty or clashing payload types, zero clock rate, interval out of range).
  // `metrics` (kept by reference, must outlive the transport) is where its packets, drops,
  // NACKs, retransmissions and keyframe requests are counted, summed with every other transport
  // given the same registry (the labels name no venue). `clock` (likewise) is the only time it
  // reads (arrival times, NACK and RTCP timing, NTP timestamps); its timers wait on Asio's steady
  // clock.
  static Result<std::shared_ptr<VenueTransport>> Create(
      boost::asio::io_context& io, VenueTransportConfig config, VenueTransportCallbacks callbacks,
      metrics::Registry& metrics, const plateau::Clock& clock = SystemClock::Instance());
  ~VenueTransport();
  VenueTransport(const VenueTransport&) = delete;
  VenueTransport& operator=(const VenueTransport&) = delete;

  // The bound address (with the real port when bind_port was 0). Any thread.
  Endpoint local_endpoint() const;
  // Where we send now (configured or latched). Any thread.
  std::optional<Endpoint> remote_endpoint() const;
  // Sets (or changes) where we send. Any thread.
  void SetRemote(const Endpoint& remote);

  // Sends one plain RTP packet (it must parse as RTP and use a configured payload type; otherwise
  // send_dropped_invalid). Video packets are kept in the retransmission history. Any thread.
  void SendRtp(std::span<const uint8_t> packet);
  void SendRtp(std::vector<uint8_t> packet);

  // Asks the venue for a keyframe on `media_ssrc` by PLI (or FIR when so configured); 0 = every
  // inbound video SSRC seen so far. Any thread.
  void RequestKeyframe(uint32_t media_ssrc = 0);

  // A consistent snapshot. Any thread.
  VenueTransportStats GetStats() const;

  // Stops receiving, cancels timers, closes the socket and drops the callbacks. Idempotent; the
  // destructor calls it.
  void Close();

  const std::string& name() const;

 private:
  struct Impl;
  explicit VenueTransport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared with the pending asynchronous handlers
};

}  // namespace plateau::mcu::transport
