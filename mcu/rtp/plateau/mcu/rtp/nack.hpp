// NACK-based recovery of lost video packets (RFC 4585 generic NACK).
//
// NackGenerator (receiver side) watches the sequence numbers of one incoming video stream, keeps
// the missing ones in a bounded list, and says which to ask for now: each missing packet is asked
// for at most `max_retries` times, no more often than once per `retry_interval` (at least the
// current RTT), and forgotten after `max_age_ms`. If the list would grow beyond `max_missing` it is
// cleared and a keyframe is requested instead (asking for hundreds of packets is pointless).
//
// RetransmissionHistory (sender side) is a bounded ring of the packets sent on one SSRC, indexed
// by sequence number, used to answer NACKs. Its storage (capacity x kMaxRtpPacketSize) is
// allocated once: a per-slot buffer that grew to each bigger packet meeting the slot made a
// meeting's memory creep up for many minutes (docs/bench.md, "Memory over a long meeting").
//
// Pure logic with the time passed in (milliseconds on any monotonic clock); one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::rtp {

struct NackConfig {
  size_t max_missing = 500;            // tracked missing packets before giving up for a keyframe
  int max_retries = 10;                // NACKs per missing packet
  int64_t max_age_ms = 1000;           // forget a missing packet this long after its gap was seen
  int64_t min_retry_interval_ms = 20;  // resend a NACK no sooner (also at least the RTT)
  int64_t initial_delay_ms = 0;  // first NACK for a gap no sooner than this (reordering slack)
  int max_gap = 1000;            // a jump larger than this is a restart, not a loss
};

class NackGenerator {
 public:
  explicit NackGenerator(NackConfig config = {});

  // A packet arrived (already authenticated). Returns true if it filled a gap we were waiting for
  // (a recovered packet, whether retransmitted or merely reordered).
  bool OnPacket(uint16_t sequence_number, int64_t now_ms);

  // The sequence numbers to NACK now (oldest first); each returned entry counts as one retry.
  std::vector<uint16_t> GetNackList(int64_t now_ms);

  // Current RTT estimate; retries are spaced by max(min_retry_interval_ms, rtt_ms).
  void SetRtt(int64_t rtt_ms) { rtt_ms_ = rtt_ms; }

  // True once after the list overflowed or a packet was given up (the caller sends a PLI).
  bool TakeKeyframeRequest();

  size_t missing_count() const { return missing_.size(); }
  // When the next retry is due (nullopt if nothing is missing): lets the caller arm a timer only
  // when needed.
  std::optional<int64_t> NextDueMs() const;

  uint64_t recovered() const { return recovered_; }
  uint64_t given_up() const { return given_up_; }  // dropped after max_retries or max_age_ms

 private:
  struct Missing {
    int64_t first_seen_ms = 0;
    int64_t last_sent_ms = -1;
    int retries = 0;
  };
  int64_t RetryInterval() const;
  void Expire(int64_t now_ms);

  NackConfig config_;
  bool started_ = false;
  uint16_t newest_ = 0;
  // Keyed by the sequence number unwrapped into 64-bit so ordering survives the wrap.
  std::map<int64_t, Missing> missing_;
  int64_t newest_unwrapped_ = 0;
  int64_t rtt_ms_ = 0;
  bool keyframe_request_ = false;
  uint64_t recovered_ = 0;
  uint64_t given_up_ = 0;
};

class RetransmissionHistory {
 public:
  // `capacity` packets (rounded to at least 1) kept; older than `max_age_ms` are not resent.
  // Allocates capacity x kMaxRtpPacketSize bytes up front.
  explicit RetransmissionHistory(size_t capacity = 1024, int64_t max_age_ms = 2000);

  // Stores a copy of a plain (unprotected) RTP packet with this sequence number (a packet over
  // kMaxRtpPacketSize only clears the slot).
  void Store(uint16_t sequence_number, std::span<const uint8_t> packet, int64_t now_ms);

  // The stored packet, if it is still in the ring and not too old. The span is valid until the
  // next Store().
  std::optional<std::span<const uint8_t>> Find(uint16_t sequence_number, int64_t now_ms) const;

  size_t capacity() const { return slots_.size(); }
  // Heap bytes held for stored packets: the same from construction on.
  size_t allocated_bytes() const;

 private:
  struct Slot {
    bool used = false;
    uint16_t sequence_number = 0;
    uint16_t size = 0;
    int64_t stored_ms = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint8_t> storage_;  // slot i's packet at i x kMaxRtpPacketSize
  int64_t max_age_ms_;
};

}  // namespace plateau::mcu::rtp
