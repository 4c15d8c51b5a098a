// ConferenceMedia: signaling's MediaNegotiator bound to the MCU engine (mcu/conference). One
// mcu::conference::Conference per open booking; one engine venue per seated venue.
//
//   offer (SDES, RTP/SAVP + a=crypto)  -> sdp::ParseSdes -> Conference::AddVenue(SdesEndpoint
//                                        with the VenueMedia its m-lines and directions ask for)
//                                        -> answer: FormatSdes(AnswerTo(offer) + server address,
//                                        port, a fresh key): every offered m-line, in order
//   offer (DTLS, a browser)            -> the injected WebRtcFactory (webrtcbin) -> the session is
//                                        the venue's ExternalEndpoint; candidates both ways
//   resume (SeatHeld, then a new offer) -> Conference::ReconnectVenue: same tile, new carrier
//   SeatReleased -> RemoveVenue; ConferenceEnded -> the engine's conference is destroyed
//
// The engine's conference is created at the first offer of an open booking, not when the booking
// opens: an open conference nobody has sent media to costs nothing (a running one composes and
// encodes every tier 30 times a second).
//
// Threads: the Switchboard calls the MediaNegotiator methods one at a time, on its media executor
// (never a listener thread); Find / SetMuted (live control) may be called from any thread and never
// wait for a conference being built (mu_ is not held while Conference::Create runs). Answers and
// events come from the engine's and GStreamer's threads. Library code: depends on signaling
// (seams), negotiation/sdp, mcu/conference.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plateau/common/metrics.hpp"
#include "plateau/common/result.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/mcu/conference/conference.hpp"
#include "plateau/signaling/protocol.hpp"
#include "plateau/signaling/seams.hpp"

namespace plateau::negotiation::conference {

// ---- the WebRTC seam (implemented by negotiation/webrtc's WebRtcSession; see AdaptWebRtcSession)
// --

struct WebRtcLegCallbacks {
  // A server candidate to trickle to the browser; nullopt = end of candidates.
  std::function<void(std::optional<signaling::protocol::IceCandidate>)> on_candidate;
  // ICE or DTLS failed / the peer went away for good.
  std::function<void(const std::string& reason)> on_failed;
};

// One browser's media leg: the venue's ExternalEndpoint in the conference.
class WebRtcLeg : public mcu::conference::ExternalEndpoint {
 public:
  virtual Status AddRemoteCandidate(
      const std::optional<signaling::protocol::IceCandidate>& candidate) = 0;
  // A new offer from the same browser (ICE restart after a reconnect).
  virtual void Renegotiate(std::string offer_sdp,
                           signaling::MediaNegotiator::AnswerCallback done) = 0;
  // Stops the leg; no callback after it returns.
  virtual void Close() = 0;
};

// Builds a leg for `venue` of `conference` from the browser's offer and calls `done` once with the
// answer (the shape of WebRtcSession::Create without its configuration, which the factory holds).
// `metrics` is the negotiator's registry, for the leg to count in.
// An error result means no leg exists; `done` may or may not have been called (ConferenceMedia
// answers the venue exactly once either way).
using WebRtcFactory = std::function<Result<std::shared_ptr<WebRtcLeg>>(
    mcu::conference::Conference* conference, metrics::Registry& metrics, std::string venue,
    std::string offer_sdp, WebRtcLegCallbacks callbacks,
    signaling::MediaNegotiator::AnswerCallback done)>;

// Wraps any session type with WebRtcSession's methods as a WebRtcLeg, so plateau/serve.cpp can
// fill the factory without this library linking the WebRTC one:
//   media.SetWebRtcFactory([cfg](auto* conference, metrics::Registry& metrics, std::string venue,
//                                std::string offer, negotiation::conference::WebRtcLegCallbacks cb,
//                                auto done) {
//     return negotiation::conference::AdaptWebRtcSession(webrtc::WebRtcSession::Create(
//         cfg, conference, metrics, std::move(venue), std::move(offer),
//         {cb.on_candidate, cb.on_failed}, std::move(done)));
//   });
template <typename Session>
class WebRtcSessionLeg final : public WebRtcLeg {
 public:
  explicit WebRtcSessionLeg(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  void SendRtp(mcu::conference::MediaKind kind, std::span<const uint8_t> rtp) override {
    session_->SendRtp(kind, rtp);
  }
  void RequestKeyframe() override { session_->RequestKeyframe(); }
  mcu::conference::ExternalLegStats LegStats() override { return session_->LegStats(); }
  Status AddRemoteCandidate(
      const std::optional<signaling::protocol::IceCandidate>& candidate) override {
    return session_->AddRemoteCandidate(candidate);
  }
  void Renegotiate(std::string offer_sdp,
                   signaling::MediaNegotiator::AnswerCallback done) override {
    session_->Renegotiate(std::move(offer_sdp), std::move(done));
  }
  void Close() override { session_->Close(); }

 private:
  std::shared_ptr<Session> session_;
};

template <typename Session>
Result<std::shared_ptr<WebRtcLeg>> AdaptWebRtcSession(Result<std::shared_ptr<Session>> session) {
  if (!session) return session.error();
  return std::shared_ptr<WebRtcLeg>(
      std::make_shared<WebRtcSessionLeg<Session>>(std::move(session.value())));
}

// ---- the negotiator ----

// One stream profile as the engine encodes it: the network configuration's [[profile]], the one
// source of every rate. Its venues receive the output tier named by its id (width x height at
// video_kbps) and mixes encoded at audio_kbps.
struct MediaProfile {
  std::string id;
  int width = 0;       // even, 64..1920
  int height = 0;      // even, 64..1080
  int video_kbps = 0;  // 32..20000
  int audio_kbps = 0;  // Opus: 6..510
};

struct ConferenceMediaConfig {
  // The one address the media engine binds SDES venues' UDP sockets on and writes into answers
  // (an IPv4 literal of a configured interface; not 0.0.0.0): `plateau serve --media-address`.
  std::string media_address = "127.0.0.1";
  // Every profile a booking may use (required). Each is one output tier of every conference; a
  // tier is encoded only while one of its venues receives video.
  std::vector<MediaProfile> profiles;
  // Template for every conference (id and layout are set per meeting). video.tiers is replaced by
  // the profiles' tiers (its first entry, if any, gives the GOP, MTU and payload type), and
  // audio.bitrate_bps by the meeting's profile.
  mcu::conference::ConferenceConfig conference;
};

// RTP bytes one venue or cascade leg has carried so far, as the engine of its MCU counted them,
// and the links it crosses (MediaPlan::paths): `bytes_up` went up each of them, `bytes_down` down.
struct MediaFlow {
  int64_t booking = 0;
  std::string id;  // the venue, or the sub-centre MCU of a cascade leg (counted at the parent)
  std::vector<std::string> links;
  uint64_t bytes_up = 0;    // from the venue (sub-centre) to its MCU (the parent's)
  uint64_t bytes_down = 0;  // the other way
};

// One venue of a running meeting as the hub sees it, whichever MCU of the plan hosts it.
struct RosterEntry {
  std::string venue;
  std::string name;
  std::string mcu;        // the plan's MCU whose engine holds it
  bool speaking = false;  // one of the mixed speakers of its MCU's engine
  bool muted = false;
  int64_t lost = 0;          // packets lost from it (RTCP / the receiving transport)
  double fraction_lost = 0;  // last report
  double rtt_ms = -1;        // -1: not measured
};

class ConferenceMedia final : public signaling::MediaNegotiator {
 public:
  // Errors: "bad_media_address" (not an IPv4 literal, or unspecified/multicast), "bad_profile"
  // (none, a duplicate id, a size or rate out of range). `metrics` (must outlive the negotiator and
  // every conference and leg it starts) is where offers and running conferences are counted; it is
  // handed on to each engine conference and WebRTC leg.
  static Result<std::unique_ptr<ConferenceMedia>> Create(ConferenceMediaConfig config,
                                                         metrics::Registry& metrics);
  ~ConferenceMedia() override;  // destroys every engine conference
  ConferenceMedia(const ConferenceMedia&) = delete;
  ConferenceMedia& operator=(const ConferenceMedia&) = delete;

  // Enables DTLS (browser) offers. Call before the Switchboard starts; until then they are
  // answered `media_unavailable`.
  void SetWebRtcFactory(WebRtcFactory factory);

  // MediaNegotiator.
  // The negotiator calls that look rooms up take mu_ for the look-up only.
  void Attach(signaling::MediaEvents* events) override;
  void ConferenceOpened(const signaling::Meeting& meeting) PLATEAU_EXCLUDES(mu_) override;
  void ConferenceEnded(const signaling::Meeting& meeting) PLATEAU_EXCLUDES(mu_) override;
  void Offer(const signaling::MediaSeat& seat, std::string sdp, AnswerCallback done)
      PLATEAU_EXCLUDES(mu_) override;
  Status Answer(const signaling::MediaSeat& seat, std::string sdp) override;
  Status Candidate(const signaling::MediaSeat& seat,
                   std::optional<signaling::protocol::IceCandidate> candidate)
      PLATEAU_EXCLUDES(mu_) override;
  void SeatHeld(const signaling::MediaSeat& seat) PLATEAU_EXCLUDES(mu_) override;
  void SeatReleased(const signaling::MediaSeat& seat) PLATEAU_EXCLUDES(mu_) override;

  // Live control (any thread). The engine's conference of a booking, or nullptr when none runs
  // (not open, or nobody has sent an offer yet).
  std::shared_ptr<mcu::conference::Conference> Find(int64_t booking) const PLATEAU_EXCLUDES(mu_);
  // Operator mute; pushes `muted` to the conference's venues. Errors: "not_running", and the
  // engine's ("unknown_venue").
  Status SetMuted(int64_t booking, const std::string& venue, bool muted) PLATEAU_EXCLUDES(mu_);

  // Every venue of a running meeting on every engine of its plan (cascade legs are not venues);
  // empty when its media does not run. Any thread.
  std::vector<RosterEntry> Roster(int64_t booking) const PLATEAU_EXCLUDES(mu_);
  // Every venue and cascade leg of every running meeting (any thread; reads the engines' stats).
  std::vector<MediaFlow> Flows() const PLATEAU_EXCLUDES(mu_);
  // What the meetings whose media runs reserved, summed per link: {up, down} kbit/s.
  std::map<std::string, std::pair<int64_t, int64_t>> Reserved() const PLATEAU_EXCLUDES(mu_);

  // The stream profile of that id (its venues' tier has the same name); nullptr if unknown.
  const MediaProfile* FindProfile(const std::string& id) const;
  const ConferenceMediaConfig& config() const { return config_; }

 private:
  struct Leg;
  struct Room;
  struct Nodes;
  // A running meeting's engines, taken under mu_ to be read without it.
  struct Running {
    int64_t booking;
    signaling::MediaPlan plan;
    std::shared_ptr<mcu::conference::Conference> root;
    std::map<std::string, std::shared_ptr<mcu::conference::Conference>> nodes;
  };
  std::vector<Running> RunningMeetings(std::optional<int64_t> only) const PLATEAU_EXCLUDES(mu_);
  ConferenceMedia(ConferenceMediaConfig config, metrics::Registry& metrics);

  // Takes mu_ for the look-up and to publish the conference, not while building it.
  Result<Room*> RunningRoom(const signaling::MediaSeat& seat) PLATEAU_EXCLUDES(mu_);
  void OfferSdes(const signaling::MediaSeat& seat, const std::string& sdp,
                 const AnswerCallback& done) PLATEAU_EXCLUDES(mu_);
  void OfferWebRtc(const signaling::MediaSeat& seat, std::string sdp, const AnswerCallback& done)
      PLATEAU_EXCLUDES(mu_);
  // Calls into signaling (the Switchboard's lock), so never with mu_ held.
  // `canvas`: the meeting's profile (its engines compose at its size); `nodes`: the room's
  // sub-centre engines (a cascade leg's tile names the venue it carries).
  void PublishLayout(int64_t booking, const std::string& layout,
                     const std::vector<mcu::media::Placement>& placements,
                     const MediaProfile& canvas, Nodes* nodes) PLATEAU_EXCLUDES(mu_);
  // The engine of the plan's MCU `mcu` for this room (the root's for the root or ""), creating
  // a sub-centre's engine and its cascade leg (and its parent's, first) on first use. Negotiator
  // calls only, after RunningRoom.
  Result<std::shared_ptr<mcu::conference::Conference>> EngineFor(Room& room, const std::string& mcu,
                                                                 int depth = 0);
  static void CloseLegs(Room& room);

  const ConferenceMediaConfig config_;
  metrics::Registry& metrics_;
  std::atomic<signaling::MediaEvents*> events_{nullptr};
  WebRtcFactory webrtc_;  // set before the Switchboard starts, read-only after
  // The negotiator calls (one at a time, on the media executor) and live control (any thread)
  // share the rooms. Leaf: never held while building a conference or calling into signaling.
  // A Room's `conference` is written under it too; its `legs` are the negotiator calls' alone.
  mutable Mutex mu_;
  std::map<int64_t, std::unique_ptr<Room>> rooms_ PLATEAU_GUARDED_BY(mu_);
};

}  // namespace plateau::negotiation::conference
