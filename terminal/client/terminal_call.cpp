#include "plateau/terminal/client/terminal_call.hpp"

#include <optional>
#include <string>
#include <type_traits>

namespace plateau::terminal::client {

namespace p = signaling::protocol;
using nlohmann::json;

std::string_view ToString(CallState state) {
  switch (state) {
    case CallState::kConnecting:
      return "connecting";
    case CallState::kWaiting:
      return "waiting";
    case CallState::kJoining:
      return "joining";
    case CallState::kNegotiating:
      return "negotiating";
    case CallState::kInCall:
      return "in_call";
    case CallState::kEnded:
      return "ended";
    case CallState::kFailed:
      return "failed";
  }
  return "unknown";
}

TerminalCall::TerminalCall(CallConfig config) : config_(std::move(config)) {
  target_ = config_.conference;
}

void TerminalCall::Join(const std::string& conference, std::vector<CallAction>* out) {
  target_ = conference;
  join_pending_ = true;
  join_id_ = "join-" + std::to_string(++joins_);
  snap_.state = CallState::kJoining;
  out->push_back(SendMessage{p::ClientMessage{join_id_, p::Join{conference, std::nullopt}}});
}

void TerminalCall::Fail(Error error, std::vector<CallAction>* out) {
  snap_.state = CallState::kFailed;
  snap_.failure = error;
  out->push_back(CallFailed{std::move(error)});
}

std::vector<CallAction> TerminalCall::OnServerMessage(const p::ServerMessage& message) {
  std::vector<CallAction> out;
  if (Done()) return out;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, p::Registered>) {
          snap_.connected = true;
          snap_.venue = m.venue;
          snap_.venue_name = m.name;
          snap_.session = m.session;
          if (!m.resumed) {
            // A fresh session: whatever seat we had is gone.
            if (seated_) ++snap_.rejoins;
            seated_ = false;
            join_pending_ = false;
            preparing_ = false;
            offer_id_.clear();
            if (target_) {
              Join(*target_, &out);
            } else {
              snap_.state = CallState::kWaiting;
            }
          } else if (!seated_ && target_) {
            // Resumed, but the join had not been answered before the drop: ask again (joining the
            // same conference twice is idempotent on the server).
            Join(*target_, &out);
          } else if (!seated_) {
            snap_.state = CallState::kWaiting;
          }
          // Resumed and seated: `joined {resumed: true}` follows.
        } else if constexpr (std::is_same_v<T, p::Invite>) {
          ++snap_.invites;
          if (seated_ || join_pending_) return;
          if (config_.conference && *config_.conference != m.conference) return;
          Join(m.conference, &out);
        } else if constexpr (std::is_same_v<T, p::Joined>) {
          if (target_ && m.conference != *target_) return;  // not what we asked for
          if (m.resumed) ++snap_.resumes;
          seated_ = true;
          join_pending_ = false;
          target_ = m.conference;
          snap_.conference = m.conference;
          snap_.booking = m.booking;
          snap_.title = m.title;
          snap_.seat = m.seat;
          snap_.participants.clear();
          for (const auto& participant : m.participants)
            snap_.participants[participant.venue] = participant;
          if (snap_.layout.empty() || !m.resumed) snap_.layout = m.layout;
          // The current picture and speaker: a late joiner learns them here, not at the next
          // change.
          if (!m.tiles.empty() || !m.resumed) {
            snap_.layout = m.layout;
            snap_.tiles.clear();
            for (const auto& t : m.tiles)
              snap_.tiles.push_back(TileInfo{t.venue, t.x, t.y, t.w, t.h});
          }
          if (m.speaker) snap_.speaker = *m.speaker;
          // A new seat or a resumed one: media with NEW keys either way.
          snap_.state = CallState::kNegotiating;
          preparing_ = true;
          pending_remote_offer_.reset();
          ++prepare_count_;
          out.push_back(PrepareLocal{});
        } else if constexpr (std::is_same_v<T, p::ParticipantEvent>) {
          if (m.conference != snap_.conference) return;
          if (m.event == "left") {
            snap_.participants.erase(m.participant.venue);
          } else {
            p::Participant participant = m.participant;
            participant.connected = m.event != "away";
            snap_.participants[participant.venue] = participant;
          }
        } else if constexpr (std::is_same_v<T, p::Layout>) {
          if (m.conference != snap_.conference) return;
          snap_.layout = m.layout;
          snap_.tiles.clear();
          for (const auto& t : m.tiles)
            snap_.tiles.push_back(TileInfo{t.venue, t.x, t.y, t.w, t.h});
        } else if constexpr (std::is_same_v<T, p::Speaker>) {
          if (m.conference != snap_.conference) return;
          if (m.venue.empty())
            snap_.speaker.reset();
          else
            snap_.speaker = m.venue;
        } else if constexpr (std::is_same_v<T, p::Muted>) {
          if (m.conference != snap_.conference) return;
          if (m.muted)
            snap_.muted.insert(m.venue);
          else
            snap_.muted.erase(m.venue);
        } else if constexpr (std::is_same_v<T, p::HandEvent>) {
          // Recorded on the participant (a venue we have not heard of yet is left alone: its
          // `participant` or `joined` will carry the hand).
          if (m.conference != snap_.conference) return;
          auto it = snap_.participants.find(m.venue);
          if (it != snap_.participants.end()) it->second.hand = m.raised;
        } else if constexpr (std::is_same_v<T, p::Ended>) {
          if (!snap_.conference.empty() && m.conference != snap_.conference) return;
          if (snap_.conference.empty() && (!target_ || m.conference != *target_)) return;
          seated_ = false;
          snap_.state = CallState::kEnded;
          snap_.end_reason = m.reason;
          out.push_back(CallEnded{m.reason});
        } else if constexpr (std::is_same_v<T, p::Left>) {
          seated_ = false;
          snap_.state = CallState::kEnded;
          snap_.end_reason = "left";
          out.push_back(CallEnded{"left"});
        } else if constexpr (std::is_same_v<T, p::Answer>) {
          if (!offered_ || offer_id_.empty() || m.ref != json(offer_id_)) return;  // stale
          ++snap_.answers;
          auto remote = negotiation::sdp::ParseSdes(m.sdp);
          if (!remote) {
            return Fail(Error{"bad_answer", "the server's answer is not usable SDES SDP: " +
                                                remote.error().message},
                        &out);
          }
          if (remote->port == 0) {
            return Fail(Error{"media_refused", "the server refused our media (port 0)"}, &out);
          }
          // RFC 4568 7.1.2: the answer's a=crypto tag names the offered alternative it took, and
          // must carry the same suite; that alternative's key is what we send with.
          negotiation::sdp::SdesDescription local = *offered_;
          const auto& answered = remote->crypto;
          std::optional<mcu::transport::CryptoAttribute> chosen;
          if (local.crypto.tag == answered.tag) chosen = local.crypto;
          for (const auto& alternative : local.crypto_alternatives)
            if (!chosen && alternative.tag == answered.tag) chosen = alternative;
          if (!chosen || chosen->key.profile != answered.key.profile) {
            return Fail(
                Error{"bad_answer",
                      "the server's answer takes a=crypto tag " + std::to_string(answered.tag) +
                          " with " + std::string(mcu::transport::ToString(answered.key.profile)) +
                          ", which is not one of the alternatives we offered"},
                &out);
          }
          local.crypto = *chosen;
          local.crypto_alternatives.clear();
          offer_id_.clear();
          snap_.state = CallState::kInCall;
          out.push_back(StartMedia{std::move(local), *remote, ++snap_.generation});
        } else if constexpr (std::is_same_v<T, p::Offer>) {
          if (!seated_) return;
          auto remote = negotiation::sdp::ParseSdes(m.sdp);
          if (!remote) {
            ++snap_.server_errors;
            snap_.last_error = "bad_sdp: " + remote.error().message;
            return;  // keep the media we have
          }
          preparing_ = true;
          pending_remote_offer_ = *remote;
          ++prepare_count_;
          out.push_back(PrepareLocal{*remote});
        } else if constexpr (std::is_same_v<T, p::ErrorMessage>) {
          ++snap_.server_errors;
          snap_.last_error = m.code + ": " + m.message;
          if (join_pending_ && m.ref == json(join_id_)) {
            join_pending_ = false;
            return Fail(Error{m.code, "the server refused to join conference " +
                                          target_.value_or("?") + ": " + m.message},
                        &out);
          }
          if (!offer_id_.empty() && m.ref == json(offer_id_)) {
            return Fail(Error{m.code, "the server refused our media offer: " + m.message}, &out);
          }
        }
        // Candidate (SDES has no ICE), Ping/Pong (the client answers them): nothing to do.
      },
      message.body);
  return out;
}

std::vector<CallAction> TerminalCall::OnDisconnected() {
  snap_.connected = false;
  return {};
}

std::vector<CallAction> TerminalCall::OnLocalPrepared(negotiation::sdp::SdesDescription local) {
  std::vector<CallAction> out;
  if (Done() || !preparing_ || !seated_) return out;
  preparing_ = false;
  if (pending_remote_offer_) {
    // Answering the server's offer: our answer goes out and media restarts at once.
    negotiation::sdp::SdesDescription remote = *pending_remote_offer_;
    pending_remote_offer_.reset();
    local.video_direction = negotiation::sdp::AnswerDirection(remote.video_direction);
    local.audio_direction = negotiation::sdp::AnswerDirection(remote.audio_direction);
    out.push_back(SendMessage{
        p::ClientMessage{nullptr, p::Answer{negotiation::sdp::FormatSdes(local), nullptr}}});
    snap_.state = CallState::kInCall;
    out.push_back(StartMedia{std::move(local), std::move(remote), ++snap_.generation});
    return out;
  }
  offer_id_ = "offer-" + std::to_string(++snap_.offers);
  offered_ = local;
  out.push_back(SendMessage{
      p::ClientMessage{offer_id_, p::Offer{negotiation::sdp::FormatSdes(local), nullptr}}});
  return out;
}

std::vector<CallAction> TerminalCall::OnLocalFailed(Error error) {
  std::vector<CallAction> out;
  if (Done()) return out;
  Fail(std::move(error), &out);
  return out;
}

std::vector<CallAction> TerminalCall::Leave() {
  std::vector<CallAction> out;
  if (Done()) return out;
  if (seated_ || join_pending_) {
    out.push_back(SendMessage{p::ClientMessage{nullptr, p::Leave{}}});
  }
  seated_ = false;
  snap_.state = CallState::kEnded;
  snap_.end_reason = "left";
  out.push_back(CallEnded{"left"});
  return out;
}

}  // namespace plateau::terminal::client
