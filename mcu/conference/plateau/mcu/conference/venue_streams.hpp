// The conference's per-venue outbound RTP streams and its audio clock (pure: no threads, no
// clock reads, no I/O; times are passed in).
//
//  - RestampForVenue: one tier packet becomes one venue's packet. Only SSRC and payload type
//    change; sequence number and timestamp stay the tier's, so each venue transport's NACK
//    history holds exactly what that venue was sent and the stream is continuous per venue.
//  - AudioPacketizer: the mixer's 20 ms Opus frames (on the mixer's 48 kHz timeline) become the
//    venue's own audio stream (its SSRC, a random first sequence number and timestamp base).
//  - TickSchedule: tick n is due at epoch + n * period (drift-free, whatever the timer's
//    lateness); after a stall longer than max_catch_up ticks it skips ahead instead of bursting
//    stale audio.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace plateau::mcu::conference {

// Rewrites `rtp` in place for one venue. False (and nothing changed) if it is not RTP or pt > 127.
bool RestampForVenue(std::span<uint8_t> rtp, uint32_t ssrc, uint8_t payload_type);

class AudioPacketizer {
 public:
  AudioPacketizer(uint32_t ssrc, uint8_t payload_type, uint16_t first_sequence_number,
                  uint32_t timestamp_base);
  // One packet per frame; `mixer_timestamp` is EncodedFrame::timestamp. The first packet (and
  // the first after Restart) carries the marker bit (start of a talk spurt, RFC 3551 4.1).
  std::vector<uint8_t> Packetize(std::span<const uint8_t> opus, uint32_t mixer_timestamp);
  // A new carrier (reconnect) or payload type: the stream continues, its next packet is marked.
  void Restart(uint8_t payload_type);

  uint32_t ssrc() const { return ssrc_; }
  uint16_t next_sequence_number() const { return seq_; }
  uint64_t packets() const { return packets_; }

 private:
  uint32_t ssrc_;
  uint8_t payload_type_;
  uint16_t seq_;
  uint32_t timestamp_base_;
  bool marker_ = true;
  uint64_t packets_ = 0;
};

class TickSchedule {
 public:
  // The type of plateau::Clock::Monotonic()'s readings; the schedule reads no time itself.
  using Clock = std::chrono::steady_clock;

  TickSchedule(Clock::time_point epoch, Clock::duration period, int max_catch_up);

  struct Due {
    uint64_t run = 0;      // ticks to run now (at least 1 when called at or after a deadline)
    uint64_t skipped = 0;  // ticks dropped because the caller stalled too long
  };
  // The ticks due at `now`; counts them as done.
  Due Advance(Clock::time_point now);
  // When the next tick is due.
  Clock::time_point next_deadline() const;
  uint64_t done() const { return done_; }
  uint64_t skipped() const { return skipped_; }

 private:
  Clock::time_point epoch_;
  Clock::duration period_;
  uint64_t max_catch_up_;
  uint64_t done_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace plateau::mcu::conference
