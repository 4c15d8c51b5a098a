// Latency probes for `plateau bench mix`: a decoder for what an observer venue receives that dates
// every decoded frame by the arrival of its packets (not by when the decoder finished it), so the
// observer's own decoding is left out of the latency measured.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "plateau/common/result.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/terminal/media/types.hpp"

namespace plateau::bench {

struct ProbeFrame {
  int width = 0;
  int height = 0;
  int64_t arrival_us = -1;       // arrival of the frame's last (marker) packet; -1 if unknown
  std::span<const uint8_t> rgb;  // packed RGB rows of `stride` bytes
  int stride = 0;
  // Average colour of the box of side `box` centred on (x, y), clamped to the picture.
  terminal::media::Rgb Average(int x, int y, int box = 8) const;
};

class ProbeDecoder {
 public:
  // Runs on the decoder's streaming thread; the frame is valid during the call only.
  using OnFrame = std::function<void(const ProbeFrame&)>;

  // appsrc -> rtph264depay -> h264parse -> avdec_h264 -> RGB -> appsink. Error "gstreamer".
  static Result<std::unique_ptr<ProbeDecoder>> Create(OnFrame on_frame);
  ~ProbeDecoder();
  ProbeDecoder(const ProbeDecoder&) = delete;
  ProbeDecoder& operator=(const ProbeDecoder&) = delete;

  // One received H.264 RTP packet and when it arrived (steady clock, microseconds). One thread.
  void Push(const mcu::rtp::RtpPacket& packet, int64_t arrival_us);
  uint64_t frames() const;

  struct Impl;

 private:
  explicit ProbeDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Nearest-rank percentile (0..100) of `values`; 0 when empty.
double Percentile(std::vector<double> values, double percent);

}  // namespace plateau::bench
