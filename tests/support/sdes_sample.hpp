// A minimal valid SDES description on loopback (one port, video PT 96, audio PT 111) for tests
// and fuzzers that need one to start from; the caller sets `crypto` (random, fixed or a chosen
// profile: that is what differs between them). Header-only.
#pragma once

#include "plateau/negotiation/sdp/sdes_sdp.hpp"

namespace plateau::testing {

inline negotiation::sdp::SdesDescription LoopbackSdes() {
  negotiation::sdp::SdesDescription d;
  d.session_id = 1;
  d.session_version = 1;
  d.address = "127.0.0.1";
  d.port = 40000;
  d.video_payload_type = 96;
  d.audio_payload_type = 111;
  return d;
}

}  // namespace plateau::testing
