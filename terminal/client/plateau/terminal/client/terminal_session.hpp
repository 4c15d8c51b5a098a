// One reference terminal's session: the signaling client (register, join, resume) driving the
// TerminalCall state machine, and the SDES media transport (mcu/transport VenueTransport: SRTP both
// ways, RTCP, NACK, PLI) it sets up from each offer/answer. What is sent and what is done with the
// received mix is the caller's: the CLI plugs in the live sender and the decoding receiver, the
// load test the pre-encoded ReplayHub and a packet counter.
//
// Media keys: every offer carries a NEW random key (mcu/transport MakeCryptoAttribute). After a
// resume the old transport keeps running until the answer arrives, then it is closed and a new one
// with the new keys (ours and the server's) takes the same local port.
//
// Threading: runs on the io_context given to Create() (ONE thread; many sessions may share it).
// Callbacks run on that thread. SendRtp() is for any thread (the sender's streaming threads);
// Start(), Leave(), Close() and Status() are safe from any thread too.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/venue_transport.hpp"
#include "plateau/terminal/client/signaling_client.hpp"
#include "plateau/terminal/client/terminal_call.hpp"

namespace plateau::terminal::client {

struct TerminalSessionConfig {
  SignalingClientConfig signaling;
  CallConfig call;
  // Local address for media (and the address put in our SDP). Empty: the local address of the
  // signaling connection, i.e. the interface that reaches the server.
  std::string media_address;
  uint8_t video_payload_type = 96;   // H.264 packetization-mode 1
  uint8_t audio_payload_type = 111;  // Opus
};

// Milliseconds from Start() to each step of the first join (negative: not reached yet).
struct JoinTimings {
  double registered_ms = -1;
  double joined_ms = -1;
  double answer_ms = -1;
  double first_media_ms = -1;  // first authenticated RTP packet from the MCU
};

struct TerminalSessionStatus {
  CallSnapshot call;
  SignalingClientStats signaling;
  JoinTimings timings;
  // The current media transport (generation = call.generation), if any.
  std::optional<mcu::transport::VenueTransportStats> transport;
  std::string media_local;   // "127.0.0.1:40000"
  std::string media_remote;  // the MCU's address
  // Media packets received on the current transport (since its keys took effect), and in total.
  uint64_t rtp_in_current = 0;
  uint64_t rtp_in_total = 0;
  uint64_t rtp_out_total = 0;
  uint64_t keyframe_requests = 0;  // PLI/FIR from the MCU
  // Time from the last resume (`joined {resumed}`) to the first packet on the new keys, ms.
  double last_resume_to_media_ms = -1;
  bool finished = false;
  std::optional<Error> failure;  // why it finished, if not a normal end
  std::string end_reason;
};

struct TerminalSessionCallbacks {
  // Plain RTP from the MCU (authenticated, valid, known payload type). View valid during the call.
  std::function<void(const mcu::rtp::RtpPacket& packet, const mcu::transport::RtpArrival& arrival)>
      on_rtp;
  // The MCU asked for a keyframe of what we send.
  std::function<void()> on_keyframe_request;
  // Media (re)started with new keys (generation 1, 2, ...).
  std::function<void(int generation)> on_media;
  // The session finished: the conference ended or we left (error empty), or it failed (the
  // server's refusal, a lost connection, an unusable answer ...). Called once.
  std::function<void(const std::optional<Error>& failure)> on_finished;
};

class TerminalSession {
 public:
  // `metrics` is where the session's media transport counts (the reference terminal renders
  // none of it); like `io`, it must outlive the session and every handler the session left on
  // `io`, so a caller declares it before the io_context.
  static Result<std::shared_ptr<TerminalSession>> Create(boost::asio::io_context& io,
                                                         metrics::Registry& metrics,
                                                         TerminalSessionConfig config,
                                                         TerminalSessionCallbacks callbacks);
  ~TerminalSession();
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;

  void Start();
  // Sends one plain RTP packet of ours (dropped until media is up). Any thread.
  void SendRtp(std::span<const uint8_t> rtp);
  // Leaves the conference politely, then closes signaling and media.
  void Leave();
  // Closes at once (no leave: the server holds the seat for its grace period).
  void Close();
  TerminalSessionStatus Status() const;

  struct Impl;

 private:
  explicit TerminalSession(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace plateau::terminal::client
