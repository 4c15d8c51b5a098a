// A browser venue's media leg: GStreamer webrtcbin (libnice ICE, DTLS-SRTP, BUNDLE, rtcp-mux,
// trickle ICE) answering the browser's offer, carrying H.264 constrained baseline
// (packetization-mode 1) and Opus between the browser and a mcu::conference::Conference.
//
// It is the conference's ExternalEndpoint for that venue: RTP from the browser (after DTLS-SRTP)
// goes to Conference::PushRtp with the conference's payload types; the mix for the venue comes
// back through SendRtp and leaves through webrtcbin. PLI from the browser -> Conference::
// OnKeyframeRequest; Conference's RequestKeyframe -> a PLI/force-key-unit upstream to the browser.
//
// Lifecycle (driven by negotiation/conference's ConferenceMedia, one call at a time per session):
//   Create(offer) -> done(answer) -> AddRemoteCandidate* -> [Renegotiate(offer) on resume: ICE
//   restart] -> Close(). Callbacks come from GStreamer threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/mcu/conference/conference.hpp"
#include "plateau/signaling/protocol.hpp"

namespace plateau::negotiation::webrtc {

struct WebRtcConfig {
  // Local addresses ICE may gather candidates on (the configured interfaces). Loopback must be
  // listed explicitly (libnice skips it otherwise): tests use {"127.0.0.1"}.
  std::vector<std::string> ice_addresses = {"127.0.0.1"};
  uint16_t min_port = 0;  // UDP port range for ICE; 0,0 = any
  uint16_t max_port = 0;
  std::string stun_server;  // empty = none (an intranet)
  // The conference's payload types (ConferenceConfig::video/audio_payload_type): the browser's
  // negotiated PTs are rewritten to these on the way in, and back on the way out.
  uint8_t conference_video_payload_type = 96;
  uint8_t conference_audio_payload_type = 111;
};

struct WebRtcSessionCallbacks {
  // A server candidate to trickle to the browser; nullopt = end of candidates.
  std::function<void(std::optional<signaling::protocol::IceCandidate>)> on_candidate;
  // ICE or DTLS failed / the peer went away for good.
  std::function<void(const std::string& reason)> on_failed;
};

class WebRtcSession : public mcu::conference::ExternalEndpoint {
 public:
  using AnswerCallback = std::function<void(Result<std::string> answer_sdp)>;

  // Builds the session for `venue` of `conference` (which must outlive it; nullptr drops what the
  // browser sends: tests), applies the browser's
  // offer and calls `done` once with the answer (errors: "bad_sdp" for an offer without H.264
  // packetization-mode 1 or Opus, "media_failed"). The caller then adds the session to the
  // conference as the venue's ExternalEndpoint (AddVenue or ReconnectVenue).
  // If Create returns an error (bad_sdp from the offer check, media_failed when the pipeline
  // cannot be built) `done` is never called; otherwise `done` is called exactly once, from a
  // GStreamer thread, and the server's candidates (on_candidate) follow the answer, never precede
  // it. `metrics` (must outlive the session) is where its legs and the browser's keyframe requests
  // are counted: the registry of the negotiator that creates it (ConferenceMedia's).
  static Result<std::shared_ptr<WebRtcSession>> Create(WebRtcConfig config,
                                                       mcu::conference::Conference* conference,
                                                       metrics::Registry& metrics,
                                                       std::string venue, std::string offer_sdp,
                                                       WebRtcSessionCallbacks callbacks,
                                                       AnswerCallback done);

  // A trickled browser candidate (nullopt = end of candidates). Errors: "bad_candidate".
  virtual Status AddRemoteCandidate(
      const std::optional<signaling::protocol::IceCandidate>& candidate) = 0;
  // A new offer from the same browser (ICE restart after a reconnect). `done` is called exactly
  // once (errors included). The same DTLS fingerprint and m-lines: applied in place (an ICE
  // restart; DTLS and SRTP carry on). Another fingerprint (a new RTCPeerConnection): a fresh
  // webrtcbin answers and takes over when its answer is out. The SSRCs the browser receives stay.
  virtual void Renegotiate(std::string offer_sdp, AnswerCallback done) = 0;
  // Stops the pipeline; no callback after it returns.
  virtual void Close() = 0;
};

}  // namespace plateau::negotiation::webrtc
