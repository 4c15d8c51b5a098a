// A stream profile: the rate one venue's stream takes per direction, and the picture it carries.
// The one source of every rate: the scheduler reserves stream_kbps() per stream, and the media
// engine encodes the profile's tier (width x height at video_kbps) and its audio at audio_kbps.
#pragma once

#include <cstdint>
#include <string>

namespace plateau::scheduler {

// How the media engine packetizes a stream, for media_kbps(): what the reservation must cover.
struct Packetization {
  int fps = 30;             // the conference canvas' frame rate
  int video_mtu = 1200;     // bytes of an RTP packet of video (header included)
  int audio_frame_ms = 20;  // one Opus frame per packet
  // Bytes each packet adds to its payload: RTP 12 + header extension 8 (WebRTC legs) + SRTP
  // authentication tag 10 + UDP 8 + IPv4 20.
  int packet_overhead_bytes = 58;
  int rtp_header_bytes = 20;  // the part of the above inside the MTU (RTP + extension)
};

struct Profile {
  std::string id;
  std::string name;
  int video_kbps = 0;
  int audio_kbps = 0;
  double overhead = 1.0;  // the reservation's factor over video + audio
  int width = 0;          // the picture its venues receive
  int height = 0;
  // Reserved per stream and direction: ceil((video + audio) * overhead).
  int64_t stream_kbps() const;
  // What one stream needs on the wire: video + audio + every packet's headers (a video frame
  // takes whole packets of the MTU; audio one packet per frame). Rounded up.
  int64_t media_kbps(const Packetization& p = {}) const;
};

}  // namespace plateau::scheduler
