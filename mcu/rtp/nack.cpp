#include "plateau/mcu/rtp/nack.hpp"

#include <algorithm>

#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::rtp {

NackGenerator::NackGenerator(NackConfig config) : config_(config) {
  config_.max_missing = std::max<size_t>(config_.max_missing, 1);
  config_.max_retries = std::max(config_.max_retries, 1);
  config_.max_gap = std::clamp(config_.max_gap, 1, 0x7FFF);
}

bool NackGenerator::OnPacket(uint16_t sequence_number, int64_t now_ms) {
  if (!started_) {
    started_ = true;
    newest_ = sequence_number;
    newest_unwrapped_ = sequence_number;
    return false;
  }
  const int d = SequenceNumberDistance(newest_, sequence_number);
  const int64_t unwrapped = newest_unwrapped_ + d;
  if (d == 0) return false;  // duplicate of the newest
  if (d < -config_.max_gap) {
    // Far behind the newest: not a late packet but a sender that restarted lower; follow it.
    given_up_ += missing_.size();
    missing_.clear();
    keyframe_request_ = true;
    newest_ = sequence_number;
    newest_unwrapped_ = unwrapped;
    return false;
  }
  if (d < 0) {
    // Older than the newest: either a packet we were waiting for, or a duplicate / a packet we
    // already gave up on.
    auto it = missing_.find(unwrapped);
    if (it == missing_.end()) return false;
    missing_.erase(it);
    ++recovered_;
    return true;
  }
  if (d > config_.max_gap) {
    // The sender jumped (restart, SSRC reuse): start over rather than NACK thousands of packets.
    given_up_ += missing_.size();
    missing_.clear();
    keyframe_request_ = true;
  } else {
    for (int64_t s = newest_unwrapped_ + 1; s < unwrapped; ++s) {
      missing_.emplace(s, Missing{now_ms, -1, 0});
    }
    if (missing_.size() > config_.max_missing) {
      // Too much is missing to repair packet by packet: a keyframe is cheaper.
      given_up_ += missing_.size();
      missing_.clear();
      keyframe_request_ = true;
    }
  }
  newest_ = sequence_number;
  newest_unwrapped_ = unwrapped;
  return false;
}

int64_t NackGenerator::RetryInterval() const {
  return std::max(config_.min_retry_interval_ms, rtt_ms_);
}

void NackGenerator::Expire(int64_t now_ms) {
  for (auto it = missing_.begin(); it != missing_.end();) {
    const Missing& m = it->second;
    const bool too_old = now_ms - m.first_seen_ms > config_.max_age_ms;
    const bool exhausted =
        m.retries >= config_.max_retries && now_ms - m.last_sent_ms >= RetryInterval();
    if (too_old || exhausted) {
      ++given_up_;
      keyframe_request_ = true;
      it = missing_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<uint16_t> NackGenerator::GetNackList(int64_t now_ms) {
  Expire(now_ms);
  std::vector<uint16_t> out;
  const int64_t interval = RetryInterval();
  for (auto& [unwrapped, m] : missing_) {
    if (m.retries >= config_.max_retries) continue;
    const bool due = m.last_sent_ms < 0 ? now_ms - m.first_seen_ms >= config_.initial_delay_ms
                                        : now_ms - m.last_sent_ms >= interval;
    if (!due) continue;
    m.last_sent_ms = now_ms;
    ++m.retries;
    out.push_back(static_cast<uint16_t>(unwrapped & 0xFFFF));
  }
  return out;
}

bool NackGenerator::TakeKeyframeRequest() {
  const bool r = keyframe_request_;
  keyframe_request_ = false;
  return r;
}

std::optional<int64_t> NackGenerator::NextDueMs() const {
  std::optional<int64_t> next;
  const int64_t interval = RetryInterval();
  for (const auto& [unwrapped, m] : missing_) {
    int64_t due;
    if (m.last_sent_ms < 0) {
      due = m.first_seen_ms + config_.initial_delay_ms;
    } else {
      // After the last retry the entry is still held for one interval (a late answer counts as
      // recovered), then expired: the due time is when that happens.
      due = m.last_sent_ms + interval;
    }
    due = std::min(due, m.first_seen_ms + config_.max_age_ms + 1);
    if (!next || due < *next) next = due;
  }
  return next;
}

RetransmissionHistory::RetransmissionHistory(size_t capacity, int64_t max_age_ms)
    : slots_(std::max<size_t>(capacity, 1)),
      storage_(slots_.size() * kMaxRtpPacketSize),
      max_age_ms_(max_age_ms) {}

void RetransmissionHistory::Store(uint16_t sequence_number, std::span<const uint8_t> packet,
                                  int64_t now_ms) {
  const size_t index = sequence_number % slots_.size();
  Slot& slot = slots_[index];
  if (packet.size() > kMaxRtpPacketSize) {  // not an RTP packet we send: nothing to answer with
    slot.used = false;
    return;
  }
  slot.used = true;
  slot.sequence_number = sequence_number;
  slot.stored_ms = now_ms;
  slot.size = static_cast<uint16_t>(packet.size());
  std::copy(packet.begin(), packet.end(), storage_.begin() + index * kMaxRtpPacketSize);
}

std::optional<std::span<const uint8_t>> RetransmissionHistory::Find(uint16_t sequence_number,
                                                                    int64_t now_ms) const {
  const size_t index = sequence_number % slots_.size();
  const Slot& slot = slots_[index];
  if (!slot.used || slot.sequence_number != sequence_number) return std::nullopt;
  if (now_ms - slot.stored_ms > max_age_ms_) return std::nullopt;
  return std::span<const uint8_t>(storage_.data() + index * kMaxRtpPacketSize, slot.size);
}

size_t RetransmissionHistory::allocated_bytes() const {
  return storage_.capacity() + slots_.capacity() * sizeof(Slot);
}

}  // namespace plateau::mcu::rtp
