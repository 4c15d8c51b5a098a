#include "plateau/mcu/rtp/receive_statistics.hpp"

#include <algorithm>
#include <cmath>

namespace plateau::mcu::rtp {
namespace {

// RFC 3550 appendix A.1 constants.
constexpr int kMinSequential = 2;
constexpr uint32_t kMaxDropout = 3000;
constexpr uint32_t kMaxMisorder = 100;
constexpr uint32_t kSeqMod = 1u << 16;

}  // namespace

StreamStatistics::StreamStatistics(uint32_t ssrc, uint32_t clock_rate)
    : ssrc_(ssrc), clock_rate_(clock_rate == 0 ? 90000 : clock_rate) {}

void StreamStatistics::InitSequence(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // so seq == bad_seq is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

// RFC 3550 A.1 update_seq(), returning whether the packet counts.
bool StreamStatistics::UpdateSequence(uint16_t seq) {
  const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    // Source not valid until kMinSequential packets in sequence have been received.
    if (seq == static_cast<uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        InitSequence(seq);
        return true;
      }
    } else {
      probation_ = kMinSequential - 1;
      max_seq_ = seq;
    }
    return false;
  }
  if (udelta < kMaxDropout) {
    // In order, with permissible gap.
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // The sequence number made a very large jump.
    if (seq == bad_seq_) {
      // Two sequential packets: assume the other side restarted without telling us.
      InitSequence(seq);
    } else {
      bad_seq_ = (static_cast<uint32_t>(seq) + 1) & (kSeqMod - 1);
      return false;
    }
  } else {
    // Duplicate or reordered packet.
  }
  return true;
}

bool StreamStatistics::OnPacket(uint16_t seq, uint32_t rtp_timestamp, int64_t arrival_us,
                                size_t payload_bytes) {
  if (!started_) {
    started_ = true;
    first_arrival_us_ = arrival_us;
    InitSequence(seq);
    max_seq_ = static_cast<uint16_t>(seq - 1);
    probation_ = kMinSequential;
  }
  const bool counted = UpdateSequence(seq);
  if (!counted) return false;
  ++received_;
  bytes_ += payload_bytes;
  // A.8 interarrival jitter, in timestamp units.
  const int64_t arrival_rtp =
      static_cast<int64_t>(static_cast<double>(arrival_us - first_arrival_us_) * clock_rate_ / 1e6);
  const int64_t transit = arrival_rtp - static_cast<int64_t>(rtp_timestamp);
  if (have_transit_) {
    // Timestamps wrap at 2^32: take the difference modulo 2^32 as a signed value.
    const int32_t d = static_cast<int32_t>(static_cast<uint32_t>(transit - last_transit_));
    jitter_ += (std::abs(static_cast<double>(d)) - jitter_) / 16.0;
  }
  last_transit_ = transit;
  have_transit_ = true;
  return true;
}

void StreamStatistics::OnSenderReport(const NtpTime& ntp, int64_t arrival_us) {
  last_sr_compact_ = ntp.Compact();
  last_sr_arrival_us_ = arrival_us;
}

int64_t StreamStatistics::cumulative_lost() const {
  if (received_ == 0) return 0;
  const int64_t expected = static_cast<int64_t>(cycles_ + max_seq_) - base_seq_ + 1;
  return expected - static_cast<int64_t>(received_);
}

double StreamStatistics::jitter_ms() const {
  return jitter_ * 1000.0 / clock_rate_;
}

std::optional<ReportBlock> StreamStatistics::MakeReportBlock(int64_t now_us) {
  if (!valid()) return std::nullopt;
  const uint64_t extended_max = cycles_ + max_seq_;
  const uint64_t expected = extended_max - base_seq_ + 1;
  ReportBlock b;
  b.ssrc = ssrc_;
  b.extended_highest_seq = static_cast<uint32_t>(extended_max);
  b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(
      static_cast<int64_t>(expected) - static_cast<int64_t>(received_), -0x800000, 0x7FFFFF));
  // A.3: fraction lost since the previous report.
  const int64_t expected_interval = static_cast<int64_t>(expected - expected_prior_);
  const int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  expected_prior_ = expected;
  received_prior_ = received_;
  const int64_t lost_interval = expected_interval - received_interval;
  if (expected_interval == 0 || lost_interval <= 0) {
    b.fraction_lost = 0;
  } else {
    b.fraction_lost =
        static_cast<uint8_t>(std::min<int64_t>((lost_interval << 8) / expected_interval, 255));
  }
  last_fraction_lost_ = b.fraction_lost;
  b.jitter = static_cast<uint32_t>(jitter_);
  if (last_sr_compact_ != 0) {
    b.last_sr = last_sr_compact_;
    const int64_t delay_us = std::max<int64_t>(0, now_us - last_sr_arrival_us_);
    b.delay_since_last_sr = static_cast<uint32_t>((delay_us * 65536) / 1000000);
  }
  return b;
}

StreamStatistics* ReceiveStatistics::GetOrCreate(uint32_t ssrc, uint32_t clock_rate) {
  auto it = streams_.find(ssrc);
  if (it != streams_.end()) return &it->second;
  if (streams_.size() >= max_streams_) return nullptr;
  return &streams_.emplace(ssrc, StreamStatistics(ssrc, clock_rate)).first->second;
}

StreamStatistics* ReceiveStatistics::Find(uint32_t ssrc) {
  auto it = streams_.find(ssrc);
  return it == streams_.end() ? nullptr : &it->second;
}

std::vector<ReportBlock> ReceiveStatistics::MakeReportBlocks(int64_t now_us) {
  std::vector<ReportBlock> blocks;
  for (auto& [ssrc, stream] : streams_) {
    if (blocks.size() >= kMaxReportBlocks) break;
    if (auto b = stream.MakeReportBlock(now_us)) blocks.push_back(*b);
  }
  return blocks;
}

}  // namespace plateau::mcu::rtp
