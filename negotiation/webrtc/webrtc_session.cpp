// WebRtcSession: one browser venue's media through GStreamer's webrtcbin (see the header and
// docs/webrtc.md).
//
// A session owns one *leg* at a time: a pipeline with a webrtcbin, an appsrc per kind (the mix for
// the venue) and an appsink per received stream (the browser's camera and microphone).
// Renegotiate: an offer with the same DTLS fingerprint and m-lines (an ICE restart of the same
// RTCPeerConnection) is applied in place on the current leg; webrtcbin 1.22 takes the new remote
// credentials and libnice checks again while DTLS and SRTP carry on (a fresh webrtcbin would not
// do: the browser keeps its old DTLS association). An offer with another fingerprint (a new
// RTCPeerConnection, e.g. a reloaded page) gets a fresh leg that takes over when its answer is
// out. The SSRCs the browser receives are the session's, not the leg's.
#include "plateau/negotiation/webrtc/webrtc_session.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"
#include "plateau/common/sanitizer.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/negotiation/webrtc/webrtc_offer.hpp"

namespace plateau::negotiation::webrtc {

namespace protocol = signaling::protocol;

namespace {

using mcu::conference::MediaKind;

// Bounded queue in front of webrtcbin for what the conference sends (about 1 s of the 8M tier).
constexpr guint64 kMaxQueuedBytes = 512 * 1024;
// Jitter buffer in webrtcbin for what the browser sends; the conference's own buffers come after.
constexpr guint kReceiveLatencyMs = 60;

struct PromiseUnref {
  void operator()(GstPromise* p) const {
    if (p) gst_promise_unref(p);
  }
};

std::string MediaFailed(const std::string& what) {
  return "the browser's media failed: " + what;
}

metrics::Counter& LegCounter(metrics::Registry& m, const std::string& event) {
  return *m.GetCounter("plateau_webrtc_legs_total", "WebRTC legs (webrtcbin pipelines) by outcome",
                       {{"event", event}});
}

class SessionImpl;

// One webrtcbin pipeline answering one offer.
class Leg : public std::enable_shared_from_this<Leg> {
 public:
  struct Ids {
    uint8_t conference_video_pt;
    uint8_t conference_audio_pt;
    uint32_t video_ssrc;  // what the browser receives
    uint32_t audio_ssrc;
  };

  Leg(SessionImpl* owner, WebRtcConfig config, OfferSummary offer, Ids ids, int generation,
      std::string venue)
      : owner_(owner),
        config_(std::move(config)),
        offer_(std::move(offer)),
        ids_(ids),
        generation_(generation),
        venue_(std::move(venue)) {}
  ~Leg() { Stop(); }

  Status Start(const std::string& offer_sdp, WebRtcSession::AnswerCallback done);
  // A new offer from the same peer connection (same DTLS fingerprint and m-lines, new ICE
  // credentials): webrtcbin applies it in place and answers with new credentials of its own.
  Status Reoffer(const std::string& offer_sdp, WebRtcSession::AnswerCallback done);
  // Whether `offer` can be applied to this leg in place.
  bool CanReoffer(const OfferSummary& offer) const {
    return offer.fingerprint == offer_.fingerprint && offer.mids == offer_.mids &&
           offer.video.mline == offer_.video.mline && offer.audio.mline == offer_.audio.mline &&
           offer.video.payload_type == offer_.video.payload_type &&
           offer.audio.payload_type == offer_.audio.payload_type &&
           offer.video.profile_level_id == offer_.video.profile_level_id;
  }
  void Push(MediaKind kind, std::span<const uint8_t> rtp);
  void RequestKeyframe();
  Status AddRemoteCandidate(int mline, const std::string& candidate);
  // To NULL: joins every streaming thread; no callback from this leg after it returns. Never call
  // it from one of this leg's own threads.
  void Stop();
  std::string State() const;
  const OfferSummary& offer() const { return offer_; }
  int generation() const { return generation_; }

 private:
  static void OnRemoteSet(GstPromise* promise, gpointer data);
  static void OnAnswerCreated(GstPromise* promise, gpointer data);
  static void OnLocalSet(GstPromise* promise, gpointer data);
  static void OnIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data);
  static void OnGatheringState(GObject*, GParamSpec*, gpointer data);
  static void OnConnectionState(GObject*, GParamSpec*, gpointer data);
  static void OnPadAdded(GstElement*, GstPad* pad, gpointer data);
  static GstFlowReturn OnSample(GstAppSink* sink, gpointer data);
  static GstPadProbeReturn OnUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data);
  static GstBusSyncReply OnBusMessage(GstBus*, GstMessage* message, gpointer data);

  // A promise whose callback holds only a weak reference to the leg.
  GstPromise* NewPromise(GstPromiseChangeFunc func);
  static std::shared_ptr<Leg> FromPromiseData(gpointer data);
  void Finish(Result<std::string> answer);
  void Fail(const std::string& reason);
  Status LinkSources();
  Status ApplyOffer(const std::string& offer_sdp);

  // Start's steps, in order.
  Status BuildWebRtcBin(GstBin* bin);
  Status RestrictIce();
  Status AddTransceivers();
  Status AddMixSources(GstBin* bin);
  void ConnectSignals();
  // The RTP caps webrtcbin negotiates for each kind: the offer's payload type and H.264 profile.
  std::string VideoCaps() const;
  std::string AudioCaps() const;

  SessionImpl* owner_;
  const WebRtcConfig config_;
  const OfferSummary offer_;
  const Ids ids_;
  const int generation_;
  const std::string venue_;

  GstElement* pipeline_ = nullptr;                      // owned
  GstElement* webrtc_ = nullptr;                        // in pipeline_
  std::vector<GstWebRTCRTPTransceiver*> transceivers_;  // owned refs

  // Lock order: stop_mu_, then mu_. stop_mu_ makes a second Stop wait until the leg is down.
  Mutex stop_mu_ PLATEAU_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  WebRtcSession::AnswerCallback done_ PLATEAU_GUARDED_BY(mu_);  // until the answer is out
  std::string answer_sdp_ PLATEAU_GUARDED_BY(mu_);
  bool linked_ PLATEAU_GUARDED_BY(mu_) = false;
  bool stopped_ PLATEAU_GUARDED_BY(mu_) = false;
  // The mix's appsrcs (in pipeline_): set in Start, cleared by Stop; conference threads push
  // into them with a reference taken under mu_.
  GstElement* video_src_ PLATEAU_GUARDED_BY(mu_) = nullptr;
  GstElement* audio_src_ PLATEAU_GUARDED_BY(mu_) = nullptr;
  // In pipeline_, once the browser's video arrives.
  GstElement* video_sink_ PLATEAU_GUARDED_BY(mu_) = nullptr;
  std::atomic<uint32_t> browser_video_ssrc_{0};
  std::atomic<int> ice_state_{GST_WEBRTC_ICE_CONNECTION_STATE_NEW};
  std::atomic<bool> failed_{false};
};

class SessionImpl final : public WebRtcSession {
 public:
  SessionImpl(WebRtcConfig config, mcu::conference::Conference* conference,
              metrics::Registry& metrics, std::string venue, WebRtcSessionCallbacks callbacks)
      : config_(std::move(config)),
        conference_(conference),
        metrics_(metrics),
        venue_(std::move(venue)),
        callbacks_(std::move(callbacks)) {
    ids_.video_ssrc = random::U32() | 1u;
    ids_.audio_ssrc = (random::U32() & ~1u) | 2u;
    ids_.conference_video_pt = config_.conference_video_payload_type;
    ids_.conference_audio_pt = config_.conference_audio_payload_type;
  }
  ~SessionImpl() override { Close(); }

  // Where the session and its legs count (the creator's registry).
  metrics::Registry& metrics() const { return metrics_; }

  // Builds a leg for `offer` (the first one, or an ICE restart).
  Status Begin(const OfferSummary& offer, const std::string& sdp, AnswerCallback done);

  // ExternalEndpoint (conference threads).
  void SendRtp(MediaKind kind, std::span<const uint8_t> rtp) override;
  void RequestKeyframe() override;
  mcu::conference::ExternalLegStats LegStats() override;

  // WebRtcSession (signaling, one call at a time).
  Status AddRemoteCandidate(const std::optional<protocol::IceCandidate>& candidate) override;
  void Renegotiate(std::string offer_sdp, AnswerCallback done) override;
  void Close() override;

  // From legs (GStreamer threads).
  void OnLegFinished(Leg* leg, bool answered);
  void OnLegCandidate(Leg* leg, std::optional<protocol::IceCandidate> candidate);
  void OnLegFailed(Leg* leg, const std::string& reason);
  void OnBrowserRtp(std::span<const uint8_t> rtp);
  void OnBrowserKeyframeRequest();

 private:
  std::shared_ptr<Leg> Current() {
    MutexLock lock(mu_);
    return current_;
  }
  // Stops a replaced leg on a thread of its own (the caller may be one of the new leg's threads);
  // Close joins it.
  void Retire(std::shared_ptr<Leg> leg);

  const WebRtcConfig config_;
  mcu::conference::Conference* const conference_;
  metrics::Registry& metrics_;
  const std::string venue_;
  const WebRtcSessionCallbacks callbacks_;
  Leg::Ids ids_{};
  std::atomic<bool> closed_{false};

  // Held while a callback to signaling runs and while Close flips closed_: no callback after
  // Close returns, candidates leave in order and after their leg's answer.
  RecursiveMutex callback_mu_ PLATEAU_ACQUIRED_BEFORE(mu_);
  Mutex mu_;  // the fields below
  int generation_ PLATEAU_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Leg> current_ PLATEAU_GUARDED_BY(mu_);  // carries media; its answer is out
  std::shared_ptr<Leg> pending_ PLATEAU_GUARDED_BY(mu_);  // negotiating
  // pending_'s, unsent
  std::vector<std::optional<protocol::IceCandidate>> early_candidates_ PLATEAU_GUARDED_BY(mu_);
  // The browser's current ICE ufrag (stale candidates are dropped).
  std::string remote_ufrag_ PLATEAU_GUARDED_BY(mu_);
  std::vector<std::thread> reapers_ PLATEAU_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------- Leg

GstPromise* Leg::NewPromise(GstPromiseChangeFunc func) {
  auto* weak = new std::weak_ptr<Leg>(weak_from_this());
  return gst_promise_new_with_change_func(
      func, weak, [](gpointer p) { delete static_cast<std::weak_ptr<Leg>*>(p); });
}

std::shared_ptr<Leg> Leg::FromPromiseData(gpointer data) {
  return static_cast<std::weak_ptr<Leg>*>(data)->lock();
}

Status Leg::Start(const std::string& offer_sdp, WebRtcSession::AnswerCallback done) {
  // libsrtp's kernel is per process and shared with webrtcbin's srtpenc/srtpdec: ours first, so
  // GStreamer's srtp_init (when it loads its srtp plugin below) is the harmless second one and
  // the two never race (mcu/transport/srtp_session.cpp, InitOnce).
  if (auto st = mcu::transport::InitSrtpLibrary(); !st)
    return Error{"media_failed", MediaFailed(st.error().message)};
  mcu::media::EnsureGstInit();
  {
    MutexLock lock(mu_);
    done_ = std::move(done);
  }
  pipeline_ = gst_pipeline_new(("webrtc-" + venue_ + "-" + std::to_string(generation_)).c_str());
  gst_object_ref_sink(pipeline_);
  GstBin* bin = GST_BIN(pipeline_);
  if (auto st = BuildWebRtcBin(bin); !st) return st;
  if (auto st = RestrictIce(); !st) return st;
  if (auto st = AddTransceivers(); !st) return st;
  if (auto st = AddMixSources(bin); !st) return st;
  ConnectSignals();

  HandOver(this);  // from here on GStreamer's threads call back into the leg
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return Error{"media_failed", MediaFailed("the WebRTC pipeline did not start")};

  return ApplyOffer(offer_sdp);
}

Status Leg::BuildWebRtcBin(GstBin* bin) {
  auto webrtc = mcu::media::AddElement(bin, "webrtcbin", "webrtc");
  if (!webrtc) return webrtc.error();
  webrtc_ = *webrtc;
  g_object_set(webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency",
               kReceiveLatencyMs, nullptr);
  if (!config_.stun_server.empty())
    g_object_set(webrtc_, "stun-server", config_.stun_server.c_str(), nullptr);
  return Status::Ok();
}

// ICE only on the configured addresses. libnice skips loopback unless it is named here.
Status Leg::RestrictIce() {
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc_, "ice-agent", &ice, nullptr);
  if (!ice) return Error{"media_failed", MediaFailed("webrtcbin has no ICE agent")};
  const mcu::media::GstObjectPtr<GstWebRTCICE> ice_ref(ice);
  for (const std::string& address : config_.ice_addresses) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(ice, "add-local-ip-address", address.c_str(), &ok);
    if (!ok) return Error{"media_failed", "ICE cannot use the local address " + address};
  }
  if (config_.min_port != 0 || config_.max_port != 0)
    g_object_set(ice, "min-rtp-port", guint(config_.min_port), "max-rtp-port",
                 guint(config_.max_port ? config_.max_port : 65535), nullptr);
  return Status::Ok();
}

std::string Leg::VideoCaps() const {
  return "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=" +
         std::to_string(offer_.video.payload_type) +
         ",packetization-mode=(string)1,level-asymmetry-allowed=(string)1,profile-level-id=("
         "string)" +
         offer_.video.profile_level_id +
         ",rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
}

std::string Leg::AudioCaps() const {
  return "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=" +
         std::to_string(offer_.audio.payload_type) + ",encoding-params=(string)2";
}

// webrtcbin 1.22 answers only with transceivers that exist before the offer is applied, and
// only with the codecs in their caps: one per kind, in the offer's m-line order.
Status Leg::AddTransceivers() {
  const bool video_first = offer_.video.mline < offer_.audio.mline;
  for (const std::string& text : video_first ? std::vector{VideoCaps(), AudioCaps()}
                                             : std::vector{AudioCaps(), VideoCaps()}) {
    mcu::media::GstCapsPtr caps = mcu::media::CapsFromString(text);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
                          caps.get(), &trans);
    if (!trans) return Error{"media_failed", MediaFailed("webrtcbin refused a transceiver")};
    transceivers_.push_back(trans);
  }
  return Status::Ok();
}

// Sources for what the conference sends; linked once the transceivers have their m-lines.
Status Leg::AddMixSources(GstBin* bin) {
  GstElement* video_src = nullptr;
  for (MediaKind kind : {MediaKind::kVideo, MediaKind::kAudio}) {
    const bool video = kind == MediaKind::kVideo;
    auto src = mcu::media::AddElement(bin, "appsrc", video ? "mix_video" : "mix_audio");
    if (!src) return src.error();
    const std::string caps_text = (video ? VideoCaps() : AudioCaps()) + ",ssrc=(uint)" +
                                  std::to_string(video ? ids_.video_ssrc : ids_.audio_ssrc);
    mcu::media::GstCapsPtr caps = mcu::media::CapsFromString(caps_text);
    g_object_set(*src, "caps", caps.get(), "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", TRUE, "block", FALSE, "max-bytes", kMaxQueuedBytes, nullptr);
    // Drop new buffers when webrtcbin cannot keep up, never block the conference.
    g_object_set(*src, "leaky-type", 1 /* GST_APP_LEAKY_TYPE_UPSTREAM */, nullptr);
    MutexLock lock(mu_);
    (video ? video_src_ : audio_src_) = *src;
    if (video) video_src = *src;
  }
  // A PLI/FIR from the browser reaches us as a GstForceKeyUnit event travelling upstream.
  GstPad* vpad = gst_element_get_static_pad(video_src, "src");
  gst_pad_add_probe(vpad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &Leg::OnUpstreamEvent, this, nullptr);
  gst_object_unref(vpad);
  return Status::Ok();
}

void Leg::ConnectSignals() {
  g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(&Leg::OnIceCandidate), this);
  g_signal_connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(&Leg::OnGatheringState),
                   this);
  g_signal_connect(webrtc_, "notify::ice-connection-state", G_CALLBACK(&Leg::OnConnectionState),
                   this);
  g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(&Leg::OnConnectionState), this);
  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&Leg::OnPadAdded), this);
  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, &Leg::OnBusMessage, this, nullptr);
  gst_object_unref(bus);
}

Status Leg::ApplyOffer(const std::string& offer_sdp) {
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_sdp.c_str(), &sdp) != GST_SDP_OK)
    return Error{"bad_sdp", "the offer is not valid SDP"};
  GstWebRTCSessionDescription* desc =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  HandOver(this);
  g_signal_emit_by_name(webrtc_, "set-remote-description", desc, NewPromise(&Leg::OnRemoteSet));
  gst_webrtc_session_description_free(desc);
  return Status::Ok();
}

Status Leg::Reoffer(const std::string& offer_sdp, WebRtcSession::AnswerCallback done) {
  {
    MutexLock lock(mu_);
    if (stopped_ || !webrtc_) return Error{"media_failed", MediaFailed("the leg is stopped")};
    done_ = std::move(done);
  }
  failed_ = false;
  log::Info("webrtc.ice_restart", {{"venue", venue_}, {"generation", generation_}});
  return ApplyOffer(offer_sdp);
}

// The promise's error, if it was replied with one (webrtcbin 1.22 sets "error" on failure).
std::optional<std::string> PromiseError(GstPromise* promise) {
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "no reply from webrtcbin";
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (!reply) return std::nullopt;
  GError* error = nullptr;
  if (gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    std::string message = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return message;
  }
  return std::nullopt;
}

void Leg::OnRemoteSet(GstPromise* promise, gpointer data) {
  auto self = FromPromiseData(data);
  if (!self) return;
  ForeignCallback sync(self.get());  // on webrtcbin\'s thread
  if (auto err = PromiseError(promise)) {
    self->Finish(Error{"bad_sdp", "webrtcbin refused the offer: " + *err});
    return;
  }
  HandOver(self.get());
  g_signal_emit_by_name(self->webrtc_, "create-answer", nullptr,
                        self->NewPromise(&Leg::OnAnswerCreated));
}

Status Leg::LinkSources() {
  GstElement* video_src = nullptr;
  GstElement* audio_src = nullptr;
  {
    MutexLock lock(mu_);
    if (linked_ || stopped_) return Status::Ok();  // an ICE restart keeps the links
    video_src = video_src_;
    audio_src = audio_src_;
  }
  // webrtcbin 1.22 makes a sink pad per sending transceiver when the answer is applied (its
  // "transceiver" property names it); request one only where it did not.
  std::vector<GstPad*> pads;
  GstIterator* it = gst_element_iterate_sink_pads(webrtc_);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    pads.push_back(GST_PAD(g_value_dup_object(&item)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  Status status = Status::Ok();
  for (GstWebRTCRTPTransceiver* trans : transceivers_) {
    guint mline = G_MAXUINT;
    g_object_get(trans, "mlineindex", &mline, nullptr);
    if (mline == G_MAXUINT) {
      status = Error{"media_failed", MediaFailed("webrtcbin matched no m-line to a transceiver")};
      break;
    }
    GstElement* src = static_cast<int>(mline) == offer_.video.mline ? video_src : audio_src;
    GstPad* sink = nullptr;
    for (GstPad* pad : pads) {
      GstWebRTCRTPTransceiver* owner = nullptr;
      g_object_get(pad, "transceiver", &owner, nullptr);
      if (owner) gst_object_unref(owner);
      if (owner == trans) sink = GST_PAD(gst_object_ref(pad));
    }
    const std::string name = "sink_" + std::to_string(mline);
    if (!sink) sink = gst_element_request_pad_simple(webrtc_, name.c_str());
    if (!sink) {
      status = Error{"media_failed", MediaFailed("webrtcbin gave no pad " + name)};
      break;
    }
    GstPad* src_pad = gst_element_get_static_pad(src, "src");
    const GstPadLinkReturn r = gst_pad_link(src_pad, sink);
    gst_object_unref(src_pad);
    gst_object_unref(sink);
    if (r != GST_PAD_LINK_OK) {
      status = Error{"media_failed", MediaFailed("cannot link the mix to webrtcbin's " + name)};
      break;
    }
  }
  for (GstPad* pad : pads) gst_object_unref(pad);
  if (!status) return status;
  MutexLock lock(mu_);
  linked_ = true;
  return Status::Ok();
}

void Leg::OnAnswerCreated(GstPromise* promise, gpointer data) {
  auto self = FromPromiseData(data);
  if (!self) return;
  ForeignCallback sync(self.get());  // on webrtcbin\'s thread
  if (auto err = PromiseError(promise)) {
    self->Finish(Error{"media_failed", MediaFailed("no answer: " + *err)});
    return;
  }
  GstWebRTCSessionDescription* answer = nullptr;
  gst_structure_get(gst_promise_get_reply(promise), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                    &answer, nullptr);
  if (!answer) {
    self->Finish(Error{"media_failed", MediaFailed("webrtcbin produced no answer")});
    return;
  }
  gchar* text = gst_sdp_message_as_text(answer->sdp);
  {
    MutexLock lock(self->mu_);
    self->answer_sdp_ = text;
  }
  g_free(text);
  HandOver(self.get());
  g_signal_emit_by_name(self->webrtc_, "set-local-description", answer,
                        self->NewPromise(&Leg::OnLocalSet));
  gst_webrtc_session_description_free(answer);
}

void Leg::OnLocalSet(GstPromise* promise, gpointer data) {
  auto self = FromPromiseData(data);
  if (!self) return;
  ForeignCallback sync(self.get());  // on webrtcbin\'s thread
  if (auto err = PromiseError(promise)) {
    self->Finish(Error{"media_failed", MediaFailed("webrtcbin refused its answer: " + *err)});
    return;
  }
  // webrtcbin gives its transceivers their m-lines with the local answer: link the mix now.
  if (auto st = self->LinkSources(); !st) {
    self->Finish(st.error());
    return;
  }
  std::string answer;
  {
    MutexLock lock(self->mu_);
    answer = self->answer_sdp_;
  }
  self->Finish(std::move(answer));
}

void Leg::Finish(Result<std::string> answer) {
  WebRtcSession::AnswerCallback done;
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    done = std::move(done_);
    done_ = nullptr;
  }
  if (!done) return;
  const bool ok = answer.ok();
  LegCounter(owner_->metrics(), ok ? "answered" : "refused").Inc();
  if (!ok) {
    log::Warn("webrtc.negotiation_failed", {{"venue", venue_},
                                            {"generation", generation_},
                                            {"code", answer.error().code},
                                            {"error", answer.error().message}});
  }
  // The answer first, then (in OnLegFinished) the candidates gathered meanwhile.
  done(std::move(answer));
  owner_->OnLegFinished(this, ok);
}

void Leg::Fail(const std::string& reason) {
  if (failed_.exchange(true)) return;
  LegCounter(owner_->metrics(), "failed").Inc();
  log::Warn("webrtc.failed", {{"venue", venue_}, {"generation", generation_}, {"reason", reason}});
  Finish(Error{"media_failed", MediaFailed(reason)});
  owner_->OnLegFailed(this, reason);
}

void Leg::OnIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  if (!candidate || !*candidate) return;
  std::string text = candidate;
  if (text.rfind("a=", 0) == 0) text.erase(0, 2);
  protocol::IceCandidate c;
  c.candidate = std::move(text);
  c.sdp_mline_index = static_cast<int>(mline);
  if (mline < self->offer_.mids.size()) c.sdp_mid = self->offer_.mids[mline];
  c.username_fragment = std::nullopt;
  self->owner_->OnLegCandidate(self, std::move(c));
}

void Leg::OnGatheringState(GObject*, GParamSpec*, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(self->webrtc_, "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    self->owner_->OnLegCandidate(self, std::nullopt);
}

void Leg::OnConnectionState(GObject*, GParamSpec*, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  GstWebRTCICEConnectionState ice = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  GstWebRTCPeerConnectionState pc = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(self->webrtc_, "ice-connection-state", &ice, "connection-state", &pc, nullptr);
  const int previous = self->ice_state_.exchange(ice);
  if (previous != ice)
    log::Info("webrtc.ice_state",
              {{"venue", self->venue_}, {"generation", self->generation_}, {"state", int(ice)}});
  if (ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) self->Fail("ICE failed");
  if (pc == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) self->Fail("DTLS failed");
}

void Leg::OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  mcu::media::GstCapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  bool video = false;
  if (caps && gst_caps_get_size(caps.get()) > 0) {
    const char* media = gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "media");
    video = media && std::string_view(media) == "video";
  }
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "max-buffers", 64, "drop", TRUE, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Leg::OnSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, self, nullptr);
  gst_bin_add(GST_BIN(self->pipeline_), sink);
  gst_element_sync_state_with_parent(sink);
  GstPad* sink_pad = gst_element_get_static_pad(sink, "sink");
  const GstPadLinkReturn r = gst_pad_link(pad, sink_pad);
  gst_object_unref(sink_pad);
  log::Info("webrtc.receiving", {{"venue", self->venue_},
                                 {"generation", self->generation_},
                                 {"kind", video ? "video" : "audio"},
                                 {"linked", r == GST_PAD_LINK_OK}});
  if (video) {
    MutexLock lock(self->mu_);
    self->video_sink_ = sink;
  }
}

GstFlowReturn Leg::OnSample(GstAppSink* sink, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  mcu::media::GstSamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_OK;
  std::vector<uint8_t> rtp(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  // Not RTP (the conference would drop it too): dropped here.
  const auto packet = mcu::rtp::RtpPacket::Parse(rtp);
  if (!packet) return GST_FLOW_OK;
  // The browser's payload types become the conference's (the conference routes by PT).
  const uint8_t pt = packet->payload_type();
  uint8_t mapped;
  if (pt == self->offer_.video.payload_type) {
    mapped = self->ids_.conference_video_pt;
    self->browser_video_ssrc_ = packet->ssrc();
  } else if (pt == self->offer_.audio.payload_type) {
    mapped = self->ids_.conference_audio_pt;
  } else {
    return GST_FLOW_OK;
  }
  mcu::rtp::RtpRewrite remap;
  remap.payload_type = mapped;
  if (!mcu::rtp::RewriteRtpHeader(rtp, remap)) return GST_FLOW_OK;
  self->owner_->OnBrowserRtp(rtp);
  return GST_FLOW_OK;
}

GstPadProbeReturn Leg::OnUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (event && GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM) {
    const GstStructure* s = gst_event_get_structure(event);
    if (s && gst_structure_has_name(s, "GstForceKeyUnit")) self->owner_->OnBrowserKeyframeRequest();
  }
  return GST_PAD_PROBE_OK;
}

GstBusSyncReply Leg::OnBusMessage(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<Leg*>(data);
  ForeignCallback sync(self);  // called on a GStreamer thread (plateau/common/sanitizer.hpp)
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    const std::string text = error ? error->message : "unknown error";
    log::Error("webrtc.pipeline_error",
               {{"venue", self->venue_},
                {"element", GST_MESSAGE_SRC_NAME(message) ? GST_MESSAGE_SRC_NAME(message) : ""},
                {"error", text},
                {"debug", debug ? debug : ""}});
    if (error) g_error_free(error);
    g_free(debug);
    self->Fail(text);
  }
  return GST_BUS_DROP;
}

void Leg::Push(MediaKind kind, std::span<const uint8_t> rtp) {
  if (rtp.size() < 12) return;
  // The appsrc is taken with a reference under the lock: Stop (Close, or a reaper thread) frees
  // the pipeline, and with it the appsrc, right after it sets stopped_.
  GstElement* src = nullptr;
  {
    MutexLock lock(mu_);
    if (!linked_ || stopped_) return;
    src = kind == MediaKind::kVideo ? video_src_ : audio_src_;
    if (!src) return;
    gst_object_ref(src);
  }
  const mcu::media::GstObjectPtr<GstElement> src_ref(src);
  // The conference's payload type and SSRC become the ones the browser negotiated and receives.
  const bool video = kind == MediaKind::kVideo;
  mcu::rtp::RtpRewrite rewrite;
  rewrite.payload_type = video ? offer_.video.payload_type : offer_.audio.payload_type;
  rewrite.ssrc = video ? ids_.video_ssrc : ids_.audio_ssrc;
  GstBuffer* buffer = gst_buffer_new_memdup(rtp.data(), rtp.size());
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref(buffer);
    return;
  }
  const bool rewritten =
      mcu::rtp::RewriteRtpHeader(std::span<uint8_t>(map.data, map.size), rewrite);
  gst_buffer_unmap(buffer, &map);
  if (!rewritten) {  // not RTP: the conference never sends that
    gst_buffer_unref(buffer);
    return;
  }
  // Takes the buffer; after Stop the appsrc is flushing and drops it.
  gst_app_src_push_buffer(GST_APP_SRC(src), buffer);
}

void Leg::RequestKeyframe() {
  GstElement* sink = nullptr;
  {
    MutexLock lock(mu_);
    if (stopped_ || !video_sink_) return;
    sink = GST_ELEMENT(gst_object_ref(video_sink_));
  }
  // Upstream through the jitter buffer to the RTP session, which sends PLI to the browser.
  GstStructure* s =
      gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, FALSE, nullptr);
  if (const uint32_t ssrc = browser_video_ssrc_.load())
    gst_structure_set(s, "ssrc", G_TYPE_UINT, ssrc, nullptr);
  gst_element_send_event(sink, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
  gst_object_unref(sink);
}

Status Leg::AddRemoteCandidate(int mline, const std::string& candidate) {
  {
    MutexLock lock(mu_);
    if (stopped_) return Status::Ok();
  }
  HandOver(this);
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mline), candidate.c_str());
  return Status::Ok();
}

std::string Leg::State() const {
  switch (ice_state_.load()) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_NEW:
      return "new";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING:
      return "checking";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
      return "connected";
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      return "completed";
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      return "failed";
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
      return "disconnected";
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      return "closed";
    default:
      return "unknown";
  }
}

void Leg::Stop() {
  MutexLock stop_lock(stop_mu_);  // a second caller waits until the leg is down
  GstElement* video_src = nullptr;
  GstElement* audio_src = nullptr;
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    done_ = nullptr;
    video_src = video_src_;
    audio_src = audio_src_;
  }
  if (!pipeline_) return;
  // Until DTLS is up webrtcbin holds RTP back: the mix's streaming threads wait inside it (a
  // blocking probe in its transport) holding stream locks, and going to NULL would wait for them
  // for ever (a leg replaced or closed before the browser's DTLS finished, while the conference
  // was sending). A flush from each source wakes them first.
  for (GstElement* src : {video_src, audio_src})
    if (src) gst_element_send_event(src, gst_event_new_flush_start());
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  TakeBack(this);  // every streaming thread of the pipeline has finished
  if (webrtc_) g_signal_handlers_disconnect_by_data(webrtc_, this);
  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  for (GstWebRTCRTPTransceiver* t : transceivers_) gst_object_unref(t);
  transceivers_.clear();
  {
    MutexLock lock(mu_);  // Push and RequestKeyframe read these under it
    video_src_ = audio_src_ = nullptr;
    video_sink_ = nullptr;
  }
  gst_object_unref(pipeline_);
  pipeline_ = nullptr;
  webrtc_ = nullptr;
}

// ---------------------------------------------------------------- SessionImpl

Status SessionImpl::Begin(const OfferSummary& offer, const std::string& sdp, AnswerCallback done) {
  std::shared_ptr<Leg> leg;
  std::shared_ptr<Leg> superseded;
  {
    MutexLock lock(mu_);
    if (closed_) return Error{"media_failed", "the WebRTC session is closed"};
    leg = std::make_shared<Leg>(this, config_, offer, ids_, ++generation_, venue_);
    superseded = std::move(pending_);  // a newer offer replaces one still negotiating
    if (superseded == current_) superseded.reset();
    pending_ = leg;
    remote_ufrag_ = offer.ice_ufrag;
    early_candidates_.clear();
  }
  if (superseded) Retire(std::move(superseded));
  log::Info("webrtc.offer", {{"venue", venue_},
                             {"generation", leg->generation()},
                             {"video_pt", offer.video.payload_type},
                             {"audio_pt", offer.audio.payload_type},
                             {"profile_level_id", offer.video.profile_level_id}});
  if (auto st = leg->Start(sdp, std::move(done)); !st) {
    leg->Stop();
    MutexLock lock(mu_);
    if (pending_ == leg) pending_.reset();
    LegCounter(metrics_, "refused").Inc();
    return st;
  }
  return Status::Ok();
}

void SessionImpl::OnLegFinished(Leg* leg, bool answered) {
  LockGuard<RecursiveMutex> cb(callback_mu_);
  std::shared_ptr<Leg> old;
  std::vector<std::optional<protocol::IceCandidate>> flush;
  bool in_place = false;
  {
    MutexLock lock(mu_);
    if (closed_ || pending_.get() != leg) return;
    std::shared_ptr<Leg> finished = std::move(pending_);
    in_place = finished == current_;
    if (answered) {
      if (!in_place) {
        old = std::move(current_);  // a new peer connection replaced the old one
        current_ = std::move(finished);
      }
      flush.swap(early_candidates_);
    } else {
      early_candidates_.clear();
      if (!in_place) old = std::move(finished);  // a failed ICE restart leaves current_ as it is
    }
  }
  if (answered)
    log::Info("webrtc.answered", {{"venue", venue_},
                                  {"generation", leg->generation()},
                                  {"ice_restart", in_place},
                                  {"replaced_leg", old != nullptr}});
  if (old) Retire(std::move(old));
  if (callbacks_.on_candidate)
    for (auto& c : flush) callbacks_.on_candidate(std::move(c));
}

void SessionImpl::OnLegCandidate(Leg* leg, std::optional<protocol::IceCandidate> candidate) {
  LockGuard<RecursiveMutex> cb(callback_mu_);
  {
    MutexLock lock(mu_);
    if (closed_) return;
    if (pending_.get() == leg) {
      early_candidates_.push_back(std::move(candidate));
      return;
    }
    if (current_.get() != leg) return;
  }
  if (callbacks_.on_candidate) callbacks_.on_candidate(std::move(candidate));
}

void SessionImpl::OnLegFailed(Leg* leg, const std::string& reason) {
  LockGuard<RecursiveMutex> cb(callback_mu_);
  {
    MutexLock lock(mu_);
    if (closed_ || current_.get() != leg) return;  // a pending leg fails through its answer
  }
  if (callbacks_.on_failed) callbacks_.on_failed(reason);
}

void SessionImpl::OnBrowserRtp(std::span<const uint8_t> rtp) {
  if (closed_ || !conference_) return;
  conference_->PushRtp(venue_, rtp);
}

void SessionImpl::OnBrowserKeyframeRequest() {
  if (closed_ || !conference_) return;
  // Looked up here, not at creation: the series appears with the first request.
  metrics_.GetCounter("plateau_webrtc_keyframe_requests_total", "PLI/FIR received from browsers")
      ->Inc();
  conference_->OnKeyframeRequest(venue_);
}

void SessionImpl::SendRtp(MediaKind kind, std::span<const uint8_t> rtp) {
  if (closed_) return;
  if (auto leg = Current()) leg->Push(kind, rtp);
}

void SessionImpl::RequestKeyframe() {
  if (closed_) return;
  if (auto leg = Current()) leg->RequestKeyframe();
}

mcu::conference::ExternalLegStats SessionImpl::LegStats() {
  mcu::conference::ExternalLegStats stats;
  if (auto leg = Current())
    stats.state = leg->State();
  else
    stats.state = closed_ ? "closed" : "negotiating";
  return stats;
}

Status SessionImpl::AddRemoteCandidate(const std::optional<protocol::IceCandidate>& candidate) {
  if (!candidate) return Status::Ok();  // end of candidates: libnice needs no word of it
  std::shared_ptr<Leg> leg;
  std::string ufrag;
  {
    MutexLock lock(mu_);
    if (closed_) return Error{"media_failed", "the WebRTC session is closed"};
    leg = pending_ ? pending_ : current_;
    ufrag = remote_ufrag_;
  }
  if (!leg) return Error{"bad_candidate", "no offer has been made yet"};
  std::string text = candidate->candidate;
  if (text.rfind("a=", 0) == 0) text.erase(0, 2);
  if (text.empty()) return Status::Ok();  // some browsers' end-of-generation marker
  if (text.rfind("candidate:", 0) != 0 || text.size() > protocol::kMaxCandidateChars ||
      text.find_first_of("\r\n") != std::string::npos)
    return Error{"bad_candidate", "an ICE candidate must be one line starting with \"candidate:\""};
  const OfferSummary& offer = leg->offer();
  if (candidate->username_fragment && !candidate->username_fragment->empty() &&
      *candidate->username_fragment != ufrag)
    return Status::Ok();  // from before an ICE restart: stale, dropped
  int mline = -1;
  if (candidate->sdp_mline_index) {
    mline = *candidate->sdp_mline_index;
  } else if (candidate->sdp_mid) {
    for (size_t i = 0; i < offer.mids.size(); ++i)
      if (offer.mids[i] == *candidate->sdp_mid) mline = static_cast<int>(i);
  }
  if (mline < 0 || static_cast<size_t>(mline) >= offer.mids.size())
    return Error{"bad_candidate",
                 "the candidate names no m-line of the offer (sdpMid/sdpMLineIndex)"};
  return leg->AddRemoteCandidate(mline, text);
}

void SessionImpl::Renegotiate(std::string offer_sdp, AnswerCallback done) {
  auto offer = AnalyzeOffer(offer_sdp);
  if (!offer) {
    done(offer.error());
    return;
  }

  // The same peer connection (same DTLS fingerprint, same m-lines): an ICE restart, in place.
  std::shared_ptr<Leg> current;
  {
    MutexLock lock(mu_);
    if (closed_) {
      done(Error{"media_failed", "the WebRTC session is closed"});
      return;
    }
    if (!pending_ && current_ && current_->CanReoffer(*offer)) {
      current = current_;
      pending_ = current_;
      remote_ufrag_ = offer->ice_ufrag;
      early_candidates_.clear();
    }
  }
  auto shared_done = std::make_shared<AnswerCallback>(std::move(done));
  if (current) {
    if (auto st = current->Reoffer(
            offer_sdp,
            [shared_done](Result<std::string> answer) { (*shared_done)(std::move(answer)); });
        !st) {
      {
        MutexLock lock(mu_);
        if (pending_ == current) pending_.reset();
      }
      (*shared_done)(st.error());
    }
    return;
  }
  // A new peer connection (the page was reloaded): a fresh webrtcbin takes over when it answers.
  // Begin reports synchronous failures here; asynchronous ones reach `done` from the leg.
  if (auto st =
          Begin(*offer, offer_sdp,
                [shared_done](Result<std::string> answer) { (*shared_done)(std::move(answer)); });
      !st)
    (*shared_done)(st.error());
}

void SessionImpl::Retire(std::shared_ptr<Leg> leg) {
  MutexLock lock(mu_);
  reapers_.emplace_back([leg = std::move(leg)] { leg->Stop(); });
}

void SessionImpl::Close() {
  {
    LockGuard<RecursiveMutex> cb(callback_mu_);
    closed_ = true;
  }
  std::shared_ptr<Leg> current, pending;
  std::vector<std::thread> reapers;
  {
    MutexLock lock(mu_);
    current = std::move(current_);
    pending = std::move(pending_);
    reapers.swap(reapers_);
    early_candidates_.clear();
  }
  if (pending) pending->Stop();
  if (current) current->Stop();
  for (auto& t : reapers) t.join();
}

}  // namespace

Result<std::shared_ptr<WebRtcSession>> WebRtcSession::Create(
    WebRtcConfig config, mcu::conference::Conference* conference, metrics::Registry& metrics,
    std::string venue, std::string offer_sdp, WebRtcSessionCallbacks callbacks,
    AnswerCallback done) {
  auto offer = AnalyzeOffer(offer_sdp);
  if (!offer) return offer.error();
  if (config.ice_addresses.empty())
    return Error{"media_failed", "no ICE address is configured for browsers"};
  auto session = std::make_shared<SessionImpl>(std::move(config), conference, metrics,
                                               std::move(venue), std::move(callbacks));
  if (auto st = session->Begin(*offer, offer_sdp, std::move(done)); !st) return st.error();
  return std::shared_ptr<WebRtcSession>(session);
}

}  // namespace plateau::negotiation::webrtc
