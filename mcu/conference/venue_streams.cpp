#include "plateau/mcu/conference/venue_streams.hpp"

#include <algorithm>

#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::conference {

bool RestampForVenue(std::span<uint8_t> rtp, uint32_t ssrc, uint8_t payload_type) {
  rtp::RtpRewrite rw;
  rw.payload_type = payload_type;
  rw.ssrc = ssrc;
  return rtp::RewriteRtpHeader(rtp, rw);
}

AudioPacketizer::AudioPacketizer(uint32_t ssrc, uint8_t payload_type,
                                 uint16_t first_sequence_number, uint32_t timestamp_base)
    : ssrc_(ssrc),
      payload_type_(payload_type),
      seq_(first_sequence_number),
      timestamp_base_(timestamp_base) {}

std::vector<uint8_t> AudioPacketizer::Packetize(std::span<const uint8_t> opus,
                                                uint32_t mixer_timestamp) {
  rtp::RtpHeader h;
  h.payload_type = payload_type_;
  h.marker = marker_;
  h.sequence_number = seq_++;
  h.timestamp = timestamp_base_ + mixer_timestamp;  // modulo 2^32, as RTP wants
  h.ssrc = ssrc_;
  marker_ = false;
  ++packets_;
  return rtp::BuildRtpPacket(h, opus);
}

void AudioPacketizer::Restart(uint8_t payload_type) {
  payload_type_ = payload_type;
  marker_ = true;
}

TickSchedule::TickSchedule(Clock::time_point epoch, Clock::duration period, int max_catch_up)
    : epoch_(epoch),
      period_(period),
      max_catch_up_(static_cast<uint64_t>(std::max(1, max_catch_up))) {}

TickSchedule::Due TickSchedule::Advance(Clock::time_point now) {
  Due due;
  if (now < epoch_) return due;
  const uint64_t reached = static_cast<uint64_t>((now - epoch_) / period_) + 1;  // ticks 0..n due
  if (reached <= done_) return due;
  uint64_t behind = reached - done_;
  if (behind > max_catch_up_) {
    due.skipped = behind - 1;
    skipped_ += due.skipped;
    done_ += due.skipped;
    behind = 1;
  }
  due.run = behind;
  done_ += behind;
  return due;
}

TickSchedule::Clock::time_point TickSchedule::next_deadline() const {
  return epoch_ + period_ * static_cast<int64_t>(done_);
}

}  // namespace plateau::mcu::conference
