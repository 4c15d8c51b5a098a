// The seams between signaling and the rest of the server. The Switchboard (switchboard.hpp) only
// knows these interfaces; plateau/serve.cpp binds them:
//   Clock               -> plateau::SystemClock (tests: ManualClock; common/.../clock.hpp)
//   VenueAuthenticator  -> the scheduler's venue tokens (scheduler_binding.hpp)
//   ConferenceDirectory -> the scheduler's bookings (scheduler_binding.hpp)
//   MediaNegotiator     -> the MCU conference layer (mcu/conference); until it is wired,
//                          UnavailableMedia answers every offer with `media_unavailable`
//   AdmittedVenues      -> filled by live control (an operator admits a venue not on the booking)
// See docs/signaling.md, "Seams".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plateau/common/clock.hpp"
#include "plateau/common/result.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/signaling/protocol.hpp"

namespace plateau::signaling {

// ---- time ----
// The process's one plateau::Clock (common/plateau/common/clock.hpp), injected so the session logic
// (grace periods, heartbeats, rate limits, conference windows) is tested without sleeping: the
// Switchboard reads its wall time (UnixMs, UnixSeconds).

// ---- venues ----

struct VenueIdentity {
  std::string venue;  // site id from the topology
  std::string name;   // display name (Chinese), for participant lists and tile captions
  // Which issued credential the venue proved (opaque; compared with CurrentCredential to notice a
  // re-issued token). Empty: not tracked.
  std::string credential;
};

// Verifies a venue's credentials. Called WITHOUT any signaling lock held, possibly from several
// threads at once. Errors: code "unauthorized" for an unknown venue or a wrong token (the same
// message for both, so a client cannot probe which venues exist); "unavailable" when the token
// store cannot answer.
class VenueAuthenticator {
 public:
  virtual ~VenueAuthenticator() = default;
  virtual Result<VenueIdentity> Verify(const std::string& venue, const std::string& token) = 0;
  // The venue's current credential, as VenueIdentity::credential would name it now; nullopt when
  // the venue has none any more. A session whose credential differs was registered with a token
  // that has since been replaced. Called without any signaling lock held.
  virtual Result<std::optional<std::string>> CurrentCredential(const std::string& venue) = 0;
};

// ---- conferences ----

// One occurrence of a booked meeting as signaling sees it. Times are Unix seconds, UTC.
// Where a meeting's media runs: the booking's cascade plan (docs/cascade.md). With no hosts every
// venue is on one conference (the root's).
struct MediaPlan {
  std::string root_mcu;                        // the MCU hosting the conference
  std::map<std::string, std::string> hosts;    // venue -> the MCU that hosts it
  std::map<std::string, std::string> parents;  // sub-centre MCU -> the MCU its cascade leg joins
  std::map<std::string, std::string> names;    // MCU -> display name (its site's)
  // The links a venue's stream (key: venue id) or a cascade leg's (key: the sub-centre MCU id)
  // crosses to reach its MCU, from its own site up: its media to the MCU goes "up" on each.
  std::map<std::string, std::vector<std::string>> paths;
  // What the booking reserved per link: {up, down} kbit/s.
  std::map<std::string, std::pair<int64_t, int64_t>> reserved;
  // The MCU hosting `venue` (the root when the plan does not say).
  const std::string& HostOf(const std::string& venue) const;
};

struct Meeting {
  int64_t booking = 0;
  std::string conference;  // dialable number
  std::string title;
  int64_t opens = 0;  // start minus the set-up buffer: venues may join from here
  int64_t start = 0;
  int64_t end = 0;
  std::vector<std::string> venues;  // the venues on the booking
  std::string main_venue;
  std::string layout = "auto";
  std::string profile;  // stream profile id (the media tier follows from it)
  MediaPlan plan;
  bool cancelled = false;  // cancelled or bumped by a higher-priority meeting

  bool IsOpenAt(int64_t now) const { return !cancelled && now >= opens && now < end; }
  bool HasVenue(const std::string& venue) const;
};

// Resolves conferences. Called from the listener's threads WITHOUT the Switchboard's lock held (a
// SQLite read must not stall every venue), possibly from several threads at once. For a recurring
// booking the occurrence returned is the one open at `now`, else the next one to open, else the
// last one (so a past meeting reads as `ended`). nullopt = no such conference; an error = the
// directory cannot answer now (storage failure), which never ends or refuses anything by itself.
class ConferenceDirectory {
 public:
  virtual ~ConferenceDirectory() = default;
  virtual Result<std::optional<Meeting>> FindByNumber(const std::string& conference,
                                                      int64_t now) = 0;
  virtual Result<std::optional<Meeting>> FindByBooking(int64_t booking, int64_t now) = 0;
  // Every meeting open at `now` (opens <= now < end, not cancelled).
  virtual Result<std::vector<Meeting>> OpenAt(int64_t now) = 0;
};

// Venues an operator admitted to a meeting they are not booked in. Thread-safe; live control
// fills it, the Switchboard reads it on `join` and when dialling out.
class AdmittedVenues {
 public:
  void Admit(int64_t booking, const std::string& venue);
  void Revoke(int64_t booking, const std::string& venue);
  bool IsAdmitted(int64_t booking, const std::string& venue) const;
  std::vector<std::string> Venues(int64_t booking) const;

 private:
  mutable Mutex mu_;
  std::map<int64_t, std::set<std::string>> admitted_ PLATEAU_GUARDED_BY(mu_);
};

// ---- media ----

// One venue's place in one conference. `epoch` changes whenever the seat is given to someone new,
// so a late callback for an old occupant is recognised and dropped.
struct MediaSeat {
  int64_t booking = 0;
  std::string conference;
  std::string venue;
  std::string venue_name;
  std::string profile;
  int seat = 0;
  uint64_t epoch = 0;
  // The IP address the venue's signaling connection comes from ("" when it has none now). SDES
  // media is sent to an offer's address before the venue's first authenticated packet only when
  // it is this one.
  std::string peer_address;
};

// What the media side may push to venues. Implemented by the Switchboard; callable from any
// thread, including from inside a MediaNegotiator call. Messages for seats that are no longer
// occupied (epoch mismatch) or whose venue is disconnected are dropped.
class MediaEvents {
 public:
  virtual ~MediaEvents() = default;
  // A server-initiated offer (renegotiation, ICE restart); the venue answers with `answer`.
  virtual void SendOffer(const MediaSeat& seat, std::string sdp) = 0;
  // Trickled server candidate; nullopt = end of candidates.
  virtual void SendCandidate(const MediaSeat& seat,
                             std::optional<protocol::IceCandidate> candidate) = 0;
  virtual void PublishLayout(int64_t booking, const std::string& layout,
                             std::vector<protocol::Tile> tiles) = 0;
  virtual void PublishSpeaker(int64_t booking, const std::string& venue) = 0;
  virtual void PublishMuted(int64_t booking, const std::string& venue, bool muted) = 0;
};

// Media negotiation for seats. The Switchboard calls these one at a time, in order, on its own
// media executor thread (never on a listener thread, never concurrently, never with its lock held),
// so an implementation needs no locking of its own against the Switchboard and may take its time
// (building a conference's pipelines) without stalling signaling. Results and events may come back
// from any thread.
//
// Lifecycle per conference: ConferenceOpened -> per seat: Offer (-> answer), Candidate*,
// [SeatHeld -> Offer again on resume (ICE restart / new SDES keys)] -> SeatReleased ->
// ConferenceEnded (which implies every remaining seat is released).
class MediaNegotiator {
 public:
  using AnswerCallback = std::function<void(Result<std::string> answer_sdp)>;
  virtual ~MediaNegotiator() = default;
  virtual void Attach(MediaEvents* events) = 0;
  virtual void ConferenceOpened(const Meeting& meeting) = 0;
  virtual void ConferenceEnded(const Meeting& meeting) = 0;
  // The venue's offer for its seat. `done` is called exactly once, from any thread, with the
  // answer SDP or an error (code "bad_sdp" for an offer that cannot be used, "media_unavailable",
  // "media_failed"); the error's message is shown to the venue.
  virtual void Offer(const MediaSeat& seat, std::string sdp, AnswerCallback done) = 0;
  // The venue's answer to a server offer (MediaEvents::SendOffer).
  virtual Status Answer(const MediaSeat& seat, std::string sdp) = 0;
  // A trickled venue candidate; nullopt = end of candidates.
  virtual Status Candidate(const MediaSeat& seat,
                           std::optional<protocol::IceCandidate> candidate) = 0;
  // The connection dropped; the seat is held for the resume grace period. Keep the seat's place in
  // the mix; expect a new Offer when it comes back.
  virtual void SeatHeld(const MediaSeat& seat) = 0;
  // The seat is gone (leave, grace expired, replaced): free its media.
  virtual void SeatReleased(const MediaSeat& seat) = 0;
};

// The MediaNegotiator until the MCU conference layer is wired: every offer, answer and candidate
// is refused with `media_unavailable`. Seats, invites and presence still work.
class UnavailableMedia final : public MediaNegotiator {
 public:
  void Attach(MediaEvents*) override {}
  void ConferenceOpened(const Meeting&) override {}
  void ConferenceEnded(const Meeting&) override {}
  void Offer(const MediaSeat&, std::string, AnswerCallback done) override;
  Status Answer(const MediaSeat&, std::string) override;
  Status Candidate(const MediaSeat&, std::optional<protocol::IceCandidate>) override;
  void SeatHeld(const MediaSeat&) override {}
  void SeatReleased(const MediaSeat&) override {}
};

}  // namespace plateau::signaling
