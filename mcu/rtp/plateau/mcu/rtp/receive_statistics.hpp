// Per-SSRC reception statistics (RFC 3550 appendix A.1 sequence tracking with probation and
// resync, A.3 expected/lost/fraction lost, A.8 interarrival jitter) producing report blocks for
// SR/RR, and the LSR/DLSR bookkeeping that lets the remote measure round-trip time.
//
// Pure logic: the caller passes arrival times (microseconds on any monotonic clock) and NTP times;
// nothing here reads a clock. Not thread-safe: one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"

namespace plateau::mcu::rtp {

// The statistics of one incoming stream (one SSRC).
class StreamStatistics {
 public:
  StreamStatistics(uint32_t ssrc, uint32_t clock_rate);

  // One packet that passed authentication and validation. `arrival_us` is a monotonic time.
  // Returns false for a packet the A.1 algorithm discards (a duplicate or one so far out of order
  // that it triggers a resync check); it is still counted in packets_received if it is not a
  // duplicate during probation.
  bool OnPacket(uint16_t sequence_number, uint32_t rtp_timestamp, int64_t arrival_us,
                size_t payload_bytes);

  // An SR from this source arrived: remember its compact NTP (LSR) and when it arrived.
  void OnSenderReport(const NtpTime& ntp, int64_t arrival_us);

  // A report block about this source as of `now_us`; updates the "prior" counters used for the
  // next fraction_lost (A.3). nullopt before the first valid packet.
  std::optional<ReportBlock> MakeReportBlock(int64_t now_us);

  uint32_t ssrc() const { return ssrc_; }
  uint32_t clock_rate() const { return clock_rate_; }
  uint64_t packets_received() const { return received_; }
  uint64_t bytes_received() const { return bytes_; }
  uint32_t extended_highest_seq() const { return cycles_ + max_seq_; }
  int64_t cumulative_lost() const;  // expected - received, may be negative (duplicates)
  uint8_t last_fraction_lost() const { return last_fraction_lost_; }
  double jitter_rtp_units() const { return jitter_; }
  double jitter_ms() const;
  bool valid() const { return probation_ == 0 && received_ > 0; }

 private:
  void InitSequence(uint16_t seq);
  bool UpdateSequence(uint16_t seq);

  uint32_t ssrc_;
  uint32_t clock_rate_;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0;
  int probation_ = 0;
  bool started_ = false;
  uint64_t received_ = 0;
  uint64_t bytes_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  uint8_t last_fraction_lost_ = 0;
  double jitter_ = 0;
  bool have_transit_ = false;
  int64_t first_arrival_us_ = 0;  // jitter works on arrival times relative to this
  int64_t last_transit_ = 0;
  uint32_t last_sr_compact_ = 0;
  int64_t last_sr_arrival_us_ = 0;
};

// All incoming streams of one transport, created on the first packet of an SSRC, bounded.
class ReceiveStatistics {
 public:
  explicit ReceiveStatistics(size_t max_streams = 16) : max_streams_(max_streams) {}

  // Returns the stream, creating it with `clock_rate` if new; nullptr when max_streams are tracked.
  StreamStatistics* GetOrCreate(uint32_t ssrc, uint32_t clock_rate);
  StreamStatistics* Find(uint32_t ssrc);
  const std::map<uint32_t, StreamStatistics>& streams() const { return streams_; }

  // Report blocks for every valid stream (at most kMaxReportBlocks).
  std::vector<ReportBlock> MakeReportBlocks(int64_t now_us);

 private:
  size_t max_streams_;
  std::map<uint32_t, StreamStatistics> streams_;
};

}  // namespace plateau::mcu::rtp
